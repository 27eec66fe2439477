//! Datatype (0x03) and dataspace (0x01) messages: what an element is, and the shape.
//!
//! ```text
//! datatype: class and version (u8: class in bits 0-3, version in 4-7), class bits (3 bytes),
//!           size (u32), properties by class:
//!   0 fixed-point  bits: 0 byte order (1 = big), 3 signed; bit offset (u16), precision (u16)
//!   1 float        bits: 0 byte order (bit 6 too: VAX, refused), 8-15 sign position;
//!                  bit offset (u16), precision (u16), exponent location, size, mantissa
//!                  location, size (4 x u8), exponent bias (u32)
//!   3 string       bits 0-3 padding, 4-7 character set; no properties (fixed size)
//!   6 compound     bits 0-15 member count; members: name (NUL-terminated, padded to 8
//!                  in versions 1-2), byte offset (u32 in 1-2, the fewest bytes that hold
//!                  the size in 3), [v1: dimensionality, reserved, permutation, dims],
//!                  member datatype
//!   8 enum         bits 0-15 member count; base datatype, names, values
//!   9 variable-length  bits 0-3: 0 sequence, 1 string; base datatype
//!   5 opaque       tag (NUL-terminated, padded to 8): h5py's `opaque_dtype` tags a NumPy
//!                  dtype it has no HDF5 type for as 'NUMPY:<M8[ns]': read as that dtype
//!   10 array       v2: rank (u8), 3 reserved, dims (u32 each), permutation (u32 each);
//!                  v3: rank (u8), dims (u32 each); base datatype. A member of a compound
//!                  (a subarray field: h5py writes `('m', '<f4', (3,))` so)
//!   2 time, 4 bitfield, 7 reference: named and refused
//! dataspace: version (1 or 2), rank (u8), flags (u8: 1 = max dims present),
//!   v1: reserved (5 bytes); v2: type (u8: 0 scalar, 1 simple, 2 null);
//!   dims (rank lengths), max dims (rank lengths; all bits set = unlimited)
//! ```
//!
//! h5py's own mappings: `bool` is an enum of int8 {FALSE: 0, TRUE: 1}; `complex64` and
//! `complex128` are compounds {r, i} of two floats at offsets 0 and size / 2; any other
//! compound is a record dtype with the members' names, offsets and the compound's size
//! (what h5py's `dtype` gives: `{'names', 'formats', 'offsets', 'itemsize'}`), members
//! of fixed-length strings `S<n>`, nested compounds records, arrays subarrays.

use super::io::{bad, Cur};
use crate::descr::{Descr, Field, Record, MAX_FIELDS, MAX_RECORD_DEPTH};
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};

/// What an element of a dataset or attribute is.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Numeric(DType, ByteOrder),
    /// Fixed-length string of `size` bytes.
    FixedString {
        size: usize,
        utf8: bool,
    },
    /// Variable-length string (stored in the global heap).
    VlenString {
        utf8: bool,
    },
    /// A record (compound) or a NumPy dtype h5py stored as tagged opaque data.
    Typed(Descr),
    /// An HDF5 array of `dims` elements (a subarray field inside a compound).
    Array(Box<Element>, Vec<usize>),
    /// A type mmnpy does not read, described ("compound {a: int32, b: float64}").
    Other(String),
}

impl Element {
    pub fn describe(&self) -> String {
        match self {
            Element::Numeric(d, o) => d.descr(*o),
            Element::FixedString { size, .. } => format!("fixed-length string of {size} bytes"),
            Element::VlenString { .. } => "variable-length string".into(),
            Element::Typed(d) => d.to_numpy().unwrap_or_else(|_| "a record".into()),
            Element::Array(base, dims) => format!("array {dims:?} of {}", base.describe()),
            Element::Other(s) => s.clone(),
        }
    }

    /// The dtype of a dataset of these elements: numbers, records, `S<n>` for
    /// fixed-length strings (as h5py), a tagged NumPy dtype; or the error naming the type.
    pub fn descr(&self, what: &str) -> Result<Descr> {
        match self {
            Element::Numeric(d, o) => Ok(Descr::numeric(*d, *o)),
            Element::FixedString { size, .. } => Ok(Descr::Bytes(*size)),
            Element::Typed(d) => Ok(d.clone()),
            Element::VlenString { .. } => Err(Error::new(
                ErrorKind::UnsupportedDtype,
                format!("{what} holds variable-length strings (h5py reads them as an object array of bytes), which no NdArray dtype holds: read them with readStrings()"),
            )),
            other => Err(Error::new(ErrorKind::UnsupportedDtype, format!("{what} has HDF5 type {}, which mmnpy does not read", other.describe()))),
        }
    }

    /// The numeric dtype, or the error naming the type.
    pub fn numeric(&self, what: &str) -> Result<(DType, ByteOrder)> {
        match self {
            Element::Numeric(d, o) => Ok((*d, *o)),
            other => Err(Error::new(
                ErrorKind::UnsupportedDtype,
                format!("{what} has HDF5 type {}, which mmnpy does not read (numeric dtypes only)", other.describe()),
            )),
        }
    }
}

const MAX_DEPTH: usize = 16;

/// Parses a datatype message; returns the element and its size in bytes.
pub fn datatype(c: &mut Cur) -> Result<(Element, usize)> {
    parse(c, 0)
}

fn parse(c: &mut Cur, depth: usize) -> Result<(Element, usize)> {
    if depth > MAX_DEPTH {
        return Err(bad("a datatype nested more than 16 levels deep"));
    }
    let cv = c.u8()?;
    let (class, version) = (cv & 0x0f, cv >> 4);
    let bits = c.bytes(3)?;
    let bits = bits[0] as u32 | (bits[1] as u32) << 8 | (bits[2] as u32) << 16;
    let size = c.u32()? as usize;
    let order = |size: usize| {
        if size == 1 {
            ByteOrder::NotApplicable
        } else if bits & 1 != 0 {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    };
    let el = match class {
        0 => {
            let (offset, precision) = (c.u16()?, c.u16()?);
            let signed = bits & 0x08 != 0;
            let dt = match (size, signed) {
                (1, true) => Some(DType::Int8),
                (1, false) => Some(DType::UInt8),
                (2, true) => Some(DType::Int16),
                (2, false) => Some(DType::UInt16),
                (4, true) => Some(DType::Int32),
                (4, false) => Some(DType::UInt32),
                (8, true) => Some(DType::Int64),
                (8, false) => Some(DType::UInt64),
                _ => None,
            };
            match dt {
                Some(d) if offset == 0 && precision as usize == size * 8 => Element::Numeric(d, order(size)),
                _ => {
                    Element::Other(format!("{}-bit {} integer (precision {precision}, offset {offset})", size * 8, if signed { "signed" } else { "unsigned" }))
                }
            }
        }
        1 => {
            let (offset, precision) = (c.u16()?, c.u16()?);
            let (eloc, esize, mloc, msize) = (c.u8()?, c.u8()?, c.u8()?, c.u8()?);
            let bias = c.u32()?;
            let ieee = match size {
                2 => (DType::Float16, 10, 5, 15, 15),
                4 => (DType::Float32, 23, 8, 127, 31),
                8 => (DType::Float64, 52, 11, 1023, 63),
                _ => (DType::Float64, 0, 0, 0, 0),
            };
            let sign = (bits >> 8) & 0xff;
            let (d, m, e, b, s) = ieee;
            if bits & 0x40 == 0
                && m != 0
                && offset == 0
                && precision as usize == size * 8
                && mloc == 0
                && msize == m
                && eloc == m
                && esize == e
                && bias == b
                && sign == s
            {
                Element::Numeric(d, order(size))
            } else {
                Element::Other(format!("{}-bit float of a non-IEEE layout (exponent {esize} bits, mantissa {msize} bits)", size * 8))
            }
        }
        3 => Element::FixedString { size, utf8: (bits >> 4) & 0x0f == 1 },
        6 => compound(c, version, bits, size, depth)?,
        8 => {
            let (base, _) = parse(c, depth + 1)?;
            let n = (bits & 0xffff) as usize;
            let mut names = Vec::new();
            for _ in 0..n {
                let name = c.cstr()?.to_vec();
                if version < 3 {
                    c.align_from(name.len() + 1, 8)?;
                }
                names.push(name);
            }
            let mut vals = Vec::new();
            let bsize = match base {
                Element::Numeric(d, _) => d.itemsize(),
                _ => 0,
            };
            for _ in 0..n {
                vals.push(c.uint(bsize.min(8))?);
            }
            let is_bool = matches!(base, Element::Numeric(DType::Int8, _))
                && n == 2
                && names.iter().zip(&vals).all(|(nm, &v)| (nm == b"FALSE" && v == 0) || (nm == b"TRUE" && v == 1));
            if is_bool {
                Element::Numeric(DType::Bool, ByteOrder::NotApplicable)
            } else {
                let shown: Vec<String> = names.iter().take(6).map(|n| String::from_utf8_lossy(n).into_owned()).collect();
                Element::Other(format!("enum of {} {{{}}}", base.describe(), shown.join(", ")))
            }
        }
        9 => {
            let (base, _) = parse(c, depth + 1)?;
            if bits & 0x0f == 1 {
                Element::VlenString { utf8: (bits >> 8) & 0x0f == 1 }
            } else {
                Element::Other(format!("variable-length sequence of {}", base.describe()))
            }
        }
        2 => Element::Other("time".into()),
        4 => Element::Other(format!("{}-bit bitfield", size * 8)),
        5 => {
            let tag = c.cstr()?.to_vec();
            c.align_from(tag.len() + 1, 8)?;
            let numpy = std::str::from_utf8(&tag).ok().and_then(|t| t.strip_prefix("NUMPY:")).and_then(|t| Descr::parse(t).ok());
            match numpy {
                Some(d @ (Descr::Time { .. } | Descr::Num { .. } | Descr::Bytes(_) | Descr::Str { .. })) if d.itemsize() == size => Element::Typed(d),
                _ => Element::Other(format!("opaque ({size} bytes, tag {:?})", String::from_utf8_lossy(&tag[..tag.len().min(40)]))),
            }
        }
        7 => Element::Other("reference".into()),
        10 => {
            let rank = c.u8()? as usize;
            if version < 3 {
                c.skip(3)?;
            }
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(c.u32()? as usize);
            }
            if version < 3 {
                c.skip(4 * rank)?;
            }
            let (base, bsize) = parse(c, depth + 1)?;
            let n = dims.iter().try_fold(bsize, |a, &d| a.checked_mul(d));
            if rank == 0 || n != Some(size) {
                return Err(bad(format!("an array datatype of dims {dims:?} of {bsize}-byte elements declared {size} bytes long")));
            }
            Element::Array(Box::new(base), dims)
        }
        11 => {
            let (base, _) = parse(c, depth + 1)?;
            match base {
                Element::Numeric(DType::Float32, o) => Element::Numeric(DType::Complex64, o),
                Element::Numeric(DType::Float64, o) => Element::Numeric(DType::Complex128, o),
                b => Element::Other(format!("complex of {}", b.describe())),
            }
        }
        k => return Err(bad(format!("datatype class {k} is not one HDF5 defines"))),
    };
    Ok((el, size))
}

fn compound(c: &mut Cur, version: u8, bits: u32, size: usize, depth: usize) -> Result<Element> {
    let n = (bits & 0xffff) as usize;
    let offset_bytes = match size {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    let mut members = Vec::new();
    for _ in 0..n {
        let name = c.cstr()?.to_vec();
        if version < 3 {
            c.align_from(name.len() + 1, 8)?;
        }
        let offset = if version >= 3 { c.uint(offset_bytes)? } else { c.u32()? as u64 };
        if version == 1 {
            let rank = c.u8()?;
            c.skip(3 + 4 + 4 + 16)?;
            if rank != 0 {
                return Ok(Element::Other("compound with array members".into()));
            }
        }
        let (el, _) = parse(c, depth + 1)?;
        members.push((name, offset, el));
    }
    let complex = match members.as_slice() {
        [(r, 0, Element::Numeric(a, oa)), (i, off, Element::Numeric(b, ob))] if r == b"r" && i == b"i" && a == b && oa == ob && *off as usize * 2 == size => {
            match a {
                DType::Float32 if size == 8 => Some(Element::Numeric(DType::Complex64, *oa)),
                DType::Float64 if size == 16 => Some(Element::Numeric(DType::Complex128, *oa)),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(c) = complex {
        return Ok(c);
    }
    let describe = || {
        let shown: Vec<String> = members.iter().take(8).map(|(n, _, e)| format!("{}: {}", String::from_utf8_lossy(n), e.describe())).collect();
        format!("compound {{{}{}}}", shown.join(", "), if members.len() > 8 { ", ..." } else { "" })
    };
    let mut fields = Vec::with_capacity(members.len());
    let mut count = 0usize;
    for (name, offset, el) in &members {
        let (descr, shape) = match member_descr(el) {
            Some(d) => d,
            None => return Ok(Element::Other(format!("{} (member '{}' has no NumPy dtype mmnpy reads)", describe(), String::from_utf8_lossy(name)))),
        };
        count += 1 + descr.record().map_or(0, Record::count_fields);
        if count > MAX_FIELDS || descr.depth() + 1 > MAX_RECORD_DEPTH {
            return Ok(Element::Other(format!("{} (more than {MAX_FIELDS} members or {MAX_RECORD_DEPTH} levels of nesting)", describe())));
        }
        let name = String::from_utf8(name.clone()).map_err(|_| bad(format!("a compound member name is not UTF-8 ({})", describe())))?;
        let offset = usize::try_from(*offset).map_err(|_| bad("a compound member offset past the address space"))?;
        fields.push(Field { name, descr, shape, offset });
    }
    let record = Record::new(fields, size).map_err(|e| bad(format!("{}: {}", describe(), e.message())))?;
    Ok(Element::Typed(Descr::Record(record)))
}

/// A compound member's dtype and subarray shape, when NumPy has one for it.
fn member_descr(el: &Element) -> Option<(Descr, Vec<usize>)> {
    match el {
        Element::Numeric(d, o) => Some((Descr::numeric(*d, *o), Vec::new())),
        Element::FixedString { size, .. } if *size > 0 => Some((Descr::Bytes(*size), Vec::new())),
        Element::Typed(d) => Some((d.clone(), Vec::new())),
        Element::Array(base, dims) => {
            let (d, mut inner) = member_descr(base)?;
            let mut shape = dims.clone();
            shape.append(&mut inner);
            Some((d, shape))
        }
        _ => None,
    }
}

impl Cur<'_> {
    /// Skips the padding that makes a field that started `len` bytes ago a multiple of `k` long.
    pub fn align_from(&mut self, len: usize, k: usize) -> Result<()> {
        let pad = len.next_multiple_of(k) - len;
        self.skip(pad.min(self.remaining()))
    }
}

/// A dataspace: `None` dims for the null dataspace (no elements, as `h5py.Empty`).
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    pub dims: Vec<u64>,
    /// `None` entries are unlimited.
    pub max: Vec<Option<u64>>,
    pub null: bool,
}

/// The most dimensions HDF5 allows.
pub const MAX_RANK: usize = 32;

pub fn dataspace(c: &mut Cur) -> Result<Space> {
    let version = c.u8()?;
    let rank = c.u8()? as usize;
    let flags = c.u8()?;
    let mut null = false;
    match version {
        1 => c.skip(5)?,
        2 => null = c.u8()? == 2,
        v => return Err(bad(format!("dataspace version {v} is not one HDF5 defines (1, 2)"))),
    }
    if rank > MAX_RANK {
        return Err(bad(format!("a dataspace of rank {rank}; HDF5 allows at most {MAX_RANK}")));
    }
    let mut dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        dims.push(c.length()?);
    }
    let mut max = Vec::with_capacity(rank);
    for &d in &dims {
        if flags & 1 != 0 {
            let m = c.length()?;
            let unlimited = m == u64::MAX || (c.length_size < 8 && m == (1u64 << (8 * c.length_size as u32)) - 1);
            max.push(if unlimited { None } else { Some(m) });
        } else {
            max.push(Some(d));
        }
    }
    Ok(Space { dims, max, null })
}
