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
//! extensible array (one unlimited dimension): header "EAHD": version 0, client, element
//!               size, max elements bits, index block elements, data block min elements,
//!               super block min data block pointers, max data block page bits (u8 each),
//!               6 statistics (lengths: the 5th is the max index set), index block address,
//!               checksum; index block "EAIB": version, client, header address, elements,
//!               data block addresses, super block addresses, checksum; super block u has
//!               2^(u/2) data blocks of 2^((u+1)/2) x min elements; the index block points
//!               at the data blocks of the first 2 log2(min pointers) super blocks, and at
//!               super blocks "EASB" (version, client, header address, block offset, [page
//!               bitmaps], data block addresses, checksum) after them; data block "EADB":
//!               version, client, header address, block offset, elements (or pages), checksum;
//!               entry i is the chunk whose unlimited axis index, moved first, makes C-order
//!               index i over the chunk grid
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
        ChunkIndex::ExtensibleArray { addr: Some(a) } => extensible_array(src, ds, dims, *a),
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
    let n = c.length()?;
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
        for &d in dims {
            offset.push(c.u64()?.checked_mul(d).ok_or_else(|| bad("a chunk offset overflows"))?);
        }
        if let Some(addr) = a {
            out.push(ChunkEntry { offset, size, mask, addr });
        }
    }
    Ok(out)
}

/// The most entries an extensible array is walked for (a chunk index of 2^32 chunks is absurd).
const MAX_EA_ENTRIES: u64 = 1 << 32;

fn extensible_array(src: &Source, ds: &Dataset, dims: &[u64], addr: u64) -> Result<Vec<ChunkEntry>> {
    let os = src.offset_size as u64;
    let ls = src.length_size as u64;
    let h = src.meta(addr, 4 + 2 + 6 + 6 * ls + os + 4, "extensible array header")?;
    let mut c = src.cur(&h, "extensible array header");
    c.expect_sig(b"EAHD", addr)?;
    c.u8()?;
    let client = c.u8()?;
    let esize = c.u8()? as u64;
    let max_bits = c.u8()? as u32;
    let ib_elems = c.u8()? as u64;
    let db_min = c.u8()? as u64;
    let sb_min_ptrs = c.u8()? as u64;
    let page_bits = c.u8()? as u32;
    let mut stats = [0u64; 6];
    for s in &mut stats {
        *s = c.length()?;
    }
    let iblock = c.addr()?;
    verify_checksum(&h, c.at, "extensible array header", addr)?;
    let max_set = stats[4];
    if esize < os || max_bits == 0 || max_bits > 64 || !db_min.is_power_of_two() || !sb_min_ptrs.is_power_of_two() || page_bits > 32 || max_set > MAX_EA_ENTRIES
    {
        return Err(bad(format!("the extensible array at {addr:#x} has invalid parameters")));
    }
    let Some(iblock) = iblock else { return Ok(Vec::new()) };
    let log2 = |x: u64| 63 - x.leading_zeros() as u64;
    let nsblks = 1 + (max_bits as u64).saturating_sub(log2(db_min));
    let ib_nsblks = 2 * log2(sb_min_ptrs);
    let ndblk_addrs = 2 * (sb_min_ptrs - 1);
    let nsblk_addrs = nsblks.saturating_sub(ib_nsblks);
    let off_bytes = (max_bits as usize).div_ceil(8);
    let page = 1u64 << page_bits;
    let ib_len = 4 + 2 + os + ib_elems * esize + (ndblk_addrs + nsblk_addrs) * os + 4;
    let ib = src.meta(iblock, ib_len, "extensible array index block")?;
    let mut c = src.cur(&ib, "extensible array index block");
    c.expect_sig(b"EAIB", iblock)?;
    c.skip(2 + os as usize)?;
    let elems = c.bytes((ib_elems * esize) as usize)?;
    let mut dblk_addrs = Vec::new();
    for _ in 0..ndblk_addrs {
        dblk_addrs.push(c.addr()?);
    }
    let mut sblk_addrs = Vec::new();
    for _ in 0..nsblk_addrs {
        sblk_addrs.push(c.addr()?);
    }
    verify_checksum(&ib, c.at, "extensible array index block", iblock)?;

    // The chunk grid with the unlimited axis first.
    let unlim = ds.maxshape.iter().position(|m| m.is_none()).unwrap_or(0);
    let rank = dims.len();
    let mut order: Vec<usize> = vec![unlim];
    order.extend((0..rank).filter(|&d| d != unlim));
    let counts: Vec<u64> = order.iter().map(|&d| if d == unlim { u64::MAX } else { ds.maxshape[d].unwrap_or(ds.shape[d]).div_ceil(dims[d]) }).collect();
    let offset = |mut i: u64| -> Vec<u64> {
        let mut off = vec![0u64; rank];
        for k in (1..rank).rev() {
            let n = counts[k].max(1);
            off[order[k]] = (i % n) * dims[order[k]];
            i /= n;
        }
        off[order[0]] = i.saturating_mul(dims[order[0]]);
        off
    };
    let chunk_bytes = dims.iter().product::<u64>() * ds.itemsize() as u64;
    let mut out = Vec::new();
    let mut push = |i: u64, e: &[u8]| -> Result<()> {
        if i < max_set {
            if let Some(ce) = entry(src, e, client == 1, chunk_bytes, offset(i))? {
                out.push(ce);
            }
        }
        Ok(())
    };
    for (i, e) in elems.chunks(esize as usize).enumerate() {
        push(i as u64, e)?;
    }
    // Data blocks, super block by super block.
    let mut start = ib_elems;
    let mut first_dblk = 0u64;
    for u in 0..nsblks {
        if start >= max_set {
            break;
        }
        let ndblks = 1u64 << (u / 2);
        let nelems = (1u64 << u.div_ceil(2)) * db_min;
        let addrs: Vec<Option<u64>> = if u < ib_nsblks {
            (0..ndblks).map(|j| dblk_addrs.get((first_dblk + j) as usize).copied().flatten()).collect()
        } else {
            match sblk_addrs.get((u - ib_nsblks) as usize).copied().flatten() {
                None => vec![None; ndblks as usize],
                Some(sb) => {
                    let npages = if nelems > page { nelems / page } else { 0 };
                    let bitmap = if npages > 0 { ndblks * npages.div_ceil(8) } else { 0 };
                    let len = 4 + 2 + os + off_bytes as u64 + bitmap + ndblks * os + 4;
                    let b = src.meta(sb, len, "extensible array super block")?;
                    let mut c = src.cur(&b, "extensible array super block");
                    c.expect_sig(b"EASB", sb)?;
                    c.skip(2 + os as usize + off_bytes + bitmap as usize)?;
                    let mut v = Vec::new();
                    for _ in 0..ndblks {
                        v.push(c.addr()?);
                    }
                    v
                }
            }
        };
        for (j, a) in addrs.into_iter().enumerate() {
            let base = start + j as u64 * nelems;
            let Some(db) = a else { continue };
            if base >= max_set {
                break;
            }
            let prefix = 4 + 2 + os + off_bytes as u64;
            let paged = nelems > page;
            let len = if paged { prefix + 4 + nelems * esize + (nelems / page) * 4 } else { prefix + nelems * esize + 4 };
            let b = src.meta(db, len, "extensible array data block")?;
            if &b[..4] != b"EADB" {
                return Err(bad(format!("no extensible array data block ('EADB') at {db:#x}")));
            }
            let mut at = prefix as usize + if paged { 4 } else { 0 };
            for k in 0..nelems {
                if paged && k > 0 && k % page == 0 {
                    at += 4;
                }
                push(base + k, &b[at..at + esize as usize])?;
                at += esize as usize;
            }
        }
        start += ndblks * nelems;
        first_dblk += ndblks;
    }
    Ok(out)
}
