//! NumPy's `isclose` and `allclose`, with NumPy's formula and its dtypes:
//!
//! ```text
//! y' = y as result_type(y, 1.0)        (integers and bools become float64)
//! isclose = (|x - y'| <= atol + rtol * |y'|) & isfinite(y') | (x == y')   [| isnan(x) & isnan(y')]
//! ```
//!
//! `x - y'` is computed in `promote(x, y')` and `atol + rtol * |y'|` in `y'`'s real type (the
//! Python floats `rtol` and `atol` are weak: a float16 `y` computes the bound in float16, where
//! the default `atol = 1e-8` is 0), each operation rounded as NumPy's loops round it (float16
//! through float32). Elements are loaded as complex128 (exact for every dtype but 64-bit
//! integers, which NumPy too converts to float64 here) and rounded to the operation's type.

use super::compare::{all_pairs, compare_walk, elementwise};
use super::elem::{C, F16};
use super::elementwise::{f64_to_f16, promote, Dest};
use super::source::Source;
use crate::dtype::DType;
use crate::error::Result;

/// The real floating type an operation rounds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    F16,
    F32,
    F64,
}

impl R {
    fn of(d: DType) -> R {
        match (d.kind(), d.itemsize()) {
            ('f', 2) => R::F16,
            ('f', 4) | ('c', 8) => R::F32,
            _ => R::F64,
        }
    }

    /// `v` (an exact result) rounded as NumPy's loop of this type rounds it.
    fn round(self, v: f64) -> f64 {
        match self {
            R::F64 => v,
            R::F32 => v as f32 as f64,
            // NumPy's float16 loops compute in float32, then round to half.
            R::F16 => F16::from_f32(v as f32).to_f32() as f64,
        }
    }

    /// A Python float converted to this type (one rounding).
    fn constant(self, v: f64) -> f64 {
        match self {
            R::F16 => F16(f64_to_f16(v)).to_f32() as f64,
            _ => self.round(v),
        }
    }

    fn hypot(self, a: f64, b: f64) -> f64 {
        match self {
            R::F64 => a.hypot(b),
            _ => (a as f32).hypot(b as f32) as f64,
        }
    }
}

/// The tolerances and NaN rule of one `isclose`.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
    pub equal_nan: bool,
}

/// The elementwise test for `x` of dtype `xd` and `y` of dtype `yd`.
fn closeness(xd: DType, yd: DType, t: Tolerance) -> impl Fn(C<f64>, C<f64>) -> bool + Sync + Send + Copy {
    let yd = if matches!(yd.kind(), 'f' | 'c') { yd } else { DType::Float64 };
    let td = promote(xd, yd);
    let (rt, ry) = (R::of(td), R::of(yd));
    let (tc, yc) = (td.kind() == 'c', yd.kind() == 'c');
    let (rtol, atol) = (ry.constant(t.rtol), ry.constant(t.atol));
    let equal_nan = t.equal_nan;
    move |x: C<f64>, y: C<f64>| {
        let (dr, di) = (rt.round(x.0 - y.0), rt.round(x.1 - y.1));
        let lhs = if tc { rt.hypot(dr, di) } else { dr.abs() };
        let ay = if yc { ry.hypot(y.0, y.1) } else { y.0.abs() };
        let rhs = ry.round(atol + ry.round(rtol * ay));
        let finite = y.0.is_finite() && y.1.is_finite();
        let nan = |c: C<f64>| c.0.is_nan() || c.1.is_nan();
        (lhs <= rhs && finite) || (x.0 == y.0 && x.1 == y.1) || (equal_nan && nan(x) && nan(y))
    }
}

/// `out = isclose(a, b)` (`b` broadcast to `a`'s shape by the caller).
pub fn isclose(a: &Source, b: &Source, out: &Dest, t: Tolerance) -> Result<()> {
    let f = closeness(a.dtype, b.dtype, t);
    elementwise(a, Some(b), out, |nest, ia, ib, o| compare_walk::<C<f64>, C<f64>>(nest, ia, ib.expect("two operands"), o, f))
}

/// `allclose(a, b)`: every element close (stops at the first that is not).
pub fn allclose(a: &Source, b: &Source, t: Tolerance) -> Result<bool> {
    all_pairs::<C<f64>, C<f64>>(a, b, closeness(a.dtype, b.dtype, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float16_bound_drops_the_default_atol() {
        let t = Tolerance { rtol: 1e-5, atol: 1e-8, equal_nan: false };
        let f = closeness(DType::Float16, DType::Float16, t);
        // 1.0 and the next half (1 + 2^-10): |d| = 2^-10 > rtol * 1 (atol is 0 in float16).
        assert!(!f(C(1.0, 0.0), C(1.0 + 2f64.powi(-10), 0.0)));
        let g = closeness(DType::Float64, DType::Int64, t);
        assert!(g(C(1e9 + 1.0, 0.0), C(1e9, 0.0)));
        assert!(!g(C(f64::NAN, 0.0), C(f64::NAN, 0.0)));
        let h = closeness(DType::Float64, DType::Float64, Tolerance { equal_nan: true, ..t });
        assert!(h(C(f64::NAN, 0.0), C(f64::NAN, 0.0)));
    }
}
