//! Sums and products of a whole view as NumPy's reduction computes them: the pieces of
//! NumPy's walk ([`KOrder`]) summed pairwise on the pool (the dispatched tree where the
//! elements are the accumulator), the piece sums added in order; products element by
//! element.

use std::any::TypeId;

use super::order::{KOrder, BUFSIZE, PAR_MIN};
use super::pairwise::{is_complex, pairwise, pairwise_native, pairwise_rel, split};
use super::pieces::{grain, stream_map, Release};
use crate::kernels::elem::{Acc, Elem, To};
use crate::kernels::source::Source;
use crate::kernels::stream::{run_span, Behind, GRAIN};

/// [`pairwise`] over the elements `lo..lo + n` of a [`KOrder`] walk: the same tree, the
/// leaves loaded by walking the view.
/// Finished subtrees are released in streaming mode (`rel`).
pub(super) fn pairwise_walk<A: Acc, V: Fn(usize) -> A + Sync>(w: &KOrder, lo: usize, n: usize, val: &V, rel: Option<&Release>) -> A {
    if let Some(r) = rel.filter(|r| n <= r.grain) {
        let v = pairwise_walk(w, lo, n, val, None);
        r.done(lo, n);
        return v;
    }
    let leaf = if is_complex::<A>() { 64 } else { 128 };
    if n <= leaf {
        let mut buf = [A::ZERO; 128];
        let mut i = 0;
        w.visit(lo, n, |p| {
            buf[i] = val(p);
            i += 1;
        });
        return pairwise(0, n, &|k| buf[k]);
    }
    let n2 = split(n, if leaf == 128 { 8 } else { 4 });
    if n >= PAR_MIN {
        let (a, b) = rayon::join(|| pairwise_walk(w, lo, n2, val, rel), || pairwise_walk(w, lo + n2, n - n2, val, rel));
        a.add(b)
    } else {
        pairwise_walk(w, lo, n2, val, rel).add(pairwise_walk(w, lo + n2, n - n2, val, rel))
    }
}

/// Product of a run, sequential as NumPy's, continuing from `acc`.
pub(super) fn prod_run<T: Elem + To<A>, A: Acc>(mut acc: A, base: *const u8, n: usize, stride: isize, swap: bool) -> A {
    for i in 0..n {
        // SAFETY: the caller checked the view lies inside the mapping, so element i exists.
        acc = acc.mul(unsafe { T::load(base.offset(i as isize * stride), swap).to() });
    }
    acc
}

/// Sum of the whole view as NumPy's reduction computes it: the pieces of
/// [`KOrder::chunks`] summed pairwise (on the pool), then added in order to the
/// identity, `round` applied after each addition (NumPy's float16 accumulator is
/// stored as float16 between calls of its loop).
pub(super) fn full_sum_with<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool, round: impl Fn(A) -> A) -> A {
    let w = KOrder::new(src);
    let pieces = w.chunks(buffered);
    sum_pieces(src, &w, &pieces, true, |x: T| x.to(), round)
}

/// Sum of `val(x)` over the view walked in NumPy's order `w`: each piece (first
/// element, count) summed pairwise on the pool, the piece sums added in order to zero,
/// `round` after each addition; one element at a time in `w.seq` (see `ROW_BY_ROW`).
/// `plain`: `val` is the plain conversion `T` -> `A` (a sum of the elements themselves).
pub(super) fn sum_pieces<T: Elem, A: Acc>(
    src: &Source,
    w: &KOrder,
    pieces: &[(usize, usize)],
    plain: bool,
    val: impl Fn(T) -> A + Sync,
    round: impl Fn(A) -> A,
) -> A {
    let swap = src.swap();
    let isz = src.dtype.itemsize();
    // SAFETY: the caller checked the view lies inside the mapping; p is one of its elements.
    let load = |p: usize| val(unsafe { T::load(p as *const u8, swap) });
    if w.seq {
        let mut acc = A::ZERO;
        w.visit(0, w.n, |p| acc = round(acc.add(load(p))));
        return acc;
    }
    let (inner, stride) = w.inner();
    let span = |lo: usize, n: usize| w.span(lo, n, isz);
    let behind = src.release.then(|| Behind::new(src.map));
    let sums = stream_map(src, pieces, stride.unsigned_abs().max(isz), span, |lo, len| {
        if lo % inner + len <= inner {
            // Inside one row: a plain strided run.
            let base = w.addr(lo) as isize;
            let run = |a: usize, b: usize| run_span(base, stride, isz, a, b);
            let rel = behind.as_ref().map(|behind| Release { behind, grain: grain(stride, isz), span: &run });
            if plain && !swap && stride == isz as isize && TypeId::of::<T>() == TypeId::of::<A>() && src.aligned() && crate::kernels::fast_paths() {
                // The elements are the accumulator itself: the dispatched tree (same result).
                if let Some(v) = pairwise_native::<A>(base as *const u8, len, rel.as_ref(), w.n >= PAR_MIN) {
                    return v;
                }
            }
            if !swap && stride == size_of::<T>() as isize && size_of::<T>() == isz && crate::kernels::fast_paths() {
                // Contiguous native elements: a constant stride and no byte swap let the
                // compiler load each leaf's eight lanes as vectors (lane j still adds the
                // elements NumPy's r[j] adds, in the same order: the same result).
                // SAFETY: as `load`: element i of the run lies in the checked view.
                let at = |i: usize| val(unsafe { T::load((base as *const u8).add(i * size_of::<T>()), false) });
                return pairwise_rel(0, len, &at, rel.as_ref(), w.n >= PAR_MIN);
            }
            pairwise_rel(0, len, &|i| load((base + i as isize * stride) as usize), rel.as_ref(), w.n >= PAR_MIN)
        } else {
            let rel = behind.as_ref().map(|behind| Release { behind, grain: grain(stride, isz), span: &span });
            pairwise_walk(w, lo, len, &load, rel.as_ref())
        }
    });
    sums.into_iter().fold(A::ZERO, |acc, s| round(acc.add(s)))
}

pub(super) fn full_sum<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool) -> A {
    full_sum_with::<T, A>(src, buffered, |a| a)
}

/// Product of the whole view: from the identity, element by element in NumPy's order,
/// `round` applied after each piece of [`KOrder::chunks`].
pub(super) fn full_prod_with<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool, round: impl Fn(A) -> A) -> A {
    let w = KOrder::new(src);
    let swap = src.swap();
    let (rowwise, stride) = (w.rowwise(), w.inner().1);
    let mut acc = A::ONE;
    if w.seq {
        // SAFETY: as in `full_sum_with`.
        w.visit(0, w.n, |p| acc = round(acc.mul(unsafe { T::load(p as *const u8, swap).to() })));
        return acc;
    }
    let isz = src.dtype.itemsize();
    // Streaming mode: elements `kept..done` are finished and not yet released; released
    // behind once they span GRAIN bytes, and at the end.
    let behind = src.release.then(|| Behind::new(src.map));
    let mut kept = 0;
    let mut finished = |done: usize, last: bool| {
        if let Some(b) = &behind {
            if done > kept && (last || (done - kept) * stride.unsigned_abs().max(isz) >= GRAIN) {
                let (s, e) = w.span(kept, done - kept, isz);
                b.push(s, e);
                kept = done;
            }
        }
    };
    for (lo, len) in w.chunks(buffered) {
        if rowwise {
            // A product is sequential: a long run can be cut anywhere.
            let step = if src.release { grain(stride, isz) } else { len };
            let mut i = 0;
            while i < len {
                let m = step.min(len - i);
                acc = prod_run::<T, A>(acc, (w.addr(lo) as isize + i as isize * stride) as *const u8, m, stride, swap);
                i += m;
                finished(lo + i, false);
            }
        } else {
            // SAFETY: as in `full_sum_with`.
            w.visit(lo, len, |p| acc = acc.mul(unsafe { T::load(p as *const u8, swap).to() }));
            finished(lo + len, false);
        }
        acc = round(acc);
    }
    finished(w.n, true);
    acc
}

pub(super) fn full_prod<T: Elem + To<A>, A: Acc>(src: &Source) -> A {
    full_prod_with::<T, A>(src, buffered_prod(src), |a| a)
}

/// NumPy buffers a product only for byte-swapped or unaligned input or a cast; the
/// pieces matter only where something is rounded between them (float16).
pub(super) fn buffered_prod(src: &Source) -> bool {
    src.swap() || !src.aligned()
}

/// Sum of `val(x)` over all elements in NumPy's order as NumPy sums the contiguous
/// temporary it makes (`(x - mean)**2`): in one piece, or in blocks of `BUFSIZE` when
/// the sum casts it (`buffered`). `round` as in [`full_sum_with`].
pub(super) fn sum_of<T: Elem, R: Acc>(src: &Source, buffered: bool, val: impl Fn(T) -> R + Sync, round: impl Fn(R) -> R) -> R {
    let w = KOrder::new(src);
    if w.n == 0 {
        return R::ZERO;
    }
    let pieces: Vec<(usize, usize)> = if buffered { (0..w.n).step_by(BUFSIZE).map(|lo| (lo, BUFSIZE.min(w.n - lo))).collect() } else { vec![(0, w.n)] };
    sum_pieces(src, &w, &pieces, false, val, round)
}
