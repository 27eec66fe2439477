//! Heaps: the local heap (link names of a symbol-table group) and global heap
//! collections (variable-length strings).
//!
//! ```text
//! local heap: "HEAP", version 0, reserved (3), data segment size (length),
//!   offset of the free list head (length), data segment address
//!   names are NUL-terminated strings at offsets into the data segment
//! global heap collection: "GCOL", version 1, reserved (3), collection size (length);
//!   objects: index (u16; 0 = free space, ends the list), reference count (u16),
//!   reserved (4), size (length), data (padded to 8)
//! a global heap ID (in a vlen element): collection address, object index (u32)
//! ```

use std::collections::HashMap;

use super::io::{bad, Source};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct LocalHeap {
    pub data: Vec<u8>,
}

impl LocalHeap {
    pub fn read(src: &Source, addr: u64) -> Result<LocalHeap> {
        let n = 8 + 3 * src.length_size as u64;
        let head = src.meta(addr, n + src.offset_size as u64 - src.length_size as u64, "local heap")?;
        let mut c = src.cur(&head, "local heap");
        c.expect_sig(b"HEAP", addr)?;
        let version = c.u8()?;
        if version != 0 {
            return Err(bad(format!("local heap version {version} at {addr:#x}; HDF5 defines 0")));
        }
        c.skip(3)?;
        let size = c.length()?;
        c.length()?;
        let data_addr = c.addr()?.ok_or_else(|| bad("a local heap without a data segment"))?;
        Ok(LocalHeap { data: src.meta(data_addr, size, "local heap data segment")? })
    }

    /// The NUL-terminated string at `offset`.
    pub fn name(&self, offset: u64) -> Result<Vec<u8>> {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.data.get(o..))
            .ok_or_else(|| bad(format!("a link name offset {offset} past the local heap's end")))?;
        let n = rest.iter().position(|&b| b == 0).ok_or_else(|| bad("an unterminated link name in the local heap"))?;
        Ok(rest[..n].to_vec())
    }
}

/// Reads object `index` of the global heap collection at `addr`.
pub fn global_object(src: &Source, addr: u64, index: u32) -> Result<Vec<u8>> {
    collection(src, addr)?.remove(&index).ok_or_else(|| bad(format!("no object {index} in the global heap collection at {addr:#x}")))
}

/// Every object of the global heap collection at `addr`, by index.
fn collection(src: &Source, addr: u64) -> Result<HashMap<u32, Vec<u8>>> {
    let head = src.meta(addr, 8 + src.length_size as u64, "global heap collection")?;
    let mut c = src.cur(&head, "global heap collection");
    c.expect_sig(b"GCOL", addr)?;
    let version = c.u8()?;
    if version != 1 {
        return Err(bad(format!("global heap version {version} at {addr:#x}; HDF5 defines 1")));
    }
    c.skip(3)?;
    let size = c.length()?;
    let block = src.meta(addr, size, "global heap collection")?;
    let mut c = src.cur(&block, "global heap collection");
    c.skip(8 + src.length_size as usize)?;
    let mut out = HashMap::new();
    while c.remaining() >= 8 + src.length_size as usize {
        let idx = c.u16()?;
        c.skip(6)?;
        let n = c.length()?;
        if idx == 0 {
            break;
        }
        let n = usize::try_from(n).map_err(|_| bad("a global heap object size overflows"))?;
        out.insert(idx as u32, c.bytes(n)?.to_vec());
        c.align_from(n, 8)?;
    }
    Ok(out)
}

/// Global heap collections read so far (each is read once however many strings it holds).
#[derive(Default)]
pub struct GlobalHeap {
    collections: HashMap<u64, HashMap<u32, Vec<u8>>>,
}

impl GlobalHeap {
    /// The bytes of a variable-length element `(length u32, collection address,
    /// object index u32)`; an undefined address or length 0 is empty.
    pub fn vlen_bytes(&mut self, src: &Source, e: &[u8]) -> Result<&[u8]> {
        let mut c = src.cur(e, "variable-length element");
        let len = c.u32()? as usize;
        let coll = c.addr()?;
        let index = c.u32()?;
        let Some(addr) = coll.filter(|_| len > 0) else { return Ok(&[]) };
        let objects = match self.collections.entry(addr) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(collection(src, addr)?),
        };
        let obj = objects.get(&index).ok_or_else(|| bad(format!("no object {index} in the global heap collection at {addr:#x}")))?;
        obj.get(..len).ok_or_else(|| bad("a variable-length string longer than its heap object"))
    }
}
