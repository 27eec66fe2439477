//! What a reduction is asked for: the operation ([`Op`], with `var`/`std`'s given mean),
//! the dtype NumPy gives its result, and the helpers that shape a result [`Value`].

use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::kernels::elem::{Elem, To, C};
use crate::kernels::source::Value;

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Sum,
    Prod,
    Mean,
    /// `mean`: NumPy 2's `mean=`, a mean known already (the mean pass is skipped).
    Var {
        ddof: f64,
        mean: Option<Given>,
    },
    Std {
        ddof: f64,
        mean: Option<Given>,
    },
    Min,
    Max,
    ArgMin,
    ArgMax,
}

/// A mean given to `var`/`std` (NumPy 2's `mean=`): `x - mean` is computed in `dev`
/// (see [`given_dtype`]), the mean converted to it first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Given {
    pub dev: DType,
    pub re: f64,
    pub im: f64,
}

/// The dtype NumPy computes `x - mean` in when `var`/`std` get `mean=`: with a
/// scalar (a JS number is a Python scalar: "weak"), `mean_dtype` is `None` and
/// `complex` says whether it has an imaginary part; an array's dtype promotes with the
/// input's (float or complex arrays only: NumPy would square integer deviations in
/// integers, wrapping).
pub fn given_dtype(input: DType, mean_dtype: Option<DType>, complex: bool) -> Result<DType> {
    use crate::kernels::elementwise::{result_dtype, BinOp, Other};
    let other = match mean_dtype {
        Some(d) if matches!(d.kind(), 'f' | 'c') => Other::Array(d),
        Some(d) => return err(ErrorKind::InvalidArgument, format!("mean must be a float or complex array, got dtype {}", d.name())),
        None if complex => Other::Scalar(Value::Complex(0.0, 0.0)),
        None => Other::Scalar(Value::Float(0.5)),
    };
    // A float or complex operand makes the difference float or complex.
    result_dtype(BinOp::Sub, input, other)
}

impl Op {
    /// The same reduction with the given mean's value replaced (one output of an axis
    /// reduction).
    pub(super) fn with_mean(self, re: f64, im: f64) -> Op {
        match self {
            Op::Var { ddof, mean: Some(g) } => Op::Var { ddof, mean: Some(Given { re, im, ..g }) },
            Op::Std { ddof, mean: Some(g) } => Op::Std { ddof, mean: Some(Given { re, im, ..g }) },
            other => other,
        }
    }

    pub(super) fn given(self) -> Option<Given> {
        match self {
            Op::Var { mean, .. } | Op::Std { mean, .. } => mean,
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Sum => "sum",
            Op::Prod => "prod",
            Op::Mean => "mean",
            Op::Var { .. } => "var",
            Op::Std { .. } => "std",
            Op::Min => "minimum",
            Op::Max => "maximum",
            Op::ArgMin => "argmin",
            Op::ArgMax => "argmax",
        }
    }
}

/// The dtype NumPy gives a reduction's result (before `dtype=` overrides).
pub fn result_dtype(op: Op, d: DType, requested: Option<DType>) -> Result<DType> {
    use DType::*;
    let int_like = matches!(d, Bool | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64);
    let natural = match op {
        Op::Sum | Op::Prod => match d {
            Bool | Int8 | Int16 | Int32 | Int64 => Int64,
            UInt8 | UInt16 | UInt32 | UInt64 => UInt64,
            other => other,
        },
        Op::Mean => {
            if int_like {
                Float64
            } else {
                d
            }
        }
        Op::Var { .. } | Op::Std { .. } => match d {
            _ if int_like => Float64,
            Complex64 => Float32,
            Complex128 => Float64,
            other => other,
        },
        Op::Min | Op::Max => d,
        Op::ArgMin | Op::ArgMax => Int64,
    };
    let Some(req) = requested else {
        return Ok(natural);
    };
    if matches!(op, Op::Min | Op::Max | Op::ArgMin | Op::ArgMax) {
        return err(ErrorKind::InvalidArgument, format!("{} takes no dtype", op.name()));
    }
    let rank = |t: DType| match t.kind() {
        'b' => 0,
        'u' | 'i' => 1,
        'f' => 2,
        _ => 3,
    };
    if rank(req) < rank(d) || (matches!(op, Op::Mean | Op::Var { .. } | Op::Std { .. }) && rank(req) < 2) {
        return err(
            ErrorKind::InvalidArgument,
            format!("cannot compute the {} of {} values in dtype {} (casting rule 'same_kind')", op.name(), d.name(), req.name()),
        );
    }
    Ok(match op {
        Op::Var { .. } | Op::Std { .. } => match req {
            Complex64 => Float32,
            Complex128 => Float64,
            r => r,
        },
        _ => req,
    })
}

pub(super) fn empty_error<T>(op: Op) -> Result<T> {
    err(ErrorKind::InvalidArgument, format!("zero-size array to reduction operation {} which has no identity", op.name()))
}

pub(super) fn float_value<A: Into<f64>>(v: A) -> Value {
    Value::Float(v.into())
}

/// Everything an element type must convert into, for any result dtype.
pub trait Input: Elem + To<i64> + To<u64> + To<f32> + To<f64> + To<C<f32>> + To<C<f64>> {}
impl<T: Elem + To<i64> + To<u64> + To<f32> + To<f64> + To<C<f32>> + To<C<f64>>> Input for T {}
