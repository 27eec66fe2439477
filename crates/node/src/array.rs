//! The native side of `NdArray`: one `NativeArray` per opened or created array,
//! shared by all its views. Views are described from JavaScript by (shape,
//! strides, offset) and checked against the mapping before any access.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use mmnpy_core::header::Header;
use mmnpy_core::npy::{self, Array};
use mmnpy_core::view::{self, Layout};
use mmnpy_core::{ByteOrder, Error, ErrorKind, Mapping};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::buffers::{self, Holder, Tracker};
use crate::convert::{self, index, invalid, js_error, signed, OrJs};

/// A raw napi value returned as is.
pub struct RawValue(sys::napi_value);

impl ToNapiValue for RawValue {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl TypeName for RawValue {
    fn type_name() -> &'static str {
        "ArrayBuffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// A Float64Array JavaScript passes for [`NativeArray::info_into`] to fill, read
/// through its raw memory (no copy, no object created).
pub struct InfoBuf(*mut f64, usize);

impl TypeName for InfoBuf {
    fn type_name() -> &'static str {
        "Float64Array"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for InfoBuf {}

impl FromNapiValue for InfoBuf {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let (mut ty, mut len, mut data, mut buffer, mut byte_offset) = (0, 0usize, std::ptr::null_mut(), std::ptr::null_mut(), 0usize);
        // SAFETY: napi fills the out-parameters, or fails for a value that is no typed array.
        let status = unsafe { sys::napi_get_typedarray_info(env, value, &mut ty, &mut len, &mut data, &mut buffer, &mut byte_offset) };
        if status != sys::Status::napi_ok || ty != sys::TypedarrayType::float64_array || data.is_null() || len < INFO_FIXED {
            return Err(napi::Error::new(napi::Status::InvalidArg, format!("infoInto needs a Float64Array of at least {INFO_FIXED} elements")));
        }
        Ok(InfoBuf(data as *mut f64, len))
    }
}

/// Fixed fields of [`NativeArray::info_into`] before the shape.
const INFO_FIXED: usize = 11;

#[napi]
pub struct NativeArray {
    pub(crate) holder: Arc<Holder>,
    /// What the array is; its `mapping` is empty: the only owner is `holder`, so
    /// that `close()` really unmaps.
    pub(crate) info: Array,
    byte_length: usize,
    address_mod64: u32,
    // A RefCell, not `&mut self` methods: napi-rs keeps `&self` borrowed while an
    // async task runs, and close() must still work then.
    tracker: RefCell<Tracker>,
    env: sys::napi_env,
    pub(crate) allow_copy: bool,
    read_only_mapping: bool,
    /// Bytes of anonymous memory reported to V8 as held by this object (0 when none).
    external: std::cell::Cell<i64>,
}

impl Drop for NativeArray {
    fn drop(&mut self) {
        // Collected without close(): buffers still out keep the mapping alive.
        self.tracker.get_mut().release(self.env);
        self.unreport();
    }
}

impl NativeArray {
    /// Tells V8 that this object keeps `mapping`'s anonymous memory alive (a result in
    /// fresh memory), as a `Buffer` does for its own: without it V8 sees a few bytes per
    /// array and leaves results nobody closed uncollected while they pile up (a loop of
    /// `A.dot(x)` held a 65 MB result per call, each in fresh pages that cost more to
    /// fault than the product itself: BENCHMARKS.md "2026-11-30 (sparse2)").
    fn report(&self, mapping: &Mapping) {
        if !mapping.is_owned_anonymous() {
            return;
        }
        let n = mapping.len() as i64;
        let mut total = 0i64;
        // SAFETY: `env` is the live environment this object is being made in.
        if unsafe { sys::napi_adjust_external_memory(self.env, n, &mut total) } == sys::Status::napi_ok {
            self.external.set(n);
        }
    }

    /// Takes back what [`NativeArray::report`] told V8 (on close or collection). Idempotent.
    fn unreport(&self) {
        let n = self.external.replace(0);
        if n != 0 {
            let mut total = 0i64;
            // SAFETY: `env` is this object's environment, alive while its objects are
            // closed or finalized; a failed call only leaves V8's estimate high.
            let _ = unsafe { sys::napi_adjust_external_memory(self.env, -n, &mut total) };
        }
    }
}

thread_local! {
    /// Whether this thread's environment (main thread or a worker) has its cleanup hook.
    static HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
/// Environments that use the addon and have not been torn down yet.
static LIVE_ENVS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts this environment, so that when the last one is torn down (a worker
/// exiting, the process ending) the kernels' thread pool is shut down and joined.
fn hook_env(env: &Env) {
    if HOOKED.with(|h| h.replace(true)) {
        return;
    }
    LIVE_ENVS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let hooked = env.add_env_cleanup_hook((), |_| {
        HOOKED.with(|h| h.set(false));
        if LIVE_ENVS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            mmnpy_core::kernels::pool::shutdown(std::time::Duration::from_secs(2));
        }
    });
    if hooked.is_err() {
        // No hook: never count this env as gone, so the pool is never shut under it.
        HOOKED.with(|h| h.set(true));
    }
}

pub(crate) fn wrap(env: &Env, array: Array, allow_copy: bool) -> Result<NativeArray, String> {
    hook_env(env);
    // A read-only mapping is only ever handed out as copies anyway.
    if !allow_copy && !array.mapping.is_read_only() && !buffers::external_buffers_allowed(env.raw()) {
        return Err(js_error(
            Error::new(
                ErrorKind::NoExternalBuffers,
                "this runtime refuses external ArrayBuffers (e.g. Electron), so mapped memory cannot be shared with JavaScript without copying; pass { allowCopy: true } to work on copies",
            ),
        ));
    }
    let mut array = array;
    let mapping = std::mem::replace(&mut array.mapping, Arc::new(Mapping::anonymous(0).or_js()?));
    let native = NativeArray {
        byte_length: mapping.len(),
        address_mod64: (mapping.as_ptr() as usize % 64) as u32,
        read_only_mapping: mapping.is_read_only(),
        external: std::cell::Cell::new(0),
        holder: Holder::new(mapping),
        info: array,
        tracker: RefCell::new(Tracker::default()),
        env: env.raw(),
        allow_copy,
    };
    if let Ok(m) = native.holder.get() {
        native.report(&m);
    }
    Ok(native)
}

pub(crate) fn layout(shape: &[f64], strides: &[f64], offset: f64) -> Result<Layout, String> {
    let mut l = Layout { shape: Vec::new(), strides: Vec::new(), offset: 0 };
    layout_into(&mut l, shape, strides, offset)?;
    Ok(l)
}

/// [`layout`] into `l`, reusing its vectors' memory.
pub(crate) fn layout_into(l: &mut Layout, shape: &[f64], strides: &[f64], offset: f64) -> Result<(), String> {
    if shape.len() != strides.len() {
        return Err(invalid("shape and strides differ in length"));
    }
    convert::shape_into(shape, &mut l.shape)?;
    l.strides.clear();
    for &s in strides {
        l.strides.push(signed(s, "stride")?);
    }
    l.offset = index(offset, "offset")?;
    Ok(())
}

fn path(p: &str) -> Result<PathBuf, String> {
    if p.is_empty() {
        return Err(invalid("path must be a non-empty string"));
    }
    if p.contains('\0') {
        return Err(invalid("path must not contain NUL bytes"));
    }
    Ok(PathBuf::from(p))
}

/// `np.load(path, mmap_mode=mode)`.
#[napi]
pub fn open_npy(env: Env, path: String, mode: String, allow_copy: bool) -> Result<NativeArray, String> {
    let mode = convert::mode(&mode)?;
    wrap(&env, npy::open_npy(&self::path(&path)?, mode).or_js()?, allow_copy)
}

/// `np.load(path)`: into memory.
#[napi]
pub fn load_npy(env: Env, path: String, allow_copy: bool) -> Result<NativeArray, String> {
    wrap(&env, npy::load_npy(&self::path(&path)?).or_js()?, allow_copy)
}

/// `np.lib.format.open_memmap(path, mode='w+')`, any dtype; `durable` syncs the new
/// file and its folder before mapping it.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn create_npy(
    env: Env,
    path: String,
    dtype: String,
    shape: Vec<f64>,
    fortran_order: bool,
    version: Option<Vec<u32>>,
    allow_copy: bool,
    durable: bool,
) -> Result<NativeArray, String> {
    let h = any_header(&dtype, &shape, fortran_order)?;
    let version = convert::version(version)?;
    wrap(&env, npy::create_npy_with(&self::path(&path)?, h, version, durable).or_js()?, allow_copy)
}

/// The header of `shape` elements of `dtype`: a numeric name or spelling, or any dtype
/// `describeDtype` accepts (datetimes, strings, records in NumPy's list or dict form).
fn any_header(dtype: &str, shape: &[f64], fortran_order: bool) -> Result<Header, String> {
    match convert::new_array(dtype, shape, fortran_order) {
        Ok(spec) => Ok(spec.header()),
        Err(numeric) => match crate::dtypes::descr_spec(dtype) {
            Ok(d) => crate::dtypes::descr_header(d, shape, fortran_order),
            Err(_) => Err(numeric),
        },
    }
}

/// `np.memmap(path, dtype, mode, offset, shape, order)`, any dtype.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn memmap_raw(
    env: Env,
    path: String,
    dtype: String,
    mode: String,
    offset: f64,
    shape: Option<Vec<f64>>,
    fortran_order: bool,
    allow_copy: bool,
    durable: bool,
) -> Result<NativeArray, String> {
    let given = shape.is_some();
    let h = any_header(&dtype, &shape.unwrap_or_default(), fortran_order)?;
    let mode = convert::mode(&mode)?;
    let offset = index(offset, "offset")? as u64;
    wrap(&env, npy::memmap_raw(&self::path(&path)?, &h, given, mode, offset, durable).or_js()?, allow_copy)
}

/// `np.fromfile(path, dtype, count, offset)`, any dtype.
#[napi]
pub fn from_file(env: Env, path: String, dtype: String, count: f64, offset: f64, allow_copy: bool) -> Result<NativeArray, String> {
    let h = any_header(&dtype, &[], false)?;
    let count = if count == -1.0 { None } else { Some(index(count, "count")? as u64) };
    let offset = index(offset, "offset")? as u64;
    wrap(&env, npy::from_file(&self::path(&path)?, &h, count, offset).or_js()?, allow_copy)
}

/// An in-memory array holding a copy of `bytes` (already in the dtype's byte order).
#[napi]
pub fn from_bytes(env: Env, bytes: &[u8], dtype: String, shape: Vec<f64>, fortran_order: bool, allow_copy: bool) -> Result<NativeArray, String> {
    let spec = convert::new_array(&dtype, &shape, fortran_order)?;
    wrap(&env, npy::from_bytes(bytes, &spec).or_js()?, allow_copy)
}

/// `np.save` of raw element bytes, atomically.
#[napi]
pub fn save_bytes(
    path: String,
    bytes: &[u8],
    dtype: String,
    shape: Vec<f64>,
    fortran_order: bool,
    version: Option<Vec<u32>>,
    durable: Option<bool>,
) -> Result<(), String> {
    let spec = convert::new_array(&dtype, &shape, fortran_order)?;
    npy::save_bytes(&self::path(&path)?, &spec, bytes, convert::version(version)?, durable == Some(true)).or_js()
}

/// Whether this runtime accepts external ArrayBuffers (false in Electron).
#[napi]
pub fn external_buffers_allowed(env: Env) -> bool {
    buffers::external_buffers_allowed(env.raw())
}

/// Detaches an ArrayBuffer (its views report length 0 afterwards).
#[napi]
pub fn detach_array_buffer(env: Env, buffer: ArrayBuffer) {
    buffers::detach(env.raw(), buffer.value().value);
}

#[napi]
impl NativeArray {
    /// What JavaScript needs to know about the array, written into `into` (a
    /// Float64Array JavaScript keeps for the purpose, see `lib/storage.ts`): byte order
    /// (char code), Fortran order, mode (0 none, 1 'r', 2 'r+', 3 'w+', 4 'c'), offset in
    /// the file, byte length, address modulo 64, format version (major, minor; -1 none),
    /// read-only mapping, whether there is a file name, ndim, then the shape as far as
    /// it fits. Returns the dtype name. Filling a kept buffer costs a fraction of making
    /// an object (napi internalizes every property name on every call), and every result
    /// of a call on a small array needs this once.
    #[napi]
    pub fn info_into(&self, into: InfoBuf) -> String {
        let a = &self.info;
        let mode = a.mode.map_or(0.0, |m| match m.name() {
            "r" => 1.0,
            "r+" => 2.0,
            "w+" => 3.0,
            _ => 4.0,
        });
        let (major, minor) = a.version.map_or((-1.0, -1.0), |(x, y)| (x as f64, y as f64));
        let order = a.descr.as_ref().map_or_else(|| a.dtype.order(a.byte_order), |d| d.order()).symbol() as u32 as f64;
        let fixed = [
            order,
            a.fortran_order as u8 as f64,
            mode,
            a.file_offset as f64,
            self.byte_length as f64,
            self.address_mod64 as f64,
            major,
            minor,
            self.read_only_mapping as u8 as f64,
            a.path.is_some() as u8 as f64,
            a.shape.len() as f64,
        ];
        // SAFETY: `into` is a live Float64Array of `into.1` elements (checked in
        // `from_napi_value`, at least INFO_FIXED), written here on the JavaScript thread
        // while nothing else runs.
        let buf = unsafe { std::slice::from_raw_parts_mut(into.0, into.1) };
        buf[..INFO_FIXED].copy_from_slice(&fixed);
        for (b, &d) in buf[INFO_FIXED..].iter_mut().zip(&a.shape) {
            *b = d as f64;
        }
        a.descr.as_ref().map_or_else(|| a.dtype.name().to_string(), |d| d.name().unwrap_or_default())
    }

    /// The file the array was read from, if any.
    #[napi]
    pub fn filename(&self) -> Option<String> {
        self.info.path.as_ref().map(|p| p.display().to_string())
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.holder.get().is_err()
    }

    /// An ArrayBuffer over bytes `offset..offset+length` of the mapping: zero-copy, or
    /// a copy where the runtime or a read-only mapping requires it.
    #[napi(ts_return_type = "ArrayBuffer")]
    pub fn window(&self, env: Env, offset: f64, length: f64) -> Result<RawValue, String> {
        let map = self.holder.get().or_js()?;
        let (offset, length) = (index(offset, "offset")?, index(length, "length")?);
        map.check_range(offset, length).or_js()?;
        // SAFETY: the range is inside the mapping (checked above), which `holder` holds.
        let value = unsafe { buffers::external_window(env.raw(), &self.holder, map.as_ptr().add(offset), length, self.allow_copy, map.is_read_only())? };
        self.tracker.borrow_mut().track(env.raw(), value)?;
        Ok(RawValue(value))
    }

    /// Copies bytes out of the mapping (for runtimes without external buffers).
    #[napi]
    pub fn read_bytes(&self, offset: f64, length: f64) -> Result<Buffer, String> {
        let map = self.holder.get().or_js()?;
        Ok(map.read_bytes(index(offset, "offset")?, index(length, "length")?).or_js()?.into())
    }

    /// Copies bytes into the mapping (for runtimes without external buffers).
    #[napi]
    pub fn write_bytes(&self, offset: f64, bytes: &[u8]) -> Result<(), String> {
        self.check_writeable()?;
        let map = self.holder.get().or_js()?;
        map.write_bytes(index(offset, "offset")?, bytes).or_js()
    }

    /// Another array over the same memory (shared holder: closing either unmaps both),
    /// typed as `info` says: a record's field, datetime ticks.
    pub(crate) fn sibling(&self, info: Array) -> NativeArray {
        NativeArray {
            holder: self.holder.clone(),
            info,
            byte_length: self.byte_length,
            address_mod64: self.address_mod64,
            tracker: RefCell::new(Tracker::default()),
            env: self.env,
            allow_copy: self.allow_copy,
            read_only_mapping: self.read_only_mapping,
            // The first array over the memory reports it.
            external: std::cell::Cell::new(0),
        }
    }

    /// The numeric dtype the kernels run on. Records, strings and datetimes have none:
    /// their fields (`field(name)`) and ticks (`astype('int64')`) are numeric views.
    pub(crate) fn kernel_dtype(&self) -> Result<mmnpy_core::DType, String> {
        match &self.info.descr {
            None => Ok(self.info.dtype),
            Some(d) => Err(js_error(Error::new(
                ErrorKind::UnsupportedDtype,
                format!(
                    "this operation is not defined for dtype {}; compute on a record's fields with field(name), on datetime ticks with astype('int64')",
                    d.name().unwrap_or_default()
                ),
            ))),
        }
    }

    fn check_writeable(&self) -> Result<(), String> {
        match self.info.mode {
            Some(m) if !m.writeable() => Err(js_error(Error::new(ErrorKind::ReadOnly, "assignment destination is read-only"))),
            _ => Ok(()),
        }
    }

    /// Copies the elements of a view, in C order, into `dest`, converting them to
    /// native byte order when `native` (else keeping the array's).
    #[napi]
    pub fn gather_into(&self, shape: Vec<f64>, strides: Vec<f64>, offset: f64, native: bool, mut dest: Uint8Array) -> Result<(), String> {
        let map = self.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        let target = if native { ByteOrder::NATIVE } else { self.info.byte_order };
        let bytes = match self.info.descr.as_ref().filter(|d| d.storage().is_none()) {
            // Records and strings: their element bytes as stored (what a copy sent to a worker holds).
            Some(d) if !native => view::gather_bytes(&map, &l, d.itemsize()).or_js()?,
            Some(_) => return Err(self.kernel_dtype().err().unwrap_or_else(|| invalid("no native byte order for this dtype"))),
            None => view::gather(&map, &l, self.info.dtype, self.info.byte_order, target).or_js()?,
        };
        if bytes.len() != dest.len() {
            return Err(invalid(format!("destination has {} bytes, the view {}", dest.len(), bytes.len())));
        }
        // SAFETY: napi gives exclusive access to the Uint8Array's bytes during this call.
        unsafe { dest.as_mut() }.copy_from_slice(&bytes);
        Ok(())
    }

    /// An in-memory C-order copy of a view (same dtype and byte order).
    #[napi]
    pub fn copy_view(&self, env: Env, shape: Vec<f64>, strides: Vec<f64>, offset: f64) -> Result<NativeArray, String> {
        let map = self.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        let a = &self.info;
        if a.descr.is_some() {
            // Raw element bytes, whatever the dtype: no byte swapping.
            let d = a.full_descr();
            let bytes = view::gather_bytes(&map, &l, d.itemsize()).or_js()?;
            let h = mmnpy_core::header::Header::with_descr(d, false, l.shape.iter().map(|&n| n as u64).collect());
            return wrap(&env, npy::from_bytes_with(&h, Some(&bytes)).or_js()?, self.allow_copy);
        }
        let bytes = view::gather(&map, &l, a.dtype, a.byte_order, a.byte_order).or_js()?;
        let spec = mmnpy_core::NewArray { dtype: a.dtype, byte_order: a.byte_order, shape: l.shape.clone(), fortran_order: false };
        wrap(&env, npy::from_bytes(&bytes, &spec).or_js()?, self.allow_copy)
    }

    /// `np.save(path, view)`: atomic, NumPy's header, the array's byte order.
    #[napi]
    pub fn save(&self, path: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, version: Option<Vec<u32>>, durable: Option<bool>) -> Result<(), String> {
        let map = self.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        let a = &self.info;
        npy::save_view_as(&self::path(&path)?, &map, a.path.as_deref(), &l, &a.full_descr(), convert::version(version)?, durable == Some(true)).or_js()
    }

    /// `madvise` over bytes `offset..offset+length`: 'sequential', 'willneed', 'populate' or 'release'.
    #[napi]
    pub fn advise(&self, offset: f64, length: f64, hint: String) -> Result<(), String> {
        let hint = match hint.as_str() {
            "sequential" => mmnpy_core::Hint::Sequential,
            "willneed" => mmnpy_core::Hint::WillNeed,
            "populate" => mmnpy_core::Hint::PopulateRead,
            "release" => mmnpy_core::Hint::Release,
            other => return Err(invalid(format!("hint must be 'sequential', 'willneed', 'populate' or 'release', got '{other}'"))),
        };
        let map = self.holder.get().or_js()?;
        map.advise(index(offset, "offset")?, index(length, "length")?, hint).or_js()
    }

    /// Writes dirty pages to the file (`msync`); no-op in `'r'`, `'c'` and in memory.
    #[napi]
    pub fn flush(&self) -> Result<(), String> {
        let map = self.holder.get().or_js()?;
        if let Some(p) = &self.info.path {
            map.check_file(p).or_js()?;
        }
        map.flush()
            .map_err(|e| match &self.info.path {
                Some(p) => e.at(p),
                None => e,
            })
            .or_js()
    }

    /// Detaches every buffer handed out, then unmaps (at once, unless a running
    /// task still holds the mapping). Idempotent.
    #[napi]
    pub fn close(&self, env: Env) {
        self.tracker.borrow_mut().detach_all(env.raw());
        self.holder.close();
        self.unreport();
    }
}

/// The canonical name and byte order of a dtype spelling (`'<f8'` -> float64, `<`).
#[napi(object)]
pub struct DTypeSpec {
    pub dtype: String,
    pub byte_order: String,
}

#[napi]
pub fn parse_dtype(spec: String) -> Result<DTypeSpec, String> {
    let (d, o) = convert::dtype(&spec)?;
    Ok(DTypeSpec { dtype: d.name().to_string(), byte_order: d.order(o).symbol().to_string() })
}
