//! `dot`: vector·vector, matrix·vector and matrix·matrix over any dtypes, byte
//! orders and strides. Operands are converted block by block into the
//! computation type (NumPy's promotion), so a mapped matrix larger than RAM is
//! streamed in row blocks: only one block of rows and the other operand are held
//! in memory at a time. Float matrix products use `ndarray`'s blocked
//! `general_mat_mul` (matrixmultiply); results agree with NumPy's BLAS to rounding.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::elem::{Acc, C};
use super::elementwise::{promote, Arith, Load, Store};
use super::pool;
use super::reduce::Reduced;
use super::simd;
use super::source::{Source, Value};
use super::stream::{run_span, Behind, GRAIN};
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};

/// Rows of the left operand converted at a time.
const ROW_BLOCK_BYTES: usize = 64 << 20;

fn swap(s: &Source) -> bool {
    !s.dtype.order(s.order).is_native()
}

/// Converts row `i` of a 2-D (or the whole of a 1-D) view into `out`.
fn row<K: Load>(s: &Source, i: usize, out: &mut [K]) {
    let l = s.layout;
    let (off, stride) = if l.shape.len() == 2 { (l.offset as isize + i as isize * l.strides[0], l.strides[1]) } else { (l.offset as isize, l.strides[0]) };
    // SAFETY: the caller checked the layout against its mapping; row i exists.
    unsafe { K::load(s.dtype, (s.map.as_ptr() as isize + off) as *const u8, stride, swap(s), out) }
}

fn dot_vec<K: Arith + Acc>(x: &[K], y: &[K]) -> K {
    // Four independent accumulators: vectorizes, and rounds like an unrolled BLAS dot.
    let mut acc = [K::ZERO; 4];
    let mut chunks = x.chunks_exact(4).zip(y.chunks_exact(4));
    for (a, b) in &mut chunks {
        for j in 0..4 {
            acc[j] = acc[j].add(K::bin(super::elementwise::BinOp::Mul, a[j], b[j]));
        }
    }
    let tail = x.len() - x.len() % 4;
    let mut r = acc[0].add(acc[1]).add(acc[2].add(acc[3]));
    for i in tail..x.len() {
        r = r.add(K::bin(super::elementwise::BinOp::Mul, x[i], y[i]));
    }
    r
}

/// The result dtype of `dot` (NumPy's promotion; bool·bool is bool).
pub fn result_dtype(a: DType, b: DType) -> DType {
    promote(a, b)
}

/// What `dot` returns: a scalar for vector·vector, an in-memory array otherwise.
pub enum DotResult {
    Scalar(Value),
    Array(Reduced),
}

pub fn dot(a: &Source, b: &Source) -> Result<DotResult> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    b.layout.check(b.dtype.itemsize(), b.map.len())?;
    let (sa, sb) = (&a.layout.shape, &b.layout.shape);
    let inner_a = *sa.last().unwrap_or(&0);
    let inner_b = if sb.len() == 2 { sb[0] } else { *sb.first().unwrap_or(&0) };
    if sa.is_empty() || sb.is_empty() || sa.len() > 2 || sb.len() > 2 {
        return err(ErrorKind::InvalidArgument, format!("dot takes 1-D or 2-D arrays, got {}-D and {}-D", sa.len(), sb.len()));
    }
    if inner_a != inner_b {
        return err(ErrorKind::InvalidArgument, format!("shapes {sa:?} and {sb:?} not aligned: {inner_a} (dim {}) != {inner_b} (dim 0)", sa.len() - 1));
    }
    let out = result_dtype(a.dtype, b.dtype);
    if let Some(r) = fast_matvec(a, b) {
        return Ok(r);
    }
    pool::install(|| match out.kind() {
        'b' | 'i' => run::<i64>(a, b, out),
        'u' => run::<u64>(a, b, out),
        'f' if out.itemsize() <= 4 => run::<f32>(a, b, out),
        'f' => run::<f64>(a, b, out),
        'c' if out.itemsize() == 8 => run::<C<f32>>(a, b, out),
        _ => run::<C<f64>>(a, b, out),
    })
}

macro_rules! fast_dot {
    ($name:ident, $t:ty) => {
        /// Dot product of two native slices with 16 independent accumulators (vectorized).
        fn $name(x: &[$t], y: &[$t]) -> $t {
            let mut acc = [0.0 as $t; 16];
            let (cx, cy) = (x.chunks_exact(16), y.chunks_exact(16));
            let (rx, ry) = (cx.remainder(), cy.remainder());
            for (a, b) in cx.zip(cy) {
                for j in 0..16 {
                    acc[j] += a[j] * b[j];
                }
            }
            let mut r = acc.iter().sum::<$t>();
            for (a, b) in rx.iter().zip(ry) {
                r += a * b;
            }
            r
        }
    };
}
fast_dot!(fast_dot_f64, f64);
fast_dot!(fast_dot_f32, f32);

macro_rules! fast_dot4 {
    ($name:ident, $body:ident, $t:ty) => {
        /// Four rows at once against one vector: each vector load serves four rows,
        /// as BLAS gemv kernels do; 8 lanes per row, each row prefetched a page ahead.
        #[inline(always)]
        fn $body(rows: [&[$t]; 4], y: &[$t]) -> [$t; 4] {
            let k = y.len();
            let mut acc = [[0.0 as $t; 8]; 4];
            let full = k - k % 8;
            let mut i = 0;
            while i < full {
                // Each row's line a page ahead (see `simd::AHEAD`): rows are streams from
                // memory, and the hardware prefetcher stops at every 4 KiB page (1 GiB mapped:
                // 24.4 -> 29.9 GB/s float64, 24.7 -> 28.0 float32; BENCHMARKS.md, sixth session).
                if (i * std::mem::size_of::<$t>()).is_multiple_of(64) {
                    for r in rows {
                        simd::prefetch_ahead(r.as_ptr().wrapping_add(i) as *const u8);
                    }
                }
                let yv = &y[i..i + 8];
                for (r, a) in rows.iter().zip(acc.iter_mut()) {
                    let xv = &r[i..i + 8];
                    for j in 0..8 {
                        a[j] += xv[j] * yv[j];
                    }
                }
                i += 8;
            }
            let mut out = [0.0 as $t; 4];
            for (o, (r, a)) in out.iter_mut().zip(rows.iter().zip(acc.iter())) {
                let mut s = a.iter().sum::<$t>();
                for t in full..k {
                    s += r[t] * y[t];
                }
                *o = s;
            }
            out
        }

        simd::dispatch!(
            /// The four-row loop compiled for this CPU's instruction set (wide loads; the
            /// same operations, in the same order, on every level).
            fn $name(rows: [&[$t]; 4], y: &[$t]) -> [$t; 4],
            $body(rows, y)
        );
    };
}
fast_dot4!(fast_dot4_f64, dot4_f64, f64);
fast_dot4!(fast_dot4_f32, dot4_f32, f32);

/// Matrix·vector of native, aligned float32 or float64 operands with contiguous rows,
/// straight from the mapped memory (no conversion buffers), rows in parallel.
fn fast_matvec(a: &Source, b: &Source) -> Option<DotResult> {
    let (la, lb) = (a.layout, b.layout);
    let isz = a.dtype.itemsize();
    let plain = |s: &Source| !swap(s) && (s.map.as_ptr() as usize + s.layout.offset).is_multiple_of(isz);
    if la.shape.len() != 2
        || lb.shape.len() != 1
        || a.dtype != b.dtype
        || !matches!(a.dtype, DType::Float32 | DType::Float64)
        || !plain(a)
        || !plain(b)
        || la.strides[1] != isz as isize
        || lb.strides[0] != isz as isize
        || !la.strides[0].unsigned_abs().is_multiple_of(isz)
    {
        return None;
    }
    let (m, k) = (la.shape[0], la.shape[1]);
    let base = a.map.as_ptr() as usize + la.offset;
    let vbase = b.map.as_ptr() as usize + lb.offset;
    let mut bytes = vec![0u8; m * isz];
    let row_addr = |i: usize| (base as isize + i as isize * la.strides[0]) as usize;
    // Streaming mode: rows in bands of about GRAIN bytes per thread (a multiple of four
    // rows, so every row is computed as without it), each band released behind.
    let band = if a.release { (GRAIN * pool::threads() / (k * isz).max(1)).max(1).next_multiple_of(4) } else { m.max(1) };
    let behind = a.release.then(|| Behind::new(a.map));
    macro_rules! rows4 {
        ($t:ty, $one:ident, $four:ident) => {
            pool::install(|| {
                for (bi, band_bytes) in bytes.chunks_mut(band * isz).enumerate() {
                    let r0 = bi * band;
                    band_bytes.par_chunks_mut(4 * isz).enumerate().for_each(|(g, dst)| {
                        // SAFETY: both layouts were checked against their mappings; every row
                        // and the vector hold k aligned native elements.
                        let (y, row) =
                            unsafe { (std::slice::from_raw_parts(vbase as *const $t, k), |i: usize| std::slice::from_raw_parts(row_addr(i) as *const $t, k)) };
                        let first = r0 + 4 * g;
                        let mut vals = [0.0 as $t; 4];
                        if dst.len() == 4 * isz {
                            vals = $four([row(first), row(first + 1), row(first + 2), row(first + 3)], y);
                        } else {
                            for (j, v) in vals.iter_mut().enumerate().take(dst.len() / isz) {
                                *v = $one(row(first + j), y);
                            }
                        }
                        for (d, v) in dst.chunks_mut(isz).zip(vals) {
                            d.copy_from_slice(&v.to_ne_bytes());
                        }
                    });
                    if let Some(behind) = &behind {
                        let (s, e) = run_span(base as isize, la.strides[0], k * isz, r0, band_bytes.len() / isz);
                        behind.push(s, e);
                    }
                }
            })
        };
    }
    if isz == 8 {
        rows4!(f64, fast_dot_f64, fast_dot4_f64);
    } else {
        rows4!(f32, fast_dot_f32, fast_dot4_f32);
    }
    Some(DotResult::Array(Reduced { dtype: a.dtype, shape: vec![m], bytes }))
}

fn value<K: Store>(v: K, out: DType) -> Value {
    let (re, im, i, u) = v.parts();
    match out.kind() {
        'b' => Value::Bool(i != 0),
        // Narrow integer results wrap to their width, as NumPy's.
        'i' => Value::Int(match out.itemsize() {
            1 => i as i8 as i64,
            2 => i as i16 as i64,
            4 => i as i32 as i64,
            _ => i,
        }),
        'u' => Value::UInt(match out.itemsize() {
            1 => u as u8 as u64,
            2 => u as u16 as u64,
            4 => u as u32 as u64,
            _ => u,
        }),
        'f' => Value::Float(re),
        _ => Value::Complex(re, im),
    }
}

fn bytes_of<K: Store>(vals: &[K], out: DType) -> Vec<u8> {
    let mut bytes = vec![0u8; vals.len() * out.itemsize()];
    // SAFETY: `bytes` holds exactly `vals.len()` elements of `out`.
    unsafe { super::elementwise::store_row(out, bytes.as_mut_ptr(), out.itemsize() as isize, false, vals) };
    bytes
}

fn run<K: Load + Acc + MatMul>(a: &Source, b: &Source, out: DType) -> Result<DotResult> {
    let (sa, sb) = (a.layout.shape.clone(), b.layout.shape.clone());
    let k = *sa.last().unwrap_or(&0);
    // The right operand, converted once: (k) or (k, n) row-major.
    let n = if sb.len() == 2 { sb[1] } else { 1 };
    let mut right = vec![K::ZERO; k * n];
    if sb.len() == 2 {
        // B^T rows are B's columns; convert row by row of B.
        right.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, r)| row(b, i, r));
    } else {
        row(b, 0, &mut right);
    }
    if sa.len() == 1 {
        let mut left = vec![K::ZERO; k];
        row(a, 0, &mut left);
        if sb.len() == 1 {
            return Ok(DotResult::Scalar(value(dot_vec(&left, &right), out)));
        }
        // (k) · (k, n) = (n)
        let mut res = vec![K::ZERO; n];
        K::matmul(&left, 1, k, &right, n, &mut res);
        return Ok(DotResult::Array(Reduced { dtype: out, shape: vec![n], bytes: bytes_of(&res, out) }));
    }
    let m = sa[0];
    let itemsize = std::mem::size_of::<K>().max(1);
    // Streaming mode: smaller blocks (the converted copy, the block being read and the one
    // released behind are all resident at once).
    let block_bytes = if a.release { GRAIN * pool::threads() } else { ROW_BLOCK_BYTES };
    let block = (block_bytes / (k.max(1) * itemsize)).max(1);
    let mut res = vec![K::ZERO; m * n];
    let mut left = Vec::new();
    // Streaming mode: each converted block of rows is released behind.
    let behind = (a.release && a.layout.strides[1] >= 0).then(|| Behind::new(a.map));
    let (abase, astep) = (a.map.as_ptr() as isize + a.layout.offset as isize, a.layout.strides[0]);
    let row_reach = a.layout.strides[1].unsigned_abs() * k.saturating_sub(1) + a.dtype.itemsize();
    for r0 in (0..m).step_by(block) {
        let rows = block.min(m - r0);
        left.clear();
        left.resize(rows * k, K::ZERO);
        left.par_chunks_mut(k.max(1)).enumerate().for_each(|(i, r)| row(a, r0 + i, r));
        if let Some(behind) = &behind {
            let (s, e) = run_span(abase, astep, row_reach, r0, rows);
            behind.push(s, e);
        }
        let dst = &mut res[r0 * n..(r0 + rows) * n];
        if sb.len() == 1 {
            dst.par_iter_mut().enumerate().for_each(|(i, d)| *d = dot_vec(&left[i * k..(i + 1) * k], &right));
        } else {
            K::matmul(&left, rows, k, &right, n, dst);
        }
    }
    let shape = if sb.len() == 1 { vec![m] } else { vec![m, n] };
    Ok(DotResult::Array(Reduced { dtype: out, shape, bytes: bytes_of(&res, out) }))
}

/// `c = a (m×k) · b (k×n)`, all row-major.
pub trait MatMul: Sized {
    fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize, c: &mut [Self]);
}

macro_rules! blas_like {
    ($($t:ty),*) => {$(
        impl MatMul for $t {
            fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize, c: &mut [Self]) {
                let (Ok(av), Ok(bv), Ok(cv)) = (
                    ArrayView2::from_shape((m, k), a),
                    ArrayView2::from_shape((k, n), b),
                    ArrayViewMut2::from_shape((m, n), c),
                ) else {
                    return;
                };
                let mut cv = cv;
                general_mat_mul(1.0, &av, &bv, 0.0, &mut cv);
            }
        }
    )*};
}
blas_like!(f32, f64);

macro_rules! naive {
    ($($t:ty),*) => {$(
        impl MatMul for $t {
            fn matmul(a: &[Self], _m: usize, k: usize, b: &[Self], n: usize, c: &mut [Self]) {
                c.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, crow)| {
                    for (p, &x) in a[i * k..(i + 1) * k].iter().enumerate() {
                        for (j, cj) in crow.iter_mut().enumerate() {
                            *cj = cj.add(<$t as Arith>::bin(super::elementwise::BinOp::Mul, x, b[p * n + j]));
                        }
                    }
                });
            }
        }
    )*};
}
naive!(i64, u64, C<f32>, C<f64>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::ByteOrder;
    use crate::mapping::Mapping;
    use crate::view::Layout;

    fn f64s(v: &[f64]) -> Mapping {
        Mapping::from_bytes(&v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn matrix_vector_and_matrix_matrix() {
        let a = f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let la = Layout::contiguous(&[2, 3], 8, false);
        let v = f64s(&[1.0, 0.0, -1.0]);
        let lv = Layout::contiguous(&[3], 8, false);
        let sa = Source { map: &a, layout: &la, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        let sv = Source { map: &v, layout: &lv, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        let DotResult::Array(r) = dot(&sa, &sv).unwrap() else { panic!() };
        let got: Vec<f64> = r.bytes.chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!((r.shape, got), (vec![2], vec![-2.0, -2.0]));
        // A · A^T (transposed view: strides swapped)
        let lt = Layout { shape: vec![3, 2], strides: vec![8, 24], offset: 0 };
        let st = Source { map: &a, layout: &lt, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        let DotResult::Array(r) = dot(&sa, &st).unwrap() else { panic!() };
        let got: Vec<f64> = r.bytes.chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!((r.shape, got), (vec![2, 2], vec![14.0, 32.0, 32.0, 77.0]));
        let DotResult::Scalar(s) = dot(&sv, &sv).unwrap() else { panic!() };
        assert_eq!(s, Value::Float(2.0));
        match dot(&sv, &sa) {
            Err(e) => assert!(e.to_string().contains("not aligned"), "{e}"),
            Ok(_) => panic!("(3) · (2, 3) must not be aligned"),
        }
    }
}
