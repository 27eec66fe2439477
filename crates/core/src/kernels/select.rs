//! Selection, NumPy's rules: `a[mask]` (boolean indexing: the elements, or sub-arrays,
//! where the mask is true, in C order; `compress` along an axis is `take` of the mask's
//! `nonzero`), `take` (with `mode` 'raise', 'wrap', 'clip'), `nonzero`, `argwhere`. The
//! three-argument `where` is in `where.rs`.
//!
//! A selection's size is known only after reading the mask, so it runs in two passes:
//! the mask's flat index range is cut into chunks, the true elements of every chunk are
//! counted in parallel, and a prefix sum gives each chunk the offset of its first result;
//! then every chunk fills its part of the result in parallel, in C order. Nothing but the
//! per-chunk counts is held between the passes, so with an `out` (an `openNpy('w+')` array)
//! a mask over a file larger than RAM selects with bounded memory; in streaming mode
//! (`release`) the pages of the mask, the array and `out` are released behind the passes.
//! Truth is NumPy's: non-zero (a NaN is true, -0.0 false; complex: either part), read from
//! the raw bits in any byte order. Results keep the array's dtype and byte order (as NumPy's
//! fancy indexing does); an `out` of another dtype receives values cast as `astype` casts.

use rayon::prelude::*;

use super::assign::{assign, move_run};
use super::elementwise::{check_dest, prepare_write, swap_of, Dest, Load};
use super::flat::Flat;
use super::nest::PAR_MIN;
use super::pool;
use super::source::Source;
use super::stream::{Behind, GRAIN};
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, Error, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::npy::{self, Array, NewArray};
use crate::view::Layout;

/// Elements (of the array) one work item covers in a pass.
const CHUNK: usize = 1 << 16;
/// Elements handled per block (buffers on the stack or per thread).
pub(crate) const BLOCK: usize = 1024;

/// Where a selection goes: a new in-memory array, or a given view.
pub enum Target<'a> {
    New,
    Out(&'a Dest<'a>),
}

/// `take`'s handling of indices out of `[-n, n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeMode {
    /// An error (negative indices count from the end).
    Raise,
    /// Modulo `n`.
    Wrap,
    /// Clamped to `[0, n - 1]` (negative indices are 0).
    Clip,
}

pub(crate) fn base(s: &Source) -> isize {
    s.map.as_ptr() as isize + s.layout.offset as isize
}

fn shape_text(s: &[usize]) -> String {
    let inner: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    if s.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

/// Whether two views share any byte of one mapping.
fn overlaps(a: &Source, d: &Dest) -> bool {
    if !std::ptr::eq(a.map, d.map) {
        return false;
    }
    let (a0, a1) = extent(a.layout, a.dtype.itemsize());
    let (d0, d1) = extent(d.layout, d.dtype.itemsize());
    a0 < d1 && d0 < a1
}

/// Byte offsets relative to element `[0, ...]` of the lowest and past the highest byte a
/// layout reaches (an empty range for empty views), offset included.
fn extent(l: &Layout, isz: usize) -> (isize, isize) {
    let (lo, hi) = reach(&l.shape, &l.strides, isz);
    (l.offset as isize + lo, l.offset as isize + hi)
}

fn reach(shape: &[usize], strides: &[isize], isz: usize) -> (isize, isize) {
    let (mut lo, mut hi) = (0isize, 0isize);
    for (&n, &s) in shape.iter().zip(strides) {
        if n == 0 {
            return (0, 0);
        }
        let e = (n as isize - 1) * s;
        if e < 0 {
            lo += e;
        } else {
            hi += e;
        }
    }
    (lo, hi + isz as isize)
}

// ----------------------------------------------------------------------------- truth

/// The truth of `out.len()` elements of `dtype` at `p` (byte `stride`) as bytes 0/1.
///
/// # Safety
/// The elements must be readable.
unsafe fn truth_run(dtype: DType, swap: bool, p: *const u8, stride: isize, out: &mut [u8]) {
    macro_rules! each {
        ($t:ty, $f:expr) => {{
            let f: fn($t) -> bool = $f;
            for (i, o) in out.iter_mut().enumerate() {
                // SAFETY: forwarded from the caller.
                let v = unsafe { (p.offset(i as isize * stride) as *const $t).read_unaligned() };
                *o = f(v) as u8;
            }
        }};
    }
    // Floats: any bit but the sign (-0.0 is false, NaN true); a complex: either part.
    match (dtype.kind(), dtype.itemsize(), swap) {
        ('f', 2, false) => each!(u16, |v| v << 1 != 0),
        ('f', 2, true) => each!(u16, |v| v.swap_bytes() << 1 != 0),
        ('f', 4, false) => each!(u32, |v| v << 1 != 0),
        ('f', 4, true) => each!(u32, |v| v.swap_bytes() << 1 != 0),
        ('f', _, false) => each!(u64, |v| v << 1 != 0),
        ('f', _, true) => each!(u64, |v| v.swap_bytes() << 1 != 0),
        ('c', 8, false) => each!(u64, |v| (v as u32) << 1 != 0 || ((v >> 32) as u32) << 1 != 0),
        ('c', 8, true) => each!(u64, |v| (v as u32).swap_bytes() << 1 != 0 || ((v >> 32) as u32).swap_bytes() << 1 != 0),
        ('c', _, false) => each!(u128, |v| (v as u64) << 1 != 0 || ((v >> 64) as u64) << 1 != 0),
        ('c', _, true) => each!(u128, |v| (v as u64).swap_bytes() << 1 != 0 || ((v >> 64) as u64).swap_bytes() << 1 != 0),
        // Integers and bools: any bit, in either byte order.
        (_, 1, _) => each!(u8, |v| v != 0),
        (_, 2, _) => each!(u16, |v| v != 0),
        (_, 4, _) => each!(u32, |v| v != 0),
        _ => each!(u64, |v| v != 0),
    }
}

/// A view read for its truth: `op` of a [`Flat`].
#[derive(Clone, Copy)]
pub(crate) struct Mask {
    pub dtype: DType,
    pub swap: bool,
    pub stride: isize,
}

impl Mask {
    fn of(s: &Source, flat: &Flat, op: usize) -> Mask {
        Mask { dtype: s.dtype, swap: swap_of(s.dtype, s.order), stride: flat.inner(op) }
    }

    /// Calls `f(lo, truth)` for blocks of the run of `n` elements at `p`.
    ///
    /// # Safety
    /// The run must be readable.
    pub(crate) unsafe fn blocks(&self, p: isize, n: usize, mut f: impl FnMut(usize, &[u8])) {
        let mut t = [0u8; BLOCK];
        let mut lo = 0;
        while lo < n {
            let k = BLOCK.min(n - lo);
            // SAFETY: forwarded from the caller.
            unsafe { truth_run(self.dtype, self.swap, (p + lo as isize * self.stride) as *const u8, self.stride, &mut t[..k]) };
            f(lo, &t[..k]);
            lo += k;
        }
    }

    /// True elements in the run of `n` elements at `p`.
    ///
    /// # Safety
    /// The run must be readable.
    unsafe fn count(&self, p: isize, n: usize) -> usize {
        if self.dtype == DType::Bool && self.stride == 1 {
            // SAFETY: forwarded from the caller (a contiguous run of bytes).
            let s = unsafe { std::slice::from_raw_parts(p as *const u8, n) };
            return s.iter().map(|&b| (b != 0) as usize).sum();
        }
        let mut c = 0;
        // SAFETY: forwarded from the caller.
        unsafe { self.blocks(p, n, |_, t| c += t.iter().map(|&b| b as usize).sum::<usize>()) };
        c
    }
}

// ----------------------------------------------------------------------------- passes

/// How the chunks of a pass run: in parallel or here, and in streaming mode in windows
/// after each of which `behind` releases what the window read.
struct Passes {
    chunks: usize,
    par: bool,
    window: usize,
}

impl Passes {
    /// `elems` elements of the array in chunks of `per` mask elements, `bytes` bytes per
    /// chunk touched in the largest view (for the streaming window).
    fn new(mask_len: usize, per: usize, elems: usize, bytes_per_chunk: usize, release: bool) -> Passes {
        let chunks = mask_len.div_ceil(per.max(1));
        let par = elems >= PAR_MIN && chunks > 1;
        let window = if release { (GRAIN * pool::threads() / bytes_per_chunk.max(1)).max(1) } else { chunks.max(1) };
        Passes { chunks, par, window }
    }

    fn run<R: Send>(&self, f: impl Fn(usize) -> R + Sync + Send, mut behind: impl FnMut(usize, usize) + Send) -> Vec<R> {
        let mut out = Vec::with_capacity(self.chunks);
        let mut go = |out: &mut Vec<R>| {
            let mut lo = 0;
            while lo < self.chunks {
                let hi = self.chunks.min(lo + self.window);
                if self.par {
                    out.par_extend((lo..hi).into_par_iter().map(&f));
                } else {
                    out.extend((lo..hi).map(&f));
                }
                behind(lo, hi);
                lo = hi;
            }
        };
        if self.par {
            pool::install(|| go(&mut out));
        } else {
            go(&mut out);
        }
        out
    }
}

/// Releases, one window behind, the pages of flat elements `lo..hi` of operand `op` (whose
/// elements each reach bytes `ext` around their address).
struct Release<'a> {
    behind: Option<Behind<'a>>,
    op: usize,
    ext: (isize, isize),
}

impl<'a> Release<'a> {
    fn new(map: &'a Mapping, on: bool, op: usize, ext: (isize, isize)) -> Release<'a> {
        Release { behind: on.then(|| Behind::new(map)), op, ext }
    }

    fn push(&self, flat: &Flat, lo: usize, hi: usize) {
        if let Some(b) = &self.behind {
            if lo < hi {
                let (x, y) = (flat.addr(self.op, lo), flat.addr(self.op, hi - 1));
                b.push((x.min(y) + self.ext.0).max(0) as usize, (x.max(y) + self.ext.1).max(0) as usize);
            }
        }
    }
}

// ----------------------------------------------------------------------------- gathering

/// Writes rows (elements, or sub-arrays of `post`'s shape) into consecutive rows of a
/// destination, in C order, converting to its dtype.
struct Gather {
    from: (DType, ByteOrder),
    to: (DType, ByteOrder),
    /// The destination's row axes (operand 0).
    rows: Flat,
    /// A row's axes: operand 0 the destination's offsets, operand 1 the source's; `None` when
    /// a row is one element.
    post: Option<Flat>,
}

/// A [`Gather`] writing from row `next` on; elements are staged and written a block at a time.
struct Writer<'g> {
    g: &'g Gather,
    next: usize,
    stage: Vec<u8>,
    k: usize,
}

impl Gather {
    fn new(src: &Source, src_post: &[isize], dst: &Dest, nrows_axes: usize) -> Gather {
        let post_shape = &dst.layout.shape[nrows_axes..];
        let rows = Flat::new(&dst.layout.shape[..nrows_axes], &[(base(dst), &dst.layout.strides[..nrows_axes])]);
        let post = (!post_shape.is_empty()).then(|| Flat::new(post_shape, &[(0, &dst.layout.strides[nrows_axes..]), (0, src_post)]));
        Gather { from: (src.dtype, src.order), to: (dst.dtype, dst.order), rows, post }
    }

    fn writer(&self, first: usize) -> Writer<'_> {
        let stage = if self.post.is_none() { vec![0u8; BLOCK * self.from.0.itemsize()] } else { Vec::new() };
        Writer { g: self, next: first, stage, k: 0 }
    }
}

impl Writer<'_> {
    /// Stages the element at `src`, kept when `keep` (branch-free selection).
    ///
    /// # Safety
    /// The element must be readable, and the destination rows written writable.
    #[inline(always)]
    unsafe fn offer(&mut self, src: isize, keep: bool) {
        let isz = self.stage.len() / BLOCK;
        // SAFETY: `k < BLOCK` (flushed when it reaches BLOCK); the element is readable.
        unsafe {
            let d = self.stage.as_mut_ptr().add(self.k * isz);
            let s = src as *const u8;
            match isz {
                1 => *d = *s,
                2 => (d as *mut u16).write_unaligned((s as *const u16).read_unaligned()),
                4 => (d as *mut u32).write_unaligned((s as *const u32).read_unaligned()),
                8 => (d as *mut u64).write_unaligned((s as *const u64).read_unaligned()),
                _ => (d as *mut u128).write_unaligned((s as *const u128).read_unaligned()),
            }
        }
        self.k += keep as usize;
        if self.k == BLOCK {
            // SAFETY: forwarded.
            unsafe { self.flush() };
        }
    }

    /// Writes the row at `src` (an element or a sub-array).
    ///
    /// # Safety
    /// As [`Writer::offer`].
    unsafe fn push(&mut self, src: isize) {
        let g = self.g;
        match &g.post {
            // SAFETY: forwarded.
            None => unsafe { self.offer(src, true) },
            Some(post) => {
                let d = g.rows.addr(0, self.next);
                let (ds, ss) = (post.inner(0), post.inner(1));
                post.runs(0, post.size(), |a, n| {
                    // SAFETY: forwarded from the caller.
                    unsafe { move_run(g.from.0, g.from.1, (src + a[1]) as *const u8, ss, g.to.0, g.to.1, (d + a[0]) as *mut u8, ds, n) };
                });
                self.next += 1;
            }
        }
    }

    /// Writes the staged elements.
    ///
    /// # Safety
    /// As [`Writer::offer`].
    unsafe fn flush(&mut self) {
        let g = self.g;
        let isz = g.from.0.itemsize();
        let mut at = 0;
        let ds = g.rows.inner(0);
        g.rows.runs(self.next, self.next + self.k, |a, n| {
            // SAFETY: the staged elements are ours; the destination run is writable (caller).
            unsafe { move_run(g.from.0, g.from.1, self.stage.as_ptr().add(at * isz), isz as isize, g.to.0, g.to.1, a[0] as *mut u8, ds, n) };
            at += n;
        });
        self.next += self.k;
        self.k = 0;
    }
}

/// The destination of a selection of `shape`: a new array (the source's dtype and byte
/// order, C order) or `out`, checked. The new array is returned with a `Dest` over it.
fn destination<R>(src: &Source, shape: &[usize], target: &Target, f: impl FnOnce(&Dest) -> Result<R>) -> Result<(R, Option<Array>)> {
    match target {
        Target::New => {
            let r = npy::zeros(&NewArray { dtype: src.dtype, byte_order: src.order, shape: shape.to_vec(), fortran_order: false })?;
            let l = r.layout();
            let d = Dest { map: &r.mapping, layout: &l, dtype: r.dtype, order: r.byte_order, release: false };
            let v = f(&d)?;
            Ok((v, Some(r)))
        }
        Target::Out(d) => {
            if d.layout.shape != shape {
                return err(ErrorKind::InvalidArgument, format!("out has shape {}, the result {}", shape_text(&d.layout.shape), shape_text(shape)));
            }
            check_dest(d, shape)?;
            prepare_write(d);
            Ok((f(d)?, None))
        }
    }
}

// ----------------------------------------------------------------------------- a[mask]

/// NumPy's `a[mask]`: `mask`'s shape is `a`'s leading axes; the result has shape
/// `(count, *rest)`, the sub-arrays of `a` where `mask` is true, in C order.
pub fn compress(a: &Source, mask: &Source, target: Target, release: bool) -> Result<Option<Array>> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    mask.layout.check(mask.dtype.itemsize(), mask.map.len())?;
    let (ash, msh) = (&a.layout.shape, &mask.layout.shape);
    let k = msh.len();
    if k > ash.len() {
        return err(ErrorKind::InvalidArgument, format!("too many indices for array: array is {}-dimensional, but {k} were indexed", ash.len()));
    }
    if let Some(i) = (0..k).find(|&i| msh[i] != ash[i]) {
        return err(
            ErrorKind::InvalidArgument,
            format!(
                "boolean index did not match indexed array along axis {i}; size of axis is {} but size of corresponding boolean axis is {}",
                ash[i], msh[i]
            ),
        );
    }
    if let Target::Out(d) = &target {
        if overlaps(a, d) || overlaps(mask, d) {
            // Gathered in memory first, then copied (NumPy copies too).
            let r = compress(a, mask, Target::New, release)?.expect("a new array");
            let l = r.layout();
            assign(&Source { map: &r.mapping, layout: &l, dtype: r.dtype, order: r.byte_order, release: false }, d)?;
            return Ok(None);
        }
    }
    let post = &ash[k..];
    let post_size: usize = post.iter().product();
    let flat = Flat::new(msh, &[(base(mask), &mask.layout.strides), (base(a), &a.layout.strides[..k])]);
    let n = flat.size();
    let per = (CHUNK / post_size.max(1)).max(1);
    let isz = a.dtype.itemsize();
    let a_ext = reach(post, &a.layout.strides[k..], isz);
    let chunk_bytes = per * (flat.inner(1).unsigned_abs().max(isz) * post_size.max(1));
    let passes = Passes::new(n, per, n * post_size.max(1), chunk_bytes, release);
    let range = |c: usize| (c * per, ((c + 1) * per).min(n));
    let mm = Mask::of(mask, &flat, 0);
    let rel_mask = Release::new(mask.map, release && mask.release, 0, (0, mask.dtype.itemsize() as isize));
    // Pass 1: count.
    let counts = passes.run(
        |c| {
            let (lo, hi) = range(c);
            let mut s = 0;
            // SAFETY: the mask's layout was checked against its mapping.
            flat.runs(lo, hi, |p, len| s += unsafe { mm.count(p[0], len) });
            s
        },
        |lo, hi| rel_mask.push(&flat, range(lo).0, range(hi - 1).1),
    );
    drop(rel_mask);
    let mut starts = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for c in &counts {
        starts.push(total);
        total += c;
    }
    let mut shape = vec![total];
    shape.extend_from_slice(post);
    // Pass 2: fill.
    let (_, made) = destination(a, &shape, &target, |d| {
        if d.layout.size() == 0 {
            return Ok(());
        }
        let g = Gather::new(a, &a.layout.strides[k..], d, 1);
        let rel =
            [Release::new(mask.map, release && mask.release, 0, (0, mask.dtype.itemsize() as isize)), Release::new(a.map, release && a.release, 1, a_ext)];
        let rel_out = (release && d.release).then(|| Behind::new(d.map));
        let out_ext = reach(&d.layout.shape[1..], &d.layout.strides[1..], d.dtype.itemsize());
        let sa = flat.inner(1);
        passes.run(
            |c| {
                let (lo, hi) = range(c);
                let mut w = g.writer(starts[c]);
                flat.runs(lo, hi, |p, len| {
                    // SAFETY: layouts were checked against their mappings; `d` is writable, and its
                    // rows starts[c].. belong to this chunk alone.
                    unsafe {
                        mm.blocks(p[0], len, |at, t| {
                            let x = p[1] + at as isize * sa;
                            if g.post.is_none() {
                                for (i, &keep) in t.iter().enumerate() {
                                    w.offer(x + i as isize * sa, keep != 0);
                                }
                            } else {
                                for (i, &keep) in t.iter().enumerate() {
                                    if keep != 0 {
                                        w.push(x + i as isize * sa);
                                    }
                                }
                            }
                        });
                    }
                });
                // SAFETY: as above.
                unsafe { w.flush() };
            },
            |lo, hi| {
                let (x, y) = (range(lo).0, range(hi - 1).1);
                for r in &rel {
                    r.push(&flat, x, y);
                }
                if let Some(b) = &rel_out {
                    let (r0, r1) = (starts[lo], starts[hi - 1] + counts[hi - 1]);
                    if r0 < r1 {
                        let (p, q) = (g.rows.addr(0, r0), g.rows.addr(0, r1 - 1));
                        b.push((p.min(q) + out_ext.0).max(0) as usize, (p.max(q) + out_ext.1).max(0) as usize);
                    }
                }
            },
        );
        Ok(())
    })?;
    Ok(made)
}

// ----------------------------------------------------------------------------- nonzero

/// NumPy's `nonzero`: one int64 array per axis holding the indices of the true elements.
pub fn nonzero(a: &Source, release: bool) -> Result<Vec<Array>> {
    if a.layout.shape.is_empty() {
        return err(ErrorKind::InvalidArgument, "Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.");
    }
    indices(a, release, false)
}

/// NumPy's `argwhere`: a `(count, ndim)` int64 array of the indices of the true elements.
pub fn argwhere(a: &Source, release: bool) -> Result<Array> {
    Ok(indices(a, release, true)?.remove(0))
}

fn indices(a: &Source, release: bool, rows: bool) -> Result<Vec<Array>> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    let shape = &a.layout.shape;
    let nd = shape.len();
    let flat = Flat::new(shape, &[(base(a), &a.layout.strides)]);
    let n = flat.size();
    let passes = Passes::new(n, CHUNK, n, CHUNK * flat.inner(0).unsigned_abs().max(a.dtype.itemsize()), release);
    let range = |c: usize| (c * CHUNK, ((c + 1) * CHUNK).min(n));
    let mm = Mask::of(a, &flat, 0);
    let rel = Release::new(a.map, release && a.release, 0, (0, a.dtype.itemsize() as isize));
    let counts = passes.run(
        |c| {
            let (lo, hi) = range(c);
            let mut s = 0;
            // SAFETY: the layout was checked against its mapping.
            flat.runs(lo, hi, |p, len| s += unsafe { mm.count(p[0], len) });
            s
        },
        |lo, hi| rel.push(&flat, range(lo).0, range(hi - 1).1),
    );
    let mut starts = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for c in &counts {
        starts.push(total);
        total += c;
    }
    let new = |shape: Vec<usize>| npy::zeros(&NewArray { dtype: DType::Int64, byte_order: ByteOrder::NATIVE, shape, fortran_order: false });
    // Where coordinate `c` of result `j` goes: (address of result 0, byte stride).
    let (out, cols): (Vec<Array>, Vec<(isize, isize)>) = if rows {
        let r = new(vec![total, nd])?;
        let p = r.mapping.as_ptr() as isize;
        let cols = (0..nd).map(|c| (p + 8 * c as isize, 8 * nd as isize)).collect();
        (vec![r], cols)
    } else {
        let v = (0..nd).map(|_| new(vec![total])).collect::<Result<Vec<_>>>()?;
        let cols = v.iter().map(|r| (r.mapping.as_ptr() as isize, 8)).collect();
        (v, cols)
    };
    if total == 0 || nd == 0 {
        return Ok(out);
    }
    passes.run(
        |c| {
            let (lo, hi) = range(c);
            let mut idx = vec![0i64; nd];
            let mut q = lo;
            for k in (0..nd).rev() {
                idx[k] = (q % shape[k]) as i64;
                q /= shape[k];
            }
            let mut j = starts[c] as isize;
            flat.runs(lo, hi, |p, len| {
                // SAFETY: the layout was checked; results j.. of this chunk are its own.
                unsafe {
                    mm.blocks(p[0], len, |_, t| {
                        for &keep in t {
                            if keep != 0 {
                                for (&(b, s), &i) in cols.iter().zip(&idx) {
                                    ((b + j * s) as *mut i64).write(i);
                                }
                                j += 1;
                            }
                            // Next index in C order.
                            let mut k = nd - 1;
                            idx[k] += 1;
                            while idx[k] == shape[k] as i64 && k > 0 {
                                idx[k] = 0;
                                k -= 1;
                                idx[k] += 1;
                            }
                        }
                    });
                }
            });
        },
        |lo, hi| rel.push(&flat, range(lo).0, range(hi - 1).1),
    );
    Ok(out)
}

// ----------------------------------------------------------------------------- take

/// NumPy's `take(a, indices, axis, mode)`: without `axis` from the flattened array, the
/// result shaped as `indices`; along `axis` the result is `a.shape[:axis] + indices.shape +
/// a.shape[axis+1:]`. Indices are any integer (or bool) view; uint64 indices wrap to int64
/// as NumPy casts them.
pub fn take(a: &Source, idx: &Source, axis: Option<usize>, mode: TakeMode, target: Target) -> Result<Option<Array>> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    idx.layout.check(idx.dtype.itemsize(), idx.map.len())?;
    if !matches!(idx.dtype.kind(), 'b' | 'i' | 'u') {
        return err(
            ErrorKind::InvalidArgument,
            format!("Cannot cast array data from dtype('{}') to dtype('int64') according to the rule 'same_kind'", idx.dtype.name()),
        );
    }
    let nd = a.layout.shape.len();
    if let Some(x) = axis {
        if x >= nd {
            return err(ErrorKind::OutOfRange, format!("axis {x} is out of bounds for array of dimension {nd}"));
        }
    }
    if let Target::Out(d) = &target {
        if overlaps(a, d) || overlaps(idx, d) {
            let r = take(a, idx, axis, mode, Target::New)?.expect("a new array");
            let l = r.layout();
            assign(&Source { map: &r.mapping, layout: &l, dtype: r.dtype, order: r.byte_order, release: false }, d)?;
            return Ok(None);
        }
    }
    let (pre, post, n, astride): (&[usize], &[usize], usize, isize) = match axis {
        Some(x) => (&a.layout.shape[..x], &a.layout.shape[x + 1..], a.layout.shape[x], a.layout.strides[x]),
        None => (&[], &[], a.layout.size(), 0),
    };
    let ishape = &idx.layout.shape;
    let m = idx.layout.size();
    // The indices, normalized to [0, n).
    let ifl = Flat::new(ishape, &[(base(idx), &idx.layout.strides)]);
    let iswap = swap_of(idx.dtype, idx.order);
    let mut vals = vec![0i64; m];
    let load = |c: usize, part: &mut [i64]| -> Option<(usize, i64)> {
        let lo = c * CHUNK;
        let mut at = 0;
        // SAFETY: the layout was checked against its mapping.
        ifl.runs(lo, lo + part.len(), |p, len| unsafe {
            i64::load(idx.dtype, p[0] as *const u8, ifl.inner(0), iswap, &mut part[at..at + len]);
            at += len;
        });
        let nn = n as i64;
        for (i, v) in part.iter_mut().enumerate() {
            match mode {
                TakeMode::Raise if *v < -nn || *v >= nn => return Some((lo + i, *v)),
                TakeMode::Raise if *v < 0 => *v += nn,
                TakeMode::Raise => {}
                _ if nn == 0 => return Some((lo + i, *v)),
                TakeMode::Wrap => *v = v.rem_euclid(nn),
                TakeMode::Clip => *v = (*v).clamp(0, nn - 1),
            }
        }
        None
    };
    let bad = if m >= PAR_MIN {
        pool::install(|| vals.par_chunks_mut(CHUNK).enumerate().map(|(c, part)| load(c, part)).find_first(|b| b.is_some()).flatten())
    } else {
        vals.chunks_mut(CHUNK).enumerate().find_map(|(c, part)| load(c, part))
    };
    if let Some((_, v)) = bad {
        return Err(match mode {
            TakeMode::Raise => Error::new(ErrorKind::OutOfRange, format!("index {v} is out of bounds for axis {} with size {n}", axis.unwrap_or(0))),
            _ => Error::new(ErrorKind::OutOfRange, "cannot do a non-empty take from an empty axes."),
        });
    }
    let mut shape = pre.to_vec();
    shape.extend_from_slice(ishape);
    shape.extend_from_slice(post);
    let nrows_axes = pre.len() + ishape.len();
    let pre_size: usize = pre.iter().product();
    let post_size: usize = post.iter().product();
    let rows = pre_size * m;
    let a_flat = Flat::new(&a.layout.shape, &[(base(a), &a.layout.strides)]);
    let pre_flat = axis.map(|x| Flat::new(pre, &[(base(a), &a.layout.strides[..x])]));
    let post_strides: &[isize] = match axis {
        Some(x) => &a.layout.strides[x + 1..],
        None => &[],
    };
    let (_, made) = destination(a, &shape, &target, |d| {
        if d.layout.size() == 0 {
            return Ok(());
        }
        let g = Gather::new(a, post_strides, d, nrows_axes);
        let per = (CHUNK / post_size.max(1)).max(1);
        let passes = Passes::new(rows, per, rows * post_size, 0, false);
        let vals = &vals;
        passes.run(
            |c| {
                let (lo, hi) = (c * per, ((c + 1) * per).min(rows));
                let mut w = g.writer(lo);
                let (mut o, mut j) = (lo / m, lo % m);
                let mut row_base = pre_flat.as_ref().map_or(0, |f| f.addr(0, o));
                for _ in lo..hi {
                    let src = match &pre_flat {
                        Some(_) => row_base + vals[j] as isize * astride,
                        None => a_flat.addr(0, vals[j] as usize),
                    };
                    // SAFETY: indices are in range, layouts checked; rows lo..hi are this chunk's.
                    unsafe { w.push(src) };
                    j += 1;
                    if j == m {
                        j = 0;
                        o += 1;
                        if let Some(f) = &pre_flat {
                            if o < pre_size {
                                row_base = f.addr(0, o);
                            }
                        }
                    }
                }
                // SAFETY: as above.
                unsafe { w.flush() };
            },
            |_, _| {},
        );
        Ok(())
    })?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src<'a>(m: &'a Mapping, l: &'a Layout, d: DType) -> Source<'a> {
        Source { map: m, layout: l, dtype: d, order: ByteOrder::NATIVE, release: false }
    }

    fn f64s(a: &Array) -> Vec<f64> {
        a.mapping.read_bytes(0, a.mapping.len()).unwrap().chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect()
    }

    fn i64s(a: &Array) -> Vec<i64> {
        a.mapping.read_bytes(0, a.mapping.len()).unwrap().chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn truth_of_floats_ignores_the_sign_of_zero_in_either_byte_order() {
        let v = [0.0f64, -0.0, f64::NAN, 1e-300, -2.0];
        let mut t = [0u8; 5];
        let ne: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
        // SAFETY: 5 elements of 8 bytes.
        unsafe { truth_run(DType::Float64, false, ne.as_ptr(), 8, &mut t) };
        assert_eq!(t, [0, 0, 1, 1, 1]);
        let sw: Vec<u8> = v.iter().flat_map(|x| x.to_bits().swap_bytes().to_ne_bytes()).collect();
        // SAFETY: as above.
        unsafe { truth_run(DType::Float64, true, sw.as_ptr(), 8, &mut t) };
        assert_eq!(t, [0, 0, 1, 1, 1]);
        let c: Vec<u8> = [(-0.0f32, 0.0f32), (0.0, -3.0), (-0.0, -0.0)].iter().flat_map(|(a, b)| [a.to_ne_bytes(), b.to_ne_bytes()].concat()).collect();
        let mut t = [0u8; 3];
        // SAFETY: 3 elements of 8 bytes.
        unsafe { truth_run(DType::Complex64, false, c.as_ptr(), 8, &mut t) };
        assert_eq!(t, [0, 1, 0]);
    }

    #[test]
    fn mask_selection_in_c_order_of_a_transposed_view_and_rows() {
        // a = arange(6).reshape(2, 3) as float64; view a.T (3, 2); mask on a.T.
        let a = Mapping::from_bytes(&(0..6).flat_map(|i| (i as f64).to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let t = Layout { shape: vec![3, 2], strides: vec![8, 24], offset: 0 };
        let m = Mapping::from_bytes(&[1, 0, 0, 1, 1, 1]).unwrap();
        let ml = Layout::contiguous(&[3, 2], 1, false);
        let r = compress(&src(&a, &t, DType::Float64), &src(&m, &ml, DType::Bool), Target::New, false).unwrap().unwrap();
        // a.T = [[0, 3], [1, 4], [2, 5]]
        assert_eq!((r.shape.clone(), f64s(&r)), (vec![4], vec![0.0, 4.0, 2.0, 5.0]));
        // Rows: a 1-D mask over a's first axis.
        let whole = Layout::contiguous(&[2, 3], 8, false);
        let m1 = Layout::contiguous(&[2], 1, false);
        let r = compress(&src(&a, &whole, DType::Float64), &src(&m, &Layout { offset: 2, ..m1.clone() }, DType::Bool), Target::New, false).unwrap().unwrap();
        assert_eq!((r.shape.clone(), f64s(&r)), (vec![1, 3], vec![3.0, 4.0, 5.0]));
        let bad = compress(&src(&a, &whole, DType::Float64), &src(&m, &Layout::contiguous(&[3], 1, false), DType::Bool), Target::New, false);
        assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidArgument);
        let nz = nonzero(&src(&m, &ml, DType::Bool), false).unwrap();
        assert_eq!((i64s(&nz[0]), i64s(&nz[1])), (vec![0, 1, 2, 2], vec![0, 1, 0, 1]));
        let aw = argwhere(&src(&m, &ml, DType::Bool), false).unwrap();
        assert_eq!((aw.shape.clone(), i64s(&aw)), (vec![4, 2], vec![0, 0, 1, 1, 2, 0, 2, 1]));
    }

    #[test]
    fn take_modes_negative_indices_and_axis() {
        let a = Mapping::from_bytes(&(0..6).flat_map(|i| (i as f64).to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let al = Layout::contiguous(&[2, 3], 8, false);
        let ix = Mapping::from_bytes(&[-1i32, 4, -4].iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let il = Layout::contiguous(&[3], 4, false);
        let (a_, i_) = (src(&a, &al, DType::Float64), src(&ix, &il, DType::Int32));
        let r = take(&a_, &i_, None, TakeMode::Raise, Target::New).unwrap().unwrap();
        assert_eq!(f64s(&r), [5.0, 4.0, 2.0]);
        let e = take(&a_, &i_, Some(1), TakeMode::Raise, Target::New).unwrap_err();
        assert_eq!((e.kind(), e.to_string().contains("index 4 is out of bounds for axis 1 with size 3")), (ErrorKind::OutOfRange, true));
        let r = take(&a_, &i_, Some(1), TakeMode::Wrap, Target::New).unwrap().unwrap();
        assert_eq!((r.shape.clone(), f64s(&r)), (vec![2, 3], vec![2.0, 1.0, 2.0, 5.0, 4.0, 5.0]));
        let r = take(&a_, &i_, Some(0), TakeMode::Clip, Target::New).unwrap().unwrap();
        assert_eq!((r.shape.clone(), f64s(&r)), (vec![3, 3], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 2.0]));
    }
}
