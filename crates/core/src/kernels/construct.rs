//! The constructors that compute their elements: `arange` and `linspace`, each element
//! computed on its own exactly as NumPy computes it (never by repeated addition), so the
//! values are NumPy's bit for bit.
//!
//! `arange` (NumPy's `PyArray_ArangeObj`): elements 0 and 1 are `start` and `start + step`
//! converted into the dtype (the caller stores them, as NumPy's setitem does); the rest is
//! NumPy's `@TYPE@_fill`: `delta = a[1] - a[0]` in the dtype, `a[i] = a[0] + i * delta`
//! with `i` converted to the dtype's arithmetic (float32 for float32 and float16, whose
//! result is rounded once to half; wrapping 64-bit arithmetic then truncation for
//! integers; each part of a complex).
//!
//! `linspace` (NumPy's `function_base.linspace`, float64): `step = (stop - start) / div`,
//! `y[i] = i * step + start` (`i / div * delta + start` when `step` underflows to 0), the
//! last element `stop` exactly when `endpoint`; integer dtypes take the floor, then every
//! dtype is the float64 result cast (`astype`).

use rayon::prelude::*;

use super::assign::assign;
use super::elem::F16;
use super::elementwise::Dest;
use super::nest::PAR_MIN;
use super::pool;
use super::source::Source;
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::npy::{self, Array, NewArray};

/// Elements one parallel work item computes.
const CHUNK: usize = 1 << 14;

/// Calls `f(i, &mut out[i])` for every `i`, on the pool when `out` is large.
fn par_each<T: Send>(out: &mut [T], f: impl Fn(usize, &mut T) + Sync + Send) {
    let go = |(k, c): (usize, &mut [T])| {
        for (j, x) in c.iter_mut().enumerate() {
            f(k * CHUNK + j, x);
        }
    };
    if out.len() < PAR_MIN {
        out.chunks_mut(CHUNK).enumerate().for_each(go);
    } else {
        pool::install(|| out.par_chunks_mut(CHUNK).enumerate().for_each(go));
    }
}

fn par_fill<T: Send>(out: &mut [T], f: impl Fn(usize) -> T + Sync + Send) {
    par_each(out, |i, x| *x = f(i));
}

/// The elements of a fresh in-memory array as a slice of `T`.
///
/// # Safety
/// `a` must be a contiguous native-order array of `T`s (or of complex numbers of `T` parts)
/// that nothing else references yet.
unsafe fn elements<T>(a: &mut Array) -> &mut [T] {
    let n = a.mapping.len() / std::mem::size_of::<T>();
    // SAFETY: forwarded from the caller; anonymous mappings are page-aligned.
    unsafe { std::slice::from_raw_parts_mut(a.mapping.as_ptr() as *mut T, n) }
}

/// Completes an `arange` of `a` (a fresh, contiguous, native-order array of at least 3
/// elements whose elements 0 and 1 are set).
pub fn arange_fill(a: &mut Array) -> Result<()> {
    macro_rules! int {
        ($t:ty) => {{
            // SAFETY: the caller's contract.
            let v = unsafe { elements::<$t>(a) };
            let (s, d) = (v[0] as u64, (v[1] as u64).wrapping_sub(v[0] as u64));
            par_fill(&mut v[2..], |i| s.wrapping_add(((i + 2) as u64).wrapping_mul(d)) as $t);
        }};
    }
    macro_rules! float {
        ($t:ty, $lanes:expr) => {{
            // SAFETY: the caller's contract (complex as interleaved parts).
            let v = unsafe { elements::<$t>(a) };
            let lanes: usize = $lanes;
            let (s, d): (Vec<$t>, Vec<$t>) = (0..lanes).map(|p| (v[p], v[lanes + p] - v[p])).unzip();
            par_fill(&mut v[2 * lanes..], |k| {
                let (i, p) = (k / lanes + 2, k % lanes);
                s[p] + i as $t * d[p]
            });
        }};
    }
    match a.dtype {
        DType::Bool => return err(ErrorKind::InvalidArgument, "arange() is only supported for booleans when the result has at most length 2."),
        DType::Int8 => int!(i8),
        DType::UInt8 => int!(u8),
        DType::Int16 => int!(i16),
        DType::UInt16 => int!(u16),
        DType::Int32 => int!(i32),
        DType::UInt32 => int!(u32),
        DType::Int64 => int!(i64),
        DType::UInt64 => int!(u64),
        DType::Float16 => {
            // SAFETY: the caller's contract.
            let v = unsafe { elements::<u16>(a) };
            let (s, d) = (F16(v[0]).to_f32(), F16(v[1]).to_f32() - F16(v[0]).to_f32());
            par_fill(&mut v[2..], |i| F16::from_f32(s + (i + 2) as f32 * d).0);
        }
        DType::Float32 => float!(f32, 1),
        DType::Float64 => float!(f64, 1),
        DType::Complex64 => float!(f32, 2),
        DType::Complex128 => float!(f64, 2),
    }
    Ok(())
}

/// NumPy's `linspace(start, stop, num, endpoint, dtype=dtype)` as a new in-memory array.
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: DType) -> Result<Array> {
    let spec = NewArray { dtype: DType::Float64, byte_order: ByteOrder::NATIVE, shape: vec![num], fortran_order: false };
    let mut y = npy::zeros(&spec)?;
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let delta = stop - start;
    {
        // SAFETY: `y` is fresh, contiguous and native-order float64.
        let v = unsafe { elements::<f64>(&mut y) };
        if div > 0 {
            let step = delta / div as f64;
            if step == 0.0 {
                par_fill(v, |i| i as f64 / div as f64 * delta + start);
            } else {
                par_fill(v, |i| i as f64 * step + start);
            }
        } else {
            par_fill(v, |i| i as f64 * delta + start);
        }
        if endpoint && num > 1 {
            v[num - 1] = stop;
        }
        if matches!(dtype.kind(), 'i' | 'u') {
            par_each(v, |_, x| *x = x.floor());
        }
    }
    if dtype == DType::Float64 {
        return Ok(y);
    }
    let out = npy::zeros(&NewArray { dtype, ..spec })?;
    let (yl, ol) = (y.layout(), out.layout());
    assign(
        &Source { map: &y.mapping, layout: &yl, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false },
        &Dest { map: &out.mapping, layout: &ol, dtype, order: out.byte_order, release: false },
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(dtype: DType, n: usize) -> Array {
        npy::zeros(&NewArray { dtype, byte_order: ByteOrder::NATIVE, shape: vec![n], fortran_order: false }).unwrap()
    }

    #[test]
    fn arange_is_start_plus_i_delta() {
        let mut a = fresh(DType::Float64, 5);
        // SAFETY: fresh array.
        let v = unsafe { elements::<f64>(&mut a) };
        v[0] = 0.1;
        v[1] = 0.1 + 0.7;
        arange_fill(&mut a).unwrap();
        let want: Vec<f64> = (0..5).map(|i| if i == 0 { 0.1 } else { 0.1 + i as f64 * ((0.1 + 0.7) - 0.1) }).collect();
        // SAFETY: fresh array.
        assert_eq!(unsafe { elements::<f64>(&mut a) }, &want[..]);
        let mut b = fresh(DType::Int8, 4);
        // SAFETY: fresh array.
        let w = unsafe { elements::<i8>(&mut b) };
        w[0] = -100;
        w[1] = 100;
        arange_fill(&mut b).unwrap();
        // SAFETY: fresh array.
        assert_eq!(unsafe { elements::<i8>(&mut b) }, &[-100, 100, 44, -12]); // wraps as NumPy's int8 loop
        assert!(arange_fill(&mut fresh(DType::Bool, 3)).is_err());
    }

    #[test]
    fn linspace_ends_at_stop_and_floors_for_integers() {
        let mut a = linspace(0.0, 1.0, 5, true, DType::Int64).unwrap();
        // SAFETY: fresh array.
        assert_eq!(unsafe { elements::<i64>(&mut a) }, &[0, 0, 0, 0, 1]);
        let mut b = linspace(2.0, -3.5, 7, true, DType::Float64).unwrap();
        // SAFETY: fresh array.
        assert_eq!(unsafe { elements::<f64>(&mut b) }[6], -3.5);
        assert_eq!(linspace(3.0, 4.0, 1, true, DType::Float64).unwrap().shape, vec![1]);
    }
}
