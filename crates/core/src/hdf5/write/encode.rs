//! The bytes of every structure mmnpy writes, in the layouts the reading modules
//! specify (superblock.rs, object.rs, types.rs, layout.rs, attrs.rs, links.rs,
//! btree1.rs, heap.rs): the "HDF5 1.8" format h5py reads and writes with
//! `libver='v108'`, all addresses and lengths 8 bytes.
//!
//! ```text
//! superblock 2     signature, 2, 8, 8, flags 0, base 0, extension, end of file, root, lookup3
//! object header 2  "OHDR", 2, flags (chunk size width; 0x10: attribute phase change
//!                  stored), [max compact, min dense], chunk size, messages, lookup3
//! dataspace 2      rank, flags (1: max dims), type (0 scalar, 1 simple), dims, [max dims]
//! datatype         fixed-point and float version 1; bool an enum {FALSE, TRUE} of int8,
//!                  complex a compound {r, i}, both version 3; `S<n>` a NUL-padded ASCII
//!                  string; records compounds of their fields (subarrays: array, v3);
//!                  variable-length UTF-8 strings (attributes) over unsigned char
//! fill value 3     allocation time, fill time 'if set', [the value]
//! layout 3         contiguous (address, size) or chunked (B-tree v1 address, chunk
//!                  dims + element size, u32 each); compact (size, data) kept as read
//! filters 2        id, flags, values (ids < 256 carry no name)
//! attribute 3      flags 0, UTF-8 name, datatype, dataspace, data
//! link 1           UTF-8 name; hard (address) or soft (path) or external
//! link info 0 + group info 0   a compact "new-style" group: every link in the header
//! B-tree v1        chunk nodes of HDF5's default size (2K = 64 entries, K = 32 as the
//!                  superblock implies), keys: size, filter mask, offsets + 0; the last
//!                  key of a node is the offset past its last chunk; siblings linked
//! global heap      "GCOL", 1, size (>= 4096), objects (index, refcount 0, size, data
//!                  padded to 8), then the free space as object 0
//! ```

use super::super::io::lookup3;
use super::super::links::Link;
use super::super::superblock::SIGNATURE;
use crate::descr::{Descr, Record};
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};

pub const UNDEF: u64 = u64::MAX;

/// Little-endian fields into a growing buffer.
#[derive(Default)]
pub struct Buf(pub Vec<u8>);

impl Buf {
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn addr(&mut self, a: Option<u64>) -> &mut Self {
        self.u64(a.unwrap_or(UNDEF))
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
}

pub const SUPERBLOCK_LEN: usize = 48;

/// `base`: where the superblock is (a user block's size), as HDF5 records it.
pub fn superblock(base: u64, extension: Option<u64>, eof: u64, root: u64) -> Vec<u8> {
    let mut b = Buf::default();
    b.bytes(SIGNATURE).u8(2).u8(8).u8(8).u8(0).u64(base).addr(extension).u64(eof).u64(root);
    let sum = lookup3(&b.0, 0);
    b.u32(sum);
    b.0
}

/// A header message: type, flags (1: constant), data.
#[derive(Debug, Clone)]
pub struct Msg {
    pub kind: u16,
    pub flags: u8,
    pub data: Vec<u8>,
}

/// An object header, version 2, of one chunk; `phase` sets the attribute storage's
/// max compact / min dense (when an object holds more than HDF5's default 8).
pub fn object_header(msgs: &[Msg], phase: Option<(u16, u16)>) -> Result<Vec<u8>> {
    let mut body = Buf::default();
    for m in msgs {
        let size = u16::try_from(m.data.len()).map_err(|_| {
            Error::new(ErrorKind::InvalidArgument, format!("a header message of {} bytes; HDF5 holds at most 65535 (an attribute that large?)", m.data.len()))
        })?;
        let kind =
            u8::try_from(m.kind).map_err(|_| Error::new(ErrorKind::BadHdf5, format!("message type {:#x} does not fit a version 2 object header", m.kind)))?;
        body.u8(kind).u16(size).u8(m.flags).bytes(&m.data);
    }
    let n = body.0.len() as u64;
    let (width, code) = match n {
        0..=0xff => (1, 0u8),
        0x100..=0xffff => (2, 1),
        0x1_0000..=0xffff_ffff => (4, 2),
        _ => (8, 3),
    };
    let mut b = Buf::default();
    b.bytes(b"OHDR").u8(2).u8(code | if phase.is_some() { 0x10 } else { 0 });
    if let Some((max_compact, min_dense)) = phase {
        b.u16(max_compact).u16(min_dense);
    }
    b.bytes(&n.to_le_bytes()[..width]).bytes(&body.0);
    let sum = lookup3(&b.0, 0);
    b.u32(sum);
    Ok(b.0)
}

pub fn dataspace(dims: &[u64], max: Option<&[Option<u64>]>) -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(2).u8(dims.len() as u8).u8(u8::from(max.is_some())).u8(if dims.is_empty() { 0 } else { 1 });
    for &d in dims {
        b.u64(d);
    }
    for m in max.unwrap_or(&[]) {
        b.u64(m.unwrap_or(u64::MAX));
    }
    b.0
}

fn unsupported(d: &Descr) -> Error {
    Error::new(
        ErrorKind::UnsupportedDtype,
        format!("mmnpy does not write HDF5 datasets of dtype {}: numbers, bool, complex, S<n> bytes and records of those", d.name().unwrap_or_default()),
    )
}

fn order_bit(order: ByteOrder) -> u8 {
    u8::from(order == ByteOrder::Big)
}

/// A datatype message for a dtype h5py maps the same way.
pub fn datatype(d: &Descr) -> Result<Vec<u8>> {
    let mut b = Buf::default();
    put_type(&mut b, d, 0)?;
    Ok(b.0)
}

fn put_numeric(b: &mut Buf, dtype: DType, order: ByteOrder) {
    let size = dtype.itemsize() as u32;
    let o = order_bit(order);
    match dtype {
        DType::Bool => {
            // enum, version 3, 2 members, base int8
            b.u8(0x38).u8(2).u8(0).u8(0).u32(1);
            b.u8(0x10).u8(0x08).u8(0).u8(0).u32(1).u16(0).u16(8);
            b.bytes(b"FALSE\0TRUE\0").u8(0).u8(1);
        }
        DType::Float16 | DType::Float32 | DType::Float64 => {
            let (sign, eloc, esize, msize, bias) = match dtype {
                DType::Float16 => (15u8, 10u8, 5u8, 10u8, 15u32),
                DType::Float32 => (31, 23, 8, 23, 127),
                _ => (63, 52, 11, 52, 1023),
            };
            b.u8(0x11).u8(o | 0x20).u8(sign).u8(0).u32(size).u16(0).u16(size as u16 * 8);
            b.u8(eloc).u8(esize).u8(0).u8(msize).u32(bias);
        }
        DType::Complex64 | DType::Complex128 => {
            let part = if dtype == DType::Complex64 { DType::Float32 } else { DType::Float64 };
            b.u8(0x36).u8(2).u8(0).u8(0).u32(size);
            b.bytes(b"r\0").u8(0);
            put_numeric(b, part, order);
            b.bytes(b"i\0").u8(size as u8 / 2);
            put_numeric(b, part, order);
        }
        _ => {
            let signed = if matches!(dtype, DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64) { 0x08 } else { 0 };
            b.u8(0x10).u8(o | signed).u8(0).u8(0).u32(size).u16(0).u16(size as u16 * 8);
        }
    }
}

fn put_type(b: &mut Buf, d: &Descr, depth: usize) -> Result<()> {
    if depth > 8 {
        return Err(unsupported(d));
    }
    match d {
        Descr::Num { dtype, order } => put_numeric(b, *dtype, *order),
        Descr::Bytes(n) if *n > 0 => {
            // string, version 1, NUL-padded ASCII (h5py's `S<n>`)
            b.u8(0x13).u8(0x01).u8(0).u8(0).u32(*n as u32);
        }
        Descr::Record(r) => put_record(b, r, depth)?,
        other => return Err(unsupported(other)),
    }
    Ok(())
}

fn put_record(b: &mut Buf, r: &Record, depth: usize) -> Result<()> {
    let n = u16::try_from(r.fields.len()).map_err(|_| Error::new(ErrorKind::UnsupportedDtype, "a record of more than 65535 fields"))?;
    let size = u32::try_from(r.itemsize).map_err(|_| Error::new(ErrorKind::UnsupportedDtype, "a record larger than 4 GiB"))?;
    let offset_bytes = match size {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    b.u8(0x36).u16(n).u8(0).u32(size);
    for f in &r.fields {
        if f.name.as_bytes().contains(&0) {
            return Err(Error::new(ErrorKind::UnsupportedDtype, format!("record field name {:?} holds a NUL byte", f.name)));
        }
        b.bytes(f.name.as_bytes()).u8(0);
        b.bytes(&(f.offset as u32).to_le_bytes()[..offset_bytes]);
        if f.shape.is_empty() {
            put_type(b, &f.descr, depth + 1)?;
        } else {
            // array, version 3: rank, dims, base type
            let total = f.size() as u32;
            b.u8(0x3a).u8(0).u8(0).u8(0).u32(total).u8(f.shape.len() as u8);
            for &s in &f.shape {
                b.u32(s as u32);
            }
            put_type(b, &f.descr, depth + 1)?;
        }
    }
    Ok(())
}

/// Variable-length UTF-8 strings (h5py's `str` attributes): 16-byte elements
/// (length, global heap collection, object index).
pub fn vlen_utf8() -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(0x19).u8(0x01).u8(0x01).u8(0).u32(16);
    b.u8(0x10).u8(0).u8(0).u8(0).u32(1).u16(0).u16(8);
    b.0
}

/// Space allocation times.
pub const ALLOC_LATE: u8 = 2;
pub const ALLOC_INCREMENTAL: u8 = 3;

pub fn fill_value(alloc: u8, value: Option<&[u8]>) -> Vec<u8> {
    let mut b = Buf::default();
    // fill time 2: 'if set', as h5py's datasets
    b.u8(3).u8(alloc | (2 << 2) | if value.is_some() { 0x20 } else { 0 });
    if let Some(v) = value {
        b.u32(v.len() as u32).bytes(v);
    }
    b.0
}

pub fn layout_contiguous(addr: Option<u64>, size: u64) -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(3).u8(1).addr(addr).u64(size);
    b.0
}

pub fn layout_compact(data: &[u8]) -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(3).u8(0).u16(data.len() as u16).bytes(data);
    b.0
}

pub fn layout_chunked(btree: Option<u64>, dims: &[u64], itemsize: usize) -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(3).u8(2).u8(dims.len() as u8 + 1).addr(btree);
    for &d in dims {
        b.u32(d as u32);
    }
    b.u32(itemsize as u32);
    b.0
}

/// A filter of a pipeline being written: id, flags (1: optional), values.
pub fn filters(list: &[(u16, u16, Vec<u32>)]) -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(2).u8(list.len() as u8);
    for (id, flags, values) in list {
        b.u16(*id).u16(*flags).u16(values.len() as u16);
        for &v in values {
            b.u32(v);
        }
    }
    b.0
}

pub fn attribute(name: &str, datatype: &[u8], dataspace: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    if name.is_empty() || name.as_bytes().contains(&0) {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("an attribute name must be non-empty without NUL bytes, got {name:?}")));
    }
    let mut b = Buf::default();
    b.u8(3).u8(0).u16(name.len() as u16 + 1).u16(datatype.len() as u16).u16(dataspace.len() as u16).u8(1);
    b.bytes(name.as_bytes()).u8(0).bytes(datatype).bytes(dataspace).bytes(data);
    Ok(b.0)
}

pub fn link(name: &str, link: &Link) -> Vec<u8> {
    let n = name.len();
    let (width, code) = match n {
        0..=0xff => (1, 0u8),
        0x100..=0xffff => (2, 1),
        _ => (4, 2),
    };
    let kind = match link {
        Link::Hard(_) => None,
        Link::Soft(_) => Some(1u8),
        Link::External(..) => Some(64u8),
    };
    let mut b = Buf::default();
    b.u8(1).u8(code | 0x10 | if kind.is_some() { 0x08 } else { 0 });
    if let Some(k) = kind {
        b.u8(k);
    }
    b.u8(1).bytes(&(n as u32).to_le_bytes()[..width]).bytes(name.as_bytes());
    match link {
        Link::Hard(a) => {
            b.u64(*a);
        }
        Link::Soft(t) => {
            b.u16(t.len() as u16).bytes(t.as_bytes());
        }
        Link::External(file, obj) => {
            b.u16((file.len() + obj.len() + 3) as u16).u8(0).bytes(file.as_bytes()).u8(0).bytes(obj.as_bytes()).u8(0);
        }
    }
    b.0
}

pub fn link_info() -> Vec<u8> {
    let mut b = Buf::default();
    b.u8(0).u8(0).addr(None).addr(None);
    b.0
}

/// HDF5's defaults: up to 8 links stay compact, dense below 6.
pub const MAX_COMPACT: usize = 8;
pub const MIN_DENSE: u16 = 6;

pub fn group_info(links: usize) -> Vec<u8> {
    let mut b = Buf::default();
    if links > MAX_COMPACT {
        b.u8(0).u8(1).u16(links as u16).u16(MIN_DENSE);
    } else {
        b.u8(0).u8(0);
    }
    b.0
}

/// HDF5's default K of chunk B-trees: nodes hold up to 2K children.
pub const BTREE_K: usize = 32;

pub fn btree_node_len(rank: usize) -> u64 {
    let key = 8 + 8 * (rank as u64 + 1);
    24 + 2 * BTREE_K as u64 * 8 + (2 * BTREE_K as u64 + 1) * key
}

/// A chunk B-tree key: chunk size, filter mask, offsets and a trailing 0.
pub fn btree_key(b: &mut Buf, size: u32, mask: u32, offset: &[u64]) {
    b.u32(size).u32(mask);
    for &o in offset {
        b.u64(o);
    }
    b.u64(0);
}

/// One node: keys[i] describes children[i]; `last` is the key after the last child.
pub fn btree_node(rank: usize, level: u8, siblings: (Option<u64>, Option<u64>), children: &[(Vec<u8>, u64)], last: &[u8]) -> Vec<u8> {
    let mut b = Buf::default();
    b.bytes(b"TREE").u8(1).u8(level).u16(children.len() as u16).addr(siblings.0).addr(siblings.1);
    for (key, child) in children {
        b.bytes(key).u64(*child);
    }
    b.bytes(last);
    let full = btree_node_len(rank) as usize;
    b.zeros(full - b.0.len());
    b.0
}

/// HDF5's smallest global heap collection.
pub const GCOL_MIN: u64 = 4096;

pub fn gcol_object_len(data_len: usize) -> u64 {
    16 + data_len.next_multiple_of(8) as u64
}

/// A global heap collection of `size` bytes holding `objects` (indices 1, 2, ...).
pub fn global_heap(objects: &[Vec<u8>], size: u64) -> Vec<u8> {
    let mut b = Buf::default();
    b.bytes(b"GCOL").u8(1).u8(0).u8(0).u8(0).u64(size);
    for (i, o) in objects.iter().enumerate() {
        b.u16(i as u16 + 1).u16(0).u32(0).u64(o.len() as u64).bytes(o);
        b.zeros(o.len().next_multiple_of(8) - o.len());
    }
    let free = size - b.0.len() as u64;
    if free >= 16 {
        b.u16(0).u16(0).u32(0).u64(free);
    }
    b.zeros(size as usize - b.0.len());
    b.0
}
