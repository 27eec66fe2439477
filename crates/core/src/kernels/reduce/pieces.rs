//! How the pieces of a walk run: on the pool, results in order ([`stream_map`]), and in
//! streaming mode (`{ release: true }`) with the pages of finished pieces released behind
//! ([`Release`], [`release_view`]).

use rayon::prelude::*;

use super::order::BUFSIZE;
use crate::kernels::pool;
use crate::kernels::source::Source;
use crate::kernels::stream::{release_span, Behind, GRAIN};

/// Streaming mode: releases the pages of finished pieces of a walk through [`Behind`].
/// `span(lo, n)` gives the address range of elements `lo..lo + n` of the walk; a piece of
/// at most `grain` elements is released once done.
#[derive(Clone, Copy)]
pub(super) struct Release<'a> {
    pub(super) behind: &'a Behind<'a>,
    pub(super) grain: usize,
    pub(super) span: &'a (dyn Fn(usize, usize) -> (usize, usize) + Sync),
}

impl Release<'_> {
    pub(super) fn done(&self, lo: usize, n: usize) {
        if n > 0 {
            let (s, e) = (self.span)(lo, n);
            self.behind.push(s, e);
        }
    }
}

/// Elements per released piece for a walk stepping `stride` bytes.
pub(super) fn grain(stride: isize, itemsize: usize) -> usize {
    (GRAIN / stride.unsigned_abs().max(itemsize)).max(BUFSIZE)
}

/// Maps `f` over `pieces` (first element, count) of a walk on the pool, results in
/// order. In streaming mode the pieces go in windows of about [`GRAIN`] bytes per
/// thread, each window's pages released behind (see [`Behind`]).
pub(super) fn stream_map<R: Send>(
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

/// Releases every whole page of a view's byte range (streaming mode, at the end).
pub(super) fn release_view(src: &Source) {
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
