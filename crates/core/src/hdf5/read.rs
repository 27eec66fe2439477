//! Reading a hyperslab of a dataset, and mapping a contiguous one.
//!
//! A selection is, per axis, a start, a positive step and a count (what `NdArray.slice`
//! specs come down to once negative steps are turned around). The result is a new
//! C-order array of the counts, in the dataset's byte order. Each block of the dataset
//! (a chunk, or a band of rows of contiguous data) that holds a selected element is
//! read and decoded once, on the kernel pool in parallel, and its selected elements are
//! copied straight to their place in the result; blocks holding none are not read. A
//! chunk whose elements are all selected and form one run of the result (whole chunks
//! along the last axes: a full read, or rows of a row-chunked dataset) is not decoded
//! into a buffer of its own: the last filter undone (inflate, unshuffle) writes straight
//! into the result, and an unfiltered chunk is read straight there. Elements of chunks
//! never written read as the fill value. [`H5File::chunks_read`] counts the chunks read.

use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::btree1::{self, ChunkEntry};
use super::filters;
use super::io::{bad, Source};
use super::layout::{ChunkIndex, Layout};
use super::{Dataset, H5File};
use crate::error::{Error, ErrorKind, Result};
use crate::header::Header;
use crate::kernels::pool;
use crate::mapping::{Mapping, Mode};
use crate::npy::{self, Array};

/// Per axis: first index, step (>= 1), number of indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub start: Vec<u64>,
    pub step: Vec<u64>,
    pub count: Vec<u64>,
}

impl Selection {
    /// Everything.
    pub fn all(shape: &[u64]) -> Selection {
        Selection { start: vec![0; shape.len()], step: vec![1; shape.len()], count: shape.to_vec() }
    }

    #[allow(clippy::needless_range_loop)] // one axis indexes four vectors
    pub(crate) fn check(&self, shape: &[u64]) -> Result<()> {
        let r = shape.len();
        if self.start.len() != r || self.step.len() != r || self.count.len() != r {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("a selection of {} axes for a dataset of {r}", self.start.len())));
        }
        for d in 0..r {
            if self.step[d] == 0 {
                return Err(Error::new(ErrorKind::InvalidArgument, "a selection step of 0"));
            }
            if self.count[d] > 0 {
                let last = (self.count[d] - 1).checked_mul(self.step[d]).and_then(|x| x.checked_add(self.start[d]));
                if last.is_none_or(|l| l >= shape[d]) {
                    return Err(Error::new(ErrorKind::OutOfRange, format!("the selection on axis {d} passes the dataset's length {}", shape[d])));
                }
            }
        }
        Ok(())
    }

    /// Whether a block of `dims` at `origin` holds a selected element.
    pub(crate) fn touches(&self, origin: &[u64], dims: &[u64]) -> bool {
        (0..origin.len()).all(|d| first_in(self.start[d], self.step[d], self.count[d], origin[d], dims[d]).is_some())
    }
}

/// The first selection index `i` with `start + i * step` in `[lo, lo + n)`.
pub(crate) fn first_in(start: u64, step: u64, count: u64, lo: u64, n: u64) -> Option<u64> {
    let i = if lo > start { (lo - start).div_ceil(step) } else { 0 };
    let at = start.checked_add(i.checked_mul(step)?)?;
    (i < count && at < lo.saturating_add(n)).then_some(i)
}

pub(crate) fn chunk_index(src: &Source, ds: &Dataset, dims: &[u64], index: &ChunkIndex) -> Result<Vec<ChunkEntry>> {
    let rank = dims.len();
    let mut entries = match index {
        ChunkIndex::BTree1(None) => Vec::new(),
        ChunkIndex::BTree1(Some(a)) => btree1::chunks(src, *a, rank)?,
        other => super::chunks::entries(src, ds, dims, other)?,
    };
    for e in &entries {
        for d in 0..rank {
            if e.offset[d] % dims[d] != 0 {
                return Err(bad(format!("a chunk at offset {:?} is not on the chunk grid {dims:?}", e.offset)));
            }
        }
    }
    entries.sort_by(|a, b| a.offset.cmp(&b.offset));
    if entries.windows(2).any(|w| w[0].offset == w[1].offset) {
        return Err(bad("two chunks at the same offset"));
    }
    Ok(entries)
}

/// Calls `f(block byte offset, result byte offset, elements, block byte step)` for each
/// run of selected elements of one block (C order, `dims` elements at dataset position
/// `origin`); the result is C order over `sel.count`, where a run's elements are
/// consecutive. Returns without a call when the block holds no selected element.
pub(crate) fn for_each_run(dims: &[u64], origin: &[u64], sel: &Selection, itemsize: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
    let r = dims.len();
    if r == 0 {
        f(0, 0, 1, itemsize);
        return;
    }
    // Per axis: (first block index, first result index, how many); blocks step by `step`.
    let mut runs = Vec::with_capacity(r);
    for d in 0..r {
        let Some(i0) = first_in(sel.start[d], sel.step[d], sel.count[d], origin[d], dims[d]) else { return };
        let s0 = sel.start[d] + i0 * sel.step[d] - origin[d];
        let room = (dims[d] - s0 - 1) / sel.step[d] + 1;
        let n = room.min(sel.count[d] - i0);
        runs.push((s0 as usize, i0 as usize, n as usize));
    }
    let mut sstride = vec![itemsize; r];
    let mut dstride = vec![itemsize; r];
    for d in (0..r - 1).rev() {
        sstride[d] = sstride[d + 1] * dims[d + 1] as usize;
        dstride[d] = dstride[d + 1] * sel.count[d + 1] as usize;
    }
    let step: Vec<usize> = sel.step.iter().map(|&s| s as usize).collect();
    let last = r - 1;
    let (ls0, ld0, ln) = runs[last];
    let mut idx = vec![0usize; r];
    loop {
        let mut so = ls0 * sstride[last];
        let mut doff = ld0 * dstride[last];
        for d in 0..last {
            so += (runs[d].0 + idx[d] * step[d]) * sstride[d];
            doff += (runs[d].1 + idx[d]) * dstride[d];
        }
        f(so, doff, ln, step[last] * itemsize);
        // Next index of the outer axes (odometer).
        let mut d = last;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < runs[d].2 {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// The result byte offset of a block's elements when the selection takes all of them
/// and they lie in one run of the result in the block's own order (whole chunks along
/// the last axes, steps of 1, not an edge chunk cut by the selection): the block then
/// decodes straight into the result. `None` otherwise, or when it holds no selected
/// element.
pub(crate) fn whole_run(dims: &[u64], origin: &[u64], sel: &Selection, itemsize: usize, block_bytes: usize) -> Option<usize> {
    let mut first = None;
    let mut next = (0usize, 0usize);
    let mut whole = true;
    let mut total = 0usize;
    for_each_run(dims, origin, sel, itemsize, |so, doff, n, sstep| {
        if first.is_none() {
            first = Some(doff);
        } else if (so, doff) != next {
            whole = false;
        }
        whole &= sstep == itemsize || n == 1;
        next = (so + n * itemsize, doff + n * itemsize);
        total += n * itemsize;
    });
    let at = first?;
    // The first run starts the block, and the runs, following each other, cover it.
    (whole && total == block_bytes && next.0 == block_bytes).then_some(at)
}

/// Copies the selected elements of one block (`src`, C order, `dims` elements at dataset
/// position `origin`) to their place in the result at `out` (C order over `sel.count`).
///
/// # Safety
/// `out` points to `prod(sel.count) * itemsize` writable bytes, and no other thread
/// writes the elements this block selects.
unsafe fn scatter(src: &[u8], dims: &[u64], origin: &[u64], sel: &Selection, out: *mut u8, itemsize: usize) -> Result<()> {
    let need = dims.iter().try_fold(itemsize as u64, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("a block size overflows"))?;
    if (src.len() as u64) < need {
        return Err(bad(format!("a block holds {} bytes, {need} expected", src.len())));
    }
    for_each_run(dims, origin, sel, itemsize, |so, doff, n, sstep| {
        if sstep == itemsize {
            // SAFETY: the run lies inside the block (checked above) and inside the result (the caller's contract).
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr().add(so), out.add(doff), n * itemsize) };
        } else {
            for k in 0..n {
                // SAFETY: as above, element by element.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr().add(so + k * sstep), out.add(doff + k * itemsize), itemsize) };
            }
        }
    });
    Ok(())
}

/// Bytes per band of contiguous rows decoded as one task.
const BAND: u64 = 4 << 20;

#[allow(clippy::needless_range_loop)] // one axis indexes the selection and the chunk shape
pub(crate) fn read(f: &H5File, ds: &Dataset, sel: &Selection) -> Result<Array> {
    sel.check(&ds.shape)?;
    let itemsize = ds.itemsize();
    let shape: Vec<usize> = sel.count.iter().map(|&c| usize::try_from(c).map_err(|_| bad("a selection larger than memory"))).collect::<Result<_>>()?;
    let h = Header::with_descr(ds.full_descr(), false, shape.iter().map(|&d| d as u64).collect());
    let out = npy::from_bytes_with(&h, None)?;
    let n_out = out.mapping.len();
    if n_out == 0 {
        return Ok(out);
    }
    let dst = out.mapping.as_ptr() as usize;
    let fill_all = |fill: &Option<Vec<u8>>| {
        if let Some(v) = fill {
            // SAFETY: the result is `n_out` bytes of fresh memory only this thread holds.
            let o = unsafe { std::slice::from_raw_parts_mut(dst as *mut u8, n_out) };
            for e in o.chunks_exact_mut(itemsize) {
                e.copy_from_slice(v);
            }
        }
    };
    let nbytes = ds.shape.iter().try_fold(itemsize as u64, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("the dataset's size overflows"))?;
    let src = &f.src;
    match &ds.layout {
        Layout::Compact(bytes) => {
            if (bytes.len() as u64) < nbytes {
                return Err(bad(format!("the compact data hold {} bytes, the dataset {nbytes}", bytes.len())));
            }
            // SAFETY: `dst` is the fresh result, written by this thread only.
            unsafe { scatter(bytes, &ds.shape, &vec![0; ds.shape.len()], sel, dst as *mut u8, itemsize)? };
        }
        Layout::Contiguous { addr: None, .. } => fill_all(&ds.fill),
        Layout::Contiguous { addr: Some(addr), size } => {
            if *size < nbytes {
                return Err(bad(format!("the contiguous data hold {size} bytes, the dataset {nbytes}")));
            }
            let at = src.checked(*addr, nbytes, "contiguous data")?;
            let map = Mapping::map_file(&src.file, &src.path, at, npy::to_usize(nbytes, "data")?, Mode::ReadOnly)?;
            let data = if map.is_empty() {
                &[][..]
            } else {
                // SAFETY: the mapping is `nbytes` readable bytes, alive for this function.
                unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) }
            };
            let rank = ds.shape.len();
            if rank == 0 {
                // SAFETY: as above.
                unsafe { scatter(data, &[], &[], sel, dst as *mut u8, itemsize)? };
            } else {
                let row = (nbytes / ds.shape[0].max(1)).max(1);
                let rows = (BAND / row).max(1);
                let bands: Vec<u64> = (0..ds.shape[0].div_ceil(rows)).map(|b| b * rows).collect();
                let work = |&r0: &u64| -> Result<()> {
                    let r1 = (r0 + rows).min(ds.shape[0]);
                    let mut dims = ds.shape.clone();
                    dims[0] = r1 - r0;
                    let mut origin = vec![0; rank];
                    origin[0] = r0;
                    if !sel.touches(&origin, &dims) {
                        return Ok(());
                    }
                    let block = &data[(r0 * row) as usize..(r1 * row) as usize];
                    // SAFETY: bands are disjoint rows, so each writes its own result elements.
                    unsafe { scatter(block, &dims, &origin, sel, dst as *mut u8, itemsize) }
                };
                pool::install_if(bands.len() > 1, || bands.par_iter().try_for_each(work))?;
            }
        }
        Layout::Chunked { dims, .. } => {
            filters::check_supported(&ds.filters)?;
            let entries = f.chunk_entries(ds)?;
            let rank = dims.len();
            let chunk_bytes = dims.iter().product::<u64>() as usize * itemsize;
            let touched: Vec<&ChunkEntry> =
                entries.iter().filter(|e| e.offset.iter().zip(&ds.shape).all(|(o, s)| o < s) && sel.touches(&e.offset, dims)).collect();
            // Chunks never written read as the fill value.
            let mut grid = 1u64;
            for d in 0..rank {
                let lo = sel.start[d] / dims[d];
                let hi = (sel.start[d] + (sel.count[d] - 1) * sel.step[d]) / dims[d];
                grid = grid.saturating_mul(hi - lo + 1);
            }
            if ds.fill.is_some() && (touched.len() as u64) < grid {
                fill_all(&ds.fill);
            }
            let work = |e: &&ChunkEntry| -> Result<()> {
                if e.size > src.file_len() {
                    return Err(bad(format!("a chunk claims {} bytes, more than the file holds", e.size)));
                }
                f.chunks_read.fetch_add(1, Ordering::Relaxed);
                let in_chunk = |err: Error| Error::new(err.kind(), format!("chunk at {:?}: {}", e.offset, err.message()));
                if let Some(at) = whole_run(dims, &e.offset, sel, itemsize, chunk_bytes) {
                    // SAFETY: the chunk's selected elements are these `chunk_bytes` bytes of the
                    // result (`whole_run`), which no other chunk selects (chunks are disjoint:
                    // deduplicated offsets on the chunk grid).
                    let out = unsafe { std::slice::from_raw_parts_mut((dst + at) as *mut u8, chunk_bytes) };
                    if ds.filters.is_empty() {
                        if e.size < chunk_bytes as u64 {
                            return Err(bad(format!("a block holds {} bytes, {chunk_bytes} expected", e.size)));
                        }
                        let pos = src.checked(e.addr, chunk_bytes as u64, "chunk")?;
                        return src.read_into(pos, out);
                    }
                    let raw = src.raw(e.addr, e.size, "chunk")?;
                    return filters::decode_into(&ds.filters, e.mask, raw, out).map_err(in_chunk);
                }
                let raw = src.raw(e.addr, e.size, "chunk")?;
                let data = if ds.filters.is_empty() { raw } else { filters::decode(&ds.filters, e.mask, raw, chunk_bytes).map_err(in_chunk)? };
                // SAFETY: chunks are disjoint (deduplicated offsets on the chunk grid).
                unsafe { scatter(&data, dims, &e.offset, sel, dst as *mut u8, itemsize) }
            };
            pool::install_if(touched.len() > 1, || touched.par_iter().try_for_each(work))?;
        }
    }
    Ok(out)
}

pub(crate) fn mmap(f: &H5File, ds: &Dataset, mode: Mode) -> Result<Array> {
    if !matches!(mode, Mode::ReadOnly | Mode::CopyOnWrite) {
        return Err(Error::new(ErrorKind::UnsupportedMode, format!("mode '{}': a dataset is mapped 'r' or 'c'", mode.name())));
    }
    let not = |why: String| Err(Error::new(ErrorKind::NotMappable, format!("cannot map the dataset: {why}; read() copies it into memory instead")));
    let itemsize = ds.itemsize();
    let nbytes = ds.shape.iter().try_fold(itemsize as u64, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("the dataset's size overflows"))?;
    let (addr, size) = match &ds.layout {
        Layout::Contiguous { addr: Some(a), size } => (*a, *size),
        Layout::Contiguous { addr: None, .. } => return not("no storage is allocated for it yet (never written)".into()),
        Layout::Compact(_) => return not("it is compact (its data live inside the object header)".into()),
        Layout::Chunked { .. } if !ds.filters.is_empty() => {
            let names: Vec<String> = ds.filters.iter().map(|f| super::layout::filter_name(f.id, &f.name)).collect();
            return not(format!("it is chunked and filtered ({})", names.join(", ")));
        }
        Layout::Chunked { .. } => return not("it is chunked (its chunks are scattered through the file)".into()),
    };
    if size < nbytes {
        return Err(bad(format!("the contiguous data hold {size} bytes, the dataset {nbytes}")));
    }
    let src = &f.src;
    let at = src.checked(addr, nbytes, "contiguous data")?;
    let align = ds.full_descr().alignment() as u64;
    if at % align != 0 {
        return not(format!(
            "its data start at byte {at}, not a multiple of {align} as {} needs (h5py does not align data by default; files mmnpy writes align it at 64 bytes)",
            ds.dtype_name()
        ));
    }
    let map = Mapping::map_file(&src.file, &src.path, at, npy::to_usize(nbytes, "data")?, mode)?;
    let shape = ds.shape.iter().map(|&d| d as usize).collect();
    Ok(Array {
        mapping: std::sync::Arc::new(map),
        dtype: ds.dtype,
        byte_order: ds.byte_order,
        shape,
        fortran_order: false,
        mode: Some(mode),
        path: Some(src.path.clone()),
        file_offset: at,
        version: None,
        descr: ds.descr.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(start: &[u64], step: &[u64], count: &[u64]) -> Selection {
        Selection { start: start.to_vec(), step: step.to_vec(), count: count.to_vec() }
    }

    #[test]
    fn whole_run_finds_chunks_that_are_one_run_of_the_result() {
        // A (6, 4) dataset in chunks of (2, 4): a full read takes each chunk as 64 bytes of the result.
        let all = Selection::all(&[6, 4]);
        assert_eq!(whole_run(&[2, 4], &[0, 0], &all, 8, 64), Some(0));
        assert_eq!(whole_run(&[2, 4], &[4, 0], &all, 8, 64), Some(128));
        // Rows 2..6: the second chunk starts the result.
        assert_eq!(whole_run(&[2, 4], &[2, 0], &sel(&[2, 0], &[1, 1], &[4, 4]), 8, 64), Some(0));
        // One column, a step, part of a chunk, or chunks of (2, 2): not one run.
        assert_eq!(whole_run(&[2, 4], &[0, 0], &sel(&[0, 1], &[1, 1], &[6, 1]), 8, 64), None);
        assert_eq!(whole_run(&[2, 4], &[0, 0], &sel(&[0, 0], &[2, 1], &[3, 4]), 8, 64), None);
        assert_eq!(whole_run(&[2, 4], &[0, 0], &sel(&[1, 0], &[1, 1], &[5, 4]), 8, 64), None);
        assert_eq!(whole_run(&[2, 2], &[0, 0], &all, 8, 32), None);
        // A chunk of one row of a (6, 4) dataset in chunks of (1, 4), read with a step over rows: still whole.
        assert_eq!(whole_run(&[1, 4], &[2, 0], &sel(&[0, 0], &[2, 1], &[3, 4]), 8, 32), Some(32));
        // An edge chunk the dataset cuts (a (5, 4) dataset in chunks of (2, 4)): its last row is not selected.
        assert_eq!(whole_run(&[2, 4], &[4, 0], &Selection::all(&[5, 4]), 8, 64), None);
        // A chunk holding no selected element.
        assert_eq!(whole_run(&[2, 4], &[0, 0], &sel(&[4, 0], &[1, 1], &[2, 4]), 8, 64), None);
    }
}
