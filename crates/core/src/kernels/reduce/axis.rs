//! Reductions along one axis: every output reduces its own 1-D run, pairwise when
//! NumPy's loop runs along the reduced axis, else row by row as NumPy adds rows into the
//! output; fast paths for contiguous native sums and min/max.

use super::op::{empty_error, result_dtype, Op};
use super::order::{PAR_MIN, ROW_BY_ROW};
use super::pairwise::{pairwise, pairwise_native};
use super::pieces::release_view;
use super::whole::dispatch;
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::kernels::elem::{Acc, Elem, F16};
use crate::kernels::pool;
use crate::kernels::simd;
use crate::kernels::source::{Source, Value};
use crate::kernels::stream::{run_span, Behind, GRAIN};
use crate::view::Layout;

/// A reduction along one axis: the result dtype, shape and C-order native-endian bytes.
pub struct Reduced {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// Reduces along `axis`; every output element reduces its own 1-D run, the outputs in
/// parallel: pairwise for sums when NumPy's loop runs along the reduced axis, else one
/// element at a time as NumPy adds rows into the output (see `ROW_BY_ROW`).
///
/// With a given mean (`Op::Var`/`Op::Std` with `mean`), `means` holds one (re, im)
/// per output in C order; `None` gives every output the op's own.
pub fn reduce_axis(src: &Source, op: Op, axis: usize, dtype: Option<DType>, means: Option<&[(f64, f64)]>) -> Result<Reduced> {
    let l = src.layout;
    l.check(src.dtype.itemsize(), src.map.len())?;
    if axis >= l.shape.len() {
        return err(ErrorKind::OutOfRange, format!("axis {axis} is out of bounds for array of dimension {}", l.shape.len()));
    }
    let out = result_dtype(op, op.given().map_or(src.dtype, |g| g.dev), dtype)?;
    let n = l.shape[axis];
    let (mut shape, mut strides) = (l.shape.clone(), l.strides.clone());
    shape.remove(axis);
    strides.remove(axis);
    let m: usize = shape.iter().product();
    if means.is_some_and(|v| v.len() != m) {
        return err(ErrorKind::InvalidArgument, format!("mean has {} values for {m} outputs", means.map_or(0, |v| v.len())));
    }
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
    let step = l.strides[axis];
    // NumPy's loop runs along the axis with the smallest |stride|: if that is the reduced
    // axis, each output is one call of the reduction loop (pairwise sums); else NumPy adds
    // whole rows into the output, one element of each run at a time.
    let inner = (0..l.shape.len()).filter(|&a| l.shape[a] > 1).min_by_key(|&a| l.strides[a].unsigned_abs()).is_none_or(|a| a == axis);
    if !inner
        && dtype.is_none()
        && shape.len() == 1
        && n > 0
        && src.aligned()
        && !src.swap()
        && strides[0] == src.dtype.itemsize() as isize
        && crate::kernels::fast_paths()
    {
        let fast = match (op, src.dtype) {
            (Op::Sum, DType::Float64) => Some(rows_fold::<f64>(src, n, step, offsets[0], m, |a, x| a + x, Some(sum4_f64), vec![0.0; m], 0)),
            (Op::Sum, DType::Float32) => Some(rows_fold::<f32>(src, n, step, offsets[0], m, |a, x| a + x, Some(sum4_f32), vec![0.0; m], 0)),
            (Op::Sum, DType::Int64) => Some(rows_fold::<i64>(src, n, step, offsets[0], m, |a, x| a.wrapping_add(x), None, vec![0; m], 0)),
            (Op::Min, DType::Float64) => Some(rows_extreme::<f64>(src, n, step, offsets[0], m, false)),
            (Op::Max, DType::Float64) => Some(rows_extreme::<f64>(src, n, step, offsets[0], m, true)),
            (Op::Min, DType::Float32) => Some(rows_extreme::<f32>(src, n, step, offsets[0], m, false)),
            (Op::Max, DType::Float32) => Some(rows_extreme::<f32>(src, n, step, offsets[0], m, true)),
            _ => None,
        };
        if let Some(bytes) = fast {
            return Ok(Reduced { dtype: out, shape, bytes });
        }
    }
    // Sums along the inner, contiguous axis of native float data: each output NumPy's
    // pairwise sum of its run, straight over memory (no per-output view or walk), as the
    // general path below computes it (0 + the one piece's pairwise sum).
    if inner
        && op == Op::Sum
        && dtype.is_none()
        && means.is_none()
        && !src.release
        && src.aligned()
        && !src.swap()
        && step == src.dtype.itemsize() as isize
        && crate::kernels::fast_paths()
    {
        let fast = match src.dtype {
            DType::Float64 => Some(rows_pairwise::<f64>(src, n, &offsets, l.size())),
            DType::Float32 => Some(rows_pairwise::<f32>(src, n, &offsets, l.size())),
            _ => None,
        };
        if let Some(bytes) = fast {
            return Ok(Reduced { dtype: out, shape, bytes });
        }
    }
    // The general path's outputs (allocated here: the fast paths above return their own).
    let mut bytes = vec![0u8; m * isz];
    // Streaming mode: outputs in windows of about GRAIN bytes per thread, each window's
    // runs released after it; row by row every output spans the whole view, released at
    // the end.
    let run_bytes = n.max(1) * step.unsigned_abs().max(src.dtype.itemsize());
    let window = if src.release && inner { (GRAIN * pool::threads() / run_bytes).max(1) } else { m.max(1) };
    let base = src.map.as_ptr() as isize;
    let behind = (src.release && inner).then(|| Behind::new(src.map));
    pool::install_if(l.size() >= PAR_MIN || src.release, || {
        for (w, dsts) in bytes.chunks_mut(window * isz.max(1)).enumerate() {
            let first = w * window;
            pool::chunks_mut(dsts, isz.max(1), |j, dst| {
                let k = first + j;
                let run = Layout { shape: vec![n], strides: vec![step], offset: offsets[k] };
                let s = Source { layout: &run, release: src.release && inner, ..*src };
                let op = means.map_or(op, |v| op.with_mean(v[k].0, v[k].1));
                let prev = ROW_BY_ROW.replace(!inner);
                let v = dispatch(&s, op, out, n);
                ROW_BY_ROW.set(prev);
                write_value(dst, v?, out);
                Ok::<(), crate::Error>(())
            })?;
            if let (Some(behind), true) = (&behind, n > 0) {
                let runs = offsets[first..first + dsts.len() / isz.max(1)].iter().map(|&off| run_span(base + off as isize, step, src.dtype.itemsize(), 0, n));
                let (s, e) = runs.fold((usize::MAX, 0), |(s, e), (a, b)| (s.min(a), e.max(b)));
                behind.push(s, e);
            }
        }
        Ok::<(), crate::Error>(())
    })?;
    if src.release && !inner {
        release_view(src);
    }
    Ok(Reduced { dtype: out, shape, bytes })
}

/// Pairwise sums of contiguous native runs of `n` elements at byte `offsets` (one per
/// output), as native bytes; in parallel when `size` (all elements) is large.
pub(super) fn rows_pairwise<T: Elem + Acc + ToBytes>(src: &Source, n: usize, offsets: &[usize], size: usize) -> Vec<u8> {
    let mut sums = vec![T::ZERO; offsets.len()];
    let base = src.map.as_ptr() as usize;
    pool::install_if(size >= PAR_MIN, || {
        pool::chunks_mut(&mut sums, 64, |c, block| {
            for (k, s) in block.iter_mut().enumerate() {
                let run = base + offsets[c * 64 + k];
                // SAFETY: the checked view holds `n` contiguous elements from each output's offset.
                let at = |i: usize| unsafe { T::load((run + i * size_of::<T>()) as *const u8, false) };
                // float64 / float32 (the caller checked alignment): the dispatched tree.
                let v = pairwise_native::<T>(run as *const u8, n, None, size >= PAR_MIN).unwrap_or_else(|| pairwise(0, n, &at));
                *s = T::ZERO.add(v);
            }
            Ok::<(), std::convert::Infallible>(())
        })
    })
    .unwrap_or_else(|e| match e {});
    T::bytes_of(&sums)
}

/// Outputs per block in the row-by-row fast paths: one block per thread (long
/// sequential row segments), at most 16384 so a block's accumulators stay in cache.
pub(super) fn out_block(m: usize) -> usize {
    m.div_ceil(pool::threads()).clamp(16, 16384)
}

/// Row-by-row reduction of a 2-D view whose outputs are contiguous in memory: for every
/// row `i` from `from`, `acc[j] = f(acc[j], x[i, j])` over a block of outputs, so memory is
/// read sequentially (NumPy's order for an axis that is not the inner one). Four rows go
/// through each block at once (one load and store of the accumulators per four rows, the
/// additions still one row after the other), through `four` where given (float sums:
/// [`fold4`]). Outputs are at `first + j * size_of::<T>()` in row 0; returns them as
/// native bytes.
#[allow(clippy::too_many_arguments)]
pub(super) fn rows_fold<T: Elem + Copy + Send + Sync + ToBytes>(
    src: &Source,
    n: usize,
    step: isize,
    first: usize,
    m: usize,
    f: impl Fn(T, T) -> T + Sync,
    four: Option<Four<T>>,
    mut acc: Vec<T>,
    from: usize,
) -> Vec<u8> {
    let base = src.map.as_ptr() as isize + first as isize;
    pool::install_if(n * m >= PAR_MIN || src.release, || {
        let block_len = out_block(m);
        by_bands(src, n, m * std::mem::size_of::<T>(), first, step, |r0, rn| {
            let _ = pool::chunks_mut(&mut acc, block_len, |b, block| {
                // SAFETY: the view was checked; elements (i, b*block_len ..) of every row are in it.
                let len = block.len();
                let row = |i: usize| unsafe { std::slice::from_raw_parts(((base + i as isize * step) as *const T).add(b * block_len), len) };
                let mut i = r0.max(from);
                if let Some(four) = four {
                    while i + 4 <= r0 + rn {
                        // The rows four further on, where each stream goes next (a hint: may lie past the view).
                        let next = |k: usize| (base + (i + 4 + k) as isize * step) as usize + b * block_len * size_of::<T>();
                        four(block, [row(i), row(i + 1), row(i + 2), row(i + 3)], [next(0), next(1), next(2), next(3)]);
                        i += 4;
                    }
                }
                while i + 4 <= r0 + rn {
                    let (x0, x1, x2, x3) = (row(i), row(i + 1), row(i + 2), row(i + 3));
                    for ((((a, &p), &q), &r), &s) in block.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
                        *a = f(f(f(f(*a, p), q), r), s);
                    }
                    i += 4;
                }
                for i in i..r0 + rn {
                    for (a, &x) in block.iter_mut().zip(row(i)) {
                        *a = f(*a, x);
                    }
                }
                Ok::<(), std::convert::Infallible>(())
            });
        });
    });
    T::bytes_of(&acc)
}

/// A fold of four rows into a block of outputs compiled for this CPU ([`fold4`]).
type Four<T> = fn(&mut [T], [&[T]; 4], [usize; 4]);

/// `acc[j] = (((acc[j] + x0[j]) + x1[j]) + x2[j]) + x3[j]` over a block (the rows' own
/// order), each row's lines asked for [`simd::AHEAD`] bytes ahead; past a row's end, the
/// lines at the start of `next[k]` (the row four further on, where that stream goes next).
/// The generic loop of [`rows_fold`] ran at baseline x86-64 without asking: float32
/// `sum({ axis: 0 })` of 8192 x 16384 mapped, two threads, 22.4-22.8 -> 27.5-29.7 GB/s
/// (BENCHMARKS.md, eighth session).
#[inline(always)]
fn fold4<T: Copy + std::ops::Add<Output = T>>(acc: &mut [T], x: [&[T]; 4], next: [usize; 4]) {
    let len = acc.len();
    let (per, ahead) = (64 / size_of::<T>(), simd::AHEAD / size_of::<T>());
    let [x0, x1, x2, x3] = x.map(|r| &r[..len]);
    let mut j = 0;
    while j < len {
        let e = (j + per).min(len);
        let t = j + ahead;
        for (r, nx) in x.iter().zip(next) {
            simd::prefetch_line(if t < len { r.as_ptr().wrapping_add(t) as *const u8 } else { (nx + (t - len) * size_of::<T>()) as *const u8 });
        }
        for ((((a, &p), &q), &r), &s) in acc[j..e].iter_mut().zip(&x0[j..e]).zip(&x1[j..e]).zip(&x2[j..e]).zip(&x3[j..e]) {
            *a = *a + p + q + r + s;
        }
        j = e;
    }
}

simd::dispatch!(
    /// [`fold4`] of float64 rows for this CPU's instruction set.
    fn sum4_f64(acc: &mut [f64], x: [&[f64]; 4], next: [usize; 4]) -> (),
    fold4(acc, x, next)
);

simd::dispatch!(
    /// [`fold4`] of float32 rows for this CPU's instruction set.
    fn sum4_f32(acc: &mut [f32], x: [&[f32]; 4], next: [usize; 4]) -> (),
    fold4(acc, x, next)
);

/// Row-by-row min/max (NaN propagates, as `np.minimum`/`np.maximum` do).
pub(super) fn rows_extreme<T: Elem + Copy + Send + Sync + ToBytes + PartialOrd + IsNan>(
    src: &Source,
    n: usize,
    step: isize,
    first: usize,
    m: usize,
    max: bool,
) -> Vec<u8> {
    // SAFETY: row 0 of the view was checked.
    let row0 = unsafe { std::slice::from_raw_parts((src.map.as_ptr() as usize + first) as *const T, m) };
    let pick = move |a: T, x: T| if ((if max { x > a } else { x < a }) || x.nan()) && !a.nan() { x } else { a };
    rows_fold(src, n, step, first, m, pick, None, row0.to_vec(), 1)
}

/// Runs `f(first row, rows)` over rows `0..n` of `row_bytes` bytes each, `step` apart
/// from `first`: all at once, or in streaming mode in bands of about [`GRAIN`] bytes
/// per thread, each band's pages released after `f` ran over it.
pub(super) fn by_bands(src: &Source, n: usize, row_bytes: usize, first: usize, step: isize, mut f: impl FnMut(usize, usize)) {
    let band = if src.release { (GRAIN * pool::threads() / row_bytes.max(1)).max(1) } else { n.max(1) };
    let base = src.map.as_ptr() as isize + first as isize;
    let behind = src.release.then(|| Behind::new(src.map));
    let mut i = 0;
    while i < n {
        let m = band.min(n - i);
        f(i, m);
        if let Some(behind) = &behind {
            let (s, e) = run_span(base, step, row_bytes, i, m);
            behind.push(s, e);
        }
        i += m;
    }
}

/// Native bytes of elements.
pub trait ToBytes: Sized {
    /// The native bytes of `v`, in one allocation (a `Vec` per element cost 25 allocations,
    /// and the growth of the collected `Vec`, per small axis sum).
    fn bytes_of(v: &[Self]) -> Vec<u8>;
}
macro_rules! to_bytes {
    ($($t:ty),*) => {$( impl ToBytes for $t {
        fn bytes_of(v: &[Self]) -> Vec<u8> {
            let mut out = Vec::with_capacity(std::mem::size_of_val(v));
            for x in v {
                out.extend_from_slice(&x.to_ne_bytes());
            }
            out
        }
    } )*};
}
to_bytes!(f32, f64, i64);

/// NaN test for the fast paths.
pub trait IsNan {
    fn nan(&self) -> bool;
}
impl IsNan for f32 {
    fn nan(&self) -> bool {
        self.is_nan()
    }
}
impl IsNan for f64 {
    fn nan(&self) -> bool {
        self.is_nan()
    }
}

/// Stores a value as one element of `dtype` in native byte order.
pub(super) fn write_value(dst: &mut [u8], v: Value, dtype: DType) {
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
