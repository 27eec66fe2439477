//! Dense link and attribute storage (`libver='latest'` groups with many links, objects
//! with many attributes): a fractal heap of records indexed by a B-tree v2 of name hashes.

use super::io::{bad, Source};
use crate::error::Result;

/// The records (link or attribute messages) of a dense storage, in no particular order.
pub fn records(_src: &Source, heap: u64, _names: u64) -> Result<Vec<Vec<u8>>> {
    Err(bad(format!("dense link/attribute storage (fractal heap at {heap:#x}) is not read yet")))
}
