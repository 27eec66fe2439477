//! Dense link and attribute storage (`libver='latest'` groups with many links, objects
//! with many attributes): the records (link or attribute messages) live in a fractal heap,
//! found through a B-tree v2 name index whose records hold their heap IDs.
//!
//! ```text
//! link name record (B-tree v2 type 5):       name hash (u32), heap ID
//! attribute name record (B-tree v2 type 8):  heap ID (8 bytes), flags (u8), creation order (u32), hash (u32)
//! fractal heap header "FRHP": version 0, heap ID length (u16), I/O filter length (u16),
//!   flags (u8), max managed object size (u32), next huge ID, huge B-tree address, free
//!   space, free-space manager address, managed space, allocated space, iterator offset,
//!   managed objects, huge size, huge count, tiny size, tiny count (lengths/addresses),
//!   table width (u16), starting block size, max direct block size (lengths), max heap
//!   size in bits (u16), starting rows (u16), root block address, current rows (u16),
//!   [filtered root info], checksum
//! doubling table: rows 0 and 1 of `width` blocks of the starting size, each next row
//!   doubles; rows whose blocks exceed the max direct block size are indirect blocks
//! indirect block "FHIB": version, heap address, block offset, child addresses (row by
//!   row), checksum; direct block "FHDB": version, heap address, block offset,
//!   [checksum], objects; a heap offset counts from the start of the block holding it
//! managed heap ID: type byte (bits 4-5 = 0), offset (max heap bits / 8 bytes), length;
//! tiny heap ID: type byte (bits 4-5 = 2, low 4 bits = length - 1), the object itself
//! ```

use super::btree2;
use super::io::{bad, verify_checksum, Source};
use crate::error::Result;

/// Link name index records.
pub const LINKS: u8 = 5;
/// Attribute name index records.
pub const ATTRIBUTES: u8 = 8;

struct Heap {
    id_len: usize,
    width: u64,
    start: u64,
    max_direct: u64,
    off_bytes: usize,
    len_bytes: usize,
    root: Option<u64>,
    rows: u64,
    max_direct_rows: u64,
}

fn log2(x: u64) -> u64 {
    63 - x.max(1).leading_zeros() as u64
}

impl Heap {
    fn open(src: &Source, addr: u64) -> Result<Heap> {
        let os = src.offset_size as u64;
        let ls = src.length_size as u64;
        let n = 4 + 1 + 2 + 2 + 1 + 4 + ls + os + ls + os + 8 * ls + 2 + 2 * ls + 2 + 2 + os + 2;
        let h = src.meta(addr, n + 4, "fractal heap header")?;
        let mut c = src.cur(&h, "fractal heap header");
        c.expect_sig(b"FRHP", addr)?;
        let version = c.u8()?;
        if version != 0 {
            return Err(bad(format!("fractal heap version {version} at {addr:#x}; HDF5 defines 0")));
        }
        let id_len = c.u16()? as usize;
        let filters = c.u16()?;
        c.u8()?;
        let max_man = c.u32()? as u64;
        c.length()?;
        c.addr()?;
        c.length()?;
        c.addr()?;
        for _ in 0..8 {
            c.length()?;
        }
        let width = c.u16()? as u64;
        let start = c.length()?;
        let max_direct = c.length()?;
        let heap_bits = c.u16()? as u64;
        c.u16()?;
        let root = c.addr()?;
        let rows = c.u16()? as u64;
        if filters != 0 {
            return Err(bad("a fractal heap with I/O filters (compressed link storage), which mmnpy does not read"));
        }
        verify_checksum(&h, c.at, "fractal heap header", addr)?;
        let pow2 = |x: u64| x.is_power_of_two();
        if !pow2(width) || !pow2(start) || !pow2(max_direct) || max_direct < start || heap_bits == 0 || heap_bits > 64 || max_direct > super::io::MAX_META {
            return Err(bad(format!(
                "the fractal heap at {addr:#x} has an invalid doubling table (width {width}, blocks {start}..{max_direct}, {heap_bits} bits)"
            )));
        }
        let dir_bytes = (log2(max_direct) as usize).div_ceil(8).max(1);
        let man_bytes = log2(max_man.max(1)) as usize / 8 + 1;
        Ok(Heap {
            id_len,
            width,
            start,
            max_direct,
            off_bytes: (heap_bits as usize).div_ceil(8),
            len_bytes: dir_bytes.min(man_bytes),
            root,
            rows,
            max_direct_rows: log2(max_direct) - log2(start) + 2,
        })
    }

    fn block_size(&self, row: u64) -> u64 {
        if row == 0 {
            self.start
        } else {
            self.start << (row - 1)
        }
    }

    fn row_start(&self, row: u64) -> u64 {
        if row == 0 {
            0
        } else {
            (self.width * self.start) << (row - 1)
        }
    }

    fn get(&self, src: &Source, id: &[u8]) -> Result<Vec<u8>> {
        let first = *id.first().ok_or_else(|| bad("an empty fractal heap ID"))?;
        if first >> 6 != 0 {
            return Err(bad(format!("fractal heap ID version {}", first >> 6)));
        }
        match (first >> 4) & 3 {
            0 => {
                let mut c = src.cur(id, "fractal heap ID");
                c.skip(1)?;
                let off = c.uint(self.off_bytes)?;
                let len = c.uint(self.len_bytes)?;
                self.managed(src, off, len)
            }
            2 => {
                let n = (first & 0x0f) as usize + 1;
                id.get(1..1 + n).map(|s| s.to_vec()).ok_or_else(|| bad("a tiny fractal heap object longer than its ID"))
            }
            1 => Err(bad("a 'huge' fractal heap object (a link or attribute over 64 KiB), which mmnpy does not read")),
            t => Err(bad(format!("fractal heap ID type {t}"))),
        }
    }

    fn managed(&self, src: &Source, off: u64, len: u64) -> Result<Vec<u8>> {
        let root = self.root.ok_or_else(|| bad("a fractal heap object in an empty heap"))?;
        if self.rows == 0 {
            return self.direct(src, root, 0, self.start, off, len);
        }
        let (mut addr, mut block_off, mut rows) = (root, 0u64, self.rows);
        for _ in 0..64 {
            let rel = off.checked_sub(block_off).ok_or_else(|| bad("a fractal heap offset before its block"))?;
            let row = if rel < self.width * self.start { 0 } else { log2(rel / (self.width * self.start)) + 1 };
            if row >= rows {
                return Err(bad(format!("fractal heap offset {off} past its indirect block's {rows} rows")));
            }
            let size = self.block_size(row);
            let col = (rel - self.row_start(row)) / size;
            let entry = row * self.width + col;
            let os = src.offset_size as u64;
            let head = 4 + 1 + os + self.off_bytes as u64;
            let b = src.meta(addr, head + (entry + 1) * os, "fractal heap indirect block")?;
            let mut c = src.cur(&b, "fractal heap indirect block");
            c.expect_sig(b"FHIB", addr)?;
            c.skip((head - 4 + entry * os) as usize)?;
            let child = c.addr()?.ok_or_else(|| bad(format!("fractal heap offset {off} lies in a block never allocated")))?;
            let child_off = block_off + self.row_start(row) + col * size;
            if row < self.max_direct_rows {
                return self.direct(src, child, child_off, size, off, len);
            }
            addr = child;
            block_off = child_off;
            rows = log2(size) - log2(self.start) - log2(self.width) + 1;
        }
        Err(bad("fractal heap indirect blocks nest too deep"))
    }

    fn direct(&self, src: &Source, addr: u64, block_off: u64, size: u64, off: u64, len: u64) -> Result<Vec<u8>> {
        let pos = off - block_off;
        if pos.checked_add(len).is_none_or(|e| e > size) || size > self.max_direct.max(self.start) {
            return Err(bad(format!("a fractal heap object ({len} bytes at {off}) passes the end of its {size}-byte block")));
        }
        let sig = src.meta(addr, 4, "fractal heap direct block")?;
        if sig != b"FHDB" {
            return Err(bad(format!("no fractal heap direct block ('FHDB') at {addr:#x}")));
        }
        src.meta(addr + pos, len, "fractal heap object")
    }
}

/// The records (link or attribute messages) of a dense storage, in no particular order.
pub fn records(src: &Source, heap: u64, names: u64, kind: u8) -> Result<Vec<Vec<u8>>> {
    let h = Heap::open(src, heap)?;
    let mut out = Vec::new();
    for r in btree2::records(src, names, kind)? {
        let id = match kind {
            LINKS => r.get(4..4 + h.id_len),
            _ => r.get(..h.id_len.min(8)),
        }
        .ok_or_else(|| bad("a name index record shorter than its heap ID"))?;
        out.push(h.get(src, id)?);
    }
    Ok(out)
}
