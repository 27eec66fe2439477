//! Reductions (`sum`, `prod`, `mean`, `var`, `std`, `min`, `max`, `argmin`,
//! `argmax`) over strided views, in place on the mapped memory, on an owned
//! rayon pool.
//!
//! Float sums follow NumPy's pairwise summation (`loops_utils.h.src`): below 8
//! elements a plain loop from +0.0; up to 128, eight accumulators combined as
//! `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))` then the tail; above, a split at `n/2`
//! rounded down to a multiple of 8. Threads take subtrees of that same tree, so
//! the result does not depend on the thread count and equals NumPy's for
//! contiguous data. Where NumPy buffers (byte-swapped, unaligned or cast input)
//! it sums blocks of 8192 elements pairwise and adds the block sums in order; so
//! does this module. Other layouts agree with NumPy to a few ulps.

use rayon::prelude::*;

use super::elem::{Acc, Bool, Elem, To, C, F16};
use super::pool;
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::view::Layout;

/// NumPy's buffer size: the block length of buffered (cast or swapped) sums.
const BUFSIZE: usize = 8192;
/// Below this many elements a subtree is summed on one thread.
const PAR_MIN: usize = 1 << 16;

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Sum,
    Prod,
    Mean,
    Var { ddof: f64 },
    Std { ddof: f64 },
    Min,
    Max,
    ArgMin,
    ArgMax,
}

impl Op {
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

/// A reduced value, in the result dtype's own terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// float16, float32 and float64 results (exactly representable in f64).
    Float(f64),
    Complex(f64, f64),
}

/// The elements of one view of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub map: &'a Mapping,
    pub layout: &'a Layout,
    pub dtype: DType,
    pub order: ByteOrder,
}

impl Source<'_> {
    fn swap(&self) -> bool {
        !self.dtype.order(self.order).is_native()
    }
    fn aligned(&self) -> bool {
        let al = self.dtype.alignment();
        (self.map.as_ptr() as usize + self.layout.offset).is_multiple_of(al) && self.layout.strides.iter().all(|s| s.unsigned_abs().is_multiple_of(al))
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
        Op::Mean => if int_like { Float64 } else { d },
        Op::Var { .. } | Op::Std { .. } => match d {
            _ if int_like => Float64,
            Complex64 => Float32,
            Complex128 => Float64,
            other => other,
        },
        Op::Min | Op::Max => d,
        Op::ArgMin | Op::ArgMax => Int64,
    };
    let Some(req) = requested else { return Ok(natural) };
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

/// Pairwise sum of `get(lo..lo+n)`, NumPy's tree, subtrees on the pool.
fn pairwise<A: Acc, G: Fn(usize) -> A + Sync>(lo: usize, n: usize, get: &G) -> A {
    if n < 8 {
        let mut r = A::ZERO;
        for i in 0..n {
            r = r.add(get(lo + i));
        }
        r
    } else if n <= 128 {
        let mut r = [A::ZERO; 8];
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = get(lo + j);
        }
        let end = n - n % 8;
        let mut i = 8;
        while i < end {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj = rj.add(get(lo + i + j));
            }
            i += 8;
        }
        let mut res = r[0].add(r[1]).add(r[2].add(r[3])).add(r[4].add(r[5]).add(r[6].add(r[7])));
        for k in end..n {
            res = res.add(get(lo + k));
        }
        res
    } else {
        let n2 = n / 2;
        let n2 = n2 - n2 % 8;
        if n >= PAR_MIN {
            let (a, b) = rayon::join(|| pairwise(lo, n2, get), || pairwise(lo + n2, n - n2, get));
            a.add(b)
        } else {
            pairwise(lo, n2, get).add(pairwise(lo + n2, n - n2, get))
        }
    }
}

/// Sum of a 1-D run of `n` elements at `base` with byte `stride`, as NumPy's inner loop:
/// pairwise, or block-wise when NumPy would buffer.
fn sum_run<T: Elem + To<A>, A: Acc>(base: *const u8, n: usize, stride: isize, swap: bool, buffered: bool) -> A {
    let base = base as usize;
    let get = move |i: usize| -> A {
        // SAFETY: the caller checked the view lies inside the mapping, so element i exists.
        unsafe { T::load((base as isize + i as isize * stride) as *const u8, swap).to() }
    };
    if !buffered {
        return A::ZERO.add(pairwise(0, n, &get));
    }
    let blocks: Vec<A> = (0..n.div_ceil(BUFSIZE))
        .into_par_iter()
        .map(|b| pairwise(b * BUFSIZE, BUFSIZE.min(n - b * BUFSIZE), &get))
        .collect();
    blocks.into_iter().fold(A::ZERO, |acc, s| acc.add(s))
}

/// Product of a run (sequential, as NumPy).
fn prod_run<T: Elem + To<A>, A: Acc>(base: *const u8, n: usize, stride: isize, swap: bool) -> A {
    let mut acc = A::ONE;
    for i in 0..n {
        // SAFETY: as in `sum_run`.
        acc = acc.mul(unsafe { T::load(base.offset(i as isize * stride), swap).to() });
    }
    acc
}

/// The elements of a view as (base pointer, runs): whole memory when contiguous,
/// else one run per innermost row in C order.
struct Runs {
    base: *const u8,
    count: usize,
    len: usize,
    stride: isize,
    outer: Vec<isize>,
}

// SAFETY: `Runs` only carries addresses inside a mapping that the caller keeps alive.
unsafe impl Sync for Runs {}
// SAFETY: as above.
unsafe impl Send for Runs {}

/// Splits a view into runs: one run over the whole memory block when the view is
/// C-contiguous (or F-contiguous and `memory_order` allows visiting elements in
/// memory order), else one run per innermost row, rows in C order.
fn runs(src: &Source, memory_order: bool) -> Runs {
    let l = src.layout;
    let isz = src.dtype.itemsize();
    // SAFETY: the offset lies inside the mapping (layout checked by the caller).
    let base = unsafe { (src.map.as_ptr() as *const u8).add(l.offset) };
    if l.is_c_contiguous(isz) || (memory_order && l.is_f_contiguous(isz)) {
        return Runs { base, count: 1, len: l.size(), stride: isz as isize, outer: vec![0] };
    }
    let nd = l.shape.len();
    let (len, stride) = (l.shape[nd - 1], l.strides[nd - 1]);
    let count: usize = l.shape[..nd - 1].iter().product();
    let mut outer = Vec::with_capacity(count);
    let mut idx = vec![0usize; nd - 1];
    for _ in 0..count {
        outer.push(idx.iter().zip(&l.strides).map(|(&i, &s)| i as isize * s).sum());
        for a in (0..nd - 1).rev() {
            idx[a] += 1;
            if idx[a] < l.shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    Runs { base, count, len, stride, outer }
}

impl Runs {
    fn run(&self, k: usize) -> *const u8 {
        // SAFETY: outer offsets come from the checked layout.
        unsafe { self.base.offset(self.outer[k]) }
    }
}

fn full_sum<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool) -> A {
    let r = runs(src, true);
    let swap = src.swap();
    let sums: Vec<A> = (0..r.count).into_par_iter().map(|k| sum_run::<T, A>(r.run(k), r.len, r.stride, swap, buffered)).collect();
    sums.into_iter().fold(A::ZERO, |a, s| a.add(s))
}

fn full_prod<T: Elem + To<A>, A: Acc>(src: &Source) -> A {
    let r = runs(src, true);
    let swap = src.swap();
    (0..r.count).fold(A::ONE, |a, k| a.mul(prod_run::<T, A>(r.run(k), r.len, r.stride, swap)))
}

/// Sum of squared deviations from `mean`, pairwise over the elements in C
/// order (NumPy sums the contiguous temporary `(x - mean)**2`).
fn sq_dev<T: Elem + To<A>, A: Acc + Sq>(src: &Source, mean: A) -> A::Real {
    let r = runs(src, true);
    let swap = src.swap();
    let n = r.len;
    let sums: Vec<A::Real> = (0..r.count)
        .into_par_iter()
        .map(|k| {
            let base = r.run(k) as usize;
            let stride = r.stride;
            let get = move |i: usize| -> A::Real {
                // SAFETY: as in `sum_run`.
                let x: A = unsafe { T::load((base as isize + i as isize * stride) as *const u8, swap).to() };
                x.dev2(mean)
            };
            pairwise(0, n, &get)
        })
        .collect();
    sums.into_iter().fold(<A::Real as Acc>::ZERO, |a, s| a.add(s))
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
        self / n as f32
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

/// Ordering for min/max/argmin/argmax, NaN first (NumPy propagates NaN).
pub trait Ordered: Elem {
    fn is_nan(self) -> bool;
    fn lt(self, o: Self) -> bool;
    fn value(self) -> Value;
}
macro_rules! ordered_int {
    ($($t:ty => $v:ident),*) => {$(
        impl Ordered for $t {
            #[inline(always)] fn is_nan(self) -> bool { false }
            #[inline(always)] fn lt(self, o: Self) -> bool { self < o }
            fn value(self) -> Value { Value::$v(self as _) }
        }
    )*};
}
ordered_int!(i8 => Int, i16 => Int, i32 => Int, i64 => Int, u8 => UInt, u16 => UInt, u32 => UInt, u64 => UInt);
impl Ordered for f32 {
    fn is_nan(self) -> bool { f32::is_nan(self) }
    fn lt(self, o: Self) -> bool { self < o }
    fn value(self) -> Value { Value::Float(self as f64) }
}
impl Ordered for f64 {
    fn is_nan(self) -> bool { f64::is_nan(self) }
    fn lt(self, o: Self) -> bool { self < o }
    fn value(self) -> Value { Value::Float(self) }
}
impl Ordered for F16 {
    fn is_nan(self) -> bool { self.to_f32().is_nan() }
    fn lt(self, o: Self) -> bool { self.to_f32() < o.to_f32() }
    fn value(self) -> Value { Value::Float(self.to_f32() as f64) }
}
impl Ordered for Bool {
    fn is_nan(self) -> bool { false }
    fn lt(self, o: Self) -> bool { self.0 == 0 && o.0 != 0 }
    fn value(self) -> Value { Value::Bool(self.0 != 0) }
}
impl<T: Ordered + Into<f64>> Ordered for C<T> {
    fn is_nan(self) -> bool { self.0.is_nan() || self.1.is_nan() }
    // NumPy orders complex numbers lexicographically.
    fn lt(self, o: Self) -> bool { self.0.lt(o.0) || (!o.0.lt(self.0) && self.1.lt(o.1)) }
    fn value(self) -> Value { Value::Complex(self.0.into(), self.1.into()) }
}

/// (index, value) of the extreme of a run; the first NaN wins, ties keep the first.
fn extreme_run<T: Ordered>(base: *const u8, n: usize, stride: isize, swap: bool, max: bool) -> (usize, T) {
    // SAFETY: n >= 1 and the run lies in the mapping (checked by the caller).
    let mut best = unsafe { T::load(base, swap) };
    let mut at = 0;
    if best.is_nan() {
        return (0, best);
    }
    for i in 1..n {
        // SAFETY: as above.
        let v = unsafe { T::load(base.offset(i as isize * stride), swap) };
        if v.is_nan() {
            return (i, v);
        }
        if if max { best.lt(v) } else { v.lt(best) } {
            best = v;
            at = i;
        }
    }
    (at, best)
}

/// Extreme over the whole view, in C order: (flat index, value).
fn full_extreme<T: Ordered>(src: &Source, max: bool) -> (usize, T) {
    let swap = src.swap();
    // Argmin/argmax give flat C-order indices: walk the view in C order.
    let r = runs(src, false);
    let chunk = PAR_MIN;
    let pieces: Vec<(usize, T)> = (0..r.count)
        .into_par_iter()
        .flat_map_iter(|k| {
            let base = r.run(k) as usize;
            (0..r.len.div_ceil(chunk)).map(move |c| {
                let lo = c * chunk;
                let n = chunk.min(r.len - lo);
                let (i, v) = extreme_run::<T>((base as isize + lo as isize * r.stride) as *const u8, n, r.stride, swap, max);
                (k * r.len + lo + i, v)
            })
        })
        .collect();
    let mut it = pieces.into_iter();
    let mut best = it.next().expect("non-empty");
    for (i, v) in it {
        if best.1.is_nan() {
            break;
        }
        if v.is_nan() || if max { best.1.lt(v) } else { v.lt(best.1) } {
            best = (i, v);
        }
    }
    best
}

fn empty_error<T>(op: Op) -> Result<T> {
    err(ErrorKind::InvalidArgument, format!("zero-size array to reduction operation {} which has no identity", op.name()))
}

fn float_value<A: Into<f64>>(v: A) -> Value {
    Value::Float(v.into())
}

/// Reduces the whole view to one value.
pub fn reduce_all(src: &Source, op: Op, dtype: Option<DType>) -> Result<Value> {
    src.layout.check(src.dtype.itemsize(), src.map.len())?;
    let out = result_dtype(op, src.dtype, dtype)?;
    let n = src.layout.size();
    pool::install(|| dispatch(src, op, out, n))
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

/// Everything an element type must convert into, for any result dtype.
pub trait Input: Elem + To<i64> + To<u64> + To<f32> + To<f64> + To<C<f32>> + To<C<f64>> {}
impl<T: Elem + To<i64> + To<u64> + To<f32> + To<f64> + To<C<f32>> + To<C<f64>>> Input for T {}

fn dispatch(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    match op {
        Op::Min | Op::Max | Op::ArgMin | Op::ArgMax => {
            if n == 0 {
                return empty_error(op);
            }
            let max = matches!(op, Op::Max | Op::ArgMax);
            let (i, v) = by_elem!(src.dtype, extreme_value, src, max);
            Ok(if matches!(op, Op::ArgMin | Op::ArgMax) { Value::Int(i as i64) } else { v })
        }
        _ => by_elem_input(src, op, out, n),
    }
}

fn extreme_value<T: Ordered>(src: &Source, max: bool) -> (usize, Value) {
    let (i, v) = full_extreme::<T>(src, max);
    (i, v.value())
}

fn by_elem_input(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
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

/// Whether NumPy would buffer this input for this accumulator.
fn buffered(src: &Source, natural: bool) -> bool {
    src.swap() || !src.aligned() || !natural
}

fn numeric<T: Input>(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    // The accumulator NumPy uses without a cast: float16 sums in float32.
    let same = |d: DType| src.dtype == d || (src.dtype == DType::Float16 && d == DType::Float32);
    match op {
        Op::Sum => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_sum::<T, i64>(src, true), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_sum::<T, u64>(src, true), out),
            DType::Float16 => float_value(F16::from_f32(full_sum::<T, f32>(src, buffered(src, true))).to_f32()),
            DType::Float32 => float_value(full_sum::<T, f32>(src, buffered(src, same(DType::Float32)))),
            DType::Float64 => float_value(full_sum::<T, f64>(src, buffered(src, same(DType::Float64)))),
            DType::Complex64 => cvalue(full_sum::<T, C<f32>>(src, true)),
            DType::Complex128 => cvalue(full_sum::<T, C<f64>>(src, true)),
        }),
        Op::Prod => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_prod::<T, i64>(src), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_prod::<T, u64>(src), out),
            DType::Float16 => float_value(F16::from_f32(full_prod::<T, f32>(src)).to_f32()),
            DType::Float32 => float_value(full_prod::<T, f32>(src)),
            DType::Float64 => float_value(full_prod::<T, f64>(src)),
            DType::Complex64 => cvalue(full_prod::<T, C<f32>>(src)),
            DType::Complex128 => cvalue(full_prod::<T, C<f64>>(src)),
        }),
        Op::Mean | Op::Var { .. } | Op::Std { .. } => match out {
            DType::Float16 => moments::<T, f32>(src, op, n, buffered(src, true)).map(|v| float_value(F16::from_f32(v as f32).to_f32())),
            DType::Float32 => moments::<T, f32>(src, op, n, buffered(src, same(DType::Float32))).map(|v| float_value(v as f32)),
            DType::Float64 => moments::<T, f64>(src, op, n, buffered(src, same(DType::Float64))).map(float_value),
            DType::Complex64 if op == Op::Mean => cmean::<T, f32>(src, n),
            DType::Complex128 if op == Op::Mean => cmean::<T, f64>(src, n),
            other => err(ErrorKind::InvalidArgument, format!("cannot compute the {} in dtype {}", op.name(), other.name())),
        },
        _ => unreachable!("handled by dispatch"),
    }
}

fn complex<T: Input>(src: &Source, op: Op, out: DType, n: usize) -> Result<Value> {
    match op {
        Op::Sum | Op::Prod => numeric::<T>(src, op, out, n),
        Op::Mean => match out {
            DType::Complex64 => cmean::<T, f32>(src, n),
            _ => cmean::<T, f64>(src, n),
        },
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

fn cvalue<T: Into<f64>>(c: C<T>) -> Value {
    Value::Complex(c.0.into(), c.1.into())
}

fn wrap_int(v: i64, out: DType) -> Value {
    Value::Int(match out {
        DType::Int8 => v as i8 as i64,
        DType::Int16 => v as i16 as i64,
        DType::Int32 => v as i32 as i64,
        DType::Bool => (v != 0) as i64,
        _ => v,
    })
}

fn wrap_uint(v: u64, out: DType) -> Value {
    Value::UInt(match out {
        DType::UInt8 => v as u8 as u64,
        DType::UInt16 => v as u16 as u64,
        DType::UInt32 => v as u32 as u64,
        _ => v,
    })
}

/// mean, var or std in a real float accumulator `A`.
fn moments<T, A>(src: &Source, op: Op, n: usize, buffered: bool) -> Result<f64>
where
    T: Input + To<A>,
    A: Sq<Real = A> + Into<f64>,
{
    let sum = full_sum::<T, A>(src, buffered);
    let mean = sum.div(n as f64);
    match op {
        Op::Mean => Ok(mean.into()),
        Op::Var { ddof } | Op::Std { ddof } => {
            let ss = sq_dev::<T, A>(src, mean);
            let var: f64 = ss.div((n as f64 - ddof).max(0.0)).into();
            Ok(if matches!(op, Op::Std { .. }) { var.sqrt() } else { var })
        }
        _ => unreachable!(),
    }
}

fn cmean<T, R>(src: &Source, n: usize) -> Result<Value>
where
    T: Input + To<C<R>>,
    R: Acc + Into<f64>,
    C<R>: Sq,
{
    let sum = full_sum::<T, C<R>>(src, buffered(src, true));
    let m = sum.div(n as f64);
    Ok(Value::Complex(m.0.into(), m.1.into()))
}

fn cmoments<T, R>(src: &Source, op: Op, n: usize) -> Result<f64>
where
    T: Input + To<C<R>>,
    R: Sq + Into<f64>,
    C<R>: Sq<Real = R>,
{
    let sum = full_sum::<T, C<R>>(src, buffered(src, true));
    let mean = sum.div(n as f64);
    let (Op::Var { ddof } | Op::Std { ddof }) = op else { unreachable!() };
    let ss = sq_dev::<T, C<R>>(src, mean);
    let var: f64 = ss.div((n as f64 - ddof).max(0.0)).into();
    Ok(if matches!(op, Op::Std { .. }) { var.sqrt() } else { var })
}

/// A reduction along one axis: the result dtype, shape and C-order native-endian bytes.
pub struct Reduced {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// Reduces along `axis`; every output element reduces its own 1-D run
/// (pairwise for sums), the outputs in parallel.
pub fn reduce_axis(src: &Source, op: Op, axis: usize, dtype: Option<DType>) -> Result<Reduced> {
    let l = src.layout;
    l.check(src.dtype.itemsize(), src.map.len())?;
    if axis >= l.shape.len() {
        return err(ErrorKind::OutOfRange, format!("axis {axis} is out of bounds for array of dimension {}", l.shape.len()));
    }
    let out = result_dtype(op, src.dtype, dtype)?;
    let n = l.shape[axis];
    let (mut shape, mut strides) = (l.shape.clone(), l.strides.clone());
    shape.remove(axis);
    strides.remove(axis);
    let m: usize = shape.iter().product();
    if n == 0 && m > 0 && matches!(op, Op::Min | Op::Max | Op::ArgMin | Op::ArgMax) {
        return empty_error(op);
    }
    let mut offsets = Vec::with_capacity(m);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..m {
        offsets.push((l.offset as isize + idx.iter().zip(&strides).map(|(&i, &s)| i as isize * s).sum::<isize>()) as usize);
        for a in (0..shape.len()).rev() {
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    let isz = out.itemsize();
    let mut bytes = vec![0u8; m * isz];
    let step = l.strides[axis];
    pool::install(|| {
        bytes.par_chunks_mut(isz.max(1)).zip(offsets.par_iter()).try_for_each(|(dst, &off)| {
            let run = Layout { shape: vec![n], strides: vec![step], offset: off };
            let s = Source { layout: &run, ..*src };
            write_value(dst, dispatch(&s, op, out, n)?, out);
            Ok::<(), crate::Error>(())
        })
    })?;
    Ok(Reduced { dtype: out, shape, bytes })
}

/// Stores a value as one element of `dtype` in native byte order.
fn write_value(dst: &mut [u8], v: Value, dtype: DType) {
    let (re, im, int, uint) = match v {
        Value::Bool(b) => (b as u8 as f64, 0.0, b as i64, b as u64),
        Value::Int(i) => (i as f64, 0.0, i, i as u64),
        Value::UInt(u) => (u as f64, 0.0, u as i64, u),
        Value::Float(f) => (f, 0.0, f as i64, f as u64),
        Value::Complex(r, i) => (r, i, r as i64, r as u64),
    };
    match dtype {
        DType::Bool => dst[0] = (int != 0) as u8,
        DType::Int8 => dst.copy_from_slice(&(int as i8).to_ne_bytes()),
        DType::UInt8 => dst.copy_from_slice(&(uint as u8).to_ne_bytes()),
        DType::Int16 => dst.copy_from_slice(&(int as i16).to_ne_bytes()),
        DType::UInt16 => dst.copy_from_slice(&(uint as u16).to_ne_bytes()),
        DType::Int32 => dst.copy_from_slice(&(int as i32).to_ne_bytes()),
        DType::UInt32 => dst.copy_from_slice(&(uint as u32).to_ne_bytes()),
        DType::Int64 => dst.copy_from_slice(&int.to_ne_bytes()),
        DType::UInt64 => dst.copy_from_slice(&uint.to_ne_bytes()),
        DType::Float16 => dst.copy_from_slice(&F16::from_f32(re as f32).0.to_ne_bytes()),
        DType::Float32 => dst.copy_from_slice(&(re as f32).to_ne_bytes()),
        DType::Float64 => dst.copy_from_slice(&re.to_ne_bytes()),
        DType::Complex64 => {
            dst[..4].copy_from_slice(&(re as f32).to_ne_bytes());
            dst[4..].copy_from_slice(&(im as f32).to_ne_bytes());
        }
        DType::Complex128 => {
            dst[..8].copy_from_slice(&re.to_ne_bytes());
            dst[8..].copy_from_slice(&im.to_ne_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src_f64(values: &[f64]) -> (Mapping, Layout) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        (Mapping::from_bytes(&bytes).unwrap(), Layout::contiguous(&[values.len()], 8, false))
    }

    /// NumPy's pairwise tree, written out plainly, as the reference.
    fn reference(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            a.iter().fold(0.0, |r, &x| r + x)
        } else if n <= 128 {
            let mut r = [0.0; 8];
            r.copy_from_slice(&a[..8]);
            let end = n - n % 8;
            for i in (8..end).step_by(8) {
                for j in 0..8 {
                    r[j] += a[i + j];
                }
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for x in &a[end..] {
                res += x;
            }
            res
        } else {
            let n2 = n / 2 - (n / 2) % 8;
            reference(&a[..n2]) + reference(&a[n2..])
        }
    }

    #[test]
    fn parallel_pairwise_equals_the_sequential_tree() {
        let mut x = 0.1f64;
        let values: Vec<f64> = (0..300_001)
            .map(|i| {
                x = (x * 1103.0 + 0.37).fract();
                (x - 0.5) * 10f64.powi(i % 9)
            })
            .collect();
        let (map, layout) = src_f64(&values);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE };
        assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0 + reference(&values)));
    }

    #[test]
    fn numpy_rules_for_empty_nan_and_ints() {
        let (map, layout) = src_f64(&[]);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE };
        assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0));
        assert!(matches!(reduce_all(&src, Op::Mean, None).unwrap(), Value::Float(f) if f.is_nan()));
        assert!(reduce_all(&src, Op::Max, None).unwrap_err().to_string().contains("zero-size"));
        let (map, layout) = src_f64(&[1.0, f64::NAN, 3.0, f64::NAN]);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE };
        assert!(matches!(reduce_all(&src, Op::Max, None).unwrap(), Value::Float(f) if f.is_nan()));
        assert_eq!(reduce_all(&src, Op::ArgMin, None).unwrap(), Value::Int(1));
        let bytes = [250u8, 10, 7];
        let map = Mapping::from_bytes(&bytes).unwrap();
        let layout = Layout::contiguous(&[3], 1, false);
        let src = Source { map: &map, layout: &layout, dtype: DType::UInt8, order: ByteOrder::NotApplicable };
        assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::UInt(267));
        assert_eq!(reduce_all(&src, Op::Sum, Some(DType::UInt8)).unwrap(), Value::UInt(11));
        assert_eq!(reduce_all(&src, Op::Mean, None).unwrap(), Value::Float(89.0));
        assert!(reduce_all(&src, Op::Sum, Some(DType::Bool)).is_err());
    }

    #[test]
    fn axis_reductions_of_a_matrix() {
        let values: Vec<f64> = (0..12).map(|v| v as f64).collect();
        let (map, _) = src_f64(&values);
        let layout = Layout::contiguous(&[3, 4], 8, false);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE };
        let r = reduce_axis(&src, Op::Sum, 0, None).unwrap();
        let got: Vec<f64> = r.bytes.chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!((r.shape, got), (vec![4], vec![12.0, 15.0, 18.0, 21.0]));
        let r = reduce_axis(&src, Op::ArgMax, 1, None).unwrap();
        let got: Vec<i64> = r.bytes.chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(got, vec![3, 3, 3]);
    }
}
