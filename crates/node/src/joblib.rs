//! joblib files from JavaScript. `load_joblib` returns a `NativeJoblib`: the value as
//! flat steps (`mmnpy_core::pickle::flat`) and its arrays, which `lib/joblib.ts`
//! rebuilds without recursion. `NativeJoblibWriter` takes the value the same way: flat
//! steps (codes below) in batches, and each array when its turn comes.

use std::cell::RefCell;
use std::path::PathBuf;

use mmnpy_core::joblib::{self, Dumper, Loaded};
use mmnpy_core::npy::Array;
use mmnpy_core::pickle::flat::Flat;
use mmnpy_core::pickle::Event;
use mmnpy_core::{DType, Error, ErrorKind};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::array::{layout, wrap, NativeArray};
use crate::convert::{self, invalid, js_error, OrJs};

/// Step codes of a value being dumped (`lib/joblib.ts` writes them).
mod code {
    pub const NONE: u8 = 0;
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    /// `nums`: an integral value within ±2^53.
    pub const INT: u8 = 3;
    /// `nums`: the byte length; the bytes (little-endian two's complement) from `blob`.
    pub const BIG: u8 = 4;
    pub const STR: u8 = 5;
    /// `nums`: the length; the bytes from `blob`.
    pub const BYTES: u8 = 6;
    pub const FLOAT: u8 = 7;
    pub const LIST: u8 = 8;
    pub const TUPLE: u8 = 9;
    pub const DICT: u8 = 10;
    pub const SET: u8 = 12;
    pub const END: u8 = 13;
    /// `nums`: the memo entry.
    pub const GET: u8 = 15;
    pub const MEMO: u8 = 16;
}

fn path(p: &str) -> Result<PathBuf, String> {
    if p.is_empty() || p.contains('\0') {
        return Err(invalid("path must be a non-empty string without NUL bytes"));
    }
    Ok(PathBuf::from(p))
}

/// A loaded joblib file: the value's steps, and its arrays until handed out.
#[napi]
pub struct NativeJoblib {
    flat: Flat,
    arrays: RefCell<Option<Vec<Array>>>,
    allow_copy: bool,
    compression: Option<String>,
    protocol: u32,
}

/// `joblib.load(path, mmap_mode=mode)`.
#[napi]
pub fn load_joblib(path: String, mode: Option<String>, allow_copy: bool) -> Result<NativeJoblib, String> {
    let mode = match mode {
        Some(m) => Some(convert::mode(&m)?),
        None => None,
    };
    let p = self::path(&path)?;
    let loaded: Loaded = joblib::load(&p, mode).or_js()?;
    let flat = loaded.flatten().map_err(|e| e.at(&p)).or_js()?;
    let Loaded { mut arena, compression, protocol, .. } = loaded;
    let mut all: Vec<Option<Array>> = std::mem::take(&mut arena.arrays).into_iter().map(Some).collect();
    // In the order of the ARRAY steps; arrays the value does not reach are dropped (unmapped) here.
    let arrays = flat
        .arrays
        .iter()
        .map(|&i| all.get_mut(i).and_then(Option::take).ok_or_else(|| invalid("an array is referenced twice")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NativeJoblib { flat, arrays: RefCell::new(Some(arrays)), allow_copy, compression: compression.map(|c| c.name().to_string()), protocol: protocol as u32 })
}

#[napi]
impl NativeJoblib {
    #[napi]
    pub fn kinds(&self) -> Buffer {
        self.flat.kinds.clone().into()
    }

    #[napi]
    pub fn nums(&self) -> Float64Array {
        Float64Array::new(self.flat.nums.clone())
    }

    #[napi]
    pub fn strs(&self) -> Vec<String> {
        self.flat.strs.clone()
    }

    #[napi]
    pub fn bytes(&self) -> Buffer {
        self.flat.bytes.clone().into()
    }

    /// The arrays, in the order of the value's ARRAY steps (once: they move to JavaScript).
    #[napi]
    pub fn take_arrays(&self, env: Env) -> Result<Vec<NativeArray>, String> {
        let arrays = self.arrays.borrow_mut().take().ok_or_else(|| invalid("the arrays were already taken"))?;
        arrays.into_iter().map(|a| wrap(&env, a, self.allow_copy)).collect()
    }

    /// `'zlib'`, `'gzip'`, ... or null for an uncompressed file.
    #[napi(getter)]
    pub fn compression(&self) -> Option<String> {
        self.compression.clone()
    }

    /// The pickle protocol of the file.
    #[napi(getter)]
    pub fn protocol(&self) -> u32 {
        self.protocol
    }
}

/// A joblib file being written (`joblib.dump`).
#[napi]
pub struct NativeJoblibWriter {
    inner: RefCell<Option<Dumper>>,
}

/// Starts a joblib file in a temporary file beside `path`; `level` 1..9 compresses (zlib).
#[napi]
pub fn create_joblib(path: String, level: Option<u32>, durable: bool) -> Result<NativeJoblibWriter, String> {
    Ok(NativeJoblibWriter { inner: RefCell::new(Some(Dumper::create(&self::path(&path)?, level, durable).or_js()?)) })
}

fn decode<'a>(kinds: &[u8], nums: &[f64], strs: &'a [String], blob: &'a [u8]) -> Result<Vec<Event<'a>>, String> {
    let (mut n, mut s, mut b) = (0usize, 0usize, 0usize);
    let mut num = || -> Result<f64, String> {
        let v = nums.get(n).copied().ok_or_else(|| invalid("value steps: numbers run short"))?;
        n += 1;
        Ok(v)
    };
    let mut out = Vec::with_capacity(kinds.len());
    for &k in kinds {
        out.push(match k {
            code::NONE => Event::None,
            code::TRUE => Event::Bool(true),
            code::FALSE => Event::Bool(false),
            code::INT => Event::Int(convert::signed(num()?, "an int")? as i64),
            code::FLOAT => Event::Float(num()?),
            code::BIG | code::BYTES => {
                let len = convert::index(num()?, "a length")?;
                let bytes = blob.get(b..b + len).ok_or_else(|| invalid("value steps: bytes run short"))?;
                b += len;
                if k == code::BIG {
                    Event::BigInt(bytes)
                } else {
                    Event::Bytes(bytes)
                }
            }
            code::STR => {
                let v = strs.get(s).ok_or_else(|| invalid("value steps: strings run short"))?;
                s += 1;
                Event::Str(v)
            }
            code::LIST => Event::List,
            code::TUPLE => Event::Tuple,
            code::DICT => Event::Dict,
            code::SET => Event::Set,
            code::END => Event::End,
            code::MEMO => Event::Memo,
            code::GET => Event::Get(u32::try_from(convert::index(num()?, "a memo entry")?).map_err(|_| invalid("memo entry out of range"))?),
            other => return Err(invalid(format!("unknown value step {other}"))),
        });
    }
    Ok(out)
}

#[napi]
impl NativeJoblibWriter {
    fn with<T>(&self, f: impl FnOnce(&mut Dumper) -> mmnpy_core::Result<T>) -> Result<T, String> {
        let mut inner = self.inner.borrow_mut();
        let w = inner.as_mut().ok_or_else(|| invalid("the file is already finished or abandoned"))?;
        f(w).or_js()
    }

    /// The next steps of the value (codes in `code`).
    #[napi]
    pub fn events(&self, kinds: &[u8], nums: Float64Array, strs: Vec<String>, blob: &[u8]) -> Result<(), String> {
        let events = decode(kinds, &nums, &strs, blob)?;
        self.with(|w| w.events(&events))
    }

    /// The next value is (a view of) this array; written straight from its memory.
    #[napi]
    pub fn add_array(&self, array: &NativeArray, shape: Vec<f64>, strides: Vec<f64>, offset: f64) -> Result<(), String> {
        let map = array.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        let descr = array.info.full_descr();
        self.with(|w| w.array(&map, array.info.path.as_deref(), &l, &descr))
    }

    /// The next value is an array of these bytes (native byte order, C order).
    #[napi]
    pub fn add_bytes(&self, bytes: &[u8], dtype: String, shape: Vec<f64>) -> Result<(), String> {
        let (dtype, order): (DType, _) = convert::dtype(&dtype)?;
        let shape = convert::shape(&shape)?;
        self.with(|w| w.array_bytes(bytes, dtype, order, &shape, false))
    }

    /// Ends the pickle and renames the file into place.
    #[napi]
    pub fn finish(&self) -> Result<(), String> {
        let w = self.inner.borrow_mut().take().ok_or_else(|| js_error(Error::new(ErrorKind::InvalidArgument, "the file is already finished or abandoned")))?;
        w.finish().or_js()
    }

    /// Removes the temporary file; the target is left as it was.
    #[napi]
    pub fn abort(&self) {
        self.inner.borrow_mut().take();
    }
}
