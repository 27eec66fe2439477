//! Attribute messages (0x0C) and their values.
//!
//! ```text
//! version 1: version, reserved, name size (u16, with the NUL), datatype size (u16),
//!            dataspace size (u16), name, datatype, dataspace (each padded to 8), data
//! version 2: version, flags (1 = shared datatype, 2 = shared dataspace), sizes as v1,
//!            fields unpadded
//! version 3: as 2, plus the name's character set (u8) after the dataspace size
//! data: the elements in the datatype's byte order; a variable-length string element
//!       is its length (u32) then a global heap ID (collection address, index u32)
//! ```

use super::heap::global_object;
use super::io::{bad, Cur, Source};
use super::types::{dataspace, datatype, Element, Space};
use crate::error::Result;
use crate::npy::{self, Array, NewArray};

/// The value of an attribute, as h5py returns it.
#[derive(Debug, Clone)]
pub enum AttrValue {
    /// A numeric value; a scalar when the shape is empty.
    Numbers(Array),
    /// A scalar string (fixed or variable length).
    String(String),
    /// An array of strings, flat in C order, and its shape.
    Strings(Vec<String>, Vec<usize>),
    /// An attribute with no value (`h5py.Empty`).
    Empty,
    /// A type mmnpy does not read: its description.
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub name: String,
    pub value: AttrValue,
}

/// The most elements an attribute holds here (h5py keeps attributes under 64 KiB unless dense).
const MAX_ELEMENTS: u64 = 1 << 28;

pub fn parse(src: &Source, data: &[u8]) -> Result<Attr> {
    let mut c = src.cur(data, "attribute message");
    let version = c.u8()?;
    if !(1..=3).contains(&version) {
        return Err(bad(format!("attribute message version {version}; HDF5 defines 1 to 3")));
    }
    let flags = c.u8()?;
    let name_size = c.u16()? as usize;
    let type_size = c.u16()? as usize;
    let space_size = c.u16()? as usize;
    if version == 3 {
        c.u8()?;
    }
    let pad = |n: usize| if version == 1 { n.next_multiple_of(8) } else { n };
    let name_raw = c.bytes(pad(name_size))?;
    let name = String::from_utf8_lossy(name_raw[..name_size].split(|&b| b == 0).next().unwrap_or(&[])).into_owned();
    if flags & 3 != 0 {
        return Ok(Attr { name, value: AttrValue::Unsupported("an attribute with a shared datatype or dataspace".into()) });
    }
    let type_bytes = c.bytes(pad(type_size))?;
    let space_bytes = c.bytes(pad(space_size))?;
    let (el, size) = datatype(&mut Cur::new(type_bytes, "attribute datatype", src.offset_size, src.length_size))?;
    let space = dataspace(&mut Cur::new(space_bytes, "attribute dataspace", src.offset_size, src.length_size))?;
    let value = value(src, &el, size, &space, &data[c.at..]).map_err(|e| bad(format!("attribute '{name}': {}", e.message())))?;
    Ok(Attr { name, value })
}

fn value(src: &Source, el: &Element, size: usize, space: &Space, data: &[u8]) -> Result<AttrValue> {
    if space.null {
        return Ok(AttrValue::Empty);
    }
    let n = space
        .dims
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| bad("more elements than an attribute can hold"))?;
    let shape: Vec<usize> = space.dims.iter().map(|&d| d as usize).collect();
    let n = n as usize;
    let stride = match el {
        Element::VlenString { .. } => 4 + src.offset_size as usize + 4,
        _ => size,
    };
    let bytes = data.get(..n * stride).ok_or_else(|| bad(format!("the data hold {} bytes for {n} elements of {stride} bytes", data.len())))?;
    match el {
        Element::Numeric(dtype, order) => {
            let spec = NewArray { dtype: *dtype, byte_order: *order, shape: shape.clone(), fortran_order: false };
            Ok(AttrValue::Numbers(npy::from_bytes(bytes, &spec)?))
        }
        Element::FixedString { size, .. } => {
            let strings: Vec<String> = bytes.chunks(*size.max(&1)).map(|s| String::from_utf8_lossy(trim_nul(s)).into_owned()).collect();
            Ok(strings_value(strings, shape))
        }
        Element::VlenString { .. } => {
            let mut strings = Vec::with_capacity(n);
            for e in bytes.chunks(stride) {
                let mut c = src.cur(e, "variable-length string");
                let len = c.u32()? as usize;
                let coll = c.addr()?;
                let index = c.u32()?;
                let s = match coll {
                    None => Vec::new(),
                    Some(_) if len == 0 => Vec::new(),
                    Some(a) => {
                        let obj = global_object(src, a, index)?;
                        obj.get(..len).ok_or_else(|| bad("a variable-length string longer than its heap object"))?.to_vec()
                    }
                };
                strings.push(String::from_utf8_lossy(trim_nul(&s)).into_owned());
            }
            Ok(strings_value(strings, shape))
        }
        Element::Typed(d) => {
            let h = crate::header::Header::with_descr(d.clone(), false, space.dims.clone());
            Ok(AttrValue::Numbers(npy::from_bytes_with(&h, Some(bytes))?))
        }
        Element::Array(..) => Ok(AttrValue::Unsupported(el.describe())),
        Element::Other(d) => Ok(AttrValue::Unsupported(d.clone())),
    }
}

fn trim_nul(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &s[..end]
}

fn strings_value(mut strings: Vec<String>, shape: Vec<usize>) -> AttrValue {
    if shape.is_empty() && strings.len() == 1 {
        AttrValue::String(strings.pop().unwrap_or_default())
    } else {
        AttrValue::Strings(strings, shape)
    }
}
