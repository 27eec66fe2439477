//! Chunk indexes of layout version 4 (`libver='latest'`).
//!
//! ```text
//! single chunk   the index address is the chunk's; its size is the chunk's (or, when
//!                filtered, the size and filter mask stored in the layout message)
//! implicit       chunks in grid order from the index address, each the chunk's size
//! fixed array, extensible array, B-tree v2: see their parsers below
//! ```

use super::btree1::ChunkEntry;
use super::io::{bad, Source};
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
        ChunkIndex::FixedArray { .. } | ChunkIndex::ExtensibleArray { .. } | ChunkIndex::BTree2(_) => {
            Err(bad("this chunk index (fixed array, extensible array or B-tree v2, libver='latest') is not read yet"))
        }
        ChunkIndex::BTree1(_) => Err(bad("a B-tree v1 chunk index in a version 4 layout")),
    }
}
