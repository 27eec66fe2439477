//! Sparse·dense products in SciPy's order of additions, so results are bit-identical
//! to `A @ x` (SciPy's `sparsetools`):
//!
//! - CSR (`csr_matvec`, `csr_matvecs`): `y[i] = 0; for jj in indptr[i]..indptr[i+1]:
//!   y[i] += data[jj] * x[indices[jj]]` (per column of a dense `x` for `matvecs`). Every
//!   output row is one thread's, so rows are split across threads freely: into bands of
//!   about equal *nonzero + row* count (skewed rows are the common case), many more bands
//!   than threads so a slow band does not hold the others up. A vector product runs
//!   SciPy's plain loop per row, asking a page ahead of the values and indices it reads
//!   (a mapped file's 4 KiB pages stop the hardware prefetcher); when its gathers scatter
//!   over an `x` of 4 MiB or more, `x` is read from huge pages (copied there first unless
//!   mmnpy allocated it, see [`huge_copy`]) and asked for [`GATHER_AHEAD`] nonzeros ahead.
//! - CSC (`csc_matvec(s)`) and COO (`coo_matvec`, `coo_matmat_dense`) scatter:
//!   `y[row] += data[n] * x[col]` in storage order. The additions into one output follow
//!   storage order, so these run on one thread as SciPy's do, and are bit-identical too.
//!   (A CSC converted by `tocsr()` keeps that order: its CSR product is the same, in parallel.)
//!
//! Values are computed in SciPy's upcast of the two dtypes (NumPy's promotion; float16,
//! which `scipy.sparse` does not hold, computes in float32). Integer products and sums wrap
//! in 64 bits and are truncated when stored, which is the same as wrapping in the narrower
//! type; booleans compute as counts stored as `count != 0` (SciPy's `||`/`&&`).
//!
//! The matrix is read through raw pointers and every index and pointer is checked as it is
//! used (a predictable branch per nonzero), so a matrix whose parts changed after they were
//! validated (a `'c'` mapping written from JavaScript) gives an error, never a wild read.

use std::ops::Range;

use rayon::prelude::*;

use super::elem::{Acc, C};
use super::elementwise::{promote, store_row, Dest, Load, Store};
use super::pool;
use super::reduce::Reduced;
use super::simd::prefetch_line;
use super::source::Source;
use super::stream::Behind;
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, Error, ErrorKind, Result};
use crate::mapping::{Mapping, HUGE_MIN};

/// A contiguous 1-D part of a sparse matrix: `len` elements from the start of `map`.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub map: &'a Mapping,
    pub len: usize,
    pub dtype: DType,
    pub order: ByteOrder,
}

impl Part<'_> {
    fn ptr(&self) -> *const u8 {
        self.map.as_ptr()
    }

    fn swap(&self) -> bool {
        !self.dtype.order(self.order).is_native()
    }

    /// Checks the elements lie inside the mapping (overflow-checked).
    pub fn check(&self, name: &str) -> Result<()> {
        match self.len.checked_mul(self.dtype.itemsize()) {
            Some(n) if n <= self.map.len() => Ok(()),
            _ => err(ErrorKind::OutOfRange, format!("{name}: {} elements of {} do not fit in {} bytes", self.len, self.dtype.name(), self.map.len())),
        }
    }

    /// Elements `r` converted to `K`.
    pub(crate) fn load<K: Load>(&self, r: Range<usize>) -> Vec<K> {
        let mut out = vec![K::default(); r.len()];
        let isz = self.dtype.itemsize();
        // SAFETY: `check` proved elements 0..len lie in the mapping; callers pass r within 0..len.
        unsafe { K::load(self.dtype, self.ptr().add(r.start * isz), isz as isize, self.swap(), &mut out) };
        out
    }
}

/// Which layout the index arrays describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `indptr` over rows, `indices` are columns.
    Csr,
    /// `indptr` over columns, `indices` are rows.
    Csc,
    /// `row` and `col` per stored value.
    Coo,
}

/// A sparse matrix as the kernels see it. For CSR/CSC `a` is `indices` and `b` is
/// `indptr`; for COO `a` is `row` and `b` is `col`. Index parts are native int32 or int64.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub kind: Kind,
    pub shape: [usize; 2],
    pub data: Part<'a>,
    pub a: Part<'a>,
    pub b: Part<'a>,
}

impl Matrix<'_> {
    /// Stored values (for CSR/CSC: `indptr[-1]`, which validation proved equals `data.len`).
    pub fn nnz(&self) -> usize {
        self.data.len
    }

    fn check_parts(&self) -> Result<()> {
        self.data.check("data")?;
        self.a.check("indices")?;
        self.b.check("indptr")?;
        for p in [&self.a, &self.b] {
            if !matches!(p.dtype, DType::Int32 | DType::Int64) || p.swap() {
                return err(ErrorKind::UnsupportedDtype, format!("index arrays must be native int32 or int64, got {}", p.dtype.descr(p.order)));
            }
        }
        Ok(())
    }
}

/// An index type as stored: native int32 or int64.
pub(crate) trait Ix: Copy + Send + Sync + 'static {
    /// # Safety
    /// Element `k` of the index array at `p` must be readable.
    unsafe fn at(p: *const u8, k: usize) -> i64;
}
impl Ix for i32 {
    #[inline(always)]
    unsafe fn at(p: *const u8, k: usize) -> i64 {
        // SAFETY: forwarded from the caller; mapped `.npz` members need not be aligned.
        unsafe { (p as *const i32).add(k).read_unaligned() as i64 }
    }
}
impl Ix for i64 {
    #[inline(always)]
    unsafe fn at(p: *const u8, k: usize) -> i64 {
        // SAFETY: forwarded from the caller.
        unsafe { (p as *const i64).add(k).read_unaligned() }
    }
}

/// Raw pointers that cross into pool threads. The memory they point to is owned by
/// mappings the caller keeps borrowed for the whole kernel.
#[derive(Clone, Copy)]
pub(crate) struct Ptr(pub *const u8);
// SAFETY: see above: the pointee outlives every thread the kernel runs on; it is only read.
unsafe impl Send for Ptr {}
// SAFETY: as above.
unsafe impl Sync for Ptr {}

impl Ptr {
    #[inline(always)]
    pub(crate) fn get(self) -> *const u8 {
        self.0
    }
}

/// A computation type: how values are multiplied and added, and stored.
pub trait Value: Acc + Load + Store {
    /// The dtype whose native elements are exactly this type (read without conversion).
    const NATIVE: Option<DType>;
}
impl Value for i64 {
    const NATIVE: Option<DType> = Some(DType::Int64);
}
impl Value for u64 {
    const NATIVE: Option<DType> = Some(DType::UInt64);
}
impl Value for f32 {
    const NATIVE: Option<DType> = Some(DType::Float32);
}
impl Value for f64 {
    const NATIVE: Option<DType> = Some(DType::Float64);
}
impl Value for C<f32> {
    const NATIVE: Option<DType> = Some(DType::Complex64);
}
impl Value for C<f64> {
    const NATIVE: Option<DType> = Some(DType::Complex128);
}

/// SciPy's `upcast`: NumPy's promotion, float16 (not a `scipy.sparse` type) as float32.
pub fn upcast(a: DType, b: DType) -> DType {
    match promote(a, b) {
        DType::Float16 => DType::Float32,
        t => t,
    }
}

/// Runs `f` with the computation type of values of `dtype`.
macro_rules! with_value {
    ($dtype:expr, $f:ident ( $($arg:expr),* )) => {
        match $dtype.kind() {
            'b' | 'i' => $f::<i64>($($arg),*),
            'u' => $f::<u64>($($arg),*),
            'f' if $dtype.itemsize() <= 4 => $f::<f32>($($arg),*),
            'f' => $f::<f64>($($arg),*),
            'c' if $dtype.itemsize() == 8 => $f::<$crate::kernels::elem::C<f32>>($($arg),*),
            _ => $f::<$crate::kernels::elem::C<f64>>($($arg),*),
        }
    };
}
pub(crate) use with_value;

/// Values of a part, readable as `K` at positions `lo..hi`: straight from the mapping
/// when they are native `K`, else converted into a buffer.
pub(crate) struct Values<K> {
    base: *const K,
    lo: usize,
    hi: usize,
    _buf: Vec<K>,
}

// SAFETY: `base` points into a mapping the caller keeps borrowed, or into `_buf`; both are
// only read while the `Values` lives.
unsafe impl<K: Send> Send for Values<K> {}
// SAFETY: as above.
unsafe impl<K: Sync> Sync for Values<K> {}

impl<K: Value> Values<K> {
    pub(crate) fn new(p: &Part, r: Range<usize>) -> Values<K> {
        if K::NATIVE == Some(p.dtype) && !p.swap() {
            // Positions index from the start of the part.
            return Values { base: p.ptr() as *const K, lo: 0, hi: p.len, _buf: Vec::new() };
        }
        let buf: Vec<K> = p.load(r.clone());
        Values { base: buf.as_ptr().wrapping_sub(r.start), lo: r.start, hi: r.end, _buf: buf }
    }

    /// # Safety
    /// `lo <= k < hi` (checked by the caller).
    #[inline(always)]
    pub(crate) unsafe fn at(&self, k: usize) -> K {
        // SAFETY: forwarded from the caller; `base + k` is inside the mapping or the buffer.
        unsafe { self.base.wrapping_add(k).read_unaligned() }
    }

    /// The address of position `k` (for prefetching: not dereferenced).
    #[inline(always)]
    pub(crate) fn addr(&self, k: usize) -> *const K {
        self.base.wrapping_add(k)
    }

    #[inline(always)]
    pub(crate) fn holds(&self, r: &Range<usize>) -> bool {
        r.start >= self.lo && r.end <= self.hi
    }
}

pub(crate) fn changed_error() -> Error {
    Error::new(ErrorKind::BadSparse, "the matrix's index arrays are malformed (changed after they were validated?): an index or pointer is out of range")
}

/// Row bands of about equal `nnz + rows`: boundaries `0 = r_0 < ... < r_n = rows`.
fn bands<I: Ix>(indptr: Ptr, rows: usize, nnz: usize, max_weight: usize) -> Vec<usize> {
    let total = nnz + rows;
    let want = (pool::threads() * 8).max(total / max_weight.max(1) + 1).min(rows.max(1));
    let w = |i: usize| -> usize {
        // SAFETY: i <= rows and indptr holds rows + 1 elements (checked by the caller).
        let p = unsafe { I::at(indptr.get(), i) };
        (p.clamp(0, nnz as i64) as usize) + i
    };
    let mut out = vec![0];
    for b in 1..want {
        let target = total / want * b + (total % want) * b / want;
        // First row whose weight reaches target.
        let (mut lo, mut hi) = (*out.last().unwrap_or(&0), rows);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if w(mid) < target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo > *out.last().unwrap_or(&0) && lo < rows {
            out.push(lo);
        }
    }
    out.push(rows);
    out
}

/// Nonzeros per band at most (bounds a converted band's buffer and the release grain).
const BAND_NNZ: usize = 1 << 19;

/// Bytes ahead of the values being read that [`csr_vec_band`] requests (indices: half as
/// many, the same nonzeros for int32). A hardware prefetcher stops at each 4 KiB page, and a
/// mapped file's pages are 4 KiB: asking a page ahead starts its translation (a page walk,
/// nested in a VM) and its first lines early. About 20% less CPU time per nonzero on a
/// mapped matrix here (BENCHMARKS.md); no effect on the results.
const STREAM_AHEAD: usize = 4096;

/// `data[jj] * x[indices[jj]]`, or `None` when the index is outside `x` (a part changed
/// after validation).
///
/// # Safety
/// `jj` is inside `vals` (so inside `indices`); `xp` points at `n` readable values.
#[inline(always)]
unsafe fn term<K: Value, I: Ix>(ind: *const u8, vals: &Values<K>, xp: *const K, n: u64, jj: usize) -> Option<K> {
    // SAFETY: forwarded from the caller.
    let j = unsafe { I::at(ind, jj) } as u64;
    if j >= n {
        return None;
    }
    // SAFETY: jj is inside `vals`, j < n.
    Some(unsafe { vals.at(jj).mul(xp.add(j as usize).read()) })
}

/// Rows `rows` of a CSR · vector product into `y`: SciPy's `csr_matvec`, each row's terms
/// added from zero in storage order, in a plain loop as SciPy's (the out-of-order core
/// overlaps the additions of successive rows by itself; rows interleaved by hand were
/// slower). Per row: one new `indptr` element read and checked, a prefetch [`STREAM_AHEAD`]
/// on; per nonzero: its index checked against `x` (a predicted branch), and with `GATHER`
/// the `x` element [`GATHER_AHEAD`] nonzeros on asked for. `None`: an index or pointer out
/// of range (a part changed after validation).
///
/// # Safety
/// `indptr` holds `rows.end + 1` elements; `indices` holds every position `vals` holds and
/// `nnz` elements.
#[inline(always)]
unsafe fn csr_vec_band<K: Value, I: Ix, const GATHER: bool>(
    indptr: Ptr,
    indices: Ptr,
    vals: &Values<K>,
    x: &[K],
    rows: Range<usize>,
    y: &mut [K],
    nnz: usize,
) -> Option<()> {
    let (ind, xp, n) = (indices.get(), x.as_ptr(), x.len() as u64);
    // SAFETY (both `I::at(indptr, ..)`): positions up to rows.end.
    let mut p0 = unsafe { I::at(indptr.get(), rows.start) };
    for (i, yi) in rows.zip(y.iter_mut()) {
        let p1 = unsafe { I::at(indptr.get(), i + 1) };
        if p0 < 0 || p1 < p0 || !vals.holds(&(p0 as usize..p1 as usize)) {
            return None;
        }
        let (a, b) = (p0 as usize, p1 as usize);
        prefetch_line((vals.addr(b) as *const u8).wrapping_add(STREAM_AHEAD));
        prefetch_line(ind.wrapping_add(b * std::mem::size_of::<I>()).wrapping_add(STREAM_AHEAD / 2));
        let mut sum = K::ZERO;
        for jj in a..b {
            if GATHER && jj + GATHER_AHEAD < nnz {
                // SAFETY: the position is below nnz, inside `indices`. A prefetch never
                // faults, so an index out of range (a changed part) only asks for a stray line.
                let j = unsafe { I::at(ind, jj + GATHER_AHEAD) } as usize;
                prefetch_line(xp.wrapping_add(j) as *const u8);
            }
            // SAFETY: jj inside `vals`.
            sum = sum.add(unsafe { term::<K, I>(ind, vals, xp, n, jj) }?);
        }
        *yi = sum;
        p0 = p1;
    }
    Some(())
}

/// Nonzeros ahead of the one being added whose `x` element a scattered product asks for
/// ([`csr_vec_band`] with `GATHER`): random gathers from an `x` beyond the L2 cache wait on
/// memory, and the out-of-order window holds only a row or two of them. 24 to 64 ahead ran
/// alike here (a random-column product 245 -> 205 ms on two threads, 1.8-1.9x SciPy); a
/// banded product, whose gathers the caches serve, ran slower with it (54 -> 61 ms), so
/// only a scattered pattern ([`scattered`]) asks.
const GATHER_AHEAD: usize = 32;

/// Whether the product gathers `x` all over: in 64 windows of 16 consecutive stored indices
/// spread over the matrix, more than half the steps jump by more than a 4 KiB page of `x`.
/// (A banded or clustered pattern reads `x` nearly in order; a random one does not.)
fn scattered<I: Ix>(indices: Ptr, nnz: usize, page: usize) -> bool {
    const WINDOWS: usize = 64;
    const STEPS: usize = 16;
    if nnz <= STEPS {
        return false;
    }
    let (mut far, mut all) = (0usize, 0usize);
    for w in 0..WINDOWS {
        let q = (nnz - STEPS - 1) / (WINDOWS - 1) * w;
        for t in q..q + STEPS {
            // SAFETY: t + 1 <= nnz - 1, inside `indices` (checked by the caller).
            let (a, b) = unsafe { (I::at(indices.get(), t), I::at(indices.get(), t + 1)) };
            far += (a.abs_diff(b) > page as u64) as usize;
            all += 1;
        }
    }
    2 * far > all
}

/// `x` copied into transparent huge pages (a hint, Linux): random gathers from a large `x`
/// otherwise miss the TLB on nearly every element (4 KiB pages: a page walk each, nested in
/// a VM). NumPy's `np.ones` for SciPy's `x` is on huge pages already; a `TypedArray` or a
/// small-page mapping is not (an `x` mmnpy allocated is, and is read in place). The copy is
/// one pass over `x`, against one gather per nonzero, into a dropped copy's region when one
/// is cached ([`Mapping::scratch`]): fresh huge pages cost the kernel's zeroing on every
/// product, half of a random-column product's time here.
fn huge_copy<K: Value>(x: &[K]) -> Result<Mapping> {
    let len = std::mem::size_of_val(x);
    let m = Mapping::scratch(len)?;
    // SAFETY: `x` is `len` readable bytes.
    let src = unsafe { std::slice::from_raw_parts(x.as_ptr() as *const u8, len) };
    m.fill(|dst| dst.copy_from_slice(src));
    Ok(m)
}

/// Rows `rows` of a CSR product with a dense `x` of `k > 1` columns into `y`
/// (`rows.len() * k` values; SciPy's `csr_matvecs`: per row, each term added to all `k` sums).
///
/// # Safety
/// `indptr` holds `shape[0] + 1` and `indices` `nnz` readable elements.
#[allow(clippy::too_many_arguments)]
unsafe fn csr_band<K: Value, I: Ix>(
    indptr: Ptr,
    indices: Ptr,
    vals: &Values<K>,
    x: &[K],
    k: usize,
    ncols: usize,
    rows: Range<usize>,
    y: &mut [K],
) -> Result<()> {
    let r0 = rows.start;
    for i in rows {
        // SAFETY: i + 1 <= shape[0] (forwarded from the caller).
        let (p0, p1) = unsafe { (I::at(indptr.get(), i), I::at(indptr.get(), i + 1)) };
        if p0 < 0 || p1 < p0 || !vals.holds(&(p0 as usize..p1 as usize)) {
            return Err(changed_error());
        }
        let yi = &mut y[(i - r0) * k..(i - r0 + 1) * k];
        yi.fill(K::ZERO);
        for jj in p0 as usize..p1 as usize {
            // SAFETY: jj < p1, inside `vals`, so inside `indices`.
            let j = unsafe { I::at(indices.get(), jj) } as u64;
            if j >= ncols as u64 {
                return Err(changed_error());
            }
            // SAFETY: as above.
            let a = unsafe { vals.at(jj) };
            let xj = &x[j as usize * k..(j as usize + 1) * k];
            for (yt, &xt) in yi.iter_mut().zip(xj) {
                *yt = yt.add(a.mul(xt));
            }
        }
    }
    Ok(())
}

/// CSR · x (x: `ncols * k` values, row-major) on the pool, rows split by nonzero count.
/// `x_huge`: `x` is in memory asked for in huge pages already ([`Mapping::huge_advised`]).
fn csr_product<K: Value, I: Ix>(m: &Matrix, x: &[K], x_huge: bool, k: usize, release: bool, y: &mut [K]) -> Result<()> {
    let [rows, ncols] = m.shape;
    let nnz = m.nnz();
    let indptr = Ptr(m.b.ptr());
    let indices = Ptr(m.a.ptr());
    if m.a.len < nnz {
        return Err(changed_error());
    }
    let copied;
    let gather = k == 1 && std::mem::size_of_val(x) >= HUGE_MIN && scattered::<I>(indices, nnz, 4096 / std::mem::size_of::<K>());
    let x = if gather && !x_huge {
        copied = huge_copy(x)?;
        // SAFETY: `copied` holds x.len() values of K (page-aligned), written just now; it
        // outlives the kernel below.
        unsafe { std::slice::from_raw_parts(copied.as_ptr() as *const K, x.len()) }
    } else {
        x
    };
    let cuts = bands::<I>(indptr, rows, nnz, BAND_NNZ);
    let mut pieces: Vec<(Range<usize>, &mut [K])> = Vec::with_capacity(cuts.len());
    let mut rest = y;
    for w in cuts.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * k);
        pieces.push((w[0]..w[1], head));
        rest = tail;
    }
    let behind = release.then(|| (Behind::new(m.data.map), Behind::new(m.a.map)));
    pool::install(|| {
        pieces.into_par_iter().try_for_each(|(r, out)| {
            // SAFETY: r.end <= rows; indptr holds rows + 1 elements.
            let (p0, p1) = unsafe { (I::at(indptr.get(), r.start), I::at(indptr.get(), r.end)) };
            let (p0, p1) = (p0.clamp(0, nnz as i64) as usize, p1.clamp(0, nnz as i64) as usize);
            let vals = Values::<K>::new(&m.data, p0..p1.max(p0));
            if k == 1 {
                // SAFETY: the caller checked the parts' lengths against their mappings and
                // that `indices` holds `nnz` elements.
                unsafe {
                    if gather {
                        csr_vec_band::<K, I, true>(indptr, indices, &vals, x, r, out, nnz)
                    } else {
                        csr_vec_band::<K, I, false>(indptr, indices, &vals, x, r, out, nnz)
                    }
                }
                .ok_or_else(changed_error)?;
            } else {
                // SAFETY: as above.
                unsafe { csr_band::<K, I>(indptr, indices, &vals, x, k, ncols, r, out)? };
            }
            if let Some((bd, bi)) = &behind {
                let (dz, iz) = (m.data.dtype.itemsize(), m.a.dtype.itemsize());
                let (db, ib) = (m.data.ptr() as usize, m.a.ptr() as usize);
                bd.push(db + p0 * dz, db + p1.max(p0) * dz);
                bi.push(ib + p0 * iz, ib + p1.max(p0) * iz);
            }
            Ok(())
        })
    })
}

/// CSC or COO · x: scatter in storage order (one thread, SciPy's order).
fn scatter_product<K: Value, I: Ix>(m: &Matrix, x: &[K], k: usize, y: &mut [K]) -> Result<()> {
    let [rows, ncols] = m.shape;
    let nnz = m.nnz();
    y.fill(K::ZERO);
    let vals = Values::<K>::new(&m.data, 0..nnz);
    let (a, b) = (Ptr(m.a.ptr()), Ptr(m.b.ptr()));
    let mut add = |i: i64, j: i64, n: usize| -> Result<()> {
        if i < 0 || j < 0 || i as u64 >= rows as u64 || j as u64 >= ncols as u64 {
            return Err(changed_error());
        }
        // SAFETY: n < nnz, which `vals` holds whole.
        let v = unsafe { vals.at(n) };
        let (i, j) = (i as usize, j as usize);
        for (yt, &xt) in y[i * k..(i + 1) * k].iter_mut().zip(&x[j * k..(j + 1) * k]) {
            *yt = yt.add(v.mul(xt));
        }
        Ok(())
    };
    match m.kind {
        Kind::Coo => {
            for n in 0..nnz {
                // SAFETY: row and col hold nnz elements (validated lengths).
                let (i, j) = unsafe { (I::at(a.get(), n), I::at(b.get(), n)) };
                add(i, j, n)?;
            }
        }
        _ => {
            for j in 0..ncols {
                // SAFETY: indptr holds ncols + 1 elements.
                let (p0, p1) = unsafe { (I::at(b.get(), j), I::at(b.get(), j + 1)) };
                if p0 < 0 || p1 < p0 || p1 as u64 > nnz as u64 {
                    return Err(changed_error());
                }
                for n in p0 as usize..p1 as usize {
                    // SAFETY: n < nnz.
                    let i = unsafe { I::at(a.get(), n) };
                    add(i, j as i64, n)?;
                }
            }
        }
    }
    Ok(())
}

/// The result dtype of `A @ x`.
pub fn result_dtype(a: DType, x: DType) -> DType {
    upcast(a, x)
}

/// A product's result made in fresh memory: dtype, shape, and the memory (C order, native).
pub type NewProduct = (DType, Vec<usize>, Mapping);

/// `A @ x` for a vector (`x` 1-D, length `ncols`) or a dense matrix (`x` 2-D, `ncols`
/// rows). Writes into `out` (the result's shape and dtype, any strides) when given,
/// else returns the result in fresh memory. `release`: streaming mode over the matrix's pages.
pub fn dot(m: &Matrix, x: &Source, out: Option<&Dest>, release: bool) -> Result<Option<NewProduct>> {
    m.check_parts()?;
    x.layout.check(x.dtype.itemsize(), x.map.len())?;
    let xs = &x.layout.shape;
    let [rows, ncols] = m.shape;
    if xs.is_empty() || xs.len() > 2 || xs[0] != ncols {
        return err(ErrorKind::InvalidArgument, format!("dimension mismatch: matrix of shape ({rows}, {ncols}) times an operand of shape {xs:?}"));
    }
    if m.kind != Kind::Coo && m.b.len != [rows, ncols][(m.kind == Kind::Csc) as usize] + 1 {
        return Err(changed_error());
    }
    let t = result_dtype(m.data.dtype, x.dtype);
    let shape: Vec<usize> = if xs.len() == 1 { vec![rows] } else { vec![rows, xs[1]] };
    if let Some(o) = out {
        o.layout.check(o.dtype.itemsize(), o.map.len())?;
        if o.layout.shape != shape {
            return err(ErrorKind::InvalidArgument, format!("out has shape {:?}, the product has shape {shape:?}", o.layout.shape));
        }
        if o.dtype != t {
            return err(ErrorKind::InvalidArgument, format!("out has dtype {}, the product has dtype {}", o.dtype.name(), t.name()));
        }
    }
    fn go<K: Value>(m: &Matrix, x: &Source, out: Option<&Dest>, release: bool, t: DType, shape: Vec<usize>) -> Result<Option<NewProduct>> {
        let k = if x.layout.shape.len() == 2 { x.layout.shape[1] } else { 1 };
        let n = shape.iter().product::<usize>();
        let l = x.layout;
        let isz = x.dtype.itemsize() as isize;
        let owned;
        let mut x_huge = false;
        // x straight from its memory when it is already native K in C order (no copy).
        let xv: &[K] = if K::NATIVE == Some(x.dtype)
            && x.dtype.order(x.order).is_native()
            && (x.map.as_ptr() as usize + l.offset).is_multiple_of(std::mem::align_of::<K>())
            && (l.shape.iter().product::<usize>() <= 1
                || l.strides.last() == Some(&isz) && (l.shape.len() == 1 || l.shape[0] <= 1 || l.strides[0] == isz * l.shape[1] as isize))
        {
            x_huge = x.map.huge_advised();
            // SAFETY: the layout was checked against the mapping: size elements, contiguous and aligned;
            // the kernel only reads them, for its duration, while the caller keeps the mapping alive.
            unsafe { std::slice::from_raw_parts(x.map.as_ptr().add(l.offset) as *const K, l.shape.iter().product()) }
        } else {
            owned = load_dense::<K>(x);
            &owned
        };
        let run = |y: &mut [K]| -> Result<()> {
            match (m.kind, m.a.dtype) {
                (Kind::Csr, DType::Int32) => csr_product::<K, i32>(m, xv, x_huge, k, release, y),
                (Kind::Csr, _) => csr_product::<K, i64>(m, xv, x_huge, k, release, y),
                (_, DType::Int32) => scatter_product::<K, i32>(m, xv, k, y),
                (_, _) => scatter_product::<K, i64>(m, xv, k, y),
            }
        };
        if out.is_none() && K::NATIVE == Some(t) {
            // Into new memory directly, which every path below writes whole before it is
            // read (each row's sum stored once): a dropped result's region when one of this
            // size is cached (faulted in already, nothing to zero; `Mapping::scratch`), else
            // fresh pages first touched by the kernel's threads, transparent huge pages when
            // large (NumPy's `zeros` for SciPy's result: one fault per 2 MiB instead of 512).
            let mem = Mapping::scratch(n * t.itemsize())?;
            if n > 0 {
                // SAFETY: the mapping is fresh, private to this function, n elements of K (zeros).
                run(unsafe { std::slice::from_raw_parts_mut(mem.as_ptr() as *mut K, n) })?;
            }
            return Ok(Some((t, shape, mem)));
        }
        if let Some(o) = out.filter(|o| K::NATIVE == Some(o.dtype) && writes_direct(m, x, o, n)) {
            // Straight into `out` (contiguous, native, aligned, apart from every operand):
            // every path below writes each element once, as into new memory. No temporary
            // and no copy: a mapped `'r+'`/`'w+'` file is written by the kernel's threads.
            let bytes = n * t.itemsize();
            o.map.prepare_write(o.layout.offset, bytes);
            if n > 0 {
                // SAFETY: `writes_direct` proved `out` holds n contiguous, aligned, native K
                // from its offset (layout checked against the mapping above), that nothing
                // the kernel reads lies in those bytes, and the caller checked it writable.
                run(unsafe { std::slice::from_raw_parts_mut(o.map.as_ptr().add(o.layout.offset) as *mut K, n) })?;
            }
            return Ok(None);
        }
        let mut y = vec![K::ZERO; n];
        run(&mut y)?;
        match store(&y, t, shape.clone(), out)? {
            None => Ok(None),
            Some(r) => Ok(Some((t, shape, Mapping::from_bytes(&r.bytes)?))),
        }
    }
    with_value!(t, go(m, x, out, release, t, shape))
}

/// Bytes `[lo, hi)` a view spans in memory (empty when it has no elements).
fn span(v: &Source) -> (usize, usize) {
    let l = v.layout;
    let base = v.map.as_ptr() as usize + l.offset;
    let (mut lo, mut hi) = (base as isize, base as isize);
    for (&n, &st) in l.shape.iter().zip(&l.strides) {
        if n == 0 {
            return (base, base);
        }
        let e = (n as isize - 1) * st;
        if e < 0 {
            lo += e
        } else {
            hi += e
        }
    }
    (lo as usize, hi as usize + v.dtype.itemsize())
}

/// Whether the product can be written straight into `out` (`n` elements of the result
/// dtype, its shape and dtype checked): C-contiguous, native order, aligned for the
/// computation type, and its bytes apart from `x`'s and the matrix's parts (else values
/// still to be read would be overwritten: those go through a temporary, as before).
fn writes_direct(m: &Matrix, x: &Source, o: &Dest, n: usize) -> bool {
    let l = o.layout;
    let isz = o.dtype.itemsize() as isize;
    let contiguous = match l.shape.len() {
        1 => l.shape[0] <= 1 || l.strides[0] == isz,
        _ => (l.shape[1] <= 1 || l.strides[1] == isz) && (l.shape[0] <= 1 || l.strides[0] == isz * l.shape[1] as isize),
    };
    let base = o.map.as_ptr() as usize + l.offset;
    if !contiguous || o.swap() || !base.is_multiple_of(o.dtype.alignment()) || n == 0 {
        return n == 0 && !o.swap();
    }
    let (lo, hi) = (base, base + n * isz as usize);
    let apart = |(a, b): (usize, usize)| b <= lo || a >= hi || a == b;
    let part = |p: &Part| {
        let a = p.ptr() as usize;
        (a, a + p.len * p.dtype.itemsize())
    };
    apart(span(x)) && [m.data, m.a, m.b].iter().all(|p| apart(part(p)))
}

/// A 1-D or 2-D view converted into row-major `K` values (one pass when the rows follow
/// each other, as in a vector or a C-order matrix).
pub(crate) fn load_dense<K: Value>(x: &Source) -> Vec<K> {
    let l = x.layout;
    let (n, k) = (l.shape[0], if l.shape.len() == 2 { l.shape[1] } else { 1 });
    let col_stride = if l.shape.len() == 2 { l.strides[1] } else { 0 };
    let mut out = vec![K::default(); n * k];
    let swap = !x.dtype.order(x.order).is_native();
    let base = x.map.as_ptr() as isize + l.offset as isize;
    if k == 1 || l.strides[0] == col_stride * k as isize {
        let stride = if k == 1 { l.strides[0] } else { col_stride };
        // SAFETY: the layout was checked against the mapping: n * k elements at `stride`.
        unsafe { K::load(x.dtype, base as *const u8, stride, swap, &mut out) };
        return out;
    }
    for (i, row) in out.chunks_mut(k.max(1)).enumerate().take(n) {
        // SAFETY: the layout was checked against the mapping; row i has k elements.
        unsafe { K::load(x.dtype, (base + i as isize * l.strides[0]) as *const u8, col_stride, swap, row) };
    }
    out
}

/// Values `y` (row-major, `shape`) stored as `t`: into `out`, or as a new array.
pub(crate) fn store<K: Value>(y: &[K], t: DType, shape: Vec<usize>, out: Option<&Dest>) -> Result<Option<Reduced>> {
    let k = if shape.len() == 2 { shape[1] } else { 1 };
    match out {
        Some(o) => {
            let l = o.layout;
            o.map.prepare_write(0, o.map.len());
            let swap = !o.dtype.order(o.order).is_native();
            let col_stride = if l.shape.len() == 2 { l.strides[1] } else { 0 };
            let base = o.map.as_ptr() as isize + l.offset as isize;
            if k == 1 || l.strides[0] == col_stride * k as isize {
                let stride = if k == 1 { l.strides[0] } else { col_stride };
                // SAFETY: `out`'s layout was checked against its mapping: y.len() elements at `stride`.
                unsafe { store_row(t, base as *mut u8, stride, swap, y) };
                return Ok(None);
            }
            for (i, row) in y.chunks(k.max(1)).enumerate().take(shape[0]) {
                // SAFETY: `out`'s layout was checked against its mapping; row i has k elements.
                unsafe { store_row(t, (base + i as isize * l.strides[0]) as *mut u8, col_stride, swap, row) };
            }
            Ok(None)
        }
        None => {
            let isz = t.itemsize();
            let mut bytes = vec![0u8; y.len() * isz];
            if !y.is_empty() {
                // SAFETY: `bytes` holds y.len() elements of t.
                unsafe { store_row(t, bytes.as_mut_ptr(), isz as isize, false, y) };
            }
            Ok(Some(Reduced { dtype: t, shape, bytes }))
        }
    }
}

/// What [`problem`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Lengths and `indptr` (O(rows), not O(nnz)).
    Structure,
    /// Every index against the shape (O(nnz)).
    Indices,
    Both,
}

/// Where a part is first malformed, as a message; `None` when it is well formed.
/// Structure: lengths agree; compressed `indptr` has `major + 1` elements, starts at 0,
/// never decreases, ends at `nnz`. Indices: every index (COO: row and column) in range.
/// In parallel.
pub fn problem(m: &Matrix, check: Check) -> Result<Option<String>> {
    problem_rel(m, check, false)
}

/// [`problem`]; `release`: the index pages each chunk of the check read are released
/// behind it ([`Behind`], as a streaming product releases its pages), so that the first
/// `dot(x, { release: true })` of a mapped matrix larger than memory does not map all of
/// its indices at once before the product starts.
pub fn problem_rel(m: &Matrix, check: Check, release: bool) -> Result<Option<String>> {
    m.check_parts()?;
    let (a, b) = (Ptr(m.a.ptr()), Ptr(m.b.ptr()));
    let behind = release.then(|| [Behind::new(m.a.map), Behind::new(m.b.map)]);
    let behind = behind.as_ref();
    // First element of 0..n (in chunks on the pool) for which `bad` gives a message. With
    // `behind`, each checked chunk's elements of the index parts it reads (`reads[0]`: `a`,
    // `reads[1]`: `b`, positions 0..n) are released.
    let first = |n: usize, reads: [bool; 2], bad: &(dyn Fn(usize) -> Option<String> + Sync)| -> Option<String> {
        const CHUNK: usize = 1 << 16;
        pool::install(|| {
            (0..n.div_ceil(CHUNK)).into_par_iter().find_map_first(|c| {
                let r = c * CHUNK..((c + 1) * CHUNK).min(n);
                let found = r.clone().find_map(bad);
                if let Some(behind) = behind {
                    for ((bh, p), read) in behind.iter().zip([&m.a, &m.b]).zip(reads) {
                        let (base, isz) = (p.ptr() as usize, p.dtype.itemsize());
                        if read && r.end <= p.len {
                            bh.push(base + r.start * isz, base + r.end * isz);
                        }
                    }
                }
                found
            })
        })
    };
    type First<'f> = dyn Fn(usize, [bool; 2], &(dyn Fn(usize) -> Option<String> + Sync)) -> Option<String> + 'f;
    fn scan<I: Ix>(m: &Matrix, a: Ptr, b: Ptr, check: Check, first: &First) -> Option<String> {
        let ([rows, cols], nnz) = (m.shape, m.data.len);
        let (structure, indices) = (check != Check::Indices, check != Check::Structure);
        let at = |p: Ptr, k: usize| -> i64 {
            // SAFETY: callers stay below the part's checked length.
            unsafe { I::at(p.get(), k) }
        };
        match m.kind {
            Kind::Coo => {
                if m.a.len != nnz || m.b.len != nnz {
                    return Some(format!("row, col and data differ in length ({}, {}, {nnz})", m.a.len, m.b.len));
                }
                if !indices {
                    return None;
                }
                first(nnz, [true, true], &|n| {
                    let (i, j) = (at(a, n), at(b, n));
                    if i < 0 || i as u64 >= rows as u64 {
                        Some(format!("row[{n}] = {i} is out of range for {rows} rows"))
                    } else if j < 0 || j as u64 >= cols as u64 {
                        Some(format!("col[{n}] = {j} is out of range for {cols} columns"))
                    } else {
                        None
                    }
                })
            }
            kind => {
                let (major, minor, what, of) = if kind == Kind::Csr { (rows, cols, "rows", "columns") } else { (cols, rows, "columns", "rows") };
                if m.b.len != major + 1 {
                    return Some(format!("indptr has {} elements, {} {what} need {}", m.b.len, major, major + 1));
                }
                if m.a.len != nnz {
                    return Some(format!("indices and data differ in length ({} and {nnz})", m.a.len));
                }
                if structure {
                    if at(b, 0) != 0 {
                        return Some(format!("indptr[0] is {}, not 0", at(b, 0)));
                    }
                    if at(b, major) != nnz as i64 {
                        return Some(format!("indptr ends at {}, but indices and data hold {nnz} values", at(b, major)));
                    }
                    if let Some(p) = first(major, [false, true], &|i| {
                        let (p0, p1) = (at(b, i), at(b, i + 1));
                        (p1 < p0).then(|| format!("indptr decreases at position {} ({p0} > {p1})", i + 1))
                    }) {
                        return Some(p);
                    }
                }
                if !indices {
                    return None;
                }
                first(nnz, [true, false], &|n| {
                    let j = at(a, n);
                    (j < 0 || j as u64 >= minor as u64).then(|| format!("indices[{n}] = {j} is out of range for {minor} {of}"))
                })
            }
        }
    }
    Ok(if m.a.dtype == DType::Int32 { scan::<i32>(m, a, b, check, &first) } else { scan::<i64>(m, a, b, check, &first) })
}
