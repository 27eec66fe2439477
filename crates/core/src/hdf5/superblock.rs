//! The superblock: where an HDF5 file starts and how its addresses are sized.
//!
//! ```text
//! found at byte 0, 512, 1024, 2048, ... (a user block may precede it)
//!  0  signature      \x89 H D F \r \n \x1a \n
//!  8  version        0, 1, 2 or 3
//! versions 0 and 1:
//!  9  free-space version, root symbol table entry version, reserved, shared header version (4 x u8)
//! 13  size of offsets (2, 4, 8)   14  size of lengths (2, 4, 8)   15  reserved
//! 16  group leaf node K (u16)      18  group internal node K (u16)  20  consistency flags (u32)
//! v1: 24  indexed storage internal node K (u16), reserved (u16)
//!     base address, free-space info address, end-of-file address, driver info address (offsets)
//!     root group symbol table entry: link name offset, object header address, cache type (u32),
//!     reserved (u32), scratch pad (16 bytes)
//! versions 2 and 3:
//!  9  size of offsets   10 size of lengths   11 consistency flags
//! 12  base address, superblock extension address, end-of-file address, root object header address
//!     checksum (lookup3 of everything before it)
//! ```
//!
//! Refused: other versions, offset or length sizes other than 2, 4, 8, an end-of-file
//! address past the file's length (a truncated file), a bad checksum.

use super::io::{bad, verify_checksum, Cur, Source};
use crate::error::Result;

pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

#[derive(Debug, Clone)]
pub struct Superblock {
    pub version: u8,
    /// Absolute position of the superblock (the user block's size); addresses count from it.
    pub base: u64,
    pub root: u64,
    /// The end-of-file address (relative to `base`).
    pub eof: Option<u64>,
    /// Versions 2 and 3: the superblock extension's object header.
    pub extension: Option<u64>,
    /// Versions 0 and 1: the file driver information block (family, multi drivers).
    pub driver: Option<u64>,
}

/// Finds and parses the superblock of `src` (whose sizes it then sets).
pub fn read(src: &mut Source) -> Result<Superblock> {
    let mut at = 0u64;
    let found = loop {
        if at.checked_add(8).is_none_or(|e| e > src.file_len()) {
            return Err(bad("no HDF5 signature found (at byte 0, 512, 1024, ...): not an HDF5 file"));
        }
        let head = src.meta_upto(at, 8, "superblock")?;
        if head.as_slice() == SIGNATURE {
            break at;
        }
        at = if at == 0 { 512 } else { at * 2 };
    };
    src.base = found;
    let b = src.meta_upto(0, 256, "superblock")?;
    let mut c = Cur::new(&b, "superblock", 8, 8);
    c.skip(8)?;
    let version = c.u8()?;
    let (os, ls) = match version {
        0 | 1 => {
            c.skip(4)?;
            let os = c.u8()?;
            let ls = c.u8()?;
            (os, ls)
        }
        2 | 3 => (c.u8()?, c.u8()?),
        v => return Err(bad(format!("superblock version {v} is not one HDF5 defines (0 to 3)"))),
    };
    for (what, s) in [("size of offsets", os), ("size of lengths", ls)] {
        if !matches!(s, 2 | 4 | 8) {
            return Err(bad(format!("the superblock's {what} is {s}; HDF5 uses 2, 4 or 8")));
        }
    }
    c.offset_size = os;
    c.length_size = ls;
    let root;
    let base;
    let eof;
    let mut extension = None;
    let mut driver = None;
    if version <= 1 {
        c.skip(1)?;
        c.skip(2 + 2 + 4)?;
        if version == 1 {
            c.skip(4)?;
        }
        base = c.addr()?.unwrap_or(0);
        c.addr()?;
        eof = c.addr()?;
        driver = c.addr()?;
        c.addr()?; // root entry: link name offset
        root = c.addr()?.ok_or_else(|| bad("the root group's object header address is undefined"))?;
    } else {
        c.skip(1)?;
        base = c.addr()?.unwrap_or(0);
        extension = c.addr()?;
        eof = c.addr()?;
        root = c.addr()?.ok_or_else(|| bad("the root group's object header address is undefined"))?;
        verify_checksum(&b, c.at, "superblock", 0)?;
    }
    // The base address is where the superblock is, as HDF5 writes it; a user block shifts both.
    if base != 0 && base != found {
        return Err(bad(format!("the superblock's base address {base:#x} differs from where it lies ({found:#x})")));
    }
    src.offset_size = os;
    src.length_size = ls;
    if let Some(eof) = eof {
        if found.checked_add(eof).is_none_or(|e| e > src.file_len()) {
            return Err(bad(format!("the file is truncated: its superblock says it ends at byte {eof}, it holds {} bytes", src.file_len() - found)));
        }
    }
    src.checked(root, 1, "root group's object header")
        .map_err(|_| bad(format!("the root group's object header address {root:#x} lies past the end of the file")))?;
    Ok(Superblock { version, base: found, root, eof, extension, driver })
}
