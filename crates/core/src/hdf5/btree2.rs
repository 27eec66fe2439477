//! Version 2 B-trees: the name index of dense groups and attributes, and the chunk
//! index of datasets with several unlimited dimensions.
//!
//! ```text
//! header "BTHD": version 0, type (u8), node size (u32), record size (u16), depth (u16),
//!   split %, merge % (2 x u8), root address, records in the root (u16), total records
//!   (length), checksum
//! internal node "BTIN": version 0, type, records, then per child: address, records in
//!   the child (the fewest bytes that hold a leaf's maximum), [records in the child's
//!   subtree, when the child is itself internal (the fewest bytes that hold that level's
//!   maximum)], checksum
//! leaf node "BTLF": version 0, type, records, checksum
//! a leaf holds at most (node size - 10) / record size records; an internal node at
//! level u at most (node size - 10 - P(u)) / (record size + P(u)) where P(u) is the size
//! of one child pointer at that level
//! ```
//!
//! Walks are bounded by the depth the header declares (a child is one level lower,
//! so no cycle is possible) and by the record counts each node's size allows.

use super::io::{bad, verify_checksum, Source};
use crate::error::Result;

/// Bytes needed to encode `n` (HDF5's `H5VM_limit_enc_size`).
fn enc_size(n: u64) -> usize {
    (63 - n.max(1).leading_zeros() as usize) / 8 + 1
}

/// Every record of the B-tree v2 at `addr` whose type is `kind` (in no particular order).
pub fn records(src: &Source, addr: u64, kind: u8) -> Result<Vec<Vec<u8>>> {
    let os = src.offset_size as u64;
    let ls = src.length_size as u64;
    let head_len = 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + os + 2 + ls + 4;
    let h = src.meta(addr, head_len, "B-tree v2 header")?;
    let mut c = src.cur(&h, "B-tree v2 header");
    c.expect_sig(b"BTHD", addr)?;
    let version = c.u8()?;
    if version != 0 {
        return Err(bad(format!("B-tree v2 version {version} at {addr:#x}; HDF5 defines 0")));
    }
    let t = c.u8()?;
    if t != kind {
        return Err(bad(format!("the B-tree v2 at {addr:#x} has type {t}, expected {kind}")));
    }
    let node_size = c.u32()? as u64;
    let rec = c.u16()? as u64;
    let depth = c.u16()? as usize;
    c.skip(2)?;
    let root = c.addr()?;
    let root_n = c.u16()? as u64;
    c.length()?;
    verify_checksum(&h, c.at, "B-tree v2 header", addr)?;
    if rec == 0 || node_size < 10 + rec || node_size > super::io::MAX_META || depth > 32 {
        return Err(bad(format!("the B-tree v2 at {addr:#x} has node size {node_size}, record size {rec}, depth {depth}")));
    }
    // Per level: max records, and max records in a subtree rooted there.
    let mut max = vec![(node_size - 10) / rec];
    let mut cum = vec![max[0]];
    let mut cum_size = vec![0usize];
    let nrec_size = enc_size(max[0]);
    for u in 1..=depth {
        let ptr = os + nrec_size as u64 + cum_size[u - 1] as u64;
        let m = (node_size.saturating_sub(10 + ptr)) / (rec + ptr);
        max.push(m);
        let cm = (m + 1).saturating_mul(cum[u - 1]).saturating_add(m);
        cum.push(cm);
        cum_size.push(enc_size(cm));
    }
    let mut out = Vec::new();
    let Some(root) = root else { return Ok(out) };
    // (address, records, level)
    let mut stack = vec![(root, root_n, depth)];
    while let Some((at, n, level)) = stack.pop() {
        if n > max[level] {
            return Err(bad(format!("a B-tree v2 node at {at:#x} claims {n} records, more than its size holds")));
        }
        let block = src.meta(at, node_size, "B-tree v2 node")?;
        let mut c = src.cur(&block, "B-tree v2 node");
        let sig: &[u8; 4] = if level == 0 { b"BTLF" } else { b"BTIN" };
        c.expect_sig(sig, at)?;
        c.skip(2)?;
        let mut recs = Vec::with_capacity(n as usize);
        for _ in 0..n {
            recs.push(c.bytes(rec as usize)?.to_vec());
        }
        if level == 0 {
            verify_checksum(&block, c.at, "B-tree v2 leaf", at)?;
            out.extend(recs);
            continue;
        }
        let mut children = Vec::with_capacity(n as usize + 1);
        for _ in 0..=n {
            let child = c.addr()?.ok_or_else(|| bad(format!("the B-tree v2 node at {at:#x} has an undefined child")))?;
            let cn = c.uint(nrec_size)?;
            if level > 1 {
                c.uint(cum_size[level - 1])?;
            }
            children.push((child, cn));
        }
        verify_checksum(&block, c.at, "B-tree v2 internal node", at)?;
        // Records come back unordered (callers sort them): a node's own, then its children's.
        out.extend(recs);
        for (child, cn) in children.into_iter().rev() {
            stack.push((child, cn, level - 1));
        }
        if out.len() > 1 << 26 {
            return Err(bad("a B-tree v2 with more than 64 million records"));
        }
    }
    Ok(out)
}
