//! Version 1 B-trees (group nodes and raw-data chunk nodes) and symbol table nodes.
//!
//! ```text
//! B-tree v1 node: "TREE", node type (u8: 0 group, 1 chunk), level (u8: 0 = leaf),
//!   entries used (u16), left sibling, right sibling (addresses),
//!   key 0, child 0, key 1, child 1, ..., key N (entries used + 1 keys)
//!   group keys: heap offset of a name (length); children: symbol table nodes (leaf)
//!   chunk keys: chunk size in the file (u32), filter mask (u32), chunk offset in
//!     elements per dimension (rank + 1 x u64, the last 0); key i describes child i,
//!     the chunk's address at a leaf
//! symbol table node: "SNOD", version 1, reserved (1), symbol count (u16), entries:
//!   link name offset (in the group's local heap), object header address, cache type
//!   (u32: 0 none, 1 symbol table scratch, 2 soft link: scratch = offset of its value),
//!   reserved (u32), scratch pad (16 bytes)
//! ```
//!
//! Walks are bounded: each child's level must be its parent's minus one (so a cycle is
//! impossible), nodes are at most [`MAX_NODES`], levels at most 64.

use super::io::{bad, Source};
use crate::error::Result;

pub const MAX_NODES: usize = 1 << 20;

/// A leaf entry of a chunk B-tree.
#[derive(Debug, Clone)]
pub struct ChunkEntry {
    /// Element offset of the chunk in each dimension.
    pub offset: Vec<u64>,
    pub size: u64,
    pub mask: u32,
    pub addr: u64,
}

/// A symbol of a symbol-table group.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name_offset: u64,
    pub header: Option<u64>,
    /// Offset of a soft link's value in the local heap.
    pub soft: Option<u64>,
}

struct Node {
    level: u8,
    keys: Vec<Vec<u8>>,
    children: Vec<u64>,
}

fn node(src: &Source, addr: u64, kind: u8, key_size: usize) -> Result<Node> {
    let os = src.offset_size as usize;
    let head_len = 8 + 2 * os;
    let head = src.meta(addr, head_len as u64, "B-tree node")?;
    let mut c = src.cur(&head, "B-tree node");
    c.expect_sig(b"TREE", addr)?;
    let t = c.u8()?;
    if t != kind {
        return Err(bad(format!("the B-tree node at {addr:#x} has type {t}, expected {kind}")));
    }
    let level = c.u8()?;
    let n = c.u16()? as usize;
    let body = (n as u64 + 1) * key_size as u64 + n as u64 * os as u64;
    let all = src.meta(addr, head_len as u64 + body, "B-tree node")?;
    let mut c = src.cur(&all, "B-tree node");
    c.skip(head_len)?;
    let mut keys = Vec::with_capacity(n + 1);
    let mut children = Vec::with_capacity(n);
    for i in 0..=n {
        keys.push(c.bytes(key_size)?.to_vec());
        if i < n {
            children.push(c.addr()?.ok_or_else(|| bad(format!("the B-tree node at {addr:#x} has an undefined child")))?);
        }
    }
    Ok(Node { level, keys, children })
}

/// Every leaf (key, child) of the B-tree at `root`, in order.
fn leaves(src: &Source, root: u64, kind: u8, key_size: usize) -> Result<Vec<(Vec<u8>, u64)>> {
    let mut out = Vec::new();
    let mut stack = vec![(root, None::<u8>)];
    let mut visited = 0usize;
    while let Some((addr, want_level)) = stack.pop() {
        visited += 1;
        if visited > MAX_NODES {
            return Err(bad(format!("the B-tree at {root:#x} has more than {MAX_NODES} nodes")));
        }
        let n = node(src, addr, kind, key_size)?;
        if let Some(w) = want_level {
            if n.level != w {
                return Err(bad(format!("the B-tree node at {addr:#x} has level {}, its parent expects {w}: a corrupted or cyclic B-tree", n.level)));
            }
        }
        if n.level > 64 {
            return Err(bad(format!("the B-tree node at {addr:#x} claims level {}", n.level)));
        }
        if n.level == 0 {
            out.extend(n.keys.into_iter().zip(n.children));
        } else {
            for &child in n.children.iter().rev() {
                stack.push((child, Some(n.level - 1)));
            }
        }
    }
    Ok(out)
}

/// The chunks of a chunked dataset of `rank` dimensions indexed by the B-tree at `root`.
pub fn chunks(src: &Source, root: u64, rank: usize) -> Result<Vec<ChunkEntry>> {
    let key_size = 8 + 8 * (rank + 1);
    leaves(src, root, 1, key_size)?
        .into_iter()
        .map(|(k, addr)| {
            let mut c = src.cur(&k, "chunk B-tree key");
            let size = c.u32()? as u64;
            let mask = c.u32()?;
            let mut offset = Vec::with_capacity(rank);
            for _ in 0..rank {
                offset.push(c.u64()?);
            }
            Ok(ChunkEntry { offset, size, mask, addr })
        })
        .collect()
}

/// The symbols of a symbol-table group whose B-tree is at `root`.
pub fn symbols(src: &Source, root: u64) -> Result<Vec<Symbol>> {
    let os = src.offset_size as usize;
    let mut out = Vec::new();
    for (_, snod) in leaves(src, root, 0, src.length_size as usize)? {
        let head = src.meta(snod, 8, "symbol table node")?;
        let mut c = src.cur(&head, "symbol table node");
        c.expect_sig(b"SNOD", snod)?;
        let version = c.u8()?;
        if version != 1 {
            return Err(bad(format!("symbol table node version {version} at {snod:#x}; HDF5 defines 1")));
        }
        c.skip(1)?;
        let n = c.u16()? as u64;
        let entry = 2 * os as u64 + 24;
        let block = src.meta(snod, 8 + n * entry, "symbol table node")?;
        let mut c = src.cur(&block, "symbol table node");
        c.skip(8)?;
        for _ in 0..n {
            let name_offset = c.addr()?.unwrap_or(u64::MAX);
            let header = c.addr()?;
            let cache = c.u32()?;
            c.skip(4)?;
            let scratch = c.bytes(16)?;
            let soft = if cache == 2 { Some(u32::from_le_bytes([scratch[0], scratch[1], scratch[2], scratch[3]]) as u64) } else { None };
            out.push(Symbol { name_offset, header, soft });
        }
        if out.len() > MAX_NODES {
            return Err(bad("a group with more than a million links"));
        }
    }
    Ok(out)
}
