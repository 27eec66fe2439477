//! Where a dataset's elements are: the data layout (0x08), filter pipeline (0x0B) and
//! fill value (0x05, old 0x04) messages.
//!
//! ```text
//! layout, versions 3 to 5: version (u8), class (u8):
//!   0 compact     size (u16), the raw data
//!   1 contiguous  address, size (length)
//!   2 chunked v3  rank + 1 (u8), B-tree v1 address, chunk dims (rank + 1 x u32: the last
//!                 is the element size)
//!   2 chunked v4  flags (u8: 1 = don't filter partial edge chunks, 2 = single chunk
//!                 filtered), rank + 1 (u8), dim size width (u8), chunk dims (rank + 1 of
//!                 that width), index type (u8) and its parameters, index address:
//!                 1 single chunk (filtered: size (length), filter mask (u32))
//!                 2 implicit, 3 fixed array (page bits), 4 extensible array (5 x u8),
//!                 5 B-tree v2 (node size u32, split %, merge %)
//!   3 virtual     refused
//! version 5 (HDF5 2.0) is version 4's wire format; it only fixes the width of filtered
//!   chunk sizes in the chunk indexes, which are read from the entry and record sizes.
//! versions 1 and 2 (pre-1.6 files): rank, class, reserved, address, dims (u32 each),
//!   compact size and data.
//! filter pipeline: version (1 or 2), count (u8), v1: 6 reserved bytes; per filter:
//!   id (u16), name length (u16; v2: only for ids >= 256), flags (u16: 1 = optional),
//!   value count (u16), name (v1: padded to 8), values (u32 each; v1: padded to even)
//! fill value v1/v2: allocation time, write time, defined (3 x u8), [v1 always, v2 when
//!   defined: size (u32), value]; v3: flags (u8: bit 5 = value present), [size, value]
//! ```

use super::io::{bad, Cur};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub enum ChunkIndex {
    /// B-tree v1 (layout version 3) at this address.
    BTree1(Option<u64>),
    SingleChunk {
        addr: Option<u64>,
        filtered: Option<(u64, u32)>,
    },
    Implicit(Option<u64>),
    FixedArray {
        addr: Option<u64>,
        page_bits: u8,
    },
    ExtensibleArray {
        addr: Option<u64>,
    },
    BTree2(Option<u64>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    Compact(Vec<u8>),
    /// `None` address: never written (every element is the fill value).
    Contiguous {
        addr: Option<u64>,
        size: u64,
    },
    Chunked {
        dims: Vec<u64>,
        index: ChunkIndex,
        edge_unfiltered: bool,
    },
}

pub fn layout(c: &mut Cur, rank: usize) -> Result<Layout> {
    let version = c.u8()?;
    match version {
        1 | 2 => {
            let r = c.u8()? as usize;
            let class = c.u8()?;
            c.skip(5)?;
            let addr = if class != 0 { c.addr()? } else { None };
            let mut dims = Vec::new();
            for _ in 0..r {
                dims.push(c.u32()? as u64);
            }
            match class {
                0 => {
                    let n = c.u32()? as usize;
                    Ok(Layout::Compact(c.bytes(n)?.to_vec()))
                }
                1 => {
                    let size = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("a contiguous layout's size overflows"))?;
                    Ok(Layout::Contiguous { addr, size })
                }
                2 => {
                    dims.pop();
                    Ok(Layout::Chunked { dims, index: ChunkIndex::BTree1(addr), edge_unfiltered: false })
                }
                k => Err(bad(format!("data layout class {k} is not one HDF5 defines"))),
            }
        }
        3..=5 => {
            let class = c.u8()?;
            match class {
                0 => {
                    let n = c.u16()? as usize;
                    Ok(Layout::Compact(c.bytes(n)?.to_vec()))
                }
                1 => {
                    let addr = c.addr()?;
                    let size = c.length()?;
                    Ok(Layout::Contiguous { addr, size })
                }
                2 if version == 3 => {
                    let r = c.u8()? as usize;
                    let addr = c.addr()?;
                    let mut dims = Vec::new();
                    for _ in 0..r {
                        dims.push(c.u32()? as u64);
                    }
                    dims.pop();
                    check_chunk_rank(&dims, rank)?;
                    Ok(Layout::Chunked { dims, index: ChunkIndex::BTree1(addr), edge_unfiltered: false })
                }
                2 => {
                    let flags = c.u8()?;
                    let r = c.u8()? as usize;
                    let w = c.u8()? as usize;
                    if !(1..=8).contains(&w) {
                        return Err(bad(format!("a chunk dimension width of {w} bytes")));
                    }
                    let mut dims = Vec::new();
                    for _ in 0..r {
                        dims.push(c.uint(w)?);
                    }
                    dims.pop();
                    check_chunk_rank(&dims, rank)?;
                    let kind = c.u8()?;
                    let index = match kind {
                        1 => {
                            let filtered = if flags & 2 != 0 { Some((c.length()?, c.u32()?)) } else { None };
                            ChunkIndex::SingleChunk { addr: c.addr()?, filtered }
                        }
                        2 => ChunkIndex::Implicit(c.addr()?),
                        3 => {
                            let page_bits = c.u8()?;
                            ChunkIndex::FixedArray { addr: c.addr()?, page_bits }
                        }
                        4 => {
                            c.skip(5)?;
                            ChunkIndex::ExtensibleArray { addr: c.addr()? }
                        }
                        5 => {
                            c.skip(6)?;
                            ChunkIndex::BTree2(c.addr()?)
                        }
                        k => return Err(bad(format!("chunk index type {k} is not one HDF5 defines"))),
                    };
                    Ok(Layout::Chunked { dims, index, edge_unfiltered: flags & 1 != 0 })
                }
                3 => Err(crate::error::Error::new(
                    crate::error::ErrorKind::UnsupportedDtype,
                    "the dataset is virtual (a VDS mapping other files); mmnpy reads only stored datasets",
                )),
                k => Err(bad(format!("data layout class {k} is not one HDF5 defines"))),
            }
        }
        v => Err(bad(format!("data layout message version {v} is not one HDF5 defines (1 to 5)"))),
    }
}

fn check_chunk_rank(dims: &[u64], rank: usize) -> Result<()> {
    if dims.len() != rank {
        return Err(bad(format!("the chunk has {} dimensions, the dataset {rank}", dims.len())));
    }
    if dims.contains(&0) {
        return Err(bad("a chunk dimension is 0"));
    }
    Ok(())
}

/// One filter of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub id: u16,
    pub name: String,
    pub optional: bool,
    pub values: Vec<u32>,
}

pub const DEFLATE: u16 = 1;
pub const SHUFFLE: u16 = 2;
pub const FLETCHER32: u16 = 3;
pub const SZIP: u16 = 4;
pub const NBIT: u16 = 5;
pub const SCALEOFFSET: u16 = 6;
pub const LZF: u16 = 32000;

/// A filter's usual name (registered ids), for messages and `compression`.
pub fn filter_name(id: u16, declared: &str) -> String {
    match id {
        DEFLATE => "gzip".into(),
        SHUFFLE => "shuffle".into(),
        FLETCHER32 => "fletcher32".into(),
        SZIP => "szip".into(),
        NBIT => "nbit".into(),
        SCALEOFFSET => "scaleoffset".into(),
        LZF => "lzf".into(),
        307 => "bzip2".into(),
        32001 => "blosc".into(),
        32004 => "lz4".into(),
        32008 => "bitshuffle".into(),
        32015 => "zstd".into(),
        32017 => "sz".into(),
        32026 => "blosc2".into(),
        _ if !declared.is_empty() => format!("{declared} (filter {id})"),
        _ => format!("filter {id}"),
    }
}

pub fn filters(c: &mut Cur) -> Result<Vec<Filter>> {
    let version = c.u8()?;
    let n = c.u8()? as usize;
    if version == 1 {
        c.skip(6)?;
    } else if version != 2 {
        return Err(bad(format!("filter pipeline message version {version} is not one HDF5 defines (1, 2)")));
    }
    if n > 32 {
        return Err(bad(format!("a filter pipeline of {n} filters; HDF5 allows 32")));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = c.u16()?;
        let name_len = if version == 1 || id >= 256 { c.u16()? as usize } else { 0 };
        let flags = c.u16()?;
        let nvals = c.u16()? as usize;
        let name = if name_len > 0 {
            let raw = c.bytes(name_len)?;
            if version == 1 {
                c.align_from(name_len, 8)?;
            }
            String::from_utf8_lossy(raw.split(|&b| b == 0).next().unwrap_or(&[])).into_owned()
        } else {
            String::new()
        };
        let mut values = Vec::with_capacity(nvals);
        for _ in 0..nvals {
            values.push(c.u32()?);
        }
        if version == 1 && nvals % 2 == 1 {
            c.skip(4)?;
        }
        out.push(Filter { id, name, optional: flags & 1 != 0, values });
    }
    Ok(out)
}

/// The fill value's bytes, when one is defined (else elements never written read as 0).
pub fn fill_value(c: &mut Cur, old: bool) -> Result<Option<Vec<u8>>> {
    if old {
        let n = c.u32()? as usize;
        return Ok(if n == 0 { None } else { Some(c.bytes(n)?.to_vec()) });
    }
    let version = c.u8()?;
    match version {
        1 | 2 => {
            c.skip(2)?;
            let defined = c.u8()?;
            if version == 1 || defined != 0 {
                if c.remaining() < 4 {
                    return Ok(None);
                }
                let n = c.u32()? as usize;
                return Ok(if n == 0 { None } else { Some(c.bytes(n)?.to_vec()) });
            }
            Ok(None)
        }
        3 => {
            let flags = c.u8()?;
            if flags & 0x20 != 0 {
                let n = c.u32()? as usize;
                return Ok(if n == 0 { None } else { Some(c.bytes(n)?.to_vec()) });
            }
            Ok(None)
        }
        v => Err(bad(format!("fill value message version {v} is not one HDF5 defines (1 to 3)"))),
    }
}
