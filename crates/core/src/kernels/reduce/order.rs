//! The order and the pieces NumPy's reduction loop visits a view in: [`KOrder`] for
//! sums and products (axes by |stride|, merged where possible, cut where NumPy buffers),
//! [`Runs`] for C-order walks (min/max and their indices), and whether NumPy buffers.

use std::cell::Cell;

use crate::kernels::source::Source;

/// NumPy's buffer size: the block length of buffered (cast or swapped) sums.
pub(super) const BUFSIZE: usize = 8192;
/// Below this many elements a subtree is summed on one thread.
pub(super) const PAR_MIN: usize = 1 << 16;

/// Whether NumPy would buffer this input for this accumulator.
pub(super) fn buffered(src: &Source, natural: bool) -> bool {
    src.swap() || !src.aligned() || !natural
}

thread_local! {
    /// Set while [`reduce_axis`] computes one output that NumPy accumulates row by row
    /// (the reduced axis is not the inner one of its loop): the elements are then
    /// combined one at a time, each partial result stored as the output dtype.
    pub(super) static ROW_BY_ROW: Cell<bool> = const { Cell::new(false) };
}

/// The elements of a view in the order NumPy's iterator visits them when it reduces
/// the whole view (K order, strides not negated): axes sorted by |stride|, outermost
/// first, length-1 axes dropped, an axis merged into the next outer one when that one
/// steps over it exactly.
pub(super) struct KOrder {
    /// Address of element [0, ..., 0].
    pub(super) base: usize,
    pub(super) shape: Vec<usize>,
    pub(super) strides: Vec<isize>,
    pub(super) n: usize,
    /// One element at a time (see `ROW_BY_ROW`).
    pub(super) seq: bool,
}

impl KOrder {
    pub(super) fn new(src: &Source) -> KOrder {
        let l = src.layout;
        let mut axes: Vec<usize> = (0..l.shape.len()).filter(|&a| l.shape[a] != 1).collect();
        axes.sort_by_key(|&a| std::cmp::Reverse(l.strides[a].unsigned_abs()));
        let (mut shape, mut strides): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
        for a in axes {
            match (shape.last_mut(), strides.last_mut()) {
                (Some(n), Some(s)) if *s == l.shape[a] as isize * l.strides[a] => {
                    *n *= l.shape[a];
                    *s = l.strides[a];
                }
                _ => {
                    shape.push(l.shape[a]);
                    strides.push(l.strides[a]);
                }
            }
        }
        KOrder { base: src.map.as_ptr() as usize + l.offset, shape, strides, n: l.size(), seq: ROW_BY_ROW.get() }
    }

    /// Length and stride of the innermost axis.
    pub(super) fn inner(&self) -> (usize, isize) {
        (self.shape.last().copied().unwrap_or(1), self.strides.last().copied().unwrap_or(0))
    }

    /// Address of element `k` (< n) in this order.
    pub(super) fn addr(&self, mut k: usize) -> usize {
        let mut off = 0isize;
        for d in (0..self.shape.len()).rev() {
            off += (k % self.shape[d]) as isize * self.strides[d];
            k /= self.shape[d];
        }
        (self.base as isize + off) as usize
    }

    /// Address range of elements `lo..lo + n` (n >= 1): between the first and the last.
    pub(super) fn span(&self, lo: usize, n: usize, itemsize: usize) -> (usize, usize) {
        let (a, b) = (self.addr(lo), self.addr(lo + n - 1));
        (a.min(b), a.max(b) + itemsize)
    }

    /// Calls `f` with the addresses of elements `lo..lo + len`, in order.
    pub(super) fn visit(&self, lo: usize, len: usize, mut f: impl FnMut(usize)) {
        if len == 0 {
            return;
        }
        let nd = self.shape.len();
        let mut idx = vec![0usize; nd];
        let mut k = lo;
        for d in (0..nd).rev() {
            idx[d] = k % self.shape[d];
            k /= self.shape[d];
        }
        let mut a = self.addr(lo) as isize;
        for _ in 0..len {
            f(a as usize);
            for d in (0..nd).rev() {
                idx[d] += 1;
                a += self.strides[d];
                if idx[d] < self.shape[d] {
                    break;
                }
                a -= self.strides[d] * self.shape[d] as isize;
                idx[d] = 0;
            }
        }
    }

    /// Whether every chunk lies inside one row of the innermost axis.
    pub(super) fn rowwise(&self) -> bool {
        self.shape.len() <= 1 || self.inner().0 > BUFSIZE
    }

    /// The pieces NumPy's reduction loop is called with, as (first element, count):
    /// a 1-D walk in one piece, or in blocks of `BUFSIZE` when NumPy buffers (cast,
    /// byte-swapped or unaligned input); rows longer than `BUFSIZE` one by one (in blocks
    /// when buffered); else whole multiples of the innermost axes that fit in `BUFSIZE`,
    /// never crossing the next axis.
    pub(super) fn chunks(&self, buffered: bool) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.n == 0 {
            return out;
        }
        let row = |lo: usize, len: usize, out: &mut Vec<(usize, usize)>| {
            if buffered {
                let mut i = 0;
                while i < len {
                    out.push((lo + i, BUFSIZE.min(len - i)));
                    i += BUFSIZE;
                }
            } else {
                out.push((lo, len));
            }
        };
        if self.rowwise() {
            let inner = self.inner().0;
            for r in 0..self.n / inner {
                row(r * inner, inner, &mut out);
            }
            return out;
        }
        let (mut core, mut k) = (1, self.shape.len());
        while k > 0 && core * self.shape[k - 1] <= BUFSIZE {
            core *= self.shape[k - 1];
            k -= 1;
        }
        if k == 0 {
            out.push((0, self.n));
            return out;
        }
        let next = self.shape[k - 1];
        let per = (BUFSIZE / core).min(next);
        for b in 0..self.n / (core * next) {
            let mut i = 0;
            while i < next {
                let m = per.min(next - i);
                out.push(((b * next + i) * core, m * core));
                i += m;
            }
        }
        out
    }
}

/// The elements of a view as (base pointer, runs): whole memory when contiguous,
/// else one run per innermost row in C order.
pub(super) struct Runs {
    pub(super) base: *const u8,
    pub(super) count: usize,
    pub(super) len: usize,
    pub(super) stride: isize,
    pub(super) outer: Vec<isize>,
}

// SAFETY: `Runs` only carries addresses inside a mapping that the caller keeps alive.
unsafe impl Sync for Runs {}
// SAFETY: as above.
unsafe impl Send for Runs {}

/// Splits a view into runs: one run over the whole memory block when the view is
/// C-contiguous (or F-contiguous and `memory_order` allows visiting elements in
/// memory order), else one run per innermost row, rows in C order.
pub(super) fn runs(src: &Source, memory_order: bool) -> Runs {
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
    pub(super) fn run(&self, k: usize) -> *const u8 {
        // SAFETY: outer offsets come from the checked layout.
        unsafe { self.base.offset(self.outer[k]) }
    }
}
