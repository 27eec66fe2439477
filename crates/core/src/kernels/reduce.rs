//! Reductions (`sum`, `prod`, `mean`, `var`, `std`, `min`, `max`, `argmin`,
//! `argmax`) over strided views, in place on the mapped memory, on an owned
//! rayon pool.
//!
//! Float sums follow NumPy's pairwise summation (`loops_utils.h.src`): below 8
//! elements a plain loop from +0.0; up to 128, eight accumulators combined as
//! `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))` then the tail; above, a split at `n/2`
//! rounded down to a multiple of 8 (complex: NumPy's own tree, four accumulators,
//! leaves of 64). Threads take subtrees of that same tree, so the result does not
//! depend on the thread count. A reduction of the whole view visits the elements in
//! NumPy's order (axes by |stride|, merged where possible, see `KOrder`) and in the
//! pieces NumPy's loop is called with (whole 1-D walks; blocks of 8192 elements where
//! NumPy buffers: byte-swapped, unaligned or cast input, and N-D walks), so sums,
//! means and variances equal NumPy's for every layout. Reductions along an axis follow
//! NumPy's loop too: pairwise per output when the reduced axis is the inner one, else
//! row by row (NumPy's SIMD complex multiply uses FMA there: complex `prod` along such
//! an axis differs from NumPy's by a few ulps).

use std::any::TypeId;
use std::cell::Cell;

use rayon::prelude::*;

use super::elem::{Acc, Bool, Elem, To, C, F16};
use super::pool;
use super::simd;
use super::stream::{release_span, run_span, Behind, GRAIN};
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::view::Layout;

/// NumPy's buffer size: the block length of buffered (cast or swapped) sums.
const BUFSIZE: usize = 8192;
/// Below this many elements a subtree is summed on one thread.
const PAR_MIN: usize = 1 << 16;

/// Streaming mode: releases the pages of finished pieces of a walk through [`Behind`].
/// `span(lo, n)` gives the address range of elements `lo..lo + n` of the walk; a piece of
/// at most `grain` elements is released once done.
#[derive(Clone, Copy)]
struct Release<'a> {
    behind: &'a Behind<'a>,
    grain: usize,
    span: &'a (dyn Fn(usize, usize) -> (usize, usize) + Sync),
}

impl Release<'_> {
    fn done(&self, lo: usize, n: usize) {
        if n > 0 {
            let (s, e) = (self.span)(lo, n);
            self.behind.push(s, e);
        }
    }
}

/// Elements per released piece for a walk stepping `stride` bytes.
fn grain(stride: isize, itemsize: usize) -> usize {
    (GRAIN / stride.unsigned_abs().max(itemsize)).max(BUFSIZE)
}

/// Maps `f` over `pieces` (first element, count) of a walk on the pool, results in
/// order. In streaming mode the pieces go in windows of about [`GRAIN`] bytes per
/// thread, each window's pages released behind (see [`Behind`]).
fn stream_map<R: Send>(
    src: &Source,
    pieces: &[(usize, usize)],
    bytes_per: usize,
    span: impl Fn(usize, usize) -> (usize, usize),
    f: impl Fn(usize, usize) -> R + Sync + Send,
) -> Vec<R> {
    if !pool::on_pool() {
        // Outside the pool (small inputs run inline, see `reduce_all`): no rayon call.
        return pieces.iter().map(|&(lo, n)| f(lo, n)).collect();
    }
    if !src.release {
        return pieces.par_iter().map(|&(lo, n)| f(lo, n)).collect();
    }
    let window = GRAIN * pool::threads();
    let behind = Behind::new(src.map);
    let mut out = Vec::with_capacity(pieces.len());
    let mut i = 0;
    while i < pieces.len() {
        let (mut j, mut bytes) = (i, 0);
        while j < pieces.len() && (j == i || bytes < window) {
            bytes += pieces[j].1 * bytes_per;
            j += 1;
        }
        out.par_extend(pieces[i..j].par_iter().map(|&(lo, n)| f(lo, n)));
        let spans = pieces[i..j].iter().filter(|p| p.1 > 0).map(|&(lo, n)| span(lo, n));
        let (s, e) = spans.fold((usize::MAX, 0), |(s, e), (a, b)| (s.min(a), e.max(b)));
        behind.push(s, e);
        i = j;
    }
    out
}

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Sum,
    Prod,
    Mean,
    /// `mean`: NumPy 2's `mean=`, a mean known already (the mean pass is skipped).
    Var {
        ddof: f64,
        mean: Option<Given>,
    },
    Std {
        ddof: f64,
        mean: Option<Given>,
    },
    Min,
    Max,
    ArgMin,
    ArgMax,
}

/// A mean given to `var`/`std` (NumPy 2's `mean=`): `x - mean` is computed in `dev`
/// (see [`given_dtype`]), the mean converted to it first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Given {
    pub dev: DType,
    pub re: f64,
    pub im: f64,
}

/// The dtype NumPy computes `x - mean` in when `var`/`std` get `mean=`: with a
/// scalar (a JS number is a Python scalar: "weak"), `mean_dtype` is `None` and
/// `complex` says whether it has an imaginary part; an array's dtype promotes with the
/// input's (float or complex arrays only: NumPy would square integer deviations in
/// integers, wrapping).
pub fn given_dtype(input: DType, mean_dtype: Option<DType>, complex: bool) -> Result<DType> {
    use super::elementwise::{result_dtype, BinOp, Other};
    let other = match mean_dtype {
        Some(d) if matches!(d.kind(), 'f' | 'c') => Other::Array(d),
        Some(d) => return err(ErrorKind::InvalidArgument, format!("mean must be a float or complex array, got dtype {}", d.name())),
        None if complex => Other::Scalar(Value::Complex(0.0, 0.0)),
        None => Other::Scalar(Value::Float(0.5)),
    };
    // A float or complex operand makes the difference float or complex.
    result_dtype(BinOp::Sub, input, other)
}

impl Op {
    /// The same reduction with the given mean's value replaced (one output of an axis
    /// reduction).
    fn with_mean(self, re: f64, im: f64) -> Op {
        match self {
            Op::Var { ddof, mean: Some(g) } => Op::Var { ddof, mean: Some(Given { re, im, ..g }) },
            Op::Std { ddof, mean: Some(g) } => Op::Std { ddof, mean: Some(Given { re, im, ..g }) },
            other => other,
        }
    }

    fn given(self) -> Option<Given> {
        match self {
            Op::Var { mean, .. } | Op::Std { mean, .. } => mean,
            _ => None,
        }
    }

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
    /// Streaming mode: release the pages of finished pieces from this process as the
    /// kernel moves on (see [`Release`]), so a pass keeps a bounded RSS.
    pub release: bool,
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
        Op::Mean => {
            if int_like {
                Float64
            } else {
                d
            }
        }
        Op::Var { .. } | Op::Std { .. } => match d {
            _ if int_like => Float64,
            Complex64 => Float32,
            Complex128 => Float64,
            other => other,
        },
        Op::Min | Op::Max => d,
        Op::ArgMin | Op::ArgMax => Int64,
    };
    let Some(req) = requested else {
        return Ok(natural);
    };
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

/// Whether `A` is a complex accumulator (a constant once monomorphized).
fn is_complex<A: 'static>() -> bool {
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
fn pairwise_rel<A: Acc, G: Fn(usize) -> A + Sync>(lo: usize, n: usize, get: &G, rel: Option<&Release>, stream: bool) -> A {
    if is_complex::<A>() {
        pairwise_n::<A, G, 4, 64>(lo, n, get, rel, stream)
    } else {
        pairwise_n::<A, G, 8, 128>(lo, n, get, rel, stream)
    }
}

/// The split point of a pairwise tree with `lanes` accumulators.
fn split(n: usize, lanes: usize) -> usize {
    if lanes == 8 {
        n / 2 - (n / 2) % 8
    } else {
        (n - n % 8) / 2
    }
}

fn pairwise_n<A: Acc, G: Fn(usize) -> A + Sync, const LANES: usize, const LEAF: usize>(lo: usize, n: usize, get: &G, rel: Option<&Release>, stream: bool) -> A {
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
fn leaf<A: Acc, G: Fn(usize) -> A, const LANES: usize>(lo: usize, n: usize, get: &G) -> A {
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
/// [`pairwise_n`] computes it on one thread, but without recursion: `#[inline(always)]`
/// all the way down, so each [`simd::dispatch!`] copy compiles the whole tree (leaves,
/// sibling leaf pairs and the additions joining them) for its instruction set.
/// `GROUP` 2: sibling leaves run in one loop ([`leaf_pair`]); 4: where a subtree is two
/// pairs of leaves, its four leaves do (more chains than baseline x86-64 has registers
/// for: AVX2 and AVX-512 only); 1: one leaf after the other. The same additions in every
/// case. Interleaved leaves are several streams 1 KiB apart: in cache they hide the adds'
/// latency (float32 in L2: 24 -> 34 GB/s with four), but from memory they defeat the
/// hardware prefetcher (measured over 256 MiB: one leaf at a time 18 GB/s, pairs 9.6,
/// quads 7.3, against 18 for a plain linear loop the same minute).
#[inline(always)]
fn pairwise_flat<A: Acc, G: Fn(usize) -> A, const GROUP: usize>(n: usize, get: &G) -> A {
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
            leaf::<A, G, 8>(lo, m, get)
        } else {
            let m2 = split(m, 8);
            let pairs = if GROUP == 4 { pair(m2).zip(pair(m - m2)) } else { None };
            if GROUP >= 2 && m2 <= 128 && m - m2 <= 128 {
                let (a, b) = leaf_pair::<A, G, 8>(lo, m2, lo + m2, m - m2, get);
                a.add(b)
            } else if let Some((l2, r2)) = pairs {
                let [a, b, c, d] = leaf_group::<A, G, 8, 4>([lo, lo + l2, lo + m2, lo + m2 + r2], [l2, m2 - l2, r2, m - m2 - r2], get);
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
    fn run_sum_f64(xs: &[f64], stream: bool) -> f64,
    // SAFETY: the tree asks for indices below xs.len() only.
    if stream {
        pairwise_flat::<f64, _, 1>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    } else if simd::level() == simd::Level::Base {
        // SAFETY: as above.
        pairwise_flat::<f64, _, 2>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    } else {
        // SAFETY: as above.
        pairwise_flat::<f64, _, 4>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    }
);

simd::dispatch!(
    /// [`run_sum_f64`] for float32.
    fn run_sum_f32(xs: &[f32], stream: bool) -> f32,
    // SAFETY: the tree asks for indices below xs.len() only.
    if stream {
        pairwise_flat::<f32, _, 1>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    } else if simd::level() == simd::Level::Base {
        // SAFETY: as above.
        pairwise_flat::<f32, _, 2>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    } else {
        // SAFETY: as above.
        pairwise_flat::<f32, _, 4>(xs.len(), &|i| unsafe { *xs.get_unchecked(i) })
    }
);

/// [`pairwise_rel`] of a contiguous, aligned, native run of `n` elements at `p` whose type is
/// the accumulator (float64 or float32; `None` for any other `A`): the top of the tree as
/// [`pairwise_n`] (subtrees on the pool, streaming release), subtrees below [`PAR_MIN`]
/// elements in [`run_sum_f64`] / [`run_sum_f32`].
/// `stream`: part of a large view, read from memory rather than cache (see [`pairwise_flat`]).
fn pairwise_native<A: Acc>(p: *const u8, n: usize, rel: Option<&Release>, stream: bool) -> Option<A> {
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
fn leaf_end<A: Acc, G: Fn(usize) -> A, const LANES: usize>(r: &[A; LANES], lo: usize, end: usize, n: usize, get: &G) -> A {
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
fn leaf_pair<A: Acc, G: Fn(usize) -> A, const LANES: usize>(la: usize, na: usize, lb: usize, nb: usize, get: &G) -> (A, A) {
    let [a, b] = leaf_group::<A, G, LANES, 2>([la, lb], [na, nb], get);
    (a, b)
}

/// `K` pairwise leaves (`lo[k]..lo[k] + n[k]`, each of LANES to LEAF elements) in one
/// interleaved loop, `K` times as many independent chains of additions: each leaf's sum
/// exactly as the leaf branch of [`pairwise_n`] computes it.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lane j of leaf k: two indices into two arrays
fn leaf_group<A: Acc, G: Fn(usize) -> A, const LANES: usize, const K: usize>(lo: [usize; K], n: [usize; K], get: &G) -> [A; K] {
    let mut r = [[A::ZERO; LANES]; K];
    for k in 0..K {
        for j in 0..LANES {
            r[k][j] = get(lo[k] + j);
        }
    }
    let end: [usize; K] = std::array::from_fn(|k| n[k] - n[k] % LANES);
    let common = end.iter().copied().min().unwrap_or(0);
    let mut i = LANES;
    while i < common {
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
            for j in 0..LANES {
                r[k][j] = r[k][j].add(get(lo[k] + m + j));
            }
            m += LANES;
        }
    }
    std::array::from_fn(|k| leaf_end(&r[k], lo[k], end[k], n[k], get))
}

/// [`pairwise`] over the elements `lo..lo + n` of a [`KOrder`] walk: the same tree, the
/// leaves loaded by walking the view.
/// Finished subtrees are released in streaming mode (`rel`).
fn pairwise_walk<A: Acc, V: Fn(usize) -> A + Sync>(w: &KOrder, lo: usize, n: usize, val: &V, rel: Option<&Release>) -> A {
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

thread_local! {
    /// Set while [`reduce_axis`] computes one output that NumPy accumulates row by row
    /// (the reduced axis is not the inner one of its loop): the elements are then
    /// combined one at a time, each partial result stored as the output dtype.
    static ROW_BY_ROW: Cell<bool> = const { Cell::new(false) };
}

/// The elements of a view in the order NumPy's iterator visits them when it reduces
/// the whole view (K order, strides not negated): axes sorted by |stride|, outermost
/// first, length-1 axes dropped, an axis merged into the next outer one when that one
/// steps over it exactly.
struct KOrder {
    /// Address of element [0, ..., 0].
    base: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    n: usize,
    /// One element at a time (see `ROW_BY_ROW`).
    seq: bool,
}

impl KOrder {
    fn new(src: &Source) -> KOrder {
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
    fn inner(&self) -> (usize, isize) {
        (self.shape.last().copied().unwrap_or(1), self.strides.last().copied().unwrap_or(0))
    }

    /// Address of element `k` (< n) in this order.
    fn addr(&self, mut k: usize) -> usize {
        let mut off = 0isize;
        for d in (0..self.shape.len()).rev() {
            off += (k % self.shape[d]) as isize * self.strides[d];
            k /= self.shape[d];
        }
        (self.base as isize + off) as usize
    }

    /// Address range of elements `lo..lo + n` (n >= 1): between the first and the last.
    fn span(&self, lo: usize, n: usize, itemsize: usize) -> (usize, usize) {
        let (a, b) = (self.addr(lo), self.addr(lo + n - 1));
        (a.min(b), a.max(b) + itemsize)
    }

    /// Calls `f` with the addresses of elements `lo..lo + len`, in order.
    fn visit(&self, lo: usize, len: usize, mut f: impl FnMut(usize)) {
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
    fn rowwise(&self) -> bool {
        self.shape.len() <= 1 || self.inner().0 > BUFSIZE
    }

    /// The pieces NumPy's reduction loop is called with, as (first element, count):
    /// a 1-D walk in one piece, or in blocks of `BUFSIZE` when NumPy buffers (cast,
    /// byte-swapped or unaligned input); rows longer than `BUFSIZE` one by one (in blocks
    /// when buffered); else whole multiples of the innermost axes that fit in `BUFSIZE`,
    /// never crossing the next axis.
    fn chunks(&self, buffered: bool) -> Vec<(usize, usize)> {
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

/// Product of a run, sequential as NumPy's, continuing from `acc`.
fn prod_run<T: Elem + To<A>, A: Acc>(mut acc: A, base: *const u8, n: usize, stride: isize, swap: bool) -> A {
    for i in 0..n {
        // SAFETY: the caller checked the view lies inside the mapping, so element i exists.
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

/// Sum of the whole view as NumPy's reduction computes it: the pieces of
/// [`KOrder::chunks`] summed pairwise (on the pool), then added in order to the
/// identity, `round` applied after each addition (NumPy's float16 accumulator is
/// stored as float16 between calls of its loop).
fn full_sum_with<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool, round: impl Fn(A) -> A) -> A {
    let w = KOrder::new(src);
    let pieces = w.chunks(buffered);
    sum_pieces(src, &w, &pieces, true, |x: T| x.to(), round)
}

/// Sum of `val(x)` over the view walked in NumPy's order `w`: each piece (first
/// element, count) summed pairwise on the pool, the piece sums added in order to zero,
/// `round` after each addition; one element at a time in `w.seq` (see `ROW_BY_ROW`).
/// `plain`: `val` is the plain conversion `T` -> `A` (a sum of the elements themselves).
fn sum_pieces<T: Elem, A: Acc>(src: &Source, w: &KOrder, pieces: &[(usize, usize)], plain: bool, val: impl Fn(T) -> A + Sync, round: impl Fn(A) -> A) -> A {
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
            if plain && !swap && stride == isz as isize && TypeId::of::<T>() == TypeId::of::<A>() && src.aligned() && super::fast_paths() {
                // The elements are the accumulator itself: the dispatched tree (same result).
                if let Some(v) = pairwise_native::<A>(base as *const u8, len, rel.as_ref(), w.n >= PAR_MIN) {
                    return v;
                }
            }
            if !swap && stride == size_of::<T>() as isize && size_of::<T>() == isz && super::fast_paths() {
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

fn full_sum<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool) -> A {
    full_sum_with::<T, A>(src, buffered, |a| a)
}

/// Product of the whole view: from the identity, element by element in NumPy's order,
/// `round` applied after each piece of [`KOrder::chunks`].
fn full_prod_with<T: Elem + To<A>, A: Acc>(src: &Source, buffered: bool, round: impl Fn(A) -> A) -> A {
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

fn full_prod<T: Elem + To<A>, A: Acc>(src: &Source) -> A {
    full_prod_with::<T, A>(src, buffered_prod(src), |a| a)
}

/// NumPy buffers a product only for byte-swapped or unaligned input or a cast; the
/// pieces matter only where something is rounded between them (float16).
fn buffered_prod(src: &Source) -> bool {
    src.swap() || !src.aligned()
}

/// Sum of `val(x)` over all elements in NumPy's order as NumPy sums the contiguous
/// temporary it makes (`(x - mean)**2`): in one piece, or in blocks of `BUFSIZE` when
/// the sum casts it (`buffered`). `round` as in [`full_sum_with`].
fn sum_of<T: Elem, R: Acc>(src: &Source, buffered: bool, val: impl Fn(T) -> R + Sync, round: impl Fn(R) -> R) -> R {
    let w = KOrder::new(src);
    if w.n == 0 {
        return R::ZERO;
    }
    let pieces: Vec<(usize, usize)> = if buffered { (0..w.n).step_by(BUFSIZE).map(|lo| (lo, BUFSIZE.min(w.n - lo))).collect() } else { vec![(0, w.n)] };
    sum_pieces(src, &w, &pieces, false, val, round)
}

/// Sum of squared deviations from `mean`.
fn sq_dev<T: Elem + To<A>, A: Acc + Sq>(src: &Source, mean: A) -> A::Real {
    sum_of::<T, A::Real>(src, false, |x| x.to().dev2(mean), |a| a)
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
        // NumPy divides by an integer count in float64, then rounds once.
        (self as f64 / n) as f32
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
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn lt(self, o: Self) -> bool {
        self < o
    }
    fn value(self) -> Value {
        Value::Float(self as f64)
    }
}
impl Ordered for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn lt(self, o: Self) -> bool {
        self < o
    }
    fn value(self) -> Value {
        Value::Float(self)
    }
}
impl Ordered for F16 {
    fn is_nan(self) -> bool {
        self.to_f32().is_nan()
    }
    fn lt(self, o: Self) -> bool {
        self.to_f32() < o.to_f32()
    }
    fn value(self) -> Value {
        Value::Float(self.to_f32() as f64)
    }
}
impl Ordered for Bool {
    fn is_nan(self) -> bool {
        false
    }
    fn lt(self, o: Self) -> bool {
        self.0 == 0 && o.0 != 0
    }
    fn value(self) -> Value {
        Value::Bool(self.0 != 0)
    }
}
impl<T: Ordered + Into<f64>> Ordered for C<T> {
    fn is_nan(self) -> bool {
        self.0.is_nan() || self.1.is_nan()
    }
    // NumPy orders complex numbers lexicographically.
    fn lt(self, o: Self) -> bool {
        self.0.lt(o.0) || (!o.0.lt(self.0) && self.1.lt(o.1))
    }
    fn value(self) -> Value {
        Value::Complex(self.0.into(), self.1.into())
    }
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
    let isz = src.dtype.itemsize();
    // Pieces of at most PAR_MIN elements inside one run, as (flat C index, count).
    let pieces: Vec<(usize, usize)> = (0..r.count).flat_map(|k| (0..r.len).step_by(PAR_MIN).map(move |lo| (k * r.len + lo, PAR_MIN.min(r.len - lo)))).collect();
    let at = |i: usize| r.run(i / r.len) as isize + (i % r.len) as isize * r.stride;
    let span = |i: usize, n: usize| run_span(at(i), r.stride, isz, 0, n);
    let found: Vec<(usize, T)> = stream_map(src, &pieces, r.stride.unsigned_abs().max(isz), span, |i, n| {
        let (j, v) = extreme_run::<T>(at(i) as *const u8, n, r.stride, swap, max);
        (i + j, v)
    });
    let mut it = found.into_iter();
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
    let out = result_dtype(op, op.given().map_or(src.dtype, |g| g.dev), dtype)?;
    let n = src.layout.size();
    // Below PAR_MIN elements nothing is split (no `rayon::join`, `stream_map` runs
    // sequentially outside the pool): run on the calling thread and spare the handoff to
    // the pool (~10 µs).
    let v = if n < PAR_MIN && !src.release { dispatch(src, op, out, n) } else { pool::install(|| dispatch(src, op, out, n)) };
    if src.release {
        release_view(src);
    }
    v
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
            let isz = src.dtype.itemsize();
            if !src.swap() && src.aligned() && src.layout.is_c_contiguous(isz) && super::fast_paths() {
                // SAFETY (every arm): a C-contiguous, checked, aligned, native view of `n` elements.
                let p = unsafe { src.map.as_ptr().add(src.layout.offset) };
                let arg = matches!(op, Op::ArgMin | Op::ArgMax);
                match (src.dtype, arg) {
                    (DType::Float64, false) => return Ok(Value::Float(fast_extreme_f64(src, p as *const f64, n, max))),
                    (DType::Float32, false) => return Ok(Value::Float(fast_extreme_f32(src, p as *const f32, n, max) as f64)),
                    (DType::Float64, true) => return Ok(Value::Int(fast_arg_extreme_f64(src, p as *const f64, n, max) as i64)),
                    (DType::Float32, true) => return Ok(Value::Int(fast_arg_extreme_f32(src, p as *const f32, n, max) as i64)),
                    // int64 is also the datetime64 / timedelta64 min/max (NaT is i64::MIN).
                    (DType::Int64, false) => return Ok(fast_extreme_ord::<i64>(src, p as *const i64, n, max).value()),
                    (DType::UInt64, false) => return Ok(fast_extreme_ord::<u64>(src, p as *const u64, n, max).value()),
                    (DType::Int32, false) => return Ok(fast_extreme_ord::<i32>(src, p as *const i32, n, max).value()),
                    (DType::UInt32, false) => return Ok(fast_extreme_ord::<u32>(src, p as *const u32, n, max).value()),
                    _ => {}
                }
            }
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

/// The lanes loop of [`fast_extreme!`] for one direction (`MAX`), for f32 and f64: per
/// lane `if x > l { x } else { l }` (one `maxpd`/`minpd`) and a per-lane NaN flag, so no
/// accumulator runs across the lanes.
/// `L` lanes (more than the registers hold makes the NaN flags spill).
#[inline(always)]
fn lanes_extreme<T: Copy + PartialOrd, const MAX: bool, const L: usize>(xs: &[T]) -> (T, bool) {
    let better = |x: T, b: T| if MAX { x > b } else { x < b };
    let mut lanes = [xs[0]; L];
    let mut nans = [false; L];
    let mut it = xs.chunks_exact(L);
    for c in &mut it {
        for j in 0..L {
            let x = c[j];
            lanes[j] = if better(x, lanes[j]) { x } else { lanes[j] };
            #[allow(clippy::eq_op)]
            let x_nan = x != x;
            nans[j] |= x_nan;
        }
    }
    let mut nan = nans.iter().any(|&b| b);
    let mut best = lanes[0];
    for &x in lanes[1..].iter().chain(it.remainder()) {
        #[allow(clippy::eq_op)]
        let x_nan = x != x;
        nan |= x_nan;
        if better(x, best) {
            best = x;
        }
    }
    (best, nan)
}

/// min/max of a contiguous native run of integers: [`lanes_extreme`]'s 16 independent
/// lanes (no NaN to track), where the general loop carries one best value (and its index)
/// from element to element.
fn fast_extreme_ord<T: Ordered + Copy + PartialOrd + Send + Sync>(src: &Source, p: *const T, n: usize, max: bool) -> T {
    // SAFETY: the caller checked that `n` elements at `p` are mapped and aligned.
    let all = unsafe { std::slice::from_raw_parts(p, n) };
    let pieces: Vec<(usize, usize)> = (0..n).step_by(PAR_MIN).map(|lo| (lo, PAR_MIN.min(n - lo))).collect();
    let isz = std::mem::size_of::<T>();
    let span = |lo: usize, m: usize| run_span(p as isize, isz as isize, isz, lo, m);
    let parts: Vec<T> = stream_map(src, &pieces, isz, span, |lo, m| {
        let xs = &all[lo..lo + m];
        if max {
            lanes_extreme::<T, true, 16>(xs).0
        } else {
            lanes_extreme::<T, false, 16>(xs).0
        }
    });
    let better = |x: T, b: T| if max { b.lt(x) } else { x.lt(b) };
    parts.into_iter().reduce(|a, b| if better(b, a) { b } else { a }).expect("n >= 1")
}

/// Elements per block of the arg-extreme fast path: a block is scanned twice (its
/// extreme, then the first element equal to it), the second time from L1.
const ARG_BLOCK: usize = 2048;

macro_rules! fast_extreme {
    ($block:ident, $name:ident, $arg:ident, $t:ty, $lanes:literal) => {
        simd::dispatch!(
            /// (extreme, any NaN) of a non-empty slice: lanes the compiler vectorizes
            /// ([`lanes_extreme`]), for the CPU's instruction set. With a NaN the
            /// extreme is meaningless and the flag set.
            fn $block(xs: &[$t], max: bool) -> ($t, bool),
            if max { lanes_extreme::<$t, true, $lanes>(xs) } else { lanes_extreme::<$t, false, $lanes>(xs) }
        );

        /// min/max of a contiguous native run (any NaN makes the result NaN, as NumPy).
        fn $name(src: &Source, p: *const $t, n: usize, max: bool) -> $t {
            // SAFETY: the caller checked that `n` elements at `p` are mapped and aligned.
            let all = unsafe { std::slice::from_raw_parts(p, n) };
            let pieces: Vec<(usize, usize)> = (0..n).step_by(PAR_MIN).map(|lo| (lo, PAR_MIN.min(n - lo))).collect();
            let isz = std::mem::size_of::<$t>();
            let span = |lo: usize, m: usize| run_span(p as isize, isz as isize, isz, lo, m);
            let parts: Vec<($t, bool)> = stream_map(src, &pieces, isz, span, |lo, m| $block(&all[lo..lo + m], max));
            if parts.iter().any(|p| p.1) {
                return <$t>::NAN;
            }
            let better = |x: $t, b: $t| if max { x > b } else { x < b };
            parts.into_iter().map(|p| p.0).reduce(|a, b| if better(b, a) { b } else { a }).unwrap_or(<$t>::NAN)
        }

        /// argmin/argmax of a contiguous native run: NumPy's answer (the first NaN, else
        /// the first element equal to the extreme), found block by block: a block's
        /// extreme with the vectorized lanes, and only when it beats the extreme so far,
        /// the first element of the block equal to it (or the block's first NaN).
        fn $arg(src: &Source, p: *const $t, n: usize, max: bool) -> usize {
            // SAFETY: the caller checked that `n` elements at `p` are mapped and aligned.
            let all = unsafe { std::slice::from_raw_parts(p, n) };
            let better = |x: $t, b: $t| if max { x > b } else { x < b };
            // (index, value) of a piece: the first NaN, else the first extreme.
            let piece = |lo: usize, m: usize| -> (usize, $t) {
                let xs = &all[lo..lo + m];
                let mut found: Option<(usize, $t)> = None;
                for (b, block) in xs.chunks(ARG_BLOCK).enumerate() {
                    let (v, nan) = $block(block, max);
                    if nan {
                        let i = block.iter().position(|x| x != x).unwrap_or(0);
                        return (lo + b * ARG_BLOCK + i, <$t>::NAN);
                    }
                    if found.is_none_or(|(_, best)| better(v, best)) {
                        let i = block.iter().position(|&x| x == v).unwrap_or(0);
                        found = Some((lo + b * ARG_BLOCK + i, v));
                    }
                }
                found.unwrap_or((lo, <$t>::NAN))
            };
            let pieces: Vec<(usize, usize)> = (0..n).step_by(PAR_MIN).map(|lo| (lo, PAR_MIN.min(n - lo))).collect();
            let isz = std::mem::size_of::<$t>();
            let span = |lo: usize, m: usize| run_span(p as isize, isz as isize, isz, lo, m);
            let parts: Vec<(usize, $t)> = stream_map(src, &pieces, isz, span, piece);
            let mut best = parts[0];
            for (i, v) in parts {
                if best.1 != best.1 {
                    break;
                }
                if v != v || better(v, best.1) {
                    best = (i, v);
                }
            }
            best.0
        }
    };
}
// Lanes: the fastest count on AVX2 and AVX-512 alike (measured in cache: f64 8 lanes
// 0.069 ns/element with AVX-512, 0.080 with AVX2, 0.165 baseline; f32 16 lanes 0.036,
// 0.045, 0.083). One count for every level: which of two equal elements (+0/-0) wins
// depends on it, and must not depend on the CPU.
fast_extreme!(block_extreme_f64, fast_extreme_f64, fast_arg_extreme_f64, f64, 8);
fast_extreme!(block_extreme_f32, fast_extreme_f32, fast_arg_extreme_f32, f32, 16);

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
    // Whether NumPy reduces without a cast (any other dtype= makes it buffer).
    let same = |d: DType| src.dtype == d;
    if let Some(g) = op.given() {
        return given_var::<T>(src, op, out, n, g);
    }
    match op {
        Op::Sum => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_sum::<T, i64>(src, true), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_sum::<T, u64>(src, true), out),
            DType::Float16 => float_value(full_sum_with::<T, f32>(src, buffered(src, same(DType::Float16)), round16)),
            DType::Float32 => float_value(full_sum::<T, f32>(src, buffered(src, same(DType::Float32)))),
            DType::Float64 => float_value(full_sum::<T, f64>(src, buffered(src, same(DType::Float64)))),
            DType::Complex64 => cvalue(full_sum::<T, C<f32>>(src, buffered(src, same(DType::Complex64)))),
            DType::Complex128 => cvalue(full_sum::<T, C<f64>>(src, buffered(src, same(DType::Complex128)))),
        }),
        Op::Prod => Ok(match out {
            DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => wrap_int(full_prod::<T, i64>(src), out),
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => wrap_uint(full_prod::<T, u64>(src), out),
            DType::Float16 => float_value(full_prod_with::<T, f32>(src, buffered(src, same(DType::Float16)), round16)),
            DType::Float32 => float_value(full_prod::<T, f32>(src)),
            DType::Float64 => float_value(full_prod::<T, f64>(src)),
            DType::Complex64 => cvalue(full_prod::<T, C<f32>>(src)),
            DType::Complex128 => cvalue(full_prod::<T, C<f64>>(src)),
        }),
        Op::Mean | Op::Var { .. } | Op::Std { .. } => match out {
            // NumPy's var of float16 works in float16 throughout.
            DType::Float16 if op != Op::Mean && src.dtype == DType::Float16 => Ok(float_value(var_f16::<T>(src, op, n))),
            // NumPy's mean of float16 sums with dtype=float32, a cast: always buffered.
            DType::Float16 => moments::<T, f32>(src, op, n, true).map(|v| float_value(F16::from_f32(v as f32).to_f32())),
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
        Op::Var { .. } | Op::Std { .. } if op.given().is_some() => numeric::<T>(src, op, out, n),
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
        Op::Var { ddof, .. } | Op::Std { ddof, .. } => {
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
    let sum = full_sum::<T, C<R>>(src, buffered(src, natural_complex::<R>(src.dtype)));
    let (re, im) = cdiv(sum.0.into(), sum.1.into(), n);
    Ok(if TypeId::of::<R>() == TypeId::of::<f32>() { Value::Complex(re as f32 as f64, im as f32 as f64) } else { Value::Complex(re, im) })
}

/// Whether complex accumulation in `R` is the natural one for input `d` (no cast).
fn natural_complex<R: 'static>(d: DType) -> bool {
    let single = TypeId::of::<R>() == TypeId::of::<f32>();
    (d == DType::Complex64 && single) || (d == DType::Complex128 && !single)
}

/// A complex sum divided by the count as NumPy divides (`true_divide` by an integer
/// promotes to complex128 and divides as Smith: `(re + im*0) * (1/n)`), so an infinite
/// part makes the other NaN as in NumPy.
fn cdiv(re: f64, im: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (re / 0.0, im / 0.0);
    }
    let scl = 1.0 / n as f64;
    ((re + im * 0.0) * scl, (im - re * 0.0) * scl)
}

fn cmoments<T, R>(src: &Source, op: Op, n: usize) -> Result<f64>
where
    T: Input + To<C<R>>,
    R: Sq + Into<f64>,
    C<R>: Sq<Real = R>,
{
    let sum = full_sum::<T, C<R>>(src, buffered(src, natural_complex::<R>(src.dtype)));
    let (re, im) = cdiv(sum.0.into(), sum.1.into(), n);
    let mean = C(from_f64::<R>(re), from_f64::<R>(im));
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let ss = sq_dev::<T, C<R>>(src, mean);
    let var: f64 = ss.div((n as f64 - ddof).max(0.0)).into();
    Ok(if matches!(op, Op::Std { .. }) { var.sqrt() } else { var })
}

/// var/std with the mean given (NumPy 2's `mean=`), as NumPy's `_var` computes it
/// then: `x - mean` in `g.dev` (the mean converted to it), squared there (complex:
/// `re² + im²`), summed in the result dtype `out` (in blocks when that is a cast of the
/// squares), divided by `n - ddof`.
fn given_var<T: Input>(src: &Source, op: Op, out: DType, n: usize, g: Given) -> Result<Value> {
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let std = matches!(op, Op::Std { .. });
    let div = (n as f64 - ddof).max(0.0);
    let real = match g.dev {
        DType::Complex64 => DType::Float32,
        DType::Complex128 => DType::Float64,
        d => d,
    };
    let buffered = real != out;
    match out {
        DType::Float16 => {
            let ss = round16(given_sq::<T, f32>(src, g, buffered, round16));
            let var = round16_f64(ss as f64 / div);
            Ok(float_value(if std { round16(var.sqrt()) } else { var }))
        }
        DType::Float32 => {
            let var: f64 = given_sq::<T, f32>(src, g, buffered, |a| a).div(div).into();
            Ok(float_value((if std { var.sqrt() } else { var }) as f32))
        }
        DType::Float64 => {
            let var = given_sq::<T, f64>(src, g, buffered, |a| a).div(div);
            Ok(float_value(if std { var.sqrt() } else { var }))
        }
        other => err(ErrorKind::InvalidArgument, format!("cannot compute the {} in dtype {}", op.name(), other.name())),
    }
}

/// Sum of the squared deviations from a given mean, each computed in `g.dev` and
/// converted to the accumulator `A`.
fn given_sq<T: Input, A: Acc>(src: &Source, g: Given, buffered: bool, round: impl Fn(A) -> A) -> A
where
    f32: To<A>,
    f64: To<A>,
{
    match g.dev {
        DType::Float16 => {
            let m = round16_f64(g.re);
            sum_of::<T, A>(
                src,
                buffered,
                move |x| {
                    let d = round16(round16(To::<f32>::to(x)) - m);
                    round16(d * d).to()
                },
                round,
            )
        }
        DType::Float32 => {
            let m = g.re as f32;
            sum_of::<T, A>(src, buffered, move |x| To::<f32>::to(x).dev2(m).to(), round)
        }
        DType::Float64 => sum_of::<T, A>(src, buffered, move |x| To::<f64>::to(x).dev2(g.re).to(), round),
        DType::Complex64 => {
            let m = C(g.re as f32, g.im as f32);
            sum_of::<T, A>(src, buffered, move |x| To::<C<f32>>::to(x).dev2(m).to(), round)
        }
        _ => sum_of::<T, A>(src, buffered, move |x| To::<C<f64>>::to(x).dev2(C(g.re, g.im)).to(), round),
    }
}

/// An f64 as `R` (f64, or f32 rounded once).
fn from_f64<R: Acc>(x: f64) -> R {
    let any: &dyn std::any::Any = &x;
    match any.downcast_ref::<R>() {
        Some(r) => *r,
        None => {
            let y = x as f32;
            *(&y as &dyn std::any::Any).downcast_ref::<R>().expect("f32 or f64")
        }
    }
}

/// Rounds to float16 (the value stays an f32).
fn round16(x: f32) -> f32 {
    F16::from_f32(x).to_f32()
}

/// Rounds an f64 to float16 once (NumPy's `npy_double_to_half`): to float32 rounding
/// to odd, then to float16.
fn round16_f64(x: f64) -> f32 {
    let r = x as f32;
    let r = if r.is_finite() && r as f64 != x && r.to_bits() & 1 == 0 {
        let b = r.to_bits();
        f32::from_bits(if (r as f64).abs() > x.abs() { b - 1 } else { b + 1 })
    } else {
        r
    };
    round16(r)
}

/// var/std of float16 input as NumPy's `_var` computes it, in float16 at every step:
/// the sum (float32 inside each loop call, stored as float16), the mean `sum / n`,
/// `x - mean`, its square, their sum, the division by `n - ddof`, the square root.
fn var_f16<T: Input>(src: &Source, op: Op, n: usize) -> f64 {
    let sum = full_sum_with::<T, f32>(src, buffered(src, true), round16);
    let mean = round16_f64(sum as f64 / n as f64);
    let ss = round16(sum_of::<T, f32>(
        src,
        false,
        |x| {
            let d = round16(To::<f32>::to(x) - mean);
            round16(d * d)
        },
        round16,
    ));
    let (Op::Var { ddof, .. } | Op::Std { ddof, .. }) = op else { unreachable!() };
    let var = round16_f64(ss as f64 / (n as f64 - ddof).max(0.0));
    (if matches!(op, Op::Std { .. }) { round16(var.sqrt()) } else { var }) as f64
}

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
    let mut bytes = vec![0u8; m * isz];
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
        && super::fast_paths()
    {
        let fast = match (op, src.dtype) {
            (Op::Sum, DType::Float64) => Some(rows_fold::<f64>(src, n, step, offsets[0], m, |a, x| a + x, vec![0.0; m], 0)),
            (Op::Sum, DType::Float32) => Some(rows_fold::<f32>(src, n, step, offsets[0], m, |a, x| a + x, vec![0.0; m], 0)),
            (Op::Sum, DType::Int64) => Some(rows_fold::<i64>(src, n, step, offsets[0], m, |a, x| a.wrapping_add(x), vec![0; m], 0)),
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
        && super::fast_paths()
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
fn rows_pairwise<T: Elem + Acc + ToBytes>(src: &Source, n: usize, offsets: &[usize], size: usize) -> Vec<u8> {
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
    sums.iter().flat_map(|v| v.to_bytes()).collect()
}

/// Outputs per block in the row-by-row fast paths: one block per thread (long
/// sequential row segments), at most 16384 so a block's accumulators stay in cache.
fn out_block(m: usize) -> usize {
    m.div_ceil(pool::threads()).clamp(16, 16384)
}

/// Row-by-row reduction of a 2-D view whose outputs are contiguous in memory: for every
/// row `i` from `from`, `acc[j] = f(acc[j], x[i, j])` over a block of outputs, so memory is
/// read sequentially (NumPy's order for an axis that is not the inner one). Four rows go
/// through each block at once (one load and store of the accumulators per four rows, the
/// additions still one row after the other). Outputs are at `first + j * size_of::<T>()`
/// in row 0; returns them as native bytes.
#[allow(clippy::too_many_arguments)]
fn rows_fold<T: Elem + Copy + Send + Sync + ToBytes>(
    src: &Source,
    n: usize,
    step: isize,
    first: usize,
    m: usize,
    f: impl Fn(T, T) -> T + Sync,
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
    acc.iter().flat_map(|v| v.to_bytes()).collect()
}

/// Row-by-row min/max (NaN propagates, as `np.minimum`/`np.maximum` do).
fn rows_extreme<T: Elem + Copy + Send + Sync + ToBytes + PartialOrd + IsNan>(
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
    rows_fold(src, n, step, first, m, pick, row0.to_vec(), 1)
}

/// Runs `f(first row, rows)` over rows `0..n` of `row_bytes` bytes each, `step` apart
/// from `first`: all at once, or in streaming mode in bands of about [`GRAIN`] bytes
/// per thread, each band's pages released after `f` ran over it.
fn by_bands(src: &Source, n: usize, row_bytes: usize, first: usize, step: isize, mut f: impl FnMut(usize, usize)) {
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

/// Releases every whole page of a view's byte range (streaming mode, at the end).
fn release_view(src: &Source) {
    let l = src.layout;
    if l.size() == 0 {
        return;
    }
    let (mut lo, mut hi) = (l.offset as isize, l.offset as isize);
    for (&d, &st) in l.shape.iter().zip(&l.strides) {
        let reach = (d as isize - 1) * st;
        if reach < 0 {
            lo += reach
        } else {
            hi += reach
        }
    }
    let base = src.map.as_ptr() as isize;
    release_span(src.map, (base + lo) as usize, (base + hi) as usize + src.dtype.itemsize());
}

/// Native bytes of an element.
pub trait ToBytes {
    fn to_bytes(&self) -> Vec<u8>;
}
macro_rules! to_bytes {
    ($($t:ty),*) => {$( impl ToBytes for $t { fn to_bytes(&self) -> Vec<u8> { self.to_ne_bytes().to_vec() } } )*};
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

    #[test]
    fn block_extremes_on_this_cpus_instruction_set_match_a_plain_loop() {
        // Every length around the lane counts, a NaN anywhere (or none), ties and infinities.
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in (1..80).chain([255, 256, 257, 2047, 2048, 2049]) {
            for nan_at in [None, Some(0), Some(n / 2), Some(n - 1)] {
                let mut xs: Vec<f64> = (0..n).map(|_| (next() % 2001) as f64 - 1000.0).collect();
                if n > 3 {
                    xs[1] = f64::INFINITY;
                    xs[2] = f64::NEG_INFINITY;
                }
                if let Some(i) = nan_at {
                    xs[i] = f64::NAN;
                }
                let fs: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                for max in [false, true] {
                    let better = |x: f64, b: f64| if max { x > b } else { x < b };
                    let want = xs.iter().copied().filter(|x| !x.is_nan()).reduce(|b, x| if better(x, b) { x } else { b });
                    let (v, nan) = block_extreme_f64(&xs, max);
                    assert_eq!(nan, nan_at.is_some(), "f64 n {n} nan {nan_at:?}");
                    if !nan {
                        assert_eq!(Some(v), want, "f64 n {n} max {max}");
                    }
                    let (v, nan) = block_extreme_f32(&fs, max);
                    assert_eq!(nan, nan_at.is_some(), "f32 n {n} nan {nan_at:?}");
                    if !nan {
                        assert_eq!(Some(v as f64), want, "f32 n {n} max {max}");
                    }
                }
            }
        }
    }

    fn src_f64(values: &[f64]) -> (Mapping, Layout) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        (Mapping::from_bytes(&bytes).unwrap(), Layout::contiguous(&[values.len()], 8, false))
    }

    /// NumPy's argmin/argmax, written out plainly: the first NaN, else the first strictly better.
    fn arg_reference(a: &[f64], max: bool) -> usize {
        let mut at = 0;
        for (i, &x) in a.iter().enumerate() {
            if x.is_nan() {
                return i;
            }
            if if max { x > a[at] } else { x < a[at] } {
                at = i;
            }
        }
        at
    }

    #[test]
    fn vectorized_argmin_argmax_find_numpys_index() {
        // A small generator: values from a few levels, so ties are common.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for &n in &[1usize, 15, 16, 17, ARG_BLOCK - 1, ARG_BLOCK + 1, 3 * ARG_BLOCK + 5, PAR_MIN + 3, 2 * PAR_MIN + ARG_BLOCK] {
            for case in 0..6 {
                let mut a: Vec<f64> = (0..n).map(|_| [(-3.0), -0.0, 0.0, 1.5, 2.0][(next() % 5) as usize]).collect();
                match case {
                    1 => a[(next() as usize) % n] = f64::NAN,
                    2 => {
                        a[n - 1] = f64::NAN;
                        a[(next() as usize) % n] = f64::NAN;
                    }
                    3 => a.iter_mut().for_each(|x| *x = if next() % 2 == 0 { 0.0 } else { -0.0 }),
                    4 => a[n - 1] = 7.0,
                    5 => a[0] = -9.0,
                    _ => {}
                }
                let (map, layout) = src_f64(&a);
                let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
                for max in [false, true] {
                    let got = fast_arg_extreme_f64(&src, map.as_ptr() as *const f64, n, max);
                    assert_eq!(got, arg_reference(&a, max), "n {n} case {case} max {max}");
                    let ext = fast_extreme_f64(&src, map.as_ptr() as *const f64, n, max);
                    let want = a[arg_reference(&a, max)];
                    assert!(ext == want || (ext.is_nan() && want.is_nan()), "extreme n {n} case {case} max {max}: {ext} vs {want}");
                    let bytes: Vec<u8> = a.iter().flat_map(|&v| (v as f32).to_ne_bytes()).collect();
                    let m32 = Mapping::from_bytes(&bytes).unwrap();
                    let l32 = Layout::contiguous(&[n], 4, false);
                    let s32 = Source { map: &m32, layout: &l32, dtype: DType::Float32, order: ByteOrder::NATIVE, release: false };
                    assert_eq!(fast_arg_extreme_f32(&s32, m32.as_ptr() as *const f32, n, max), arg_reference(&a, max), "f32 n {n} case {case}");
                }
            }
        }
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
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0 + reference(&values)));
    }

    #[test]
    fn dispatched_sums_follow_numpys_tree_on_this_cpus_instruction_set() {
        // Values over many magnitudes: any other order of additions gives another sum.
        let mut x = 0.3f64;
        let values: Vec<f64> = (0..70_000)
            .map(|i| {
                x = (x * 997.0 + 0.61).fract();
                (x - 0.5) * 10f64.powi(i % 13)
            })
            .collect();
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let reference32 = |a: &[f32]| pairwise_n::<f32, _, 8, 128>(0, a.len(), &|i| a[i], None, false);
        let lengths = (0..600).chain([1000, 1023, 4097, 32768, 65535, 65536, 70_000]);
        for n in lengths {
            for lo in [0, 1, 3] {
                let Some(a) = values.get(lo..lo + n) else { continue };
                let a32 = &narrow[lo..lo + n];
                for stream in [false, true] {
                    assert_eq!(run_sum_f64(a, stream).to_bits(), reference(a).to_bits(), "float64, {n} elements from {lo}");
                    assert_eq!(run_sum_f32(a32, stream).to_bits(), reference32(a32).to_bits(), "float32, {n} elements from {lo}");
                }
                let top = pairwise_native::<f64>(a.as_ptr() as *const u8, n, None, n > 1000).unwrap();
                for get in [pairwise_flat::<f64, _, 1>, pairwise_flat::<f64, _, 2>, pairwise_flat::<f64, _, 4>] {
                    assert_eq!(get(n, &|i| a[i]).to_bits(), reference(a).to_bits(), "float64 flat tree, {n} elements");
                }
                assert_eq!(top.to_bits(), reference(a).to_bits(), "float64 tree top, {n} elements");
                // The generic tree (var's squared deviations, other dtypes) one leaf after the other.
                let streamed = pairwise_n::<f32, _, 8, 128>(0, n, &|i| a32[i], None, true);
                assert_eq!(streamed.to_bits(), reference32(a32).to_bits(), "float32 generic tree streamed, {n} elements");
            }
        }
    }

    #[test]
    fn numpy_rules_for_empty_nan_and_ints() {
        let (map, layout) = src_f64(&[]);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0));
        assert!(matches!(reduce_all(&src, Op::Mean, None).unwrap(), Value::Float(f) if f.is_nan()));
        assert!(reduce_all(&src, Op::Max, None).unwrap_err().to_string().contains("zero-size"));
        let (map, layout) = src_f64(&[1.0, f64::NAN, 3.0, f64::NAN]);
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        assert!(matches!(reduce_all(&src, Op::Max, None).unwrap(), Value::Float(f) if f.is_nan()));
        assert_eq!(reduce_all(&src, Op::ArgMin, None).unwrap(), Value::Int(1));
        let bytes = [250u8, 10, 7];
        let map = Mapping::from_bytes(&bytes).unwrap();
        let layout = Layout::contiguous(&[3], 1, false);
        let src = Source { map: &map, layout: &layout, dtype: DType::UInt8, order: ByteOrder::NotApplicable, release: false };
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
        let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        let r = reduce_axis(&src, Op::Sum, 0, None, None).unwrap();
        let got: Vec<f64> = r.bytes.chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!((r.shape, got), (vec![4], vec![12.0, 15.0, 18.0, 21.0]));
        let r = reduce_axis(&src, Op::ArgMax, 1, None, None).unwrap();
        let got: Vec<i64> = r.bytes.chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(got, vec![3, 3, 3]);
    }
}
