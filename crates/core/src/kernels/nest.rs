//! The loop nest that the "everyday" kernels (assign, comparisons, where, joins) share:
//! several views of one shape walked together, row by row.
//!
//! Axes are ordered by the first operand's strides (the destination's: it is written in
//! memory order), length-1 axes dropped, and neighbours merged where every operand is
//! contiguous across them, so a C-order copy is one long row and a column of a C-order
//! file is one strided row. Rows are split into segments so that long rows spread over
//! the threads; row addresses are computed from the row number (no table of rows, which
//! for a column view of a large file would be as large as the file).
//!
//! Small walks (fewer than [`PAR_MIN`] elements) run on the calling thread, without the
//! handoff to the pool. In streaming mode the walk goes in windows of about [`GRAIN`]
//! bytes per thread, and each window's pages are released behind (see [`Behind`]).

use rayon::prelude::*;

use super::pool;
use super::stream::{Behind, GRAIN};
use crate::mapping::Mapping;

/// Below this many elements a walk runs on the calling thread.
pub(crate) const PAR_MIN: usize = 1 << 16;
/// Elements of a row one work item covers.
pub(crate) const SEGMENT: usize = 1 << 16;

/// One operand: the address of its element `[0, 0, ...]` and its byte strides (0 on
/// broadcast axes).
#[derive(Debug, Clone)]
pub(crate) struct Operand<'a> {
    pub base: isize,
    pub strides: &'a [isize],
}

/// A walk over `shape` for several operands.
#[derive(Debug, Clone)]
pub(crate) struct Nest {
    /// Lengths of the outer axes (C order over them).
    outer: Vec<usize>,
    /// Length of a row.
    pub len: usize,
    /// Per operand: the address of the first element and the outer strides.
    bases: Vec<isize>,
    ostrides: Vec<Vec<isize>>,
    /// Per operand: the stride along a row.
    pub inner: Vec<isize>,
}

impl Nest {
    pub(crate) fn new(shape: &[usize], ops: &[Operand]) -> Nest {
        let size: usize = shape.iter().product();
        let mut axes: Vec<usize> = (0..shape.len()).filter(|&a| shape[a] != 1).collect();
        // Outer to inner: the first operand's largest |stride| first (stable for ties).
        axes.sort_by_key(|&a| std::cmp::Reverse(ops[0].strides[a].unsigned_abs()));
        let mut dims: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let mut strides: Vec<Vec<isize>> = ops.iter().map(|o| axes.iter().map(|&a| o.strides[a]).collect()).collect();
        // Merge an axis into the next inner one where every operand steps evenly across.
        let mut k = dims.len();
        while k > 1 {
            k -= 1;
            let (o, i) = (k - 1, k);
            if strides.iter().all(|s| s[o] == s[i] * dims[i] as isize) {
                dims[i] *= dims[o];
                dims.remove(o);
                for s in strides.iter_mut() {
                    s.remove(o);
                }
            }
        }
        let (len, inner) = match dims.pop() {
            Some(n) => (n, strides.iter_mut().map(|s| s.pop().unwrap_or(0)).collect()),
            None => (if size == 0 { 0 } else { 1 }, vec![0; ops.len()]),
        };
        let len = if size == 0 { 0 } else { len };
        Nest { outer: dims, len, bases: ops.iter().map(|o| o.base).collect(), ostrides: strides, inner }
    }

    pub(crate) fn rows(&self) -> usize {
        if self.len == 0 {
            0
        } else {
            self.outer.iter().product()
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.rows() * self.len
    }

    /// The address of row `r`'s first element for each operand.
    pub(crate) fn row(&self, mut r: usize, addrs: &mut [isize]) {
        addrs.copy_from_slice(&self.bases);
        for a in (0..self.outer.len()).rev() {
            let n = self.outer[a];
            let i = (r % n) as isize;
            r /= n;
            for (x, s) in addrs.iter_mut().zip(&self.ostrides) {
                *x += i * s[a];
            }
        }
    }
}

/// A mapping whose pages a streaming walk releases behind it: operand `op` of the nest,
/// elements of `itemsize` bytes.
pub(crate) struct Released<'a> {
    pub map: &'a Mapping,
    pub op: usize,
    pub itemsize: usize,
}

/// One piece of a walk: the addresses of its first element per operand and its length.
pub(crate) struct Piece<'a> {
    pub addrs: &'a [isize],
    pub n: usize,
}

/// Runs `f(state, piece)` over every piece of the walk, in parallel when the walk is
/// large (each thread's `state` from `init`), and releasing `release`'s pages behind
/// when that list is not empty.
pub(crate) fn walk<S, I, F>(nest: &Nest, release: &[Released], init: I, f: F)
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, Piece) + Sync + Send,
{
    let rows = nest.rows();
    if rows == 0 {
        return;
    }
    let segs = nest.len.div_ceil(SEGMENT);
    let items = rows * segs;
    let nops = nest.bases.len();
    let item = |state: &mut S, addrs: &mut Vec<isize>, i: usize| {
        let (r, seg) = (i / segs, i % segs);
        nest.row(r, addrs);
        let lo = seg * SEGMENT;
        let n = SEGMENT.min(nest.len - lo);
        for (a, s) in addrs.iter_mut().zip(&nest.inner) {
            *a += lo as isize * s;
        }
        f(state, Piece { addrs, n });
    };
    if nest.size() < PAR_MIN && release.is_empty() {
        let mut state = init();
        let mut addrs = vec![0; nops];
        for i in 0..items {
            item(&mut state, &mut addrs, i);
        }
        return;
    }
    let par = |lo: usize, hi: usize| {
        (lo..hi).into_par_iter().for_each_init(|| (init(), vec![0isize; nops]), |(state, addrs), i| item(state, addrs, i));
    };
    pool::install(|| {
        if release.is_empty() {
            return par(0, items);
        }
        let behind: Vec<Behind> = release.iter().map(|r| Behind::new(r.map)).collect();
        // Bytes an item spans in the widest-stepping released view (a column spans whole rows).
        let reach = release.iter().map(|r| nest.inner[r.op].unsigned_abs().max(r.itemsize)).max().unwrap_or(1);
        let per_item = (nest.len.min(SEGMENT) * reach).max(1);
        let window = (GRAIN * pool::threads() / per_item).max(1);
        let mut addrs = vec![0isize; nops];
        let mut lo = 0;
        while lo < items {
            let hi = items.min(lo + window);
            par(lo, hi);
            for (r, b) in release.iter().zip(&behind) {
                let (s, e) = span_of(nest, r, lo, hi, segs, &mut addrs);
                b.push(s, e);
            }
            lo = hi;
        }
    });
}

/// The address range operand `r.op` touches in items `lo..hi` (the first and the last
/// rows' extents: a window of consecutive rows of a file lies between them, and a release
/// that reaches further only costs a re-read, never data).
fn span_of(nest: &Nest, r: &Released, lo: usize, hi: usize, segs: usize, addrs: &mut [isize]) -> (usize, usize) {
    let mut ends = |i: usize| -> (isize, isize) {
        let (row, seg) = (i / segs, i % segs);
        nest.row(row, addrs);
        let s = nest.inner[r.op];
        let first = seg * SEGMENT;
        let n = SEGMENT.min(nest.len - first);
        let a = addrs[r.op] + first as isize * s;
        let b = a + (n as isize - 1) * s;
        (a.min(b), a.max(b) + r.itemsize as isize)
    };
    let (a0, a1) = ends(lo);
    let (b0, b1) = ends(hi - 1);
    (a0.min(b0) as usize, a1.max(b1) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_contiguous_axes_and_orders_by_the_first_operand() {
        // A C-order (4, 5) float64 copy is one row of 20.
        let c = [40isize, 8];
        let n = Nest::new(&[4, 5], &[Operand { base: 0, strides: &c }, Operand { base: 100, strides: &c }]);
        assert_eq!((n.rows(), n.len, n.inner.clone()), (1, 20, vec![8, 8]));
        // A transposed source cannot merge: 5 rows of 4.
        let t = [8isize, 40];
        let n = Nest::new(&[5, 4], &[Operand { base: 0, strides: &[32, 8] }, Operand { base: 0, strides: &t }]);
        assert_eq!((n.rows(), n.len, n.inner.clone()), (5, 4, vec![8, 40]));
        // A column of a (1000, 3) file: one strided row.
        let n = Nest::new(&[1000], &[Operand { base: 16, strides: &[24] }, Operand { base: 0, strides: &[8] }]);
        assert_eq!((n.rows(), n.len), (1, 1000));
        let mut a = [0isize; 2];
        n.row(0, &mut a);
        assert_eq!(a, [16, 0]);
        // Destination in Fortran order: its fastest axis goes inside.
        let n = Nest::new(&[3, 4], &[Operand { base: 0, strides: &[8, 24] }, Operand { base: 0, strides: &[32, 8] }]);
        assert_eq!((n.rows(), n.len, n.inner.clone()), (4, 3, vec![8, 32]));
        n.row(2, &mut a);
        assert_eq!(a, [48, 16]);
        // 0-d and empty.
        let n = Nest::new(&[], &[Operand { base: 8, strides: &[] }]);
        assert_eq!((n.rows(), n.len), (1, 1));
        let n = Nest::new(&[3, 0], &[Operand { base: 0, strides: &[0, 8] }]);
        assert_eq!(n.size(), 0);
    }
}
