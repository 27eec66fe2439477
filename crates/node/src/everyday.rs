//! The everyday NumPy operations from JavaScript (assignment, constructors, comparisons,
//! selection, joins): argument checking, and one task shape for every `...Async` form.
//! A [`Work`] owns what its kernel needs (views hold an `Arc` on their mapping, so
//! `close()` during the computation detaches JavaScript's views but leaves the memory
//! mapped until the task ends); the sync form runs the same work on the calling thread.

use mmnpy_core::kernels::assign;
use mmnpy_core::kernels::close;
use mmnpy_core::kernels::compare::{self, CmpOp, Test};
use mmnpy_core::kernels::construct;
use mmnpy_core::kernels::elementwise::Dest;
use mmnpy_core::kernels::reduce::{Source, Value};
use mmnpy_core::npy::{self, Array, NewArray};
use mmnpy_core::{ByteOrder, Layout};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{wrap, NativeArray};
use crate::compute::{scalar_in, task_error, writable, OwnedView, ScalarIn, ViewArg};
use crate::convert::{self, index, invalid, OrJs};

/// What a piece of work produces.
pub enum Done {
    Unit,
    Bool(bool),
    Array(Array),
    Arrays(Vec<Array>),
}

/// [`Done`] on the JavaScript side.
pub enum DoneJs {
    Unit,
    Bool(bool),
    Array(NativeArray),
    Arrays(Vec<NativeArray>),
}

impl ToNapiValue for DoneJs {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: forwarded to napi-rs' own conversions with the same env.
        unsafe {
            match val {
                DoneJs::Unit => <()>::to_napi_value(env, ()),
                DoneJs::Bool(b) => bool::to_napi_value(env, b),
                DoneJs::Array(a) => NativeArray::to_napi_value(env, a),
                DoneJs::Arrays(v) => Vec::<NativeArray>::to_napi_value(env, v),
            }
        }
    }
}

impl TypeName for DoneJs {
    fn type_name() -> &'static str {
        "undefined | boolean | NativeArray | NativeArray[]"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

type Job = Box<dyn FnOnce() -> mmnpy_core::Result<Done> + Send>;

/// One operation, ready to run here ([`Work::now`]) or on a libuv thread (`AsyncTask`).
pub struct Work {
    job: Option<Job>,
    allow_copy: bool,
}

impl Work {
    pub(crate) fn new(allow_copy: bool, job: impl FnOnce() -> mmnpy_core::Result<Done> + Send + 'static) -> Work {
        Work { job: Some(Box::new(job)), allow_copy }
    }

    fn run(&mut self) -> mmnpy_core::Result<Done> {
        match self.job.take() {
            Some(job) => job(),
            None => Ok(Done::Unit),
        }
    }

    fn to_js(env: &Env, d: Done, allow_copy: bool) -> Result<DoneJs, String> {
        Ok(match d {
            Done::Unit => DoneJs::Unit,
            Done::Bool(b) => DoneJs::Bool(b),
            Done::Array(a) => DoneJs::Array(wrap(env, a, allow_copy)?),
            Done::Arrays(v) => DoneJs::Arrays(v.into_iter().map(|a| wrap(env, a, allow_copy)).collect::<Result<_, _>>()?),
        })
    }

    /// Runs on the calling thread.
    pub(crate) fn now(mut self, env: &Env) -> Result<DoneJs, String> {
        let d = self.run().or_js()?;
        Work::to_js(env, d, self.allow_copy)
    }

    pub(crate) fn later(self) -> AsyncTask<Work> {
        AsyncTask::new(self)
    }
}

impl Task for Work {
    type Output = Done;
    type JsValue = DoneJs;

    fn compute(&mut self) -> napi::Result<Done> {
        self.run().map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: Done) -> napi::Result<DoneJs> {
        Work::to_js(&env, output, self.allow_copy).map_err(convert::resolve_error)
    }
}

impl NativeArray {
    fn assign_work(&self, o: ViewArg, src: &NativeArray, s: ViewArg, release: bool) -> Result<Work, String> {
        writable(self)?;
        let (dst, src) = (OwnedView::of(self, o)?, OwnedView::of(src, s)?);
        Ok(Work::new(false, move || {
            let (mut d, mut s) = (dst.dest(), src.source());
            d.release = release;
            s.release = release;
            assign::assign(&s, &d).map(|_| Done::Unit)
        }))
    }

    fn assign_value_work(&self, o: ViewArg, value: ScalarIn, release: bool) -> Result<Work, String> {
        writable(self)?;
        let dst = OwnedView::of(self, o)?;
        let v = scalar_in(&value)?;
        Ok(Work::new(false, move || {
            let mut d = dst.dest();
            d.release = release;
            assign::assign_value(&d, v).map(|_| Done::Unit)
        }))
    }
}

#[napi]
impl NativeArray {
    /// `self[view] = src[s]`, `s` already broadcast to the view's shape.
    #[napi(ts_return_type = "void")]
    pub fn assign(&self, env: Env, o: ViewArg, src: &NativeArray, s: ViewArg, release: bool) -> Result<DoneJs, String> {
        self.assign_work(o, src, s, release)?.now(&env)
    }

    /// `assign` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn assign_async(&self, o: ViewArg, src: &NativeArray, s: ViewArg, release: bool) -> Result<AsyncTask<Work>, String> {
        Ok(self.assign_work(o, src, s, release)?.later())
    }

    /// `self[view] = value` (a scalar already converted as NumPy's setitem converts it).
    #[napi(ts_return_type = "void")]
    pub fn assign_value(&self, env: Env, o: ViewArg, value: ScalarIn, release: bool) -> Result<DoneJs, String> {
        self.assign_value_work(o, value, release)?.now(&env)
    }

    /// `assignValue` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn assign_value_async(&self, o: ViewArg, value: ScalarIn, release: bool) -> Result<AsyncTask<Work>, String> {
        Ok(self.assign_value_work(o, value, release)?.later())
    }
}

/// A new in-memory array of zeros, C or Fortran order.
#[napi]
pub fn new_zeros(env: Env, dtype: String, shape: Vec<f64>, fortran: bool) -> Result<NativeArray, String> {
    let spec = convert::new_array(&dtype, &shape, fortran)?;
    wrap(&env, npy::zeros(&spec).or_js()?, false)
}

/// `a` (native byte order) in byte order `order`: itself, or a converted copy.
fn in_order(a: Array, order: ByteOrder) -> mmnpy_core::Result<Array> {
    let order = a.dtype.order(order);
    if order == a.byte_order {
        return Ok(a);
    }
    let b = npy::zeros(&NewArray { dtype: a.dtype, byte_order: order, shape: a.shape.clone(), fortran_order: false })?;
    let (al, bl) = (a.layout(), b.layout());
    assign::assign(
        &Source { map: &a.mapping, layout: &al, dtype: a.dtype, order: a.byte_order, release: false },
        &Dest { map: &b.mapping, layout: &bl, dtype: b.dtype, order: b.byte_order, release: false },
    )?;
    Ok(b)
}

fn arange_work(dtype: String, n: f64, first: Option<ScalarIn>, second: Option<ScalarIn>) -> Result<Work, String> {
    let mut spec = convert::new_array(&dtype, &[n], false)?;
    let order = spec.byte_order;
    spec.byte_order = ByteOrder::NATIVE;
    let n = spec.shape[0];
    let values = [first.as_ref().map(scalar_in).transpose()?, second.as_ref().map(scalar_in).transpose()?];
    Ok(Work::new(false, move || {
        let mut a = npy::zeros(&spec)?;
        let isz = a.dtype.itemsize();
        for (k, v) in values.iter().enumerate().take(n.min(2)) {
            let v = v.unwrap_or(Value::Int(0));
            let one = Layout { shape: vec![], strides: vec![], offset: k * isz };
            assign::assign_value(&Dest { map: &a.mapping, layout: &one, dtype: a.dtype, order: a.byte_order, release: false }, v)?;
        }
        if n > 2 {
            construct::arange_fill(&mut a)?;
        }
        Ok(Done::Array(in_order(a, order)?))
    }))
}

/// `arange`: `n` elements, the first two `first` and `second` (already `start` and `start + step`).
#[napi(ts_return_type = "NativeArray")]
pub fn arange(env: Env, dtype: String, n: f64, first: Option<ScalarIn>, second: Option<ScalarIn>) -> Result<DoneJs, String> {
    arange_work(dtype, n, first, second)?.now(&env)
}

/// `arange` off the JavaScript thread.
#[napi(ts_return_type = "Promise<NativeArray>")]
pub fn arange_async(dtype: String, n: f64, first: Option<ScalarIn>, second: Option<ScalarIn>) -> Result<AsyncTask<Work>, String> {
    Ok(arange_work(dtype, n, first, second)?.later())
}

fn linspace_work(dtype: String, num: f64, start: f64, stop: f64, endpoint: bool) -> Result<Work, String> {
    let (dtype, order) = convert::dtype(&dtype)?;
    let num = index(num, "num")?;
    Ok(Work::new(false, move || Ok(Done::Array(in_order(construct::linspace(start, stop, num, endpoint, dtype)?, order)?))))
}

/// `linspace(start, stop, num, endpoint)` as `dtype`.
#[napi(ts_return_type = "NativeArray")]
pub fn linspace(env: Env, dtype: String, num: f64, start: f64, stop: f64, endpoint: bool) -> Result<DoneJs, String> {
    linspace_work(dtype, num, start, stop, endpoint)?.now(&env)
}

/// `linspace` off the JavaScript thread.
#[napi(ts_return_type = "Promise<NativeArray>")]
pub fn linspace_async(dtype: String, num: f64, start: f64, stop: f64, endpoint: bool) -> Result<AsyncTask<Work>, String> {
    Ok(linspace_work(dtype, num, start, stop, endpoint)?.later())
}

/// The second operand of a comparison: another array's view, or a scalar held in a
/// one-element array of the dtype NumPy's weak promotion gives it, broadcast to `shape`.
fn operand(other: Option<&NativeArray>, b: Option<ViewArg>, scalar: Option<ScalarIn>, dtype: Option<String>, shape: &[usize]) -> Result<OwnedView, String> {
    match (other, b, scalar, dtype) {
        (Some(arr), Some(v), None, None) => OwnedView::of(arr, v),
        (None, None, Some(s), Some(d)) => {
            let (dtype, _) = convert::dtype(&d)?;
            let one = npy::zeros(&NewArray { dtype, byte_order: ByteOrder::NATIVE, shape: vec![], fortran_order: false }).or_js()?;
            let l = Layout { shape: vec![], strides: vec![], offset: 0 };
            assign::assign_value(&Dest { map: &one.mapping, layout: &l, dtype, order: ByteOrder::NATIVE, release: false }, scalar_in(&s)?).or_js()?;
            Ok(OwnedView {
                map: one.mapping,
                layout: Layout { shape: shape.to_vec(), strides: vec![0; shape.len()], offset: 0 },
                dtype,
                order: ByteOrder::NATIVE,
            })
        }
        _ => Err(invalid("the other operand is an array with its view, or a scalar with its dtype")),
    }
}

fn cmp_op(name: &str) -> Result<CmpOp, String> {
    Ok(match name {
        "equal" => CmpOp::Eq,
        "notEqual" => CmpOp::Ne,
        "less" => CmpOp::Lt,
        "lessEqual" => CmpOp::Le,
        "greater" => CmpOp::Gt,
        "greaterEqual" => CmpOp::Ge,
        other => return Err(invalid(format!("unknown comparison '{other}'"))),
    })
}

/// The arguments of a binary operation with an output: `self[a] op (other[b] | scalar)` into `out[o]`.
#[napi(object, object_to_js = false)]
pub struct BinaryArgs {
    pub a: ViewArg,
    pub b: Option<ViewArg>,
    pub scalar: Option<ScalarIn>,
    pub scalar_dtype: Option<String>,
    pub o: ViewArg,
}

impl NativeArray {
    fn binary_views(&self, other: Option<&NativeArray>, args: BinaryArgs, out: &NativeArray) -> Result<(OwnedView, OwnedView, OwnedView), String> {
        writable(out)?;
        let a = OwnedView::of(self, args.a)?;
        let b = operand(other, args.b, args.scalar, args.scalar_dtype, &a.layout.shape)?;
        Ok((a, b, OwnedView::of(out, args.o)?))
    }

    fn compare_work(&self, op: String, other: Option<&NativeArray>, args: BinaryArgs, out: &NativeArray) -> Result<Work, String> {
        let op = cmp_op(&op)?;
        let (a, b, o) = self.binary_views(other, args, out)?;
        Ok(Work::new(false, move || compare::compare(op, &a.source(), &b.source(), &o.dest()).map(|_| Done::Unit)))
    }

    fn test_work(&self, test: String, a: ViewArg, out: &NativeArray, o: ViewArg) -> Result<Work, String> {
        writable(out)?;
        let t = match test.as_str() {
            "isnan" => Test::IsNan,
            "isfinite" => Test::IsFinite,
            other => return Err(invalid(format!("unknown test '{other}'"))),
        };
        let (a, o) = (OwnedView::of(self, a)?, OwnedView::of(out, o)?);
        Ok(Work::new(false, move || compare::test(t, &a.source(), &o.dest()).map(|_| Done::Unit)))
    }

    fn any_all_work(&self, all: bool, a: ViewArg, axis: Option<u32>) -> Result<Work, String> {
        let a = OwnedView::of(self, a)?;
        Ok(Work::new(self.allow_copy, move || match axis {
            None => compare::any_all(&a.source(), all).map(Done::Bool),
            Some(x) => compare::any_all_axis(&a.source(), x as usize, all).map(Done::Array),
        }))
    }

    fn equal_work(&self, a: ViewArg, other: &NativeArray, b: ViewArg, equal_nan: bool) -> Result<Work, String> {
        let (a, b) = (OwnedView::of(self, a)?, OwnedView::of(other, b)?);
        Ok(Work::new(false, move || compare::array_equal(&a.source(), &b.source(), equal_nan).map(Done::Bool)))
    }

    /// `isclose` into `out` when given, else `allclose`.
    fn close_work(&self, a: ViewArg, other: &NativeArray, b: ViewArg, out: Option<&NativeArray>, o: Option<ViewArg>, tol: Tolerance) -> Result<Work, String> {
        let (a, b) = (OwnedView::of(self, a)?, OwnedView::of(other, b)?);
        let t = close::Tolerance { rtol: tol.rtol, atol: tol.atol, equal_nan: tol.equal_nan };
        Ok(match (out, o) {
            (Some(out), Some(o)) => {
                writable(out)?;
                let o = OwnedView::of(out, o)?;
                Work::new(false, move || close::isclose(&a.source(), &b.source(), &o.dest(), t).map(|_| Done::Unit))
            }
            _ => Work::new(false, move || close::allclose(&a.source(), &b.source(), t).map(Done::Bool)),
        })
    }
}

/// `isclose`/`allclose` tolerances.
#[napi(object)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
    pub equal_nan: bool,
}

#[napi]
impl NativeArray {
    /// `out = self op other` (`equal`, `notEqual`, `less`, `lessEqual`, `greater`, `greaterEqual`).
    #[napi(ts_return_type = "void")]
    pub fn compare(&self, env: Env, op: String, other: Option<&NativeArray>, args: BinaryArgs, out: &NativeArray) -> Result<DoneJs, String> {
        self.compare_work(op, other, args, out)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn compare_async(&self, op: String, other: Option<&NativeArray>, args: BinaryArgs, out: &NativeArray) -> Result<AsyncTask<Work>, String> {
        Ok(self.compare_work(op, other, args, out)?.later())
    }

    /// `out = isnan(self)` or `isfinite(self)`.
    #[napi(ts_return_type = "void")]
    pub fn truth_test(&self, env: Env, test: String, a: ViewArg, out: &NativeArray, o: ViewArg) -> Result<DoneJs, String> {
        self.test_work(test, a, out, o)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn truth_test_async(&self, test: String, a: ViewArg, out: &NativeArray, o: ViewArg) -> Result<AsyncTask<Work>, String> {
        Ok(self.test_work(test, a, out, o)?.later())
    }

    /// `any()` / `all()`: a boolean, or along `axis` a new bool array.
    #[napi(ts_return_type = "boolean | NativeArray")]
    pub fn any_all(&self, env: Env, all: bool, a: ViewArg, axis: Option<u32>) -> Result<DoneJs, String> {
        self.any_all_work(all, a, axis)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<boolean | NativeArray>")]
    pub fn any_all_async(&self, all: bool, a: ViewArg, axis: Option<u32>) -> Result<AsyncTask<Work>, String> {
        Ok(self.any_all_work(all, a, axis)?.later())
    }

    /// NumPy's `array_equal`.
    #[napi(ts_return_type = "boolean")]
    pub fn array_equal(&self, env: Env, a: ViewArg, other: &NativeArray, b: ViewArg, equal_nan: bool) -> Result<DoneJs, String> {
        self.equal_work(a, other, b, equal_nan)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn array_equal_async(&self, a: ViewArg, other: &NativeArray, b: ViewArg, equal_nan: bool) -> Result<AsyncTask<Work>, String> {
        Ok(self.equal_work(a, other, b, equal_nan)?.later())
    }

    /// `isclose` into `out`, or `allclose` (a boolean) without it; views already broadcast.
    #[napi(ts_return_type = "void | boolean")]
    #[allow(clippy::too_many_arguments)]
    pub fn closeness(
        &self,
        env: Env,
        a: ViewArg,
        other: &NativeArray,
        b: ViewArg,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
        tol: Tolerance,
    ) -> Result<DoneJs, String> {
        self.close_work(a, other, b, out, o, tol)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<void | boolean>")]
    pub fn closeness_async(
        &self,
        a: ViewArg,
        other: &NativeArray,
        b: ViewArg,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
        tol: Tolerance,
    ) -> Result<AsyncTask<Work>, String> {
        Ok(self.close_work(a, other, b, out, o, tol)?.later())
    }
}
