//! Sparse format conversions, dense copies and sums, each in SciPy's order:
//!
//! - [`compress`]: CSR ↔ CSC and COO → CSR/CSC by a stable counting sort (SciPy's
//!   `csr_tocsc`, `coo_tocsr`): entries keep their storage order inside each row
//!   (column), duplicates are carried over.
//! - [`sum_duplicates`]: SciPy's `sort_indices` + `csr_sum_duplicates`: each row's
//!   entries sorted by index, runs of one index summed from the first, in order.
//!   mmnpy's sort is stable; SciPy's `std::sort` is stable for rows of up to 16
//!   entries (insertion sort) and not beyond, so a row of more than 16 entries where one
//!   index appears three or more times may sum them in another order (within rounding).
//! - [`to_dense`]: SciPy's `csr_todense`: `out[i, j] += data[jj]` in storage order.
//! - [`minor_sums`]: `np.add.reduceat(data, indptr[nonempty])` as SciPy's
//!   `_minor_reduce`: each segment's first value plus NumPy's pairwise sum of the rest
//!   (small integers and bools accumulated in 64 bits, as NumPy 2's reduceat does).

use std::ops::Range;

use rayon::prelude::*;

use super::elementwise::{store_row, Dest};
use super::pool;
use super::reduce::{pairwise, Reduced};
use super::spmv::{changed_error, with_value, Ix, Kind, Matrix, Ptr, Value, Values};
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};

/// A compressed matrix built in memory: data bytes keep the source's dtype and byte order.
pub struct Compressed {
    pub indptr: Vec<i64>,
    pub indices: Vec<i64>,
    pub data: Vec<u8>,
}

/// The major index (row of a CSR, column of a CSC) of every stored entry: SciPy's `_expandptr`.
pub fn expand(m: &Matrix) -> Result<Vec<i64>> {
    fn go<I: Ix>(m: &Matrix) -> Result<Vec<i64>> {
        let b = Ptr(m.b.map.as_ptr());
        let mut out = vec![0i64; m.nnz()];
        for i in 0..m.b.len.saturating_sub(1) {
            // SAFETY: i + 1 < indptr's checked length.
            let (p0, p1) = unsafe { (I::at(b.get(), i), I::at(b.get(), i + 1)) };
            if p0 < 0 || p1 < p0 || p1 as u64 > out.len() as u64 {
                return Err(changed_error());
            }
            out[p0 as usize..p1 as usize].fill(i as i64);
        }
        Ok(out)
    }
    if m.a.dtype == DType::Int32 {
        go::<i32>(m)
    } else {
        go::<i64>(m)
    }
}

/// The matrix as `to` (CSR or CSC), entries in storage order within each row (column).
pub fn compress(m: &Matrix, to: Kind) -> Result<Compressed> {
    fn go<I: Ix>(m: &Matrix, to: Kind) -> Result<Compressed> {
        let nnz = m.nnz();
        let read = |p: &super::spmv::Part, n: usize| -> i64 {
            // SAFETY: n < nnz, the index part's validated length.
            unsafe { I::at(p.map.as_ptr(), n) }
        };
        // (major, minor) of entry n in the target layout.
        let (major, minor): (Vec<i64>, Vec<i64>) = match m.kind {
            Kind::Coo => {
                let (r, c): (Vec<i64>, Vec<i64>) = ((0..nnz).map(|n| read(&m.a, n)).collect(), (0..nnz).map(|n| read(&m.b, n)).collect());
                if to == Kind::Csr {
                    (r, c)
                } else {
                    (c, r)
                }
            }
            from => {
                if from == to {
                    return err(ErrorKind::InvalidArgument, "the matrix is already in that layout");
                }
                (((0..nnz).map(|n| read(&m.a, n))).collect(), expand(m)?)
            }
        };
        let n_major = if to == Kind::Csr { m.shape[0] } else { m.shape[1] };
        let mut indptr = vec![0i64; n_major + 1];
        for &i in &major {
            if i < 0 || i as u64 >= n_major as u64 {
                return Err(changed_error());
            }
            indptr[i as usize + 1] += 1;
        }
        for i in 0..n_major {
            indptr[i + 1] += indptr[i];
        }
        let mut next: Vec<i64> = indptr[..n_major].to_vec();
        let mut perm = vec![0usize; nnz];
        for (n, &i) in major.iter().enumerate() {
            let slot = &mut next[i as usize];
            perm[*slot as usize] = n;
            *slot += 1;
        }
        let indices = perm.iter().map(|&n| minor[n]).collect();
        Ok(Compressed { indptr, indices, data: gather(&m.data, &perm) })
    }
    if m.a.dtype == DType::Int32 {
        go::<i32>(m, to)
    } else {
        go::<i64>(m, to)
    }
}

/// The bytes of the values at positions `perm`, in that order.
fn gather(p: &super::spmv::Part, perm: &[usize]) -> Vec<u8> {
    let isz = p.dtype.itemsize();
    let mut out = vec![0u8; perm.len() * isz];
    for (d, &s) in out.chunks_exact_mut(isz).zip(perm) {
        // SAFETY: s < nnz, inside the data part's checked length.
        unsafe { std::ptr::copy_nonoverlapping(p.map.as_ptr().add(s * isz), d.as_mut_ptr(), isz) };
    }
    out
}

/// SciPy's `sum_duplicates` on a compressed matrix built in memory (values of `dtype`,
/// native order after this call): each row sorted by index, equal indices summed.
pub fn sum_duplicates(c: &mut Compressed, dtype: DType, swap: bool) {
    fn go<K: Value>(c: &mut Compressed, dtype: DType, swap: bool) {
        let isz = dtype.itemsize();
        let n = c.indices.len();
        let mut vals = vec![K::default(); n];
        // SAFETY: c.data holds n elements of dtype.
        unsafe { K::load(dtype, c.data.as_ptr(), isz as isize, swap, &mut vals) };
        let (mut indices, mut out) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut order: Vec<usize> = Vec::new();
        let mut indptr = vec![0i64; c.indptr.len()];
        for i in 0..c.indptr.len() - 1 {
            let (p0, p1) = (c.indptr[i] as usize, c.indptr[i + 1] as usize);
            order.clear();
            order.extend(p0..p1);
            order.sort_by_key(|&k| c.indices[k]);
            let mut k = 0;
            while k < order.len() {
                let j = c.indices[order[k]];
                let mut x = vals[order[k]];
                k += 1;
                while k < order.len() && c.indices[order[k]] == j {
                    x = x.add(vals[order[k]]);
                    k += 1;
                }
                indices.push(j);
                out.push(x);
            }
            indptr[i + 1] = indices.len() as i64;
        }
        let mut data = vec![0u8; out.len() * isz];
        if !out.is_empty() {
            // SAFETY: data holds out.len() elements of dtype.
            unsafe { store_row(dtype, data.as_mut_ptr(), isz as isize, false, &out) };
        }
        *c = Compressed { indptr, indices, data };
    }
    with_value!(dtype, go(c, dtype, swap))
}

/// SciPy's `csr_todense` of a CSR matrix into `out` (its shape, the data's dtype):
/// `out[i, j] += data[jj]` in storage order, from zeros. Rows in parallel.
pub fn to_dense(m: &Matrix, out: &Dest) -> Result<()> {
    if m.kind != Kind::Csr {
        return err(ErrorKind::InvalidArgument, "to_dense takes a CSR matrix");
    }
    let l = out.layout;
    l.check(out.dtype.itemsize(), out.map.len())?;
    if l.shape != m.shape {
        return err(ErrorKind::InvalidArgument, format!("out has shape {:?}, the matrix has shape {:?}", l.shape, m.shape));
    }
    if out.dtype != m.data.dtype {
        return err(ErrorKind::InvalidArgument, format!("out has dtype {}, the matrix has dtype {}", out.dtype.name(), m.data.dtype.name()));
    }
    fn go<K: Value, I: Ix>(m: &Matrix, out: &Dest) -> Result<()> {
        let [rows, cols] = m.shape;
        let nnz = m.nnz();
        let (a, b) = (Ptr(m.a.map.as_ptr()), Ptr(m.b.map.as_ptr()));
        let vals = Values::<K>::new(&m.data, 0..nnz);
        let swap = !out.dtype.order(out.order).is_native();
        let l = out.layout;
        let optr = Ptr(out.map.as_ptr());
        out.map.prepare_write(0, out.map.len());
        let band = (rows / (pool::threads() * 8).max(1)).max(1);
        pool::install(|| {
            (0..rows.div_ceil(band)).into_par_iter().try_for_each(|c| {
                let mut row = vec![K::ZERO; cols];
                for i in c * band..((c + 1) * band).min(rows) {
                    row.fill(K::ZERO);
                    // SAFETY: i + 1 <= rows; indptr holds rows + 1 elements.
                    let (p0, p1) = unsafe { (I::at(b.get(), i), I::at(b.get(), i + 1)) };
                    if p0 < 0 || p1 < p0 || p1 as u64 > nnz as u64 {
                        return Err(changed_error());
                    }
                    for jj in p0 as usize..p1 as usize {
                        // SAFETY: jj < nnz.
                        let j = unsafe { I::at(a.get(), jj) };
                        if j < 0 || j as u64 >= cols as u64 {
                            return Err(changed_error());
                        }
                        // SAFETY: jj < nnz, which `vals` holds.
                        row[j as usize] = row[j as usize].add(unsafe { vals.at(jj) });
                    }
                    let off = l.offset as isize + i as isize * l.strides[0];
                    // SAFETY: the layout was checked against the mapping; rows are disjoint.
                    unsafe { store_row(out.dtype, (optr.get() as *mut u8).offset(off), l.strides[1], swap, &row) };
                }
                Ok(())
            })
        })
    }
    fn pick<K: Value>(m: &Matrix, out: &Dest) -> Result<()> {
        if m.a.dtype == DType::Int32 {
            go::<K, i32>(m, out)
        } else {
            go::<K, i64>(m, out)
        }
    }
    with_value!(m.data.dtype, pick(m, out))
}

/// NumPy's sum dtype (`get_sum_dtype`): small integers and bool widen to 64 bits.
pub fn sum_dtype(d: DType) -> DType {
    use DType::*;
    match d {
        Bool | Int8 | Int16 | Int32 => Int64,
        UInt8 | UInt16 | UInt32 => UInt64,
        d => d,
    }
}

/// Sums along the minor axis of a compressed matrix (CSR rows, CSC columns): for each
/// major index, `data[p0] + pairwise(data[p0+1..p1])` (as `np.add.reduceat`), 0 where
/// empty, in [`sum_dtype`].
pub fn minor_sums(m: &Matrix) -> Result<Reduced> {
    fn go<K: Value, I: Ix>(m: &Matrix) -> Result<Reduced> {
        let nnz = m.nnz();
        let n = m.b.len.saturating_sub(1);
        let b = Ptr(m.b.map.as_ptr());
        let vals = Values::<K>::new(&m.data, 0..nnz);
        let seg = |i: usize| -> Result<Range<usize>> {
            // SAFETY: i + 1 < indptr's checked length.
            let (p0, p1) = unsafe { (I::at(b.get(), i), I::at(b.get(), i + 1)) };
            if p0 < 0 || p1 < p0 || p1 as u64 > nnz as u64 {
                return Err(changed_error());
            }
            Ok(p0 as usize..p1 as usize)
        };
        let sums: Vec<K> = pool::install(|| {
            (0..n)
                .into_par_iter()
                .map(|i| {
                    let r = seg(i)?;
                    if r.is_empty() {
                        return Ok(K::ZERO);
                    }
                    // SAFETY: r lies in 0..nnz, which `vals` holds.
                    let get = |k: usize| unsafe { vals.at(k) };
                    Ok(get(r.start).add(pairwise(r.start + 1, r.len() - 1, &get)))
                })
                .collect::<Result<Vec<K>>>()
        })?;
        // NumPy 2's reduceat accumulates small integers and bools in 64 bits, as sum does.
        let t = sum_dtype(m.data.dtype);
        let mut bytes = vec![0u8; n * t.itemsize()];
        if n > 0 {
            // SAFETY: `bytes` holds n elements of t.
            unsafe { store_row(t, bytes.as_mut_ptr(), t.itemsize() as isize, false, &sums) };
        }
        Ok(Reduced { dtype: t, shape: vec![n], bytes })
    }
    fn pick<K: Value>(m: &Matrix) -> Result<Reduced> {
        if m.a.dtype == DType::Int32 {
            go::<K, i32>(m)
        } else {
            go::<K, i64>(m)
        }
    }
    if m.kind == Kind::Coo {
        return err(ErrorKind::InvalidArgument, "minor_sums takes a CSR or CSC matrix");
    }
    with_value!(m.data.dtype, pick(m))
}
