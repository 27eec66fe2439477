//! Writing a hyperslab of a dataset, and resizing a chunked one.
//!
//! Contiguous data are written in place (`pwrite` of each run of consecutive elements,
//! neighbouring runs merged); compact data in the header's copy. Chunked data go
//! chunk by chunk: the chunks the selection touches are built in batches of about
//! [`BATCH_BYTES`] on the kernel pool in parallel (a chunk the selection covers whole
//! starts from the fill value, any other from its stored bytes, decoded: read, modify,
//! write), each passed through the filter pipeline, then written. A batch is written
//! before the next is built, so a write holds its values plus about two batches,
//! whatever the dataset's size. A chunk written since the last commit is rewritten in
//! place when it still fits; one the last commit wrote is never overwritten (the new
//! version goes elsewhere, the old one stays valid for the committed file).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::super::filters;
use super::super::io::{bad, Source};
use super::super::layout::Layout;
use super::super::read::{first_in, for_each_run, Selection};
use super::model::{DNode, Slot};
use super::Alloc;
use crate::error::{Error, ErrorKind, Result};
use crate::kernels::pool;

/// Bytes of chunks (decoded) built per batch.
pub const BATCH_BYTES: u64 = 64 << 20;
/// Alignment of contiguous data (any dtype maps zero-copy).
pub const DATA_ALIGN: u64 = 64;

fn fill_pattern(d: &DNode) -> Vec<u8> {
    d.ds.fill.clone().unwrap_or_else(|| vec![0u8; d.ds.itemsize()])
}

fn filled(pattern: &[u8], n: usize) -> Vec<u8> {
    if pattern.iter().all(|&b| b == 0) {
        return vec![0u8; n];
    }
    let mut v = Vec::with_capacity(n);
    while v.len() + pattern.len() <= n {
        v.extend_from_slice(pattern);
    }
    v.resize(n, 0);
    v
}

fn nbytes(shape: &[u64], itemsize: usize) -> Result<u64> {
    shape.iter().try_fold(itemsize as u64, |a, &d| a.checked_mul(d)).ok_or_else(|| Error::new(ErrorKind::BadShape, "the dataset's size overflows 64 bits"))
}

/// Writes the selected elements (`values`, C order over `sel.count`, the dataset's
/// dtype and byte order). Returns whether the dataset's metadata changed.
pub fn write(src: &Source, alloc: &mut Alloc, d: &mut DNode, sel: &Selection, values: &[u8]) -> Result<bool> {
    if d.ds.vlen_str {
        return Err(Error::new(ErrorKind::UnsupportedDtype, "the dataset holds variable-length strings, which mmnpy does not write"));
    }
    sel.check(&d.ds.shape)?;
    let itemsize = d.ds.itemsize();
    let n = nbytes(&sel.count, itemsize)?;
    if values.len() as u64 != n {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("{} bytes of values for a selection of {n} bytes", values.len())));
    }
    if n == 0 {
        return Ok(false);
    }
    let shape = d.ds.shape.clone();
    match &mut d.ds.layout {
        Layout::Compact(bytes) => {
            if (bytes.len() as u64) < nbytes(&shape, itemsize)? {
                return Err(bad("the compact data are shorter than the dataset"));
            }
            for_each_run(&shape, &vec![0; shape.len()], sel, itemsize, |bo, vo, k, step| put_run(bytes, bo, values, vo, k, step, itemsize));
            d.changed();
            Ok(true)
        }
        Layout::Contiguous { .. } => {
            let (addr, changed) = allocate_contiguous(src, alloc, d)?;
            write_runs(src, src.base + addr, &shape, sel, values, itemsize)?;
            Ok(changed)
        }
        Layout::Chunked { .. } => {
            let dims = match &d.ds.layout {
                Layout::Chunked { dims, .. } => dims.clone(),
                _ => unreachable!(),
            };
            let origins = touched(sel, &dims, &shape);
            // Chunks whose elements (inside the shape) are all selected need not be read.
            let whole = |origin: &[u64]| {
                (0..dims.len()).all(|k| {
                    let hi = (origin[k] + dims[k]).min(shape[k]);
                    let (s, st, c) = (sel.start[k], sel.step[k], sel.count[k]);
                    c > 0 && (st == 1 || c == 1) && s <= origin[k] && s + (c - 1) * st + 1 >= hi
                })
            };
            rebuild(src, alloc, d, &dims, &origins, whole, |buf, origin| {
                for_each_run(&dims, origin, sel, itemsize, |bo, vo, k, step| put_run(buf, bo, values, vo, k, step, itemsize));
                Ok(())
            })?;
            Ok(true)
        }
    }
}

/// Copies `k` consecutive values at `vo` into the block at `bo`, `step` bytes apart.
fn put_run(block: &mut [u8], bo: usize, values: &[u8], vo: usize, k: usize, step: usize, itemsize: usize) {
    if step == itemsize {
        block[bo..bo + k * itemsize].copy_from_slice(&values[vo..vo + k * itemsize]);
    } else {
        for j in 0..k {
            block[bo + j * step..bo + j * step + itemsize].copy_from_slice(&values[vo + j * itemsize..vo + (j + 1) * itemsize]);
        }
    }
}

/// The contiguous data's address, allocating (aligned, filled) when never written.
fn allocate_contiguous(src: &Source, alloc: &mut Alloc, d: &mut DNode) -> Result<(u64, bool)> {
    let Layout::Contiguous { addr, size } = &d.ds.layout else { return Err(bad("not contiguous")) };
    let need = nbytes(&d.ds.shape, d.ds.itemsize())?;
    if let Some(a) = addr {
        // Writing past a region smaller than the dataset would overwrite whatever follows it.
        if *size < need {
            return Err(bad(format!("the contiguous data hold {size} bytes, the dataset {need}")));
        }
        return Ok((*a, false));
    }
    // The size a never-written layout declares is not trusted: HDF5 declares the dataset's
    // own size there, and a hostile larger one made a write allocate and fill all of it.
    let a = alloc.take(need, DATA_ALIGN)?;
    alloc.extend_file(src)?;
    fill_region(src, src.base + a, need, &fill_pattern(d))?;
    d.ds.layout = Layout::Contiguous { addr: Some(a), size: need };
    d.changed();
    Ok((a, true))
}

/// Writes the fill value over a fresh region (zeros are the file's holes already).
pub fn fill_region(src: &Source, at: u64, len: u64, pattern: &[u8]) -> Result<()> {
    if pattern.iter().all(|&b| b == 0) || len == 0 {
        return Ok(());
    }
    let block = filled(pattern, (4 << 20) / pattern.len() * pattern.len());
    let mut done = 0u64;
    while done < len {
        let k = (len - done).min(block.len() as u64) as usize;
        src.write_at(at + done, &block[..k])?;
        done += k as u64;
    }
    Ok(())
}

/// Writes the runs of a selection of contiguous data at file position `at`.
fn write_runs(src: &Source, at: u64, shape: &[u64], sel: &Selection, values: &[u8], itemsize: usize) -> Result<()> {
    let mut pending: Option<(usize, usize, usize)> = None;
    let mut result = Ok(());
    let flush = |p: (usize, usize, usize), result: &mut Result<()>| {
        if result.is_ok() {
            *result = src.write_at(at + p.0 as u64, &values[p.1..p.1 + p.2]);
        }
    };
    for_each_run(shape, &vec![0; shape.len()], sel, itemsize, |bo, vo, k, step| {
        let runs: Box<dyn Iterator<Item = (usize, usize, usize)>> = if step == itemsize {
            Box::new(std::iter::once((bo, vo, k * itemsize)))
        } else {
            Box::new((0..k).map(move |j| (bo + j * step, vo + j * itemsize, itemsize)))
        };
        for r in runs {
            pending = match pending {
                Some(p) if p.0 + p.2 == r.0 && p.1 + p.2 == r.1 => Some((p.0, p.1, p.2 + r.2)),
                Some(p) => {
                    flush(p, &mut result);
                    Some(r)
                }
                None => Some(r),
            };
        }
    });
    if let Some(p) = pending {
        flush(p, &mut result);
    }
    result
}

/// The origins of the chunks holding a selected element, in C order.
fn touched(sel: &Selection, dims: &[u64], shape: &[u64]) -> Vec<Vec<u64>> {
    let r = dims.len();
    let mut axes: Vec<Vec<u64>> = Vec::with_capacity(r);
    for d in 0..r {
        if sel.count[d] == 0 {
            return Vec::new();
        }
        let lo = sel.start[d] / dims[d];
        let hi = (sel.start[d] + (sel.count[d] - 1) * sel.step[d]).min(shape[d].saturating_sub(1)) / dims[d];
        axes.push((lo..=hi).map(|k| k * dims[d]).filter(|&o| first_in(sel.start[d], sel.step[d], sel.count[d], o, dims[d]).is_some()).collect());
    }
    let mut out = vec![Vec::with_capacity(r)];
    for a in &axes {
        let mut next = Vec::with_capacity(out.len() * a.len());
        for prefix in &out {
            for &o in a {
                let mut p = prefix.clone();
                p.push(o);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// Rebuilds the chunks at `origins`: each starts from its stored bytes (or the fill value
/// when it has none, or when `edit` will overwrite all of it), `edit` changes it, and
/// it is encoded and stored; batch by batch, the building in parallel.
/// HDF5 never makes a chunk longer than a fixed dimension (`H5D__chunk_construct`: "chunk
/// size must be <= maximum dimension size for fixed-sized dimensions", unless the dimension
/// is empty). A file that has one was not written by HDF5; reading it is harmless (reads clip
/// to the shape), but rewriting a chunk would allocate and compress the whole oversized chunk
/// (a 13 KB fuzzed file asked for 1 GiB chunks of a 4x6 dataset), so it is refused.
fn check_chunk_dims(d: &DNode, dims: &[u64]) -> Result<()> {
    let fixed = |k: usize| d.ds.maxshape.get(k).copied().flatten();
    match (0..dims.len()).find(|&k| d.ds.shape.get(k).is_some_and(|&s| s > 0) && fixed(k).is_some_and(|m| dims[k] > m)) {
        Some(k) => Err(bad(format!(
            "its chunks {dims:?} are longer than its fixed axis {k} ({} elements): HDF5 never writes such a layout, and mmnpy does not rewrite one",
            fixed(k).unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

fn rebuild(
    src: &Source,
    alloc: &mut Alloc,
    d: &mut DNode,
    dims: &[u64],
    origins: &[Vec<u64>],
    whole: impl Fn(&[u64]) -> bool + Sync,
    edit: impl Fn(&mut Vec<u8>, &[u64]) -> Result<()> + Sync,
) -> Result<()> {
    if origins.is_empty() {
        return Ok(());
    }
    filters::check_encodable(&d.ds.filters)?;
    check_chunk_dims(d, dims)?;
    let itemsize = d.ds.itemsize();
    let chunk_bytes = nbytes(dims, itemsize)?;
    let per_batch = ((BATCH_BYTES / chunk_bytes.max(1)) as usize).max(pool::threads()).max(1);
    let pattern = fill_pattern(d);
    for batch in origins.chunks(per_batch) {
        let dn: &DNode = d;
        let build = |origin: &Vec<u64>| -> Result<Vec<u8>> {
            let mut buf = match dn.chunks.get(origin) {
                Some(s) if !whole(origin) => stored(src, dn, s, chunk_bytes as usize)?,
                _ => filled(&pattern, chunk_bytes as usize),
            };
            edit(&mut buf, origin)?;
            let enc = filters::encode(&dn.ds.filters, buf, itemsize)?;
            if enc.len() as u64 > u32::MAX as u64 {
                return Err(Error::new(ErrorKind::InvalidArgument, "a chunk encodes to more than 4 GiB, HDF5's limit"));
            }
            Ok(enc)
        };
        let built: Vec<Result<Vec<u8>>> = pool::install_if(batch.len() > 1, || batch.par_iter().map(build).collect());
        for (origin, enc) in batch.iter().zip(built) {
            store(src, alloc, &mut d.chunks, origin, &enc?)?;
        }
    }
    d.changed();
    d.index_dirty = true;
    Ok(())
}

/// A stored chunk's bytes, decoded.
fn stored(src: &Source, d: &DNode, s: &Slot, chunk_bytes: usize) -> Result<Vec<u8>> {
    if s.size > src.file_len() {
        return Err(bad(format!("a chunk claims {} bytes, more than the file holds", s.size)));
    }
    let raw = src.raw(s.addr, s.size, "chunk")?;
    let data = if d.ds.filters.is_empty() { raw } else { filters::decode(&d.ds.filters, s.mask, raw, chunk_bytes)? };
    if data.len() != chunk_bytes {
        return Err(bad(format!("a chunk holds {} bytes, {chunk_bytes} expected", data.len())));
    }
    Ok(data)
}

fn store(src: &Source, alloc: &mut Alloc, chunks: &mut BTreeMap<Vec<u64>, Slot>, origin: &[u64], enc: &[u8]) -> Result<()> {
    let len = enc.len() as u64;
    let addr = match chunks.get(origin) {
        Some(s) if s.fresh && s.cap >= len => s.addr,
        Some(s) => {
            if s.fresh {
                alloc.give(s.addr, s.cap);
            }
            alloc.take(len, 8)?
        }
        None => alloc.take(len, 8)?,
    };
    src.write_at(src.base + addr, enc)?;
    let cap = chunks.get(origin).filter(|s| s.fresh && s.addr == addr).map_or(len, |s| s.cap);
    chunks.insert(origin.to_vec(), Slot { addr, size: len, cap, mask: 0, fresh: true });
    Ok(())
}

/// Changes the shape of a chunked dataset within its maxshape. Chunks now wholly
/// outside are dropped; the parts of boundary chunks outside the new shape are reset
/// to the fill value (as HDF5 does, so growing again shows the fill value there).
pub fn resize(src: &Source, alloc: &mut Alloc, d: &mut DNode, shape: &[u64]) -> Result<()> {
    let name = d.ds.name.clone();
    let dims = match &d.ds.layout {
        Layout::Chunked { dims, .. } => dims.clone(),
        Layout::Contiguous { .. } | Layout::Compact(_) => {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("'{name}' is not chunked: only chunked datasets can be resized (as in h5py)")));
        }
    };
    let old = d.ds.shape.clone();
    if shape.len() != old.len() {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("a shape of {} dimensions for '{name}', which has {}", shape.len(), old.len())));
    }
    for (k, (&s, m)) in shape.iter().zip(&d.ds.maxshape).enumerate() {
        if let Some(m) = m {
            if s > *m {
                let show: Vec<String> = d.ds.maxshape.iter().map(|m| m.map_or("None".into(), |v| v.to_string())).collect();
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("cannot resize '{name}' to {shape:?}: axis {k} passes its maxshape ({})", show.join(", ")),
                ));
            }
        }
    }
    nbytes(shape, d.ds.itemsize())?;
    let mut dropped = false;
    let chunks = std::mem::take(&mut d.chunks);
    for (o, s) in chunks {
        if o.iter().zip(shape).any(|(&a, &b)| a >= b) {
            if s.fresh {
                alloc.give(s.addr, s.cap);
            }
            dropped = true;
        } else {
            d.chunks.insert(o, s);
        }
    }
    let boundary: Vec<Vec<u64>> = d.chunks.keys().filter(|o| (0..dims.len()).any(|k| shape[k] < old[k] && o[k] + dims[k] > shape[k])).cloned().collect();
    let itemsize = d.ds.itemsize();
    let pattern = fill_pattern(d);
    rebuild(
        src,
        alloc,
        d,
        &dims,
        &boundary,
        |_| false,
        |buf, origin| {
            for k in 0..dims.len() {
                if origin[k] + dims[k] <= shape[k] {
                    continue;
                }
                let mut start = vec![0; dims.len()];
                let mut count = dims.clone();
                start[k] = shape[k] - origin[k];
                count[k] = dims[k] - start[k];
                let outside = Selection { start, step: vec![1; dims.len()], count };
                for_each_run(&dims, &vec![0; dims.len()], &outside, itemsize, |bo, _, n, step| {
                    for j in 0..n {
                        buf[bo + j * step..bo + j * step + itemsize].copy_from_slice(&pattern);
                    }
                });
            }
            Ok(())
        },
    )?;
    if dropped {
        d.index_dirty = true;
    }
    d.ds.shape = shape.to_vec();
    d.changed();
    Ok(())
}
