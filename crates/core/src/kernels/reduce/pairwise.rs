//! NumPy's pairwise summation tree (`loops_utils.h.src`): the generic tree over any
//! accumulator ([`pairwise`], subtrees on the pool), and the float64/float32 tree compiled
//! per instruction set ([`pairwise_native`]), leaves one after the other from memory or
//! interleaved in cache; every path adds the same elements in the same order.

use std::any::TypeId;

use super::order::PAR_MIN;
use super::pieces::Release;
use crate::kernels::elem::{Acc, C};
use crate::kernels::simd;

/// Whether `A` is a complex accumulator (a constant once monomorphized).
pub(super) fn is_complex<A: 'static>() -> bool {
    let t = TypeId::of::<A>();
    t == TypeId::of::<C<f32>>() || t == TypeId::of::<C<f64>>()
}

/// Pairwise sum of `get(lo..lo+n)`, NumPy's tree, subtrees on the pool. Complex
/// numbers follow NumPy's own complex tree (`@TYPE@_pairwise_sum` counts the real and
/// imaginary parts): four accumulators, leaves of up to 64 elements, split at
/// `(n - n % 8) / 2`.
pub(crate) fn pairwise<A: Acc, G: Fn(usize) -> A + Sync>(lo: usize, n: usize, get: &G) -> A {
    pairwise_rel(lo, n, get, None, false)
}

/// [`pairwise`], releasing finished subtrees in streaming mode. `stream`: the elements come
/// from memory, not cache (part of a large view): one leaf after the other, never two
/// interleaved (see [`pairwise_flat`]); the same sums.
pub(super) fn pairwise_rel<A: Acc, G: Fn(usize) -> A + Sync>(lo: usize, n: usize, get: &G, rel: Option<&Release>, stream: bool) -> A {
    if is_complex::<A>() {
        pairwise_n::<A, G, 4, 64>(lo, n, get, rel, stream)
    } else {
        pairwise_n::<A, G, 8, 128>(lo, n, get, rel, stream)
    }
}

/// The split point of a pairwise tree with `lanes` accumulators.
pub(super) fn split(n: usize, lanes: usize) -> usize {
    if lanes == 8 {
        n / 2 - (n / 2) % 8
    } else {
        (n - n % 8) / 2
    }
}

pub(super) fn pairwise_n<A: Acc, G: Fn(usize) -> A + Sync, const LANES: usize, const LEAF: usize>(
    lo: usize,
    n: usize,
    get: &G,
    rel: Option<&Release>,
    stream: bool,
) -> A {
    if let Some(r) = rel.filter(|r| n <= r.grain) {
        let v = pairwise_n::<A, G, LANES, LEAF>(lo, n, get, None, stream);
        r.done(lo, n);
        return v;
    }
    if n <= LEAF {
        leaf::<A, G, LANES>(lo, n, get)
    } else {
        let n2 = split(n, LANES);
        if rel.is_none() && !stream && n2 <= LEAF && n - n2 <= LEAF {
            // Two sibling leaves (each at least LANES long, as n > LEAF): their loops
            // interleaved, so twice as many independent chains of additions hide the
            // adds' latency; each leaf still adds its own elements in its own order.
            let (a, b) = leaf_pair::<A, G, LANES>(lo, n2, lo + n2, n - n2, get);
            return a.add(b);
        }
        if n >= PAR_MIN {
            let (a, b) = rayon::join(
                || pairwise_n::<A, G, LANES, LEAF>(lo, n2, get, rel, stream),
                || pairwise_n::<A, G, LANES, LEAF>(lo + n2, n - n2, get, rel, stream),
            );
            a.add(b)
        } else {
            pairwise_n::<A, G, LANES, LEAF>(lo, n2, get, rel, stream).add(pairwise_n::<A, G, LANES, LEAF>(lo + n2, n - n2, get, rel, stream))
        }
    }
}

/// A pairwise leaf (`n <= LEAF` elements): below LANES elements a plain loop from zero,
/// else LANES accumulators ended by [`leaf_end`].
#[inline(always)]
pub(super) fn leaf<A: Acc, G: Fn(usize) -> A, const LANES: usize>(lo: usize, n: usize, get: &G) -> A {
    if n < LANES {
        let mut r = A::ZERO;
        for i in 0..n {
            r = r.add(get(lo + i));
        }
        return r;
    }
    let mut r = [A::ZERO; LANES];
    for (j, rj) in r.iter_mut().enumerate() {
        *rj = get(lo + j);
    }
    let end = n - n % LANES;
    let mut i = LANES;
    while i < end {
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = rj.add(get(lo + i + j));
        }
        i += LANES;
    }
    leaf_end(&r, lo, end, n, get)
}

/// NumPy's real pairwise tree over `get(0..n)` (eight accumulators, leaves of 128), as
/// [`pairwise_n`] computes it on one thread (`ahead(lo, m)` called before each leaf or group of leaves
/// `lo..lo + m`, to prefetch), but without recursion: `#[inline(always)]`
/// all the way down, so each [`simd::dispatch!`] copy compiles the whole tree (leaves,
/// sibling leaf pairs and the additions joining them) for its instruction set.
/// `GROUP` 2: sibling leaves run in one loop ([`leaf_pair`]); 4: where a subtree is two
/// pairs of leaves, its four leaves do (more chains than baseline x86-64 has registers
/// for: AVX2 and AVX-512 only); 1: one leaf after the other. The same additions in every
/// case. Interleaved leaves are several streams 1 KiB apart: in cache they hide the adds'
/// latency (float32 in L2: 24 -> 34 GB/s with four). From memory they defeated the hardware
/// prefetcher (over 256 MiB: one leaf at a time 18 GB/s, pairs 9.6, quads 7.3) until each
/// group asks for its lines a page ahead (`ahead`, [`simd::AHEAD`]). Since [`leaf_group`]
/// keeps each leaf's lanes in one register, quads beat pairs from memory too (1 GiB mapped,
/// float32, one thread: pairs 12.3 -> 13.3-13.6 GB/s, quads 13.7-14.2; BENCHMARKS.md,
/// eighth session).
/// A group of four leaves asks for its lines as its loop reaches them ([`leaf_group_pf`]
/// calling `line`), not all at once (`ahead`): the 64 prefetches before a float64 quad
/// stalled the core on its line fill buffers (`perf annotate`: 83% of the samples on them).
/// 1 GiB float64 mapped, two threads: 27.9-30.7 -> 30.9-32.6 GB/s (BENCHMARKS.md, ninth
/// session). Single leaves and pairs use `ahead`.
#[inline(always)]
pub(super) fn pairwise_flat<A: Acc, G: Fn(usize) -> A, const GROUP: usize, P: Fn(usize, usize), L: Fn(usize)>(n: usize, get: &G, ahead: &P, line: &L) -> A {
    // The split of a subtree of `c` elements into two leaves, if it is one.
    let pair = |c: usize| {
        let c2 = split(c, 8);
        (c > 128 && c2 <= 128 && c - c2 <= 128).then_some(c2)
    };
    // Post-order over an explicit stack: a task is a subtree (lo, n) to sum, or JOIN:
    // add the last two sums (left + right, as the recursion does). Each level of the tree
    // leaves at most a JOIN and a right subtree pending, and one sum.
    const JOIN: usize = usize::MAX;
    const LEVELS: usize = usize::BITS as usize + 1;
    let mut tasks = [(0usize, 0usize); 2 * LEVELS + 1];
    let mut sums = [A::ZERO; LEVELS + 1];
    let (mut nt, mut ns) = (1, 0);
    tasks[0] = (0, n);
    while nt > 0 {
        nt -= 1;
        let (lo, m) = tasks[nt];
        let v = if m == JOIN {
            ns -= 1;
            sums[ns - 1].add(sums[ns])
        } else if m <= 128 {
            ahead(lo, m);
            leaf::<A, G, 8>(lo, m, get)
        } else {
            let m2 = split(m, 8);
            let pairs = if GROUP == 4 { pair(m2).zip(pair(m - m2)) } else { None };
            if GROUP >= 2 && m2 <= 128 && m - m2 <= 128 {
                ahead(lo, m);
                let (a, b) = leaf_pair::<A, G, 8>(lo, m2, lo + m2, m - m2, get);
                a.add(b)
            } else if let Some((l2, r2)) = pairs {
                let [a, b, c, d] = leaf_group_pf::<A, G, 8, 4, L>([lo, lo + l2, lo + m2, lo + m2 + r2], [l2, m2 - l2, r2, m - m2 - r2], get, line);
                a.add(b).add(c.add(d))
            } else {
                tasks[nt] = (0, JOIN);
                tasks[nt + 1] = (lo + m2, m - m2);
                tasks[nt + 2] = (lo, m2);
                nt += 3;
                continue;
            }
        };
        if m == JOIN {
            sums[ns - 1] = v;
        } else {
            sums[ns] = v;
            ns += 1;
        }
    }
    sums[0]
}

simd::dispatch!(
    /// NumPy's pairwise sum of a float64 run (below [`PAR_MIN`] elements: one thread) for
    /// this CPU's instruction set; the same tree and lanes on every level, so the same result.
    /// `stream`: the run comes from memory, not from cache (see [`pairwise_flat`]).
    pub(super) fn run_sum_f64(xs: &[f64], stream: bool) -> f64,
    run_sum(xs, stream)
);

simd::dispatch!(
    /// [`run_sum_f64`] for float32.
    pub(super) fn run_sum_f32(xs: &[f32], stream: bool) -> f32,
    run_sum(xs, stream)
);

/// The body of [`run_sum_f64`] / [`run_sum_f32`]: groups of four sibling leaves (AVX2,
/// AVX-512), each leaf asking for the line [`simd::AHEAD`] bytes past the one its loop
/// reaches, or pairs (baseline x86-64), each pair asking for all its lines ahead first.
#[inline(always)]
fn run_sum<T: Acc>(xs: &[T], stream: bool) -> T {
    // SAFETY: the tree asks for indices below xs.len() only.
    let get = |i: usize| unsafe { *xs.get_unchecked(i) };
    let no_line = |_: usize| {};
    if stream {
        let base = xs.as_ptr() as *const u8;
        let ahead = |lo: usize, m: usize| {
            for b in (lo * size_of::<T>()..(lo + m) * size_of::<T>()).step_by(64) {
                simd::prefetch_ahead(base.wrapping_add(b));
            }
        };
        let line = |i: usize| simd::prefetch_ahead(base.wrapping_add(i * size_of::<T>()));
        if simd::level() == simd::Level::Base {
            pairwise_flat::<T, _, 2, _, _>(xs.len(), &get, &ahead, &no_line)
        } else {
            pairwise_flat::<T, _, 4, _, _>(xs.len(), &get, &ahead, &line)
        }
    } else if simd::level() == simd::Level::Base {
        pairwise_flat::<T, _, 2, _, _>(xs.len(), &get, &|_, _| {}, &no_line)
    } else {
        pairwise_flat::<T, _, 4, _, _>(xs.len(), &get, &|_, _| {}, &no_line)
    }
}

/// [`pairwise_rel`] of a contiguous, aligned, native run of `n` elements at `p` whose type is
/// the accumulator (float64 or float32; `None` for any other `A`): the top of the tree as
/// [`pairwise_n`] (subtrees on the pool, streaming release), subtrees below [`PAR_MIN`]
/// elements in [`run_sum_f64`] / [`run_sum_f32`].
/// `stream`: part of a large view, read from memory rather than cache (see [`pairwise_flat`]).
pub(super) fn pairwise_native<A: Acc>(p: *const u8, n: usize, rel: Option<&Release>, stream: bool) -> Option<A> {
    let t = TypeId::of::<A>();
    if t != TypeId::of::<f64>() && t != TypeId::of::<f32>() {
        return None;
    }
    // `p` as an address: subtrees go to other threads.
    fn tree<A: Acc>(p: usize, lo: usize, n: usize, rel: Option<&Release>, stream: bool) -> A {
        if let Some(r) = rel.filter(|r| n <= r.grain) {
            let v = tree::<A>(p, lo, n, None, stream);
            r.done(lo, n);
            return v;
        }
        if rel.is_none() && n < PAR_MIN {
            // SAFETY: the caller's run holds elements lo..lo + n, aligned, of type A (f64 or f32,
            // checked above), and `transmute_copy` goes between A and that same type.
            return unsafe {
                if TypeId::of::<A>() == TypeId::of::<f64>() {
                    std::mem::transmute_copy(&run_sum_f64(std::slice::from_raw_parts((p as *const f64).add(lo), n), stream))
                } else {
                    std::mem::transmute_copy(&run_sum_f32(std::slice::from_raw_parts((p as *const f32).add(lo), n), stream))
                }
            };
        }
        // Above PAR_MIN (or a streaming piece above its grain, at least BUFSIZE): never a
        // leaf or a leaf pair, so the split of `pairwise_n`.
        let n2 = split(n, 8);
        if n >= PAR_MIN {
            let (a, b) = rayon::join(|| tree::<A>(p, lo, n2, rel, stream), || tree::<A>(p, lo + n2, n - n2, rel, stream));
            a.add(b)
        } else {
            tree::<A>(p, lo, n2, rel, stream).add(tree::<A>(p, lo + n2, n - n2, rel, stream))
        }
    }
    Some(tree::<A>(p as usize, 0, n, rel, stream))
}

/// The end of a pairwise leaf: NumPy's fixed tree over the lanes, then the elements
/// `end..n` past the last full group of lanes, one by one.
#[inline(always)]
pub(super) fn leaf_end<A: Acc, G: Fn(usize) -> A, const LANES: usize>(r: &[A; LANES], lo: usize, end: usize, n: usize, get: &G) -> A {
    let mut res = if LANES == 8 { r[0].add(r[1]).add(r[2].add(r[3])).add(r[4].add(r[5]).add(r[6].add(r[7]))) } else { r[0].add(r[1]).add(r[2].add(r[3])) };
    for k in end..n {
        res = res.add(get(lo + k));
    }
    res
}

/// Two pairwise leaves (`la..la + na`, `lb..lb + nb`, each of LANES to LEAF elements)
/// in one interleaved loop: each leaf's sum exactly as the leaf branch of
/// [`pairwise_n`] computes it.
#[inline(always)]
pub(super) fn leaf_pair<A: Acc, G: Fn(usize) -> A, const LANES: usize>(la: usize, na: usize, lb: usize, nb: usize, get: &G) -> (A, A) {
    let [a, b] = leaf_group::<A, G, LANES, 2>([la, lb], [na, nb], get);
    (a, b)
}

/// `K` pairwise leaves (`lo[k]..lo[k] + n[k]`, each of LANES to LEAF elements) in one
/// interleaved loop, `K` times as many independent chains of additions: each leaf's sum
/// exactly as the leaf branch of [`pairwise_n`] computes it. The lanes pass through
/// `black_box` before [`leaf_end`]'s tree: otherwise LLVM's SLP vectorizer laid out the
/// lanes of all leaves but the first for that tree, a float32 leaf's eight lanes in four
/// 128-bit registers with five shuffles per eight elements instead of one 256-bit add
/// (`perf annotate`); one store and reload per leaf instead. Float32 sum of 1 GiB mapped,
/// two threads: 21-24 -> 25-28 GB/s (BENCHMARKS.md, eighth session).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane j of leaf k: two indices into two arrays
pub(super) fn leaf_group<A: Acc, G: Fn(usize) -> A, const LANES: usize, const K: usize>(lo: [usize; K], n: [usize; K], get: &G) -> [A; K] {
    leaf_group_pf::<A, G, LANES, K, _>(lo, n, get, &|_| {})
}

/// [`leaf_group`], calling `line(i)` for the elements `i` that start a cache line's worth
/// of each leaf as its loop reaches them (a stream's prefetch spread over the loop).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane j of leaf k: two indices into two arrays
pub(super) fn leaf_group_pf<A: Acc, G: Fn(usize) -> A, const LANES: usize, const K: usize, L: Fn(usize)>(
    lo: [usize; K],
    n: [usize; K],
    get: &G,
    line: &L,
) -> [A; K] {
    // Elements per 64-byte line, at least one group of lanes.
    let per_line = (64 / size_of::<A>().max(1)).max(LANES);
    let mut r = [[A::ZERO; LANES]; K];
    for k in 0..K {
        line(lo[k]);
        for j in 0..LANES {
            r[k][j] = get(lo[k] + j);
        }
    }
    let end: [usize; K] = std::array::from_fn(|k| n[k] - n[k] % LANES);
    let common = end.iter().copied().min().unwrap_or(0);
    let mut i = LANES;
    while i < common {
        if i.is_multiple_of(per_line) {
            for k in 0..K {
                line(lo[k] + i);
            }
        }
        for k in 0..K {
            for j in 0..LANES {
                r[k][j] = r[k][j].add(get(lo[k] + i + j));
            }
        }
        i += LANES;
    }
    for k in 0..K {
        let mut m = i;
        while m < end[k] {
            if m.is_multiple_of(per_line) {
                line(lo[k] + m);
            }
            for j in 0..LANES {
                r[k][j] = r[k][j].add(get(lo[k] + m + j));
            }
            m += LANES;
        }
    }
    let r = std::hint::black_box(r);
    std::array::from_fn(|k| leaf_end(&r[k], lo[k], end[k], n[k], get))
}
