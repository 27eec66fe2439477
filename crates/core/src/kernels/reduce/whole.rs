//! A reduction of the whole view to one value: the result dtype, the small-input
//! shortcut past the pool, and the dispatch by operation and element type to the sums,
//! moments and extremes.

use super::extreme::{extreme_value, fast_arg_extreme_f32, fast_arg_extreme_f64, fast_extreme_f32, fast_extreme_f64, fast_extreme_ord, Ordered};
use super::moments::{cmean, cmoments, given_var, moments, round16, var_f16};
use super::op::{empty_error, float_value, result_dtype, Input, Op};
use super::order::{buffered, PAR_MIN};
use super::pieces::release_view;
use super::sums::{full_prod, full_prod_with, full_sum, full_sum_with};
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::kernels::elem::{Bool, C, F16};
use crate::kernels::pool;
use crate::kernels::source::{Source, Value};

/// Reduces the whole view to one value.
pub fn reduce_all(src: &Source, op: Op, dtype: Option<DType>) -> Result<Value> {
    src.layout.check(src.dtype.itemsize(), src.map.len())?;
    let out = result_dtype(op, op.given().map_or(src.dtype, |g| g.dev), dtype)?;
    let n = src.layout.size();
    // Below PAR_MIN elements nothing is split (no `rayon::join`, `stream_map` runs
    // sequentially outside the pool): run on the calling thread and spare the handoff to
    // the pool (~10 µs).
    let v = if n < PAR_MIN && !src.release { dispatch(src, op, out, n) } else { pool::install(|| dispatch(src, op, out, n)) };
    if src.release {
        release_view(src);
    }
    v
}

macro_rules! by_elem {
    ($d:expr, $f:ident, $($args:tt)*) => {
        match $d {
            DType::Bool => $f::<Bool>($($args)*),
            DType::Int8 => $f::<i8>($($args)*),
            DType::UInt8 => $f::<u8>($($args)*),
            DType::Int16 => $f::<i16>($($args)*),
            DType::UInt16 => $f::<u16>($($args)*),
            DType::Int32 => $f::<i32>($($args)*),
            DType::UInt32 => $f::<u32>($($args)*),
            DType::Int64 => $f::<i64>($($args)*),
            DType::UInt64 => $f::<u64>($($args)*),
            DType::Float16 => $f::<F16>($($args)*),
            DType::Float32 => $f::<f32>($($args)*),
            DType::Float64 => $f::<f64>($($args)*),
            DType::Complex64 => $f::<C<f32>>($($args)*),
            DType::Complex128 => $f::<C<f64>>($($args)*),
        }
    };
}

pub(super) fn dispatch(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    match op {
        Op::Min | Op::Max | Op::ArgMin | Op::ArgMax => {
            if n == 0 {
                return empty_error(op);
            }
            let max = matches!(op, Op::Max | Op::ArgMax);
            let isz = src.dtype.itemsize();
            if !src.swap() && src.aligned() && src.layout.is_c_contiguous(isz) && crate::kernels::fast_paths() {
                // SAFETY (every arm): a C-contiguous, checked, aligned, native view of `n` elements.
                let p = unsafe { src.map.as_ptr().add(src.layout.offset) };
                let arg = matches!(op, Op::ArgMin | Op::ArgMax);
                match (src.dtype, arg) {
                    (DType::Float64, false) => return Ok(Value::Float(fast_extreme_f64(src, p as *const f64, n, max))),
                    (DType::Float32, false) => return Ok(Value::Float(fast_extreme_f32(src, p as *const f32, n, max) as f64)),
                    (DType::Float64, true) => return Ok(Value::Int(fast_arg_extreme_f64(src, p as *const f64, n, max) as i64)),
                    (DType::Float32, true) => return Ok(Value::Int(fast_arg_extreme_f32(src, p as *const f32, n, max) as i64)),
                    // int64 is also the datetime64 / timedelta64 min/max (NaT is i64::MIN).
                    (DType::Int64, false) => return Ok(fast_extreme_ord::<i64>(src, p as *const i64, n, max).value()),
                    (DType::UInt64, false) => return Ok(fast_extreme_ord::<u64>(src, p as *const u64, n, max).value()),
                    (DType::Int32, false) => return Ok(fast_extreme_ord::<i32>(src, p as *const i32, n, max).value()),
                    (DType::UInt32, false) => return Ok(fast_extreme_ord::<u32>(src, p as *const u32, n, max).value()),
                    _ => {}
                }
            }
            let (i, v) = by_elem!(src.dtype, extreme_value, src, max);
            Ok(if matches!(op, Op::ArgMin | Op::ArgMax) { Value::Int(i as i64) } else { v })
        }
        _ => by_elem_input(src, op, out, n),
    }
}

pub(super) fn by_elem_input(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    match src.dtype {
        DType::Bool => numeric::<Bool>(src, op, out, n),
        DType::Int8 => numeric::<i8>(src, op, out, n),
        DType::UInt8 => numeric::<u8>(src, op, out, n),
        DType::Int16 => numeric::<i16>(src, op, out, n),
        DType::UInt16 => numeric::<u16>(src, op, out, n),
        DType::Int32 => numeric::<i32>(src, op, out, n),
        DType::UInt32 => numeric::<u32>(src, op, out, n),
        DType::Int64 => numeric::<i64>(src, op, out, n),
        DType::UInt64 => numeric::<u64>(src, op, out, n),
        DType::Float16 => numeric::<F16>(src, op, out, n),
        DType::Float32 => numeric::<f32>(src, op, out, n),
        DType::Float64 => numeric::<f64>(src, op, out, n),
        DType::Complex64 => complex::<C<f32>>(src, op, out, n),
        DType::Complex128 => complex::<C<f64>>(src, op, out, n),
    }
}

pub(super) fn numeric<T: Input>(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    // Whether NumPy reduces without a cast (any other dtype= makes it buffer).
    let same = |d: DType| src.dtype == d;
    if let Some(g) = op.given() {
        return given_var::<T>(src, op, out, n, g);
    }
    match op {
        Op::Sum => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_sum::<T, i64>(src, true), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_sum::<T, u64>(src, true), out),
            DType::Float16 => float_value(full_sum_with::<T, f32>(src, buffered(src, same(DType::Float16)), round16)),
            DType::Float32 => float_value(full_sum::<T, f32>(src, buffered(src, same(DType::Float32)))),
            DType::Float64 => float_value(full_sum::<T, f64>(src, buffered(src, same(DType::Float64)))),
            DType::Complex64 => cvalue(full_sum::<T, C<f32>>(src, buffered(src, same(DType::Complex64)))),
            DType::Complex128 => cvalue(full_sum::<T, C<f64>>(src, buffered(src, same(DType::Complex128)))),
        }),
        Op::Prod => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_prod::<T, i64>(src), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_prod::<T, u64>(src), out),
            DType::Float16 => float_value(full_prod_with::<T, f32>(src, buffered(src, same(DType::Float16)), round16)),
            DType::Float32 => float_value(full_prod::<T, f32>(src)),
            DType::Float64 => float_value(full_prod::<T, f64>(src)),
            DType::Complex64 => cvalue(full_prod::<T, C<f32>>(src)),
            DType::Complex128 => cvalue(full_prod::<T, C<f64>>(src)),
        }),
        Op::Mean | Op::Var { .. } | Op::Std { .. } => match out {
            // NumPy's var of float16 works in float16 throughout.
            DType::Float16 if op != Op::Mean && src.dtype == DType::Float16 => Ok(float_value(var_f16::<T>(src, op, n))),
            // NumPy's mean of float16 sums with dtype=float32, a cast: always buffered.
            DType::Float16 => moments::<T, f32>(src, op, n, true).map(|v| float_value(F16::from_f32(v as f32).to_f32())),
            DType::Float32 => moments::<T, f32>(src, op, n, buffered(src, same(DType::Float32))).map(|v| float_value(v as f32)),
            DType::Float64 => moments::<T, f64>(src, op, n, buffered(src, same(DType::Float64))).map(float_value),
            DType::Complex64 if op == Op::Mean => cmean::<T, f32>(src, n),
            DType::Complex128 if op == Op::Mean => cmean::<T, f64>(src, n),
            other => err(ErrorKind::InvalidArgument, format!("cannot compute the {} in dtype {}", op.name(), other.name())),
        },
        _ => unreachable!("handled by dispatch"),
    }
}

pub(super) fn complex<T: Input>(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    match op {
        Op::Sum | Op::Prod => numeric::<T>(src, op, out, n),
        Op::Mean => match out {
            DType::Complex64 => cmean::<T, f32>(src, n),
            _ => cmean::<T, f64>(src, n),
        },
        Op::Var { .. } | Op::Std { .. } if op.given().is_some() => numeric::<T>(src, op, out, n),
        Op::Var { .. } | Op::Std { .. } => {
            let v = match out {
                DType::Float32 => cmoments::<T, f32>(src, op, n).map(|v| v as f32 as f64),
                _ => cmoments::<T, f64>(src, op, n),
            }?;
            Ok(Value::Float(v))
        }
        _ => unreachable!("handled by dispatch"),
    }
}

pub(super) fn cvalue<T: Into<f64>>(c: C<T>) -> Value {
    Value::Complex(c.0.into(), c.1.into())
}

pub(super) fn wrap_int(v: i64, out: DType) -> Value {
    Value::Int(match out {
        DType::Int8 => v as i8 as i64,
        DType::Int16 => v as i16 as i64,
        DType::Int32 => v as i32 as i64,
        DType::Bool => (v != 0) as i64,
        _ => v,
    })
}

pub(super) fn wrap_uint(v: u64, out: DType) -> Value {
    Value::UInt(match out {
        DType::UInt8 => v as u8 as u64,
        DType::UInt16 => v as u16 as u64,
        DType::UInt32 => v as u32 as u64,
        _ => v,
    })
}
