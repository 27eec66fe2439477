//! Chunk indexes of layout version 4 (`libver='latest'`).
//!
//! ```text
//! single chunk   the index address is the chunk's; its size is the chunk's (or, when
//!                filtered, the size and filter mask stored in the layout message)
//! implicit       chunks in grid order from the index address, each the chunk's size
//! fixed array   header "FAHD": version 0, client (u8: 0 plain chunks, 1 filtered), entry
//!               size (u8), page bits (u8), entries (length), data block address, checksum;
//!               data block "FADB": version, client, header address, [page bitmap when
//!               paged], entries (or pages of 2^page bits entries + checksum each), checksum;
//!               entry: address, [filtered: chunk size (entry size - address - 4 bytes),
//!               filter mask (u32)]; entry i is chunk i of the grid over the max dims, C order
//! B-tree v2     records of type 10 (address, scaled offsets: rank x u64) or 11 (address,
//!               chunk size, filter mask, scaled offsets); offset = scaled x chunk dims
//! ```

use super::btree1::ChunkEntry;
use super::btree2;
use super::io::{bad, verify_checksum, Source};
use super::layout::ChunkIndex;
use super::Dataset;
use crate::error::Result;

/// The chunk grid: chunks per axis, and each chunk's element offset from its linear index.
fn grid(shape: &[u64], dims: &[u64]) -> Vec<u64> {
    shape.iter().zip(dims).map(|(&s, &c)| s.div_ceil(c)).collect()
}

fn offset_of(mut i: u64, grid: &[u64], dims: &[u64]) -> Vec<u64> {
    let mut off = vec![0; grid.len()];
    for d in (0..grid.len()).rev() {
        off[d] = (i % grid[d]) * dims[d];
        i /= grid[d];
    }
    off
}

pub(crate) fn entries(src: &Source, ds: &Dataset, dims: &[u64], index: &ChunkIndex) -> Result<Vec<ChunkEntry>> {
    let chunk_bytes = dims.iter().product::<u64>() * ds.itemsize() as u64;
    match index {
        ChunkIndex::SingleChunk { addr: None, .. } | ChunkIndex::Implicit(None) => Ok(Vec::new()),
        ChunkIndex::SingleChunk { addr: Some(a), filtered } => {
            let (size, mask) = filtered.unwrap_or((chunk_bytes, 0));
            Ok(vec![ChunkEntry { offset: vec![0; dims.len()], size, mask, addr: *a }])
        }
        ChunkIndex::Implicit(Some(a)) => {
            let g = grid(&ds.shape, dims);
            let n = g.iter().try_fold(1u64, |x, &y| x.checked_mul(y)).ok_or_else(|| bad("the chunk grid overflows"))?;
            src.checked(*a, n.checked_mul(chunk_bytes).ok_or_else(|| bad("the chunk grid overflows"))?, "implicit chunk index")?;
            Ok((0..n).map(|i| ChunkEntry { offset: offset_of(i, &g, dims), size: chunk_bytes, mask: 0, addr: a + i * chunk_bytes }).collect())
        }
        ChunkIndex::FixedArray { addr: None, .. } | ChunkIndex::BTree2(None) | ChunkIndex::ExtensibleArray { addr: None } => Ok(Vec::new()),
        ChunkIndex::FixedArray { addr: Some(a), .. } => fixed_array(src, ds, dims, *a),
        ChunkIndex::BTree2(Some(a)) => btree2_chunks(src, ds, dims, *a),
        ChunkIndex::ExtensibleArray { .. } => {
            Err(bad("an extensible-array chunk index (a libver='latest' dataset with one unlimited dimension), which mmnpy does not read yet"))
        }
        ChunkIndex::BTree1(_) => Err(bad("a B-tree v1 chunk index in a version 4 layout")),
    }
}

/// Reads one chunk entry of a fixed or extensible array.
fn entry(src: &Source, e: &[u8], filtered: bool, chunk_bytes: u64, offset: Vec<u64>) -> Result<Option<ChunkEntry>> {
    let mut c = src.cur(e, "chunk index entry");
    let addr = c.addr()?;
    let (size, mask) = if filtered {
        let n = e.len().checked_sub(src.offset_size as usize + 4).ok_or_else(|| bad("a filtered chunk entry too short"))?;
        (c.uint(n)?, c.u32()?)
    } else {
        (chunk_bytes, 0)
    };
    Ok(addr.map(|addr| ChunkEntry { offset, size, mask, addr }))
}

fn fixed_array(src: &Source, ds: &Dataset, dims: &[u64], addr: u64) -> Result<Vec<ChunkEntry>> {
    let os = src.offset_size as u64;
    let h = src.meta(addr, 8 + src.length_size as u64 + os + 4, "fixed array header")?;
    let mut c = src.cur(&h, "fixed array header");
    c.expect_sig(b"FAHD", addr)?;
    c.u8()?;
    let client = c.u8()?;
    let esize = c.u8()? as u64;
    let page_bits = c.u8()? as u32;
    let n = c.len()?;
    let block = c.addr()?;
    verify_checksum(&h, c.at, "fixed array header", addr)?;
    let max: Vec<u64> = ds.maxshape.iter().zip(&ds.shape).map(|(m, &s)| m.unwrap_or(s)).collect();
    let g = grid(&max, dims);
    let expect = g.iter().try_fold(1u64, |x, &y| x.checked_mul(y)).ok_or_else(|| bad("the chunk grid overflows"))?;
    if n != expect || esize < os || page_bits > 32 {
        return Err(bad(format!("the fixed array at {addr:#x} holds {n} entries of {esize} bytes; the chunk grid has {expect}")));
    }
    let Some(block) = block else { return Ok(Vec::new()) };
    let chunk_bytes = dims.iter().product::<u64>() * ds.itemsize() as u64;
    let page = 1u64 << page_bits;
    let paged = n > page;
    let npages = n.div_ceil(page);
    let prefix = 4 + 2 + os + if paged { npages.div_ceil(8) } else { 0 };
    let total = if paged { prefix + 4 + n * esize + npages * 4 } else { prefix + n * esize + 4 };
    let b = src.meta(block, total, "fixed array data block")?;
    if &b[..4] != b"FADB" {
        return Err(bad(format!("no fixed array data block ('FADB') at {block:#x}")));
    }
    let mut out = Vec::new();
    let mut at = prefix as usize + if paged { 4 } else { 0 };
    for i in 0..n {
        if paged && i > 0 && i % page == 0 {
            at += 4;
        }
        let e = &b[at..at + esize as usize];
        at += esize as usize;
        if let Some(ce) = entry(src, e, client == 1, chunk_bytes, offset_of(i, &g, dims))? {
            out.push(ce);
        }
    }
    Ok(out)
}

fn btree2_chunks(src: &Source, ds: &Dataset, dims: &[u64], addr: u64) -> Result<Vec<ChunkEntry>> {
    let rank = dims.len();
    let filtered = !ds.filters.is_empty();
    let kind = if filtered { 11 } else { 10 };
    let chunk_bytes = dims.iter().product::<u64>() * ds.itemsize() as u64;
    let mut out = Vec::new();
    for r in btree2::records(src, addr, kind)? {
        let mut c = src.cur(&r, "chunk B-tree v2 record");
        let a = c.addr()?;
        let (size, mask) = if filtered {
            let n = r.len().checked_sub(src.offset_size as usize + 4 + 8 * rank).ok_or_else(|| bad("a chunk record too short"))?;
            (c.uint(n)?, c.u32()?)
        } else {
            (chunk_bytes, 0)
        };
        let mut offset = Vec::with_capacity(rank);
        for d in 0..rank {
            offset.push(c.u64()?.checked_mul(dims[d]).ok_or_else(|| bad("a chunk offset overflows"))?);
        }
        if let Some(addr) = a {
            out.push(ChunkEntry { offset, size, mask, addr });
        }
    }
    Ok(out)
}
