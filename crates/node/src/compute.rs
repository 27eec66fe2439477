//! Reductions from JavaScript: argument checking, the sync forms, and the
//! `...Async` forms as napi AsyncTasks. A task holds its own `Arc` on the mapping,
//! so `close()` during the computation detaches JavaScript's views but leaves the
//! memory mapped until the task ends.

use std::sync::Arc;

use mmnpy_core::kernels::dot::{self, DotResult};
use mmnpy_core::kernels::elementwise::{self, BinOp, Dest, Operand, Other};
use mmnpy_core::kernels::reduce::{self, Op, Reduced, Source, Value};
use mmnpy_core::npy::{self, NewArray};
use mmnpy_core::{ByteOrder, DType, Layout, Mapping};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{layout_into, wrap, NativeArray};
use crate::convert::{self, invalid, js_error, OrJs};

/// A mean given to var/std (NumPy 2's `mean=`).
#[napi(object)]
pub struct ReduceMean {
    /// (re, im) pairs: one pair for a scalar, else one per output in C order.
    pub values: Vec<f64>,
    /// The dtype of a mean given as an array; absent for a scalar.
    pub dtype: Option<String>,
    /// Whether a scalar mean is complex.
    pub complex: bool,
}

/// A reduced scalar for JavaScript: a float as a number, a bool as a boolean, an
/// integer as a bigint (exact; the JS layer narrows it where NumPy gives a Python int
/// that fits), a complex number as `{ re, im }`. Primitives, not an object: building
/// an object with named properties was most of a small reduction's cost.
pub struct ScalarRet(pub(crate) Value);

impl ToNapiValue for ScalarRet {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: `env` is the calling environment (napi-rs passes it on the JS thread).
        unsafe {
            match val.0 {
                Value::Float(f) => f64::to_napi_value(env, f),
                Value::Bool(b) => bool::to_napi_value(env, b),
                Value::Int(i) => i64n::to_napi_value(env, i64n(i)),
                Value::UInt(u) => BigInt::to_napi_value(env, BigInt::from(u)),
                Value::Complex(re, im) => Complex::to_napi_value(env, Complex { re, im }),
            }
        }
    }
}

impl TypeName for ScalarRet {
    fn type_name() -> &'static str {
        "number | boolean | bigint | Complex"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

/// A complex reduced value.
#[napi(object)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

fn op(name: &str, input: DType, ddof: f64, given: Option<&ReduceMean>) -> Result<Op, String> {
    if !ddof.is_finite() {
        return Err(invalid(format!("ddof must be a finite number, got {ddof}")));
    }
    let mean = match given {
        None => None,
        Some(_) if !matches!(name, "var" | "std") => return Err(invalid(format!("{name} takes no mean"))),
        Some(m) if m.values.len() % 2 != 0 => return Err(invalid("mean needs (re, im) pairs")),
        Some(m) => {
            let md = match &m.dtype {
                Some(d) => Some(convert::dtype(d)?.0),
                None => None,
            };
            Some(reduce::Given {
                dev: reduce::given_dtype(input, md, m.complex).or_js()?,
                re: m.values.first().copied().unwrap_or(f64::NAN),
                im: m.values.get(1).copied().unwrap_or(0.0),
            })
        }
    };
    Ok(match name {
        "sum" => Op::Sum,
        "prod" => Op::Prod,
        "mean" => Op::Mean,
        "var" => Op::Var { ddof, mean },
        "std" => Op::Std { ddof, mean },
        "min" => Op::Min,
        "max" => Op::Max,
        "argmin" => Op::ArgMin,
        "argmax" => Op::ArgMax,
        other => return Err(invalid(format!("unknown reduction '{other}'"))),
    })
}

/// Everything a reduction needs, owned, so it can run on another thread.
pub struct Job {
    map: Arc<Mapping>,
    layout: Layout,
    dtype: DType,
    order: ByteOrder,
    op: Op,
    out: Option<DType>,
    axis: Option<usize>,
    release: bool,
    /// A given mean per output (axis reductions).
    means: Option<Vec<(f64, f64)>>,
}

impl Job {
    fn source(&self) -> Source<'_> {
        Source { map: &self.map, layout: &self.layout, dtype: self.dtype, order: self.order, release: self.release }
    }

    fn all(&self) -> mmnpy_core::Result<Value> {
        reduce::reduce_all(&self.source(), self.op, self.out)
    }

    fn along(&self) -> mmnpy_core::Result<Reduced> {
        reduce::reduce_axis(&self.source(), self.op, self.axis.unwrap_or(0), self.out, self.means.as_deref())
    }
}

/// Errors of a task cross threads as text; the JS layer restores the code.
pub(crate) fn task_error(e: mmnpy_core::Error) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e))
}

/// What every reduction call passes past the view: the reduction, `axis` (none for
/// all elements), the requested dtype, ddof, streaming mode and a given mean.
pub struct ReduceCall {
    op: String,
    axis: Option<u32>,
    dtype: Option<String>,
    ddof: f64,
    release: bool,
    mean: Option<ReduceMean>,
}

fn job(a: &NativeArray, view: &ViewArg, c: &ReduceCall) -> Result<Job, String> {
    a.kernel_dtype()?;
    let l = view.layout.clone();
    let out = match &c.dtype {
        Some(d) => Some(convert::dtype(d)?.0),
        None => None,
    };
    let axis = c.axis.map(|x| x as usize);
    if let Some(x) = axis {
        if x >= l.shape.len() {
            return Err(js_error(mmnpy_core::Error::new(
                mmnpy_core::ErrorKind::OutOfRange,
                format!("axis {x} is out of bounds for array of dimension {}", l.shape.len()),
            )));
        }
    }
    let pairs = c.mean.as_ref().map(|m| m.values.chunks_exact(2).map(|p| (p[0], p[1])).collect::<Vec<_>>());
    let means = match (axis, pairs) {
        (None, Some(p)) if p.len() != 1 => return Err(invalid(format!("mean has {} values; a reduction of all elements takes one", p.len()))),
        // One per output: `reduce_axis` checks the count.
        (Some(_), Some(p)) if p.len() != 1 => Some(p),
        _ => None,
    };
    Ok(Job {
        map: a.holder.get().or_js()?,
        layout: l,
        dtype: a.info.dtype,
        order: a.info.byte_order,
        op: op(&c.op, a.info.dtype, c.ddof, c.mean.as_ref())?,
        out,
        axis,
        release: c.release,
        means,
    })
}

pub(crate) fn axis_array(env: &Env, r: Reduced, allow_copy: bool) -> Result<NativeArray, String> {
    let spec = NewArray { dtype: r.dtype, byte_order: r.dtype.default_order(), shape: r.shape, fortran_order: false };
    wrap(env, npy::from_bytes(&r.bytes, &spec).or_js()?, allow_copy)
}

pub struct ReduceAllTask(Job);

impl Task for ReduceAllTask {
    type Output = Value;
    type JsValue = ScalarRet;

    fn compute(&mut self) -> napi::Result<Value> {
        self.0.all().map_err(task_error)
    }

    fn resolve(&mut self, _env: Env, output: Value) -> napi::Result<ScalarRet> {
        Ok(ScalarRet(output))
    }
}

pub struct ReduceAxisTask(Job, bool);

impl Task for ReduceAxisTask {
    type Output = Reduced;
    type JsValue = NativeArray;

    fn compute(&mut self) -> napi::Result<Reduced> {
        self.0.along().map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: Reduced) -> napi::Result<NativeArray> {
        axis_array(&env, output, self.1).map_err(convert::resolve_error)
    }
}

#[napi]
impl NativeArray {
    /// Reduces a view to one value (`axis` omitted) on the calling thread.
    #[napi(ts_return_type = "number | boolean | bigint | Complex")]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_all(
        &self,
        op: String,
        view: ViewArg,
        dtype: Option<String>,
        ddof: f64,
        release: bool,
        mean: Option<ReduceMean>,
    ) -> Result<ScalarRet, String> {
        let j = job(self, &view, &ReduceCall { op, axis: None, dtype, ddof, release, mean })?;
        Ok(ScalarRet(j.all().or_js()?))
    }

    /// Reduces a view along `axis` into a new in-memory array.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_axis(
        &self,
        env: Env,
        op: String,
        view: ViewArg,
        axis: u32,
        dtype: Option<String>,
        ddof: f64,
        release: bool,
        mean: Option<ReduceMean>,
    ) -> Result<NativeArray, String> {
        let j = job(self, &view, &ReduceCall { op, axis: Some(axis), dtype, ddof, release, mean })?;
        let r = j.along().or_js()?;
        axis_array(&env, r, self.allow_copy)
    }

    /// `reduceAll` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<number | boolean | bigint | Complex>")]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_all_async(
        &self,
        op: String,
        view: ViewArg,
        dtype: Option<String>,
        ddof: f64,
        release: bool,
        mean: Option<ReduceMean>,
    ) -> Result<AsyncTask<ReduceAllTask>, String> {
        Ok(AsyncTask::new(ReduceAllTask(job(self, &view, &ReduceCall { op, axis: None, dtype, ddof, release, mean })?)))
    }

    /// `reduceAxis` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<NativeArray>")]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_axis_async(
        &self,
        op: String,
        view: ViewArg,
        axis: u32,
        dtype: Option<String>,
        ddof: f64,
        release: bool,
        mean: Option<ReduceMean>,
    ) -> Result<AsyncTask<ReduceAxisTask>, String> {
        let j = job(self, &view, &ReduceCall { op, axis: Some(axis), dtype, ddof, release, mean })?;
        Ok(AsyncTask::new(ReduceAxisTask(j, self.allow_copy)))
    }
}

/// Threads the kernels use.
#[napi]
pub fn kernel_threads() -> u32 {
    mmnpy_core::kernels::pool::threads() as u32
}

/// A scalar operand from JavaScript: `kind` is 'float', 'int', 'uint', 'bool' or
/// 'complex'; `text` holds integers exactly (decimal), `value`/`im` the numbers.
#[napi(object)]
pub struct ScalarIn {
    pub kind: String,
    pub value: f64,
    pub im: f64,
    pub text: String,
}

pub(crate) fn scalar_in(s: &ScalarIn) -> Result<Value, String> {
    Ok(match s.kind.as_str() {
        "bool" => Value::Bool(s.value != 0.0),
        "int" => Value::Int(s.text.parse().map_err(|_| invalid(format!("integer {} does not fit in 64 bits", s.text)))?),
        "uint" => Value::UInt(s.text.parse().map_err(|_| invalid(format!("integer {} does not fit in 64 bits", s.text)))?),
        "float" => Value::Float(s.value),
        "complex" => Value::Complex(s.value, s.im),
        other => return Err(invalid(format!("unknown scalar kind '{other}'"))),
    })
}

fn bin_op(name: &str) -> Result<BinOp, String> {
    Ok(match name {
        "add" => BinOp::Add,
        "sub" => BinOp::Sub,
        "mul" => BinOp::Mul,
        "div" => BinOp::Div,
        other => return Err(invalid(format!("unknown operation '{other}'"))),
    })
}

/// A view of one array, owned (Arc on the mapping) so a task can carry it.
pub struct OwnedView {
    pub(crate) map: Arc<Mapping>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
    pub(crate) order: ByteOrder,
}

impl OwnedView {
    pub(crate) fn of(a: &NativeArray, v: ViewArg) -> Result<OwnedView, String> {
        Ok(OwnedView { map: a.holder.get().or_js()?, layout: v.take(), dtype: a.kernel_dtype()?, order: a.info.byte_order })
    }
    pub(crate) fn source(&self) -> Source<'_> {
        Source { map: &self.map, layout: &self.layout, dtype: self.dtype, order: self.order, release: false }
    }
    pub(crate) fn dest(&self) -> Dest<'_> {
        Dest { map: &self.map, layout: &self.layout, dtype: self.dtype, order: self.order, release: false }
    }
}

/// Shape, byte strides and byte offset of a view (strides 0 on broadcast axes).
///
/// JavaScript passes it packed in one `Float64Array` `[offset, ndim, ...shape,
/// ...strides]` (`ViewArg` in `binding.d.ts`, see the `--dts-header` of `build:native`):
/// one typed-array read instead of three property lookups and two array walks, which
/// were most of the fixed cost of a call on a small array.
pub struct ViewArg {
    /// The view, checked as every layout from JavaScript is (see `array::layout`).
    pub layout: Layout,
}

impl ViewArg {
    fn unpack(v: &[f64]) -> Option<Result<ViewArg, String>> {
        let (&offset, rest) = v.split_first()?;
        let (&nd, rest) = rest.split_first()?;
        let nd = nd as usize;
        if nd as f64 != v[1] || rest.len() != 2 * nd {
            return None;
        }
        Some(spare_layout(&rest[..nd], &rest[nd..], offset).map(|layout| ViewArg { layout }))
    }

    /// The layout, moved out (for a task that outlives the call).
    pub(crate) fn take(mut self) -> Layout {
        std::mem::replace(&mut self.layout, empty_layout())
    }
}

/// A layout without memory (what a moved-out `ViewArg` keeps).
fn empty_layout() -> Layout {
    Layout { shape: Vec::new(), strides: Vec::new(), offset: 0 }
}

/// Layouts kept by [`SPARE`] per thread.
const SPARE_MAX: usize = 8;

thread_local! {
    /// Layouts of views whose call ended, kept with their vectors' memory for the next
    /// views: a call on a small array converts up to three views, and new vectors for each
    /// were six allocations and six frees per call.
    static SPARE: std::cell::RefCell<Vec<Layout>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `array::layout` into a spare layout's vectors.
fn spare_layout(shape: &[f64], strides: &[f64], offset: f64) -> Result<Layout, String> {
    let mut l = SPARE.try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop())).ok().flatten().unwrap_or_else(empty_layout);
    layout_into(&mut l, shape, strides, offset)?;
    Ok(l)
}

impl Drop for ViewArg {
    fn drop(&mut self) {
        if self.layout.shape.capacity() == 0 && self.layout.strides.capacity() == 0 {
            return;
        }
        let l = std::mem::replace(&mut self.layout, empty_layout());
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.len() < SPARE_MAX {
                    s.push(l);
                }
            }
        });
    }
}

impl TypeName for ViewArg {
    fn type_name() -> &'static str {
        "ViewArg"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for ViewArg {}

impl FromNapiValue for ViewArg {
    unsafe fn from_napi_value(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<Self> {
        let mut ty = 0;
        let mut len = 0usize;
        let mut data = std::ptr::null_mut();
        let mut buffer = std::ptr::null_mut();
        let mut byte_offset = 0usize;
        // SAFETY: napi fills the out-parameters, or fails for a value that is no typed array.
        let status = unsafe { napi::sys::napi_get_typedarray_info(env, value, &mut ty, &mut len, &mut data, &mut buffer, &mut byte_offset) };
        if status != napi::sys::Status::napi_ok || ty != napi::sys::TypedarrayType::float64_array || data.is_null() {
            return Err(napi::Error::new(napi::Status::InvalidArg, "a view must be a packed Float64Array [offset, ndim, ...shape, ...strides]".to_string()));
        }
        // SAFETY: a Float64Array of `len` elements at `data` (napi checked the type); it is read
        // here, on the JavaScript thread, before anything else runs.
        let v = unsafe { std::slice::from_raw_parts(data as *const f64, len) };
        match ViewArg::unpack(v) {
            None => Err(napi::Error::new(napi::Status::InvalidArg, format!("malformed packed view of {len} numbers"))),
            Some(r) => r.map_err(|e| napi::Error::new(napi::Status::InvalidArg, format!("{}: {}", e.status, e.reason))),
        }
    }
}

pub(crate) fn writable(out: &NativeArray) -> Result<(), String> {
    if out.info.mode == Some(mmnpy_core::Mode::ReadOnly) {
        let name = out.info.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        return Err(js_error(mmnpy_core::Error::new(
            mmnpy_core::ErrorKind::ReadOnly,
            format!("assignment destination is read-only ({name} is open in mode 'r')"),
        )));
    }
    Ok(())
}

/// What an elementwise job computes.
pub enum Elementwise {
    Binary { op: BinOp, a: OwnedView, b: Option<OwnedView>, scalar: Option<Value>, compute: DType },
    Cast { a: OwnedView },
    Fill { value: Value },
}

pub struct ElementwiseTask(Elementwise, OwnedView);

impl ElementwiseTask {
    fn run(&self) -> mmnpy_core::Result<()> {
        let out = self.1.dest();
        match &self.0 {
            Elementwise::Binary { op, a, b, scalar, compute } => {
                let operand = match (b, scalar) {
                    (Some(b), _) => Operand::View(b.source()),
                    (None, Some(v)) => Operand::Scalar(*v),
                    (None, None) => Operand::Scalar(Value::Int(0)),
                };
                elementwise::binary(*op, &a.source(), &operand, &out, *compute)
            }
            Elementwise::Cast { a } => elementwise::cast_copy(&a.source(), &out),
            Elementwise::Fill { value } => elementwise::fill(&out, *value),
        }
    }
}

impl Task for ElementwiseTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        self.run().map_err(task_error)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// The dtype of `a op b`: `other` is another array's dtype, or a scalar's kind.
#[napi]
pub fn binary_result_dtype(op: String, dtype: String, other_dtype: Option<String>, scalar: Option<ScalarIn>) -> Result<String, String> {
    let a = convert::dtype(&dtype)?.0;
    let op = bin_op(&op)?;
    let other = match (other_dtype, scalar) {
        (Some(d), _) => Other::Array(convert::dtype(&d)?.0),
        (None, Some(s)) => Other::Scalar(scalar_in(&s)?),
        (None, None) => return Err(invalid("binary_result_dtype needs another dtype or a scalar")),
    };
    let t = elementwise::result_dtype(op, a, other).or_js()?;
    Ok(t.name().to_string())
}

/// A new in-memory array of zeros.
#[napi]
pub fn zeros(env: Env, dtype: String, shape: Vec<f64>) -> Result<NativeArray, String> {
    let spec = convert::new_array(&dtype, &shape, false)?;
    wrap(&env, npy::zeros(&spec).or_js()?, false)
}

#[napi]
impl NativeArray {
    /// `out = self op (other | scalar)`; views already broadcast to `out`'s shape.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn binary(
        &self,
        op: String,
        a: ViewArg,
        other: Option<&NativeArray>,
        b: Option<ViewArg>,
        scalar: Option<ScalarIn>,
        out: &NativeArray,
        o: ViewArg,
        compute: String,
    ) -> Result<(), String> {
        self.binary_task(op, a, other, b, scalar, out, o, compute)?.run().or_js()
    }

    /// `binary` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>")]
    #[allow(clippy::too_many_arguments)]
    pub fn binary_async(
        &self,
        op: String,
        a: ViewArg,
        other: Option<&NativeArray>,
        b: Option<ViewArg>,
        scalar: Option<ScalarIn>,
        out: &NativeArray,
        o: ViewArg,
        compute: String,
    ) -> Result<AsyncTask<ElementwiseTask>, String> {
        Ok(AsyncTask::new(self.binary_task(op, a, other, b, scalar, out, o, compute)?))
    }

    /// `out[...] = self` with a cast (`astype`).
    #[napi]
    pub fn cast_into(&self, a: ViewArg, out: &NativeArray, o: ViewArg) -> Result<(), String> {
        writable(out)?;
        ElementwiseTask(Elementwise::Cast { a: OwnedView::of(self, a)? }, OwnedView::of(out, o)?).run().or_js()
    }

    /// `cast_into` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn cast_into_async(&self, a: ViewArg, out: &NativeArray, o: ViewArg) -> Result<AsyncTask<ElementwiseTask>, String> {
        writable(out)?;
        Ok(AsyncTask::new(ElementwiseTask(Elementwise::Cast { a: OwnedView::of(self, a)? }, OwnedView::of(out, o)?)))
    }

    /// `self[view] = value`.
    #[napi]
    pub fn fill(&self, o: ViewArg, value: ScalarIn) -> Result<(), String> {
        writable(self)?;
        ElementwiseTask(Elementwise::Fill { value: scalar_in(&value)? }, OwnedView::of(self, o)?).run().or_js()
    }

    /// `fill` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn fill_async(&self, o: ViewArg, value: ScalarIn) -> Result<AsyncTask<ElementwiseTask>, String> {
        writable(self)?;
        Ok(AsyncTask::new(ElementwiseTask(Elementwise::Fill { value: scalar_in(&value)? }, OwnedView::of(self, o)?)))
    }
}

impl NativeArray {
    #[allow(clippy::too_many_arguments)]
    fn binary_task(
        &self,
        op: String,
        a: ViewArg,
        other: Option<&NativeArray>,
        b: Option<ViewArg>,
        scalar: Option<ScalarIn>,
        out: &NativeArray,
        o: ViewArg,
        compute: String,
    ) -> Result<ElementwiseTask, String> {
        writable(out)?;
        let b = match (other, b) {
            (Some(arr), Some(v)) => Some(OwnedView::of(arr, v)?),
            (None, None) => None,
            _ => return Err(invalid("another array needs its view")),
        };
        let scalar = scalar.as_ref().map(scalar_in).transpose()?;
        if b.is_none() && scalar.is_none() {
            return Err(invalid("binary needs another array or a scalar"));
        }
        Ok(ElementwiseTask(
            Elementwise::Binary { op: bin_op(&op)?, a: OwnedView::of(self, a)?, b, scalar, compute: convert::dtype(&compute)?.0 },
            OwnedView::of(out, o)?,
        ))
    }
}

/// Both operands of a `dot`, owned for a task.
/// Left and right operands, `allowCopy`, and streaming mode (release the left's pages behind).
pub struct DotTask(OwnedView, OwnedView, bool, bool);

impl DotTask {
    fn run(&self) -> mmnpy_core::Result<DotResult> {
        dot::dot(&Source { release: self.3, ..self.0.source() }, &self.1.source())
    }
}

/// A `dot` result: `scalar` for vector·vector, else `array`.
pub enum DotOut {
    Scalar(ScalarRet),
    Array(NativeArray),
}

impl ToNapiValue for DotOut {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: forwarded to napi-rs' own conversions with the same env.
        unsafe {
            match val {
                DotOut::Scalar(s) => ScalarRet::to_napi_value(env, s),
                DotOut::Array(a) => NativeArray::to_napi_value(env, a),
            }
        }
    }
}

impl TypeName for DotOut {
    fn type_name() -> &'static str {
        "number | boolean | bigint | Complex | NativeArray"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

fn dot_out(env: &Env, r: DotResult, allow_copy: bool) -> Result<DotOut, String> {
    Ok(match r {
        DotResult::Scalar(v) => DotOut::Scalar(ScalarRet(v)),
        DotResult::Array(a) => DotOut::Array(axis_array(env, a, allow_copy)?),
    })
}

impl Task for DotTask {
    type Output = DotResult;
    type JsValue = DotOut;

    fn compute(&mut self) -> napi::Result<DotResult> {
        self.run().map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: DotResult) -> napi::Result<DotOut> {
        dot_out(&env, output, self.2).map_err(convert::resolve_error)
    }
}

#[napi]
impl NativeArray {
    /// `self · other` (1-D or 2-D views): a scalar for two vectors, else a new in-memory array.
    #[napi(ts_return_type = "number | boolean | bigint | Complex | NativeArray")]
    pub fn dot(&self, env: Env, a: ViewArg, other: &NativeArray, b: ViewArg, release: bool) -> Result<DotOut, String> {
        let t = DotTask(OwnedView::of(self, a)?, OwnedView::of(other, b)?, self.allow_copy, release);
        dot_out(&env, t.run().or_js()?, self.allow_copy)
    }

    /// `dot` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<number | boolean | bigint | Complex | NativeArray>")]
    pub fn dot_async(&self, a: ViewArg, other: &NativeArray, b: ViewArg, release: bool) -> Result<AsyncTask<DotTask>, String> {
        Ok(AsyncTask::new(DotTask(OwnedView::of(self, a)?, OwnedView::of(other, b)?, self.allow_copy, release)))
    }
}

/// The machine's ceiling in bytes per second: `read` (all kernel threads summing
/// faulted memory) and `memcpy` (one thread), measured over `bytes` of memory.
#[napi(object)]
pub struct CeilingOut {
    pub read: f64,
    pub memcpy: f64,
    pub threads: u32,
}

#[napi]
pub fn machine_ceiling(bytes: f64, runs: u32, file: Option<String>) -> Result<CeilingOut, String> {
    let c = mmnpy_core::kernels::probe::measure(convert::index(bytes, "bytes")?, runs as usize, file.as_deref().map(std::path::Path::new)).or_js()?;
    Ok(CeilingOut { read: c.read, memcpy: c.memcpy, threads: mmnpy_core::kernels::pool::threads() as u32 })
}
