//! Object headers: the list of messages that describe a group or a dataset.
//!
//! ```text
//! version 1 (superblocks 0, 1), 8-byte aligned:
//!   version (1), reserved (1), number of messages (u16), reference count (u32),
//!   header size (u32), reserved (4: aligns the first message at 16)
//!   message: type (u16), size (u16), flags (u8), reserved (3), data (size, a multiple of 8)
//! version 2 (superblocks 2, 3):
//!   "OHDR", version 2, flags (u8); times (4 x u32) if flags & 0x20;
//!   max compact / min dense attributes (2 x u16) if flags & 0x10;
//!   size of chunk 0 (1, 2, 4 or 8 bytes by flags & 3);
//!   message: type (u8), size (u16), flags (u8), creation order (u16) if flags & 0x04, data;
//!   a gap smaller than a message header may end the chunk; checksum (lookup3, u32)
//! continuation message (type 0x10): address and length of another chunk of messages,
//!   bare in version 1, "OCHK" + messages + checksum in version 2.
//! ```
//!
//! Limits: at most [`MAX_CHUNKS`] chunks and [`MAX_MESSAGES`] messages per header; a
//! continuation pointing at a chunk already read (a cycle) is refused.

use super::io::{bad, verify_checksum, Source};
use crate::error::Result;

pub const MAX_CHUNKS: usize = 4096;
pub const MAX_MESSAGES: usize = 1 << 16;

pub mod kind {
    pub const NIL: u16 = 0x00;
    pub const DATASPACE: u16 = 0x01;
    pub const LINK_INFO: u16 = 0x02;
    pub const DATATYPE: u16 = 0x03;
    pub const FILL_OLD: u16 = 0x04;
    pub const FILL: u16 = 0x05;
    pub const LINK: u16 = 0x06;
    pub const EXTERNAL: u16 = 0x07;
    pub const LAYOUT: u16 = 0x08;
    pub const GROUP_INFO: u16 = 0x0A;
    pub const FILTERS: u16 = 0x0B;
    pub const ATTRIBUTE: u16 = 0x0C;
    pub const CONTINUATION: u16 = 0x10;
    pub const SYMBOL_TABLE: u16 = 0x11;
    pub const ATTRIBUTE_INFO: u16 = 0x15;
    pub const REFCOUNT: u16 = 0x16;
}

#[derive(Debug, Clone)]
pub struct Message {
    pub kind: u16,
    pub flags: u8,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct ObjectHeader {
    pub addr: u64,
    pub messages: Vec<Message>,
    /// How many hard links point at the object (version 1: a field; version 2: the
    /// reference count message, 1 without it).
    pub refcount: u32,
}

impl ObjectHeader {
    pub fn find(&self, kind: u16) -> Option<&Message> {
        self.messages.iter().find(|m| m.kind == kind)
    }

    pub fn all(&self, kind: u16) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.kind == kind)
    }
}

/// Reads the object header at `addr` with all its continuation chunks.
pub fn read(src: &Source, addr: u64) -> Result<ObjectHeader> {
    let head = src.meta_upto(addr, 16, "object header")?;
    if head.len() >= 4 && &head[..4] == b"OHDR" {
        read_v2(src, addr)
    } else {
        read_v1(src, addr)
    }
}

fn push(out: &mut Vec<Message>, m: Message) -> Result<()> {
    if out.len() >= MAX_MESSAGES {
        return Err(bad(format!("an object header holds more than {MAX_MESSAGES} messages")));
    }
    out.push(m);
    Ok(())
}

fn continuation(src: &Source, m: &Message) -> Result<(u64, u64)> {
    let mut c = src.cur(&m.data, "continuation message");
    let at = c.addr()?.ok_or_else(|| bad("a continuation message with an undefined address"))?;
    let len = c.length()?;
    Ok((at, len))
}

fn read_v1(src: &Source, addr: u64) -> Result<ObjectHeader> {
    let head = src.meta(addr, 16, "object header")?;
    let mut c = src.cur(&head, "object header");
    let version = c.u8()?;
    if version != 1 {
        return Err(bad(format!("the object header at {addr:#x} has version {version}; HDF5 defines 1 (or an 'OHDR' signature for 2)")));
    }
    c.skip(1)?;
    let count = c.u16()? as usize;
    let refcount = c.u32()?;
    let size = c.u32()? as u64;
    let mut seen = vec![(addr + 16, size)];
    let mut messages = Vec::new();
    let mut next_chunk = 0;
    while let Some(&(at, len)) = seen.get(next_chunk) {
        next_chunk += 1;
        let block = src.meta(at, len, "object header chunk")?;
        let mut c = src.cur(&block, "object header chunk");
        while c.remaining() >= 8 {
            let kind = c.u16()?;
            let size = c.u16()? as usize;
            let flags = c.u8()?;
            c.skip(3)?;
            let data = c.bytes(size)?.to_vec();
            c.align(8)?;
            let m = Message { kind, flags, data };
            if kind == kind::CONTINUATION {
                let next = continuation(src, &m)?;
                if seen.contains(&next) || seen.len() >= MAX_CHUNKS {
                    return Err(bad(format!("the object header at {addr:#x} has a cycle or too many continuation chunks")));
                }
                seen.push(next);
            }
            push(&mut messages, m)?;
        }
    }
    if messages.len() > count.max(1) * 2 + 64 {
        return Err(bad(format!("the object header at {addr:#x} declares {count} messages and holds {}", messages.len())));
    }
    Ok(ObjectHeader { addr, messages, refcount })
}

fn read_v2(src: &Source, addr: u64) -> Result<ObjectHeader> {
    let head = src.meta_upto(addr, 64, "object header")?;
    let mut c = src.cur(&head, "object header");
    c.skip(4)?;
    let version = c.u8()?;
    if version != 2 {
        return Err(bad(format!("the object header at {addr:#x} has version {version} after its 'OHDR' signature; HDF5 defines 2")));
    }
    let flags = c.u8()?;
    if flags & 0x20 != 0 {
        c.skip(16)?;
    }
    if flags & 0x10 != 0 {
        c.skip(4)?;
    }
    let size = c.uint(1 << (flags & 3))?;
    let prefix = c.at as u64;
    let track_order = flags & 0x04 != 0;
    let total = prefix.checked_add(size).and_then(|n| n.checked_add(4)).ok_or_else(|| bad("an object header size overflows"))?;
    let first = src.meta(addr, total, "object header")?;
    verify_checksum(&first, (prefix + size) as usize, "object header", addr)?;
    let mut messages = Vec::new();
    let mut blocks = std::collections::VecDeque::from([(first, prefix as usize, addr)]);
    let mut seen: Vec<u64> = vec![addr];
    while let Some((block, start, at)) = blocks.pop_front() {
        let end = block.len() - 4;
        let mut c = src.cur(&block[..end], "object header chunk");
        c.skip(start)?;
        let header = if track_order { 6 } else { 4 };
        while c.remaining() >= header {
            let kind = c.u8()? as u16;
            let size = c.u16()? as usize;
            let mflags = c.u8()?;
            if track_order {
                c.u16()?;
            }
            let data = c.bytes(size)?.to_vec();
            let m = Message { kind, flags: mflags, data };
            if kind == kind::CONTINUATION {
                let (next, len) = continuation(src, &m)?;
                if seen.contains(&next) || seen.len() >= MAX_CHUNKS {
                    return Err(bad(format!("the object header at {addr:#x} has a cycle or too many continuation chunks")));
                }
                seen.push(next);
                let b = src.meta(next, len, "object header continuation chunk")?;
                if b.len() < 8 || &b[..4] != b"OCHK" {
                    return Err(bad(format!("no 'OCHK' signature at {next:#x}, where the object header at {at:#x} continues")));
                }
                verify_checksum(&b, b.len() - 4, "object header continuation chunk", next)?;
                blocks.push_back((b, 4, next));
            }
            push(&mut messages, m)?;
        }
    }
    let refcount = match messages.iter().find(|m| m.kind == kind::REFCOUNT) {
        Some(m) => src.cur(&m.data, "reference count message").bytes(5).map(|b| u32::from_le_bytes([b[1], b[2], b[3], b[4]]))?,
        None => 1,
    };
    Ok(ObjectHeader { addr, messages, refcount })
}
