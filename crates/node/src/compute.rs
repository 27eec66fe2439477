//! Reductions from JavaScript: argument checking, the sync forms, and the
//! `...Async` forms as napi AsyncTasks. A task holds its own `Arc` on the mapping,
//! so `close()` during the computation detaches JavaScript's views but leaves the
//! memory mapped until the task ends.

use std::sync::Arc;

use mmnpy_core::kernels::reduce::{self, Op, Reduced, Source, Value};
use mmnpy_core::npy::{self, NewArray};
use mmnpy_core::{ByteOrder, DType, Layout, Mapping};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{layout, wrap, NativeArray};
use crate::convert::{self, invalid, js_error, OrJs};

/// A reduced scalar: `kind` is 'float', 'int', 'uint', 'bool' or 'complex';
/// `text` holds integers exactly (decimal), `value`/`im` the numbers.
#[napi(object)]
pub struct ScalarOut {
    pub kind: String,
    pub value: f64,
    pub im: f64,
    pub text: String,
}

fn scalar(v: Value) -> ScalarOut {
    let (kind, value, im, text) = match v {
        Value::Bool(b) => ("bool", b as u8 as f64, 0.0, b.to_string()),
        Value::Int(i) => ("int", i as f64, 0.0, i.to_string()),
        Value::UInt(u) => ("uint", u as f64, 0.0, u.to_string()),
        Value::Float(f) => ("float", f, 0.0, String::new()),
        Value::Complex(r, i) => ("complex", r, i, String::new()),
    };
    ScalarOut { kind: kind.into(), value, im, text }
}

fn op(name: &str, ddof: f64) -> Result<Op, String> {
    if !ddof.is_finite() {
        return Err(invalid(format!("ddof must be a finite number, got {ddof}")));
    }
    Ok(match name {
        "sum" => Op::Sum,
        "prod" => Op::Prod,
        "mean" => Op::Mean,
        "var" => Op::Var { ddof },
        "std" => Op::Std { ddof },
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
}

impl Job {
    fn source(&self) -> Source<'_> {
        Source { map: &self.map, layout: &self.layout, dtype: self.dtype, order: self.order }
    }
}

/// Errors of a task cross threads as text; the JS layer restores the code.
fn task_error(e: mmnpy_core::Error) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e))
}

#[allow(clippy::too_many_arguments)]
fn job(a: &NativeArray, name: &str, shape: &[f64], strides: &[f64], offset: f64, axis: Option<u32>, dtype: Option<String>, ddof: f64) -> Result<Job, String> {
    let l = layout(shape, strides, offset)?;
    let out = match dtype {
        Some(d) => Some(convert::dtype(&d)?.0),
        None => None,
    };
    let axis = axis.map(|x| x as usize);
    if let Some(x) = axis {
        if x >= l.shape.len() {
            return Err(js_error(mmnpy_core::Error::new(
                mmnpy_core::ErrorKind::OutOfRange,
                format!("axis {x} is out of bounds for array of dimension {}", l.shape.len()),
            )));
        }
    }
    Ok(Job { map: a.holder.get().or_js()?, layout: l, dtype: a.info.dtype, order: a.info.byte_order, op: op(name, ddof)?, out, axis })
}

fn axis_array(env: &Env, r: Reduced, allow_copy: bool) -> Result<NativeArray, String> {
    let spec = NewArray { dtype: r.dtype, byte_order: r.dtype.default_order(), shape: r.shape, fortran_order: false };
    wrap(env, npy::from_bytes(&r.bytes, &spec).or_js()?, allow_copy)
}

pub struct ReduceAllTask(Job);

impl Task for ReduceAllTask {
    type Output = Value;
    type JsValue = ScalarOut;

    fn compute(&mut self) -> napi::Result<Value> {
        reduce::reduce_all(&self.0.source(), self.0.op, self.0.out).map_err(task_error)
    }

    fn resolve(&mut self, _env: Env, output: Value) -> napi::Result<ScalarOut> {
        Ok(scalar(output))
    }
}

pub struct ReduceAxisTask(Job, bool);

impl Task for ReduceAxisTask {
    type Output = Reduced;
    type JsValue = NativeArray;

    fn compute(&mut self) -> napi::Result<Reduced> {
        reduce::reduce_axis(&self.0.source(), self.0.op, self.0.axis.unwrap_or(0), self.0.out).map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: Reduced) -> napi::Result<NativeArray> {
        axis_array(&env, output, self.1).map_err(|e| napi::Error::new(Status::GenericFailure, format!("{}: {}", e.status, e.reason)))
    }
}

#[napi]
impl NativeArray {
    /// Reduces a view to one value (`axis` omitted) on the calling thread.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_all(&self, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, dtype: Option<String>, ddof: f64) -> Result<ScalarOut, String> {
        let j = job(self, &op, &shape, &strides, offset, None, dtype, ddof)?;
        Ok(scalar(reduce::reduce_all(&j.source(), j.op, j.out).or_js()?))
    }

    /// Reduces a view along `axis` into a new in-memory array.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_axis(&self, env: Env, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, axis: u32, dtype: Option<String>, ddof: f64) -> Result<NativeArray, String> {
        let j = job(self, &op, &shape, &strides, offset, Some(axis), dtype, ddof)?;
        let r = reduce::reduce_axis(&j.source(), j.op, axis as usize, j.out).or_js()?;
        axis_array(&env, r, self.allow_copy)
    }

    /// `reduceAll` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<ScalarOut>")]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_all_async(&self, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, dtype: Option<String>, ddof: f64) -> Result<AsyncTask<ReduceAllTask>, String> {
        Ok(AsyncTask::new(ReduceAllTask(job(self, &op, &shape, &strides, offset, None, dtype, ddof)?)))
    }

    /// `reduceAxis` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<NativeArray>")]
    #[allow(clippy::too_many_arguments)]
    pub fn reduce_axis_async(&self, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, axis: u32, dtype: Option<String>, ddof: f64) -> Result<AsyncTask<ReduceAxisTask>, String> {
        Ok(AsyncTask::new(ReduceAxisTask(job(self, &op, &shape, &strides, offset, Some(axis), dtype, ddof)?, self.allow_copy)))
    }
}

/// Threads the kernels use.
#[napi]
#[allow(dead_code)] // exported to JavaScript; unused by Rust test builds
pub fn kernel_threads() -> u32 {
    mmnpy_core::kernels::pool::threads() as u32
}
