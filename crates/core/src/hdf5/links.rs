//! A group's links and an object's attributes, wherever the header keeps them.
//!
//! ```text
//! symbol table message (0x11): B-tree v1 address, local heap address   [libver earliest]
//! link message (0x06): version 1, flags (u8: bits 0-1 size of the name length field
//!   (1, 2, 4, 8 bytes), 2 creation order present, 3 link type present, 4 charset present);
//!   [link type (u8: 0 hard, 1 soft, 64 external)], [creation order (u64)], [charset (u8)],
//!   name length, name, then: hard: object header address; soft: length (u16), path;
//!   external: length (u16), flags (u8), file name NUL path NUL
//! link info message (0x02): version 0, flags (u8: 1 creation order tracked, 2 indexed),
//!   [max creation index (u64)], fractal heap address, name index B-tree v2 address,
//!   [creation order index address]: dense storage, when the heap address is defined
//! attribute info message (0x15): the same for attributes stored densely
//! ```

use super::attrs::{self, Attr};
use super::btree1;
use super::heap::LocalHeap;
use super::io::{bad, Cur, Source};
use super::object::{kind, ObjectHeader};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Hard(u64),
    Soft(String),
    /// File name and object path.
    External(String, String),
}

fn utf8(b: &[u8], what: &str) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| bad(format!("a {what} that is not UTF-8")))
}

pub fn links(src: &Source, header: &ObjectHeader) -> Result<Vec<(String, Link)>> {
    let mut out = Vec::new();
    if let Some(m) = header.find(kind::SYMBOL_TABLE) {
        let mut c = src.cur(&m.data, "symbol table message");
        let btree = c.addr()?.ok_or_else(|| bad("a symbol table without a B-tree"))?;
        let heap = LocalHeap::read(src, c.addr()?.ok_or_else(|| bad("a symbol table without a local heap"))?)?;
        for s in btree1::symbols(src, btree)? {
            let name = utf8(&heap.name(s.name_offset)?, "link name")?;
            let link = match (s.soft, s.header) {
                (Some(off), _) => Link::Soft(utf8(&heap.name(off)?, "soft link value")?),
                (None, Some(a)) => Link::Hard(a),
                (None, None) => return Err(bad(format!("link '{name}' has an undefined object header address"))),
            };
            out.push((name, link));
        }
    }
    for m in header.all(kind::LINK) {
        out.push(link_message(src, &m.data)?);
    }
    if let Some(m) = header.find(kind::LINK_INFO) {
        let mut c = src.cur(&m.data, "link info message");
        c.u8()?;
        let flags = c.u8()?;
        if flags & 1 != 0 {
            c.u64()?;
        }
        let heap = c.addr()?;
        let names = c.addr()?;
        if let (Some(heap), Some(names)) = (heap, names) {
            for record in super::dense::records(src, heap, names, super::dense::LINKS)? {
                out.push(link_message(src, &record)?);
            }
        }
    }
    let mut names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("a group holds two links of the same name"));
    }
    Ok(out)
}

pub fn link_message(src: &Source, data: &[u8]) -> Result<(String, Link)> {
    let mut c: Cur = src.cur(data, "link message");
    let version = c.u8()?;
    if version != 1 {
        return Err(bad(format!("link message version {version}; HDF5 defines 1")));
    }
    let flags = c.u8()?;
    let kind = if flags & 0x08 != 0 { c.u8()? } else { 0 };
    if flags & 0x04 != 0 {
        c.u64()?;
    }
    if flags & 0x10 != 0 {
        c.u8()?;
    }
    let n = c.uint(1 << (flags & 3))? as usize;
    let name = utf8(c.bytes(n)?, "link name")?;
    let link = match kind {
        0 => Link::Hard(c.addr()?.ok_or_else(|| bad(format!("link '{name}' has an undefined address")))?),
        1 => {
            let n = c.u16()? as usize;
            Link::Soft(utf8(c.bytes(n)?, "soft link value")?)
        }
        64 => {
            let n = c.u16()? as usize;
            let v = c.bytes(n)?;
            let mut parts = v.get(1..).unwrap_or(&[]).split(|&b| b == 0);
            let file = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
            let obj = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
            Link::External(file, obj)
        }
        k => return Err(Error::new(ErrorKind::BadHdf5, format!("link '{name}' has link type {k}, which HDF5 does not define"))),
    };
    Ok((name, link))
}

pub fn attributes(src: &Source, header: &ObjectHeader) -> Result<Vec<Attr>> {
    let mut out = Vec::new();
    for m in header.all(kind::ATTRIBUTE) {
        out.push(attrs::parse(src, &m.data)?);
    }
    if let Some(m) = header.find(kind::ATTRIBUTE_INFO) {
        let mut c = src.cur(&m.data, "attribute info message");
        c.u8()?;
        let flags = c.u8()?;
        if flags & 1 != 0 {
            c.u16()?;
        }
        let heap = c.addr()?;
        let names = c.addr()?;
        if let (Some(heap), Some(names)) = (heap, names) {
            for record in super::dense::records(src, heap, names, super::dense::ATTRIBUTES)? {
                out.push(attrs::parse(src, &record)?);
            }
        }
    }
    Ok(out)
}
