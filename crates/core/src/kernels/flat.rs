//! Views walked in C order, NumPy's flat index: the order selection and gathering need
//! (`a[mask]` lists the selected elements in C order whatever the memory order; `take`
//! without an axis indexes the flattened array). Unlike [`super::nest`], which reorders
//! axes to follow memory, this keeps the logical order and only drops length-1 axes and
//! merges neighbours that every operand steps across evenly (a C-contiguous view is one
//! run). A walk is a sequence of runs: stretches along the innermost axis, each with one
//! stride per operand.

/// Several views of one shape, in C order.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    /// Lengths of the merged axes, outer to inner.
    dims: Vec<usize>,
    /// Per operand: its stride along each merged axis.
    strides: Vec<Vec<isize>>,
    bases: Vec<isize>,
    size: usize,
}

impl Flat {
    /// `ops`: per operand, the address of element `[0, 0, ...]` and its strides along `shape`.
    pub(crate) fn new(shape: &[usize], ops: &[(isize, &[isize])]) -> Flat {
        let size = shape.iter().product();
        let keep: Vec<usize> = (0..shape.len()).filter(|&a| shape[a] != 1).collect();
        let mut dims: Vec<usize> = keep.iter().map(|&a| shape[a]).collect();
        let mut strides: Vec<Vec<isize>> = ops.iter().map(|(_, s)| keep.iter().map(|&a| s[a]).collect()).collect();
        let mut k = dims.len();
        while k > 1 {
            k -= 1;
            if strides.iter().all(|s| s[k - 1] == s[k] * dims[k] as isize) {
                dims[k] *= dims[k - 1];
                dims.remove(k - 1);
                for s in strides.iter_mut() {
                    s.remove(k - 1);
                }
            }
        }
        if dims.is_empty() {
            dims.push(if size == 0 { 0 } else { 1 });
            for s in strides.iter_mut() {
                s.push(0);
            }
        }
        Flat { dims, strides, bases: ops.iter().map(|o| o.0).collect(), size }
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Operand `op`'s stride along the innermost axis.
    pub(crate) fn inner(&self, op: usize) -> isize {
        *self.strides[op].last().unwrap_or(&0)
    }

    /// The address of flat element `p` of operand `op`.
    pub(crate) fn addr(&self, op: usize, mut p: usize) -> isize {
        let mut a = self.bases[op];
        for k in (0..self.dims.len()).rev() {
            let n = self.dims[k];
            a += (p % n) as isize * self.strides[op][k];
            p /= n;
        }
        a
    }

    /// Calls `f(addrs, n)` for the runs covering flat elements `lo..hi`: `addrs` holds each
    /// operand's address of the run's first element; the run goes on by [`Flat::inner`].
    pub(crate) fn runs(&self, lo: usize, hi: usize, mut f: impl FnMut(&[isize], usize)) {
        if lo >= hi {
            return;
        }
        let nd = self.dims.len();
        let nops = self.bases.len();
        // Odometer over the merged axes, started at `lo`.
        let mut idx = vec![0usize; nd];
        let mut p = lo;
        for k in (0..nd).rev() {
            idx[k] = p % self.dims[k];
            p /= self.dims[k];
        }
        let mut addrs: Vec<isize> = (0..nops).map(|o| self.bases[o] + (0..nd).map(|k| idx[k] as isize * self.strides[o][k]).sum::<isize>()).collect();
        let last = nd - 1;
        let mut at = lo;
        while at < hi {
            let n = (self.dims[last] - idx[last]).min(hi - at);
            f(&addrs, n);
            at += n;
            if at >= hi {
                break;
            }
            // Advance by n along the innermost axis, carrying outward.
            idx[last] += n;
            for (a, s) in addrs.iter_mut().zip(&self.strides) {
                *a += n as isize * s[last];
            }
            let mut k = last;
            while idx[k] == self.dims[k] && k > 0 {
                for (a, s) in addrs.iter_mut().zip(&self.strides) {
                    *a -= self.dims[k] as isize * s[k] - s[k - 1];
                }
                idx[k] = 0;
                k -= 1;
                idx[k] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_order_runs_across_merged_and_strided_axes() {
        // A C-contiguous (3, 4) view is one run of 12.
        let f = Flat::new(&[3, 4], &[(0, &[32, 8])]);
        let mut got = vec![];
        f.runs(0, 12, |a, n| got.push((a[0], n)));
        assert_eq!(got, [(0, 12)]);
        // A transposed (4, 3) view of a C (3, 4) array, second operand contiguous: runs of 3
        // in C order of the view; starting mid-run.
        let f = Flat::new(&[4, 3], &[(0, &[8, 32]), (100, &[24, 8])]);
        let mut got = vec![];
        f.runs(2, 8, |a, n| got.push((a.to_vec(), n)));
        assert_eq!(got, [(vec![64, 116], 1), (vec![8, 124], 3), (vec![16, 148], 2)]);
        assert_eq!(f.addr(0, 7), 8 * 2 + 32);
        // Negative steps and a 0-d view.
        let f = Flat::new(&[2, 2], &[(24, &[-16, -8])]);
        let mut got = vec![];
        f.runs(0, 4, |a, n| got.push((a[0], n)));
        assert_eq!(got, [(24, 4)]);
        let f = Flat::new(&[], &[(5, &[])]);
        let mut got = vec![];
        f.runs(0, 1, |a, n| got.push((a[0], n)));
        assert_eq!((got, f.size()), (vec![(5, 1)], 1));
    }
}
