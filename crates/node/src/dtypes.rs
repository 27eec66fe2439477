//! Glue for the dtypes beyond numbers (datetimes, strings, records): the full dtype
//! described to JavaScript as JSON, sibling arrays over the same memory typed as a
//! field or as int64 ticks, creating files of any dtype, datetime reductions.

use mmnpy_core::descr::{Descr, TimeUnit};
use mmnpy_core::header::{self, Header};
use mmnpy_core::kernels::datetime::{self, TimeOp, TimeValue};
use mmnpy_core::kernels::reduce::{Reduced, Source};
use mmnpy_core::npy::{self, Array};
use mmnpy_core::{ByteOrder, DType, Error, ErrorKind, Layout, Mapping};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;
use std::sync::Arc;

use crate::array::{layout, wrap, NativeArray};
use crate::compute::task_error;
use crate::convert::{self, invalid, js_error, OrJs};

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The dtype as JSON for the JS layer: every node has `kind`, `name`, `itemsize`,
/// `order`, `alignment`; then `dtype` (num), `delta`/`unit`/`multiple` (time),
/// `fields` (record: `name`, `offset`, `shape`, `descr`).
pub(crate) fn descr_json(d: &Descr) -> Result<String, String> {
    let name = d.name().or_js()?;
    let head = format!("\"name\":{},\"itemsize\":{},\"order\":\"{}\",\"alignment\":{}", json_str(&name), d.itemsize(), d.order().symbol(), d.alignment());
    Ok(match d {
        Descr::Num { dtype, .. } => format!("{{\"kind\":\"num\",\"dtype\":\"{}\",{head}}}", dtype.name()),
        Descr::Time { delta, unit, multiple, .. } => {
            let u = if *unit == TimeUnit::Generic { "generic" } else { unit.symbol() };
            format!("{{\"kind\":\"time\",\"delta\":{delta},\"unit\":\"{u}\",\"multiple\":{multiple},{head}}}")
        }
        Descr::Bytes(_) => format!("{{\"kind\":\"bytes\",{head}}}"),
        Descr::Str { .. } => format!("{{\"kind\":\"str\",{head}}}"),
        Descr::Void(_) => format!("{{\"kind\":\"void\",{head}}}"),
        Descr::Record(r) => {
            let fields = r
                .fields
                .iter()
                .map(|f| {
                    Ok(format!(
                        "{{\"name\":{},\"offset\":{},\"shape\":[{}],\"descr\":{}}}",
                        json_str(&f.name),
                        f.offset,
                        f.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","),
                        descr_json(&f.descr)?
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?;
            format!("{{\"kind\":\"record\",{head},\"fields\":[{}]}}", fields.join(","))
        }
    })
}

/// `descr` as the storage fields of an `Array` (dtype, byte order, descr).
fn retype(mut a: Array, d: Descr) -> Array {
    let h = Header::with_descr(d, false, vec![]);
    a.dtype = h.dtype;
    a.byte_order = h.byte_order;
    a.descr = h.descr;
    a
}

/// A dtype from JavaScript: a string (`'<M8[ns]'`, `'str6'`) or NumPy's list or dict
/// form as a Python literal.
pub(crate) fn descr_spec(spec: &str) -> Result<Descr, String> {
    header::parse_descr_literal(spec).or_js()
}

/// The header of `shape` elements of `d`.
pub(crate) fn descr_header(d: Descr, shape: &[f64], fortran_order: bool) -> Result<Header, String> {
    Ok(Header::with_descr(d, fortran_order, convert::shape(shape)?.into_iter().map(|n| n as u64).collect()))
}

/// The JSON description of a dtype spelling (checks it).
#[napi]
pub fn describe_dtype(spec: String) -> Result<String, String> {
    descr_json(&descr_spec(&spec)?)
}

/// An in-memory array of any dtype: zeros, or a copy of `bytes` (in the dtype's byte order).
#[napi]
pub fn from_bytes_descr(env: Env, bytes: Option<&[u8]>, dtype: String, shape: Vec<f64>, fortran_order: bool, allow_copy: bool) -> Result<NativeArray, String> {
    let h = descr_header(descr_spec(&dtype)?, &shape, fortran_order)?;
    wrap(&env, npy::from_bytes_with(&h, bytes).or_js()?, allow_copy)
}

/// A datetime reduction's owned inputs, so it can run on another thread.
pub struct TimeJob {
    map: Arc<Mapping>,
    layout: Layout,
    order: ByteOrder,
    op: TimeOp,
    delta: bool,
}

impl TimeJob {
    fn src(&self) -> Source<'_> {
        Source { map: &self.map, layout: &self.layout, dtype: DType::Int64, order: self.order, release: false }
    }

    fn run(&self) -> mmnpy_core::Result<TimeValue> {
        datetime::reduce_time(&self.src(), self.op, self.delta)
    }

    fn run_axis(&self, axis: usize) -> mmnpy_core::Result<Reduced> {
        datetime::reduce_time_axis(&self.src(), self.op, self.delta, axis)
    }
}

/// An axis reduction's result as an array: indices (int64) for argmin/argmax, else
/// ticks in the array's own datetime/timedelta dtype (native byte order).
fn time_axis_array(env: &Env, descr: &Descr, op: TimeOp, r: Reduced, allow_copy: bool) -> Result<NativeArray, String> {
    if matches!(op, TimeOp::ArgMin | TimeOp::ArgMax) {
        return crate::compute::axis_array(env, r, allow_copy);
    }
    let h = Header::with_descr(descr.with_order(ByteOrder::NATIVE), false, r.shape.iter().map(|&n| n as u64).collect());
    wrap(env, npy::from_bytes_with(&h, Some(&r.bytes)).or_js()?, allow_copy)
}

pub struct ReduceTimeAxisTask {
    job: TimeJob,
    axis: usize,
    descr: Descr,
    allow_copy: bool,
}

impl Task for ReduceTimeAxisTask {
    type Output = Reduced;
    type JsValue = NativeArray;

    fn compute(&mut self) -> napi::Result<Reduced> {
        self.job.run_axis(self.axis).map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: Reduced) -> napi::Result<NativeArray> {
        time_axis_array(&env, &self.descr, self.job.op, output, self.allow_copy).map_err(convert::resolve_error)
    }
}

/// Ticks as decimal text, `null` for NaT; an index as decimal text.
fn time_out(v: TimeValue) -> Option<String> {
    match v {
        TimeValue::Ticks(t) => t.map(|t| t.to_string()),
        TimeValue::Index(i) => Some(i.to_string()),
    }
}

pub struct ReduceTimeTask(TimeJob);

impl Task for ReduceTimeTask {
    type Output = TimeValue;
    type JsValue = Option<String>;

    fn compute(&mut self) -> napi::Result<TimeValue> {
        self.0.run().map_err(task_error)
    }

    fn resolve(&mut self, _env: Env, output: TimeValue) -> napi::Result<Option<String>> {
        Ok(time_out(output))
    }
}

impl NativeArray {
    fn time_job(&self, op: &str, shape: &[f64], strides: &[f64], offset: f64) -> Result<TimeJob, String> {
        let Some(Descr::Time { delta, .. }) = &self.info.descr else {
            return Err(invalid("reduceTime needs a datetime64 or timedelta64 array"));
        };
        let top = TimeOp::parse(op).ok_or_else(|| {
            let what = if *delta { "timedelta64 reduces with sum, mean, min, max, argmin, argmax" } else { "datetime64 reduces with min, max, argmin, argmax" };
            js_error(Error::new(ErrorKind::UnsupportedDtype, format!("{op} is not defined for {}: {what}", self.info.full_descr().name().unwrap_or_default())))
        })?;
        Ok(TimeJob { map: self.holder.get().or_js()?, layout: layout(shape, strides, offset)?, order: self.info.byte_order, op: top, delta: *delta })
    }
}

#[napi]
impl NativeArray {
    /// The full dtype as JSON (see `descr_json`).
    #[napi]
    pub fn descr(&self) -> Result<String, String> {
        descr_json(&self.info.full_descr())
    }

    /// A sibling array over the same memory whose elements are field `name` of this
    /// record array's elements (the JS layer gives the view's offset and strides).
    #[napi]
    pub fn field_array(&self, name: String) -> Result<NativeArray, String> {
        let Some(Descr::Record(r)) = &self.info.descr else {
            return Err(invalid(format!("field('{name}') needs a record array; this one is {}", self.info.full_descr().name().unwrap_or_default())));
        };
        let Some(f) = r.field(&name) else {
            let names = r.fields.iter().map(|f| format!("'{}'", f.name)).collect::<Vec<_>>().join(", ");
            return Err(js_error(Error::new(ErrorKind::NotFound, format!("no field named '{name}' (the fields are {names})"))));
        };
        Ok(self.sibling(retype(self.info.clone(), f.descr.clone())))
    }

    /// A sibling array over the same memory whose elements are the int64 ticks of this
    /// datetime64 / timedelta64 array (`astype('int64')` as a view).
    #[napi]
    pub fn ticks_array(&self) -> Result<NativeArray, String> {
        match &self.info.descr {
            Some(Descr::Time { order, .. }) => Ok(self.sibling(retype(self.info.clone(), Descr::numeric(DType::Int64, *order)))),
            _ => Err(invalid("ticks are only defined for datetime64 and timedelta64 arrays")),
        }
    }

    /// A datetime reduction of all elements of a view: ticks as decimal text (`null` for
    /// NaT), or the index for argmin/argmax.
    #[napi]
    pub fn reduce_time(&self, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64) -> Result<Option<String>, String> {
        Ok(time_out(self.time_job(&op, &shape, &strides, offset)?.run().or_js()?))
    }

    /// `reduceTime` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn reduce_time_async(&self, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64) -> Result<AsyncTask<ReduceTimeTask>, String> {
        Ok(AsyncTask::new(ReduceTimeTask(self.time_job(&op, &shape, &strides, offset)?)))
    }

    /// A datetime reduction along `axis` of a view: an array of the same datetime dtype
    /// (NaT rules per lane), or of int64 indices for argmin/argmax.
    #[napi]
    pub fn reduce_time_axis(&self, env: Env, op: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64, axis: u32) -> Result<NativeArray, String> {
        let job = self.time_job(&op, &shape, &strides, offset)?;
        let r = job.run_axis(axis as usize).or_js()?;
        time_axis_array(&env, &self.info.full_descr(), job.op, r, self.allow_copy)
    }

    /// `reduceTimeAxis` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<NativeArray>")]
    pub fn reduce_time_axis_async(
        &self,
        op: String,
        shape: Vec<f64>,
        strides: Vec<f64>,
        offset: f64,
        axis: u32,
    ) -> Result<AsyncTask<ReduceTimeAxisTask>, String> {
        let job = self.time_job(&op, &shape, &strides, offset)?;
        Ok(AsyncTask::new(ReduceTimeAxisTask { job, axis: axis as usize, descr: self.info.full_descr(), allow_copy: self.allow_copy }))
    }
}
