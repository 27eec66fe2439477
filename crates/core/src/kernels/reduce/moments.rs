//! `mean`, `var` and `std` as NumPy computes them: the sum divided by the count, then
//! the sum of squared deviations (complex: `re² + im²`); with a given mean (NumPy 2's
//! `mean=`); float16 in float16 at every step.

use std::any::TypeId;

use super::op::{float_value, Given, Input, Op};
use super::order::buffered;
use super::sums::{full_sum, full_sum_with, sum_of};
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::kernels::elem::{Acc, Elem, To, C, F16};
use crate::kernels::source::{Source, Value};

/// Sum of squared deviations from `mean`.
pub(super) fn sq_dev<T: Elem + To<A>, A: Acc + Sq>(src: &Source, mean: A) -> A::Real {
    sum_of::<T, A::Real>(src, false, |x| x.to().dev2(mean), |a| a)
}

/// `abs(x - m)**2` in the accumulator's real type.
pub trait Sq: Acc {
    type Real: Acc + Into<f64>;
    fn dev2(self, m: Self) -> Self::Real;
    fn div(self, n: f64) -> Self;
}
impl Sq for f64 {
    type Real = f64;
    fn dev2(self, m: Self) -> f64 {
        let d = self - m;
        d * d
    }
    fn div(self, n: f64) -> Self {
        self / n
    }
}
impl Sq for f32 {
    type Real = f32;
    fn dev2(self, m: Self) -> f32 {
        let d = self - m;
        d * d
    }
    fn div(self, n: f64) -> Self {
        // NumPy divides by an integer count in float64, then rounds once.
        (self as f64 / n) as f32
    }
}
impl Sq for C<f64> {
    type Real = f64;
    fn dev2(self, m: Self) -> f64 {
        let (a, b) = (self.0 - m.0, self.1 - m.1);
        a * a + b * b
    }
    fn div(self, n: f64) -> Self {
        C(self.0 / n, self.1 / n)
    }
}
impl Sq for C<f32> {
    type Real = f32;
    fn dev2(self, m: Self) -> f32 {
        let (a, b) = (self.0 - m.0, self.1 - m.1);
        a * a + b * b
    }
    fn div(self, n: f64) -> Self {
        C(self.0 / n as f32, self.1 / n as f32)
    }
}

/// mean, var or std in a real float accumulator `A`.
pub(super) fn moments<T, A>(src: &Source, op: Op, n: usize, buffered: bool) -> Result<f64>
where
    T: Input + To<A>,
    A: Sq<Real = A> + Into<f64>,
{
    let sum = full_sum::<T, A>(src, buffered);
    let mean = sum.div(n as f64);
    match op {
        Op::Mean => Ok(mean.into()),
        Op::Var { ddof, .. } | Op::Std { ddof, .. } => {
            let ss = sq_dev::<T, A>(src, mean);
            let var: f64 = ss.div((n as f64 - ddof).max(0.0)).into();
            Ok(if matches!(op, Op::Std { .. }) { var.sqrt() } else { var })
        }
        _ => unreachable!(),
    }
}

pub(super) fn cmean<T, R>(src: &Source, n: usize) -> Result<Value>
where
    T: Input + To<C<R>>,
    R: Acc + Into<f64>,
    C<R>: Sq,
{
    let sum = full_sum::<T, C<R>>(src, buffered(src, natural_complex::<R>(src.dtype)));
    let (re, im) = cdiv(sum.0.into(), sum.1.into(), n);
    Ok(if TypeId::of::<R>() == TypeId::of::<f32>() { Value::Complex(re as f32 as f64, im as f32 as f64) } else { Value::Complex(re, im) })
}

/// Whether complex accumulation in `R` is the natural one for input `d` (no cast).
pub(super) fn natural_complex<R: 'static>(d: DType) -> bool {
    let single = TypeId::of::<R>() == TypeId::of::<f32>();
    (d == DType::Complex64 && single) || (d == DType::Complex128 && !single)
}

/// A complex sum divided by the count as NumPy divides (`true_divide` by an integer
/// promotes to complex128 and divides as Smith: `(re + im*0) * (1/n)`), so an infinite
/// part makes the other NaN as in NumPy.
pub(super) fn cdiv(re: f64, im: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (re / 0.0, im / 0.0);
    }
    let scl = 1.0 / n as f64;
    ((re + im * 0.0) * scl, (im - re * 0.0) * scl)
}

pub(super) fn cmoments<T, R>(src: &Source, op: Op, n: usize) -> Result<f64>
where
    T: Input + To<C<R>>,
    R: Sq + Into<f64>,
    C<R>: Sq<Real = R>,
{
    let sum = full_sum::<T, C<R>>(src, buffered(src, natural_complex::<R>(src.dtype)));
    let (re, im) = cdiv(sum.0.into(), sum.1.into(), n);
    let mean = C(from_f64::<R>(re), from_f64::<R>(im));
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let ss = sq_dev::<T, C<R>>(src, mean);
    let var: f64 = ss.div((n as f64 - ddof).max(0.0)).into();
    Ok(if matches!(op, Op::Std { .. }) { var.sqrt() } else { var })
}

/// var/std with the mean given (NumPy 2's `mean=`), as NumPy's `_var` computes it
/// then: `x - mean` in `g.dev` (the mean converted to it), squared there (complex:
/// `re² + im²`), summed in the result dtype `out` (in blocks when that is a cast of the
/// squares), divided by `n - ddof`.
pub(super) fn given_var<T: Input>(src: &Source, op: Op, out: DType, n: usize, g: Given) -> Result<Value> {
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let std = matches!(op, Op::Std { .. });
    let div = (n as f64 - ddof).max(0.0);
    let real = match g.dev {
        DType::Complex64 => DType::Float32,
        DType::Complex128 => DType::Float64,
        d => d,
    };
    let buffered = real != out;
    match out {
        DType::Float16 => {
            let ss = round16(given_sq::<T, f32>(src, g, buffered, round16));
            let var = round16_f64(ss as f64 / div);
            Ok(float_value(if std { round16(var.sqrt()) } else { var }))
        }
        DType::Float32 => {
            let var: f64 = given_sq::<T, f32>(src, g, buffered, |a| a).div(div).into();
            Ok(float_value((if std { var.sqrt() } else { var }) as f32))
        }
        DType::Float64 => {
            let var = given_sq::<T, f64>(src, g, buffered, |a| a).div(div);
            Ok(float_value(if std { var.sqrt() } else { var }))
        }
        other => err(ErrorKind::InvalidArgument, format!("cannot compute the {} in dtype {}", op.name(), other.name())),
    }
}

/// Sum of the squared deviations from a given mean, each computed in `g.dev` and
/// converted to the accumulator `A`.
pub(super) fn given_sq<T: Input, A: Acc>(src: &Source, g: Given, buffered: bool, round: impl Fn(A) -> A) -> A
where
    f32: To<A>,
    f64: To<A>,
{
    match g.dev {
        DType::Float16 => {
            let m = round16_f64(g.re);
            sum_of::<T, A>(
                src,
                buffered,
                move |x| {
                    let d = round16(round16(To::<f32>::to(x)) - m);
                    round16(d * d).to()
                },
                round,
            )
        }
        DType::Float32 => {
            let m = g.re as f32;
            sum_of::<T, A>(src, buffered, move |x| To::<f32>::to(x).dev2(m).to(), round)
        }
        DType::Float64 => sum_of::<T, A>(src, buffered, move |x| To::<f64>::to(x).dev2(g.re).to(), round),
        DType::Complex64 => {
            let m = C(g.re as f32, g.im as f32);
            sum_of::<T, A>(src, buffered, move |x| To::<C<f32>>::to(x).dev2(m).to(), round)
        }
        _ => sum_of::<T, A>(src, buffered, move |x| To::<C<f64>>::to(x).dev2(C(g.re, g.im)).to(), round),
    }
}

/// An f64 as `R` (f64, or f32 rounded once).
pub(super) fn from_f64<R: Acc>(x: f64) -> R {
    let any: &dyn std::any::Any = &x;
    match any.downcast_ref::<R>() {
        Some(r) => *r,
        None => {
            let y = x as f32;
            *(&y as &dyn std::any::Any).downcast_ref::<R>().expect("f32 or f64")
        }
    }
}

/// Rounds to float16 (the value stays an f32).
pub(super) fn round16(x: f32) -> f32 {
    F16::from_f32(x).to_f32()
}

/// Rounds an f64 to float16 once (NumPy's `npy_double_to_half`): to float32 rounding
/// to odd, then to float16.
pub(super) fn round16_f64(x: f64) -> f32 {
    let r = x as f32;
    let r = if r.is_finite() && r as f64 != x && r.to_bits() & 1 == 0 {
        let b = r.to_bits();
        f32::from_bits(if (r as f64).abs() > x.abs() { b - 1 } else { b + 1 })
    } else {
        r
    };
    round16(r)
}

/// var/std of float16 input as NumPy's `_var` computes it, in float16 at every step:
/// the sum (float32 inside each loop call, stored as float16), the mean `sum / n`,
/// `x - mean`, its square, their sum, the division by `n - ddof`, the square root.
pub(super) fn var_f16<T: Input>(src: &Source, op: Op, n: usize) -> f64 {
    let sum = full_sum_with::<T, f32>(src, buffered(src, true), round16);
    let mean = round16_f64(sum as f64 / n as f64);
    let ss = round16(sum_of::<T, f32>(
        src,
        false,
        |x| {
            let d = round16(To::<f32>::to(x) - mean);
            round16(d * d)
        },
        round16,
    ));
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let var = round16_f64(ss as f64 / (n as f64 - ddof).max(0.0));
    (if matches!(op, Op::Std { .. }) { round16(var.sqrt()) } else { var }) as f64
}
