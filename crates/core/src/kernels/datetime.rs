//! Reductions of datetime64 / timedelta64 views with NumPy's NaT rules, on top of the
//! int64 kernels (so they run on every core like them). The ticks are int64 and NaT
//! is `i64::MIN`, the smallest int64: `min` and `argmin` of the ticks already give
//! NaT and its first index; `max`, `argmax`, `sum` and `mean` look for a NaT first
//! (one `min` pass) and return NaT (its first index for `argmax`) when there is one.
//!
//! NumPy: `min`/`max` propagate NaT, `argmin`/`argmax` return the first NaT's index,
//! `sum` of timedeltas is NaT with any NaT and wraps otherwise, `mean` is that sum
//! divided by the count and truncated toward zero (NaT for no elements).

use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::kernels::reduce::{self, Op, Reduced};
use crate::kernels::source::{Source, Value};

/// NumPy's Not-a-Time.
pub const NAT: i64 = i64::MIN;

/// A datetime reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOp {
    Min,
    Max,
    ArgMin,
    ArgMax,
    /// timedelta64 only.
    Sum,
    /// timedelta64 only.
    Mean,
}

impl TimeOp {
    pub fn parse(name: &str) -> Option<TimeOp> {
        Some(match name {
            "min" => TimeOp::Min,
            "max" => TimeOp::Max,
            "argmin" => TimeOp::ArgMin,
            "argmax" => TimeOp::ArgMax,
            "sum" => TimeOp::Sum,
            "mean" => TimeOp::Mean,
            _ => return None,
        })
    }
}

/// The result: ticks (`None` for NaT), or an index for argmin/argmax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeValue {
    Ticks(Option<i64>),
    Index(u64),
}

fn ticks(v: Value) -> i64 {
    match v {
        Value::Int(i) => i,
        Value::UInt(u) => u as i64,
        Value::Float(f) => f as i64,
        Value::Bool(b) => b as i64,
        Value::Complex(r, _) => r as i64,
    }
}

fn index(v: Value) -> u64 {
    match v {
        Value::Int(i) => i as u64,
        Value::UInt(u) => u,
        other => ticks(other) as u64,
    }
}

fn nat(t: i64) -> Option<i64> {
    (t != NAT).then_some(t)
}

/// Reduces all elements of a view of int64 ticks (`src.dtype` must be int64).
pub fn reduce_time(src: &Source, op: TimeOp, delta: bool) -> Result<TimeValue> {
    check_op(src, op, delta)?;
    let n = src.layout.size();
    if n == 0 && matches!(op, TimeOp::Sum | TimeOp::Mean) {
        return Ok(TimeValue::Ticks(if op == TimeOp::Sum { Some(0) } else { None }));
    }
    Ok(match op {
        TimeOp::Min => TimeValue::Ticks(nat(ticks(reduce::reduce_all(src, Op::Min, None)?))),
        TimeOp::ArgMin => TimeValue::Index(index(reduce::reduce_all(src, Op::ArgMin, None)?)),
        TimeOp::Max | TimeOp::ArgMax => {
            // The first minimum is the first NaT when there is one.
            let first_min = index(reduce::reduce_all(src, Op::ArgMin, None)?);
            let min = element(src, first_min)?;
            match (op, min == NAT) {
                (TimeOp::Max, true) => TimeValue::Ticks(None),
                (_, true) => TimeValue::Index(first_min),
                (TimeOp::Max, false) => TimeValue::Ticks(Some(ticks(reduce::reduce_all(src, Op::Max, None)?))),
                _ => TimeValue::Index(index(reduce::reduce_all(src, Op::ArgMax, None)?)),
            }
        }
        TimeOp::Sum | TimeOp::Mean => {
            if ticks(reduce::reduce_all(src, Op::Min, None)?) == NAT {
                return Ok(TimeValue::Ticks(None));
            }
            let sum = ticks(reduce::reduce_all(src, Op::Sum, Some(DType::Int64))?);
            if op == TimeOp::Sum {
                TimeValue::Ticks(nat(sum))
            } else {
                // NumPy: timedelta64 // count, truncated toward zero.
                TimeValue::Ticks(if sum == NAT { None } else { Some(sum / n as i64) })
            }
        }
    })
}

/// Reduces along `axis` of a view of int64 ticks (`src.dtype` must be int64), with the
/// NaT rules of [`reduce_time`] per output. The result is int64: ticks in native byte
/// order (NaT as [`NAT`]) for min/max/sum/mean, indices for argmin/argmax.
pub fn reduce_time_axis(src: &Source, op: TimeOp, delta: bool, axis: usize) -> Result<Reduced> {
    check_op(src, op, delta)?;
    let along = |op: Op, dtype: Option<DType>| reduce::reduce_axis(src, op, axis, dtype, None);
    let n = src.layout.shape.get(axis).copied().unwrap_or(0);
    Ok(match op {
        TimeOp::Min => along(Op::Min, None)?,
        TimeOp::ArgMin => along(Op::ArgMin, None)?,
        TimeOp::Sum | TimeOp::Mean if n == 0 => {
            // Empty lanes: the sum is 0, the mean NaT.
            let mut r = along(Op::Sum, Some(DType::Int64))?;
            if op == TimeOp::Mean {
                fill(&mut r.bytes, NAT);
            }
            r
        }
        _ => {
            // Lanes holding a NaT: their minimum is NaT and their first minimum its index.
            let mins = along(Op::Min, None)?;
            let mut r = match op {
                TimeOp::Max => along(Op::Max, None)?,
                TimeOp::ArgMax => along(Op::ArgMax, None)?,
                _ => along(Op::Sum, Some(DType::Int64))?,
            };
            let first = if op == TimeOp::ArgMax { Some(along(Op::ArgMin, None)?) } else { None };
            let lanes = r.bytes.len() / 8;
            for i in 0..lanes {
                let has_nat = word(&mins.bytes, i) == NAT;
                let v = match (op, has_nat) {
                    (TimeOp::ArgMax, true) => word(&first.as_ref().expect("argmin of the lanes").bytes, i),
                    (TimeOp::ArgMax, false) => continue,
                    (_, true) => NAT,
                    // NumPy: timedelta64 // count, truncated toward zero.
                    (TimeOp::Mean, false) => match word(&r.bytes, i) {
                        NAT => NAT,
                        s => s / n as i64,
                    },
                    _ => continue,
                };
                r.bytes[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
            }
            r
        }
    })
}

fn check_op(src: &Source, op: TimeOp, delta: bool) -> Result<()> {
    if src.dtype != DType::Int64 {
        return err(ErrorKind::InvalidArgument, "datetime reductions run on int64 ticks");
    }
    if !delta && matches!(op, TimeOp::Sum | TimeOp::Mean) {
        let name = if op == TimeOp::Sum { "sum" } else { "mean" };
        return err(ErrorKind::UnsupportedDtype, format!("{name} is not defined for datetime64 (NumPy refuses it too); use timedelta64 differences"));
    }
    Ok(())
}

/// The `i`-th native int64 of `bytes` (a reduction's result: int64 values, native order).
fn word(bytes: &[u8], i: usize) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
    i64::from_ne_bytes(w)
}

fn fill(bytes: &mut [u8], v: i64) {
    for c in bytes.chunks_exact_mut(8) {
        c.copy_from_slice(&v.to_ne_bytes());
    }
}

/// The element at flat C-order index `i` of the view.
fn element(src: &Source, i: u64) -> Result<i64> {
    let l = src.layout;
    let mut rest = i as usize;
    let mut off = l.offset as isize;
    for (&dim, &stride) in l.shape.iter().zip(&l.strides).rev() {
        let k = rest % dim.max(1);
        rest /= dim.max(1);
        off += k as isize * stride;
    }
    let bytes = src.map.read_bytes(off as usize, 8)?;
    let raw: [u8; 8] = bytes[..8].try_into().map_err(|_| crate::Error::new(ErrorKind::OutOfRange, "element outside the mapping"))?;
    Ok(if src.dtype.order(src.order).is_native() { i64::from_ne_bytes(raw) } else { i64::from_ne_bytes(raw).swap_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ByteOrder, Layout, Mapping};

    fn run(v: &[i64], op: TimeOp, delta: bool, order: ByteOrder) -> TimeValue {
        let bytes: Vec<u8> = v.iter().flat_map(|x| if order == ByteOrder::Big { x.to_be_bytes() } else { x.to_le_bytes() }).collect();
        let map = Mapping::from_bytes(&bytes).unwrap();
        let layout = Layout::contiguous(&[v.len()], 8, false);
        reduce_time(&Source { map: &map, layout: &layout, dtype: DType::Int64, order, release: false }, op, delta).unwrap()
    }

    #[test]
    fn nat_rules_like_numpy() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let v = [5, NAT, 3, NAT];
            assert_eq!(run(&v, TimeOp::Min, false, order), TimeValue::Ticks(None));
            assert_eq!(run(&v, TimeOp::Max, false, order), TimeValue::Ticks(None));
            assert_eq!(run(&v, TimeOp::ArgMax, false, order), TimeValue::Index(1));
            assert_eq!(run(&v, TimeOp::ArgMin, false, order), TimeValue::Index(1));
            assert_eq!(run(&v, TimeOp::Sum, true, order), TimeValue::Ticks(None));
            let w = [5, -7, 3];
            assert_eq!(run(&w, TimeOp::Max, false, order), TimeValue::Ticks(Some(5)));
            assert_eq!(run(&w, TimeOp::ArgMin, false, order), TimeValue::Index(1));
            assert_eq!(run(&w, TimeOp::Sum, true, order), TimeValue::Ticks(Some(1)));
            assert_eq!(run(&[-1, -2], TimeOp::Mean, true, order), TimeValue::Ticks(Some(-1)));
            assert_eq!(run(&[-5, 0, 0], TimeOp::Mean, true, order), TimeValue::Ticks(Some(-1)));
            assert_eq!(run(&[1 << 62, 1 << 62], TimeOp::Sum, true, order), TimeValue::Ticks(None));
        }
        assert_eq!(run(&[], TimeOp::Mean, true, ByteOrder::Little), TimeValue::Ticks(None));
        assert_eq!(run(&[], TimeOp::Sum, true, ByteOrder::Little), TimeValue::Ticks(Some(0)));
    }

    #[test]
    fn axis_reductions_apply_the_nat_rules_per_lane() {
        // [[5, NaT, 3], [-7, 2, 9]] as int64 ticks, both byte orders; reduced along each axis.
        let v = [5, NAT, 3, -7, 2, 9];
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let bytes: Vec<u8> = v.iter().flat_map(|x| if order == ByteOrder::Big { x.to_be_bytes() } else { x.to_le_bytes() }).collect();
            let map = Mapping::from_bytes(&bytes).unwrap();
            let layout = Layout::contiguous(&[2, 3], 8, false);
            let src = Source { map: &map, layout: &layout, dtype: DType::Int64, order, release: false };
            let got = |op, axis| {
                let r = reduce_time_axis(&src, op, true, axis).unwrap();
                (0..r.bytes.len() / 8).map(|i| word(&r.bytes, i)).collect::<Vec<_>>()
            };
            assert_eq!(got(TimeOp::Min, 1), [NAT, -7]);
            assert_eq!(got(TimeOp::Max, 1), [NAT, 9]);
            assert_eq!(got(TimeOp::ArgMax, 1), [1, 2]);
            assert_eq!(got(TimeOp::ArgMin, 1), [1, 0]);
            assert_eq!(got(TimeOp::Sum, 1), [NAT, 4]);
            assert_eq!(got(TimeOp::Mean, 1), [NAT, 1]);
            assert_eq!(got(TimeOp::Max, 0), [5, NAT, 9]);
            assert_eq!(got(TimeOp::ArgMax, 0), [0, 0, 1]);
            assert_eq!(got(TimeOp::Mean, 0), [-1, NAT, 6]);
            assert!(reduce_time_axis(&src, TimeOp::Sum, false, 0).is_err());
        }
    }
}
