//! Bounds-checked access to an HDF5 file: positioned reads that never pass the end
//! of the file or a size limit, and a cursor that parses little-endian fields out of
//! a block, each read checked against the block's end.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind, Result};

/// The largest metadata block (object header chunk, heap, B-tree node) read in one go.
/// Real files have blocks of kilobytes; a larger claim is a broken file, refused
/// before anything is allocated.
pub const MAX_META: u64 = 64 << 20;

/// "undefined address": all bits set.
pub const UNDEF: u64 = u64::MAX;

pub(crate) fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadHdf5, msg)
}

/// The open file: its handle, length and the sizes the superblock declares.
#[derive(Debug)]
pub struct Source {
    pub(crate) file: File,
    /// The file's length: what reads may reach (a writer grows it as it appends).
    pub(crate) len: AtomicU64,
    pub(crate) path: PathBuf,
    /// Size of file addresses (2, 4 or 8 bytes).
    pub(crate) offset_size: u8,
    /// Size of lengths (2, 4 or 8 bytes).
    pub(crate) length_size: u8,
    /// Addresses in the file are relative to this one (the user block's size).
    pub(crate) base: u64,
}

impl Source {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.len.load(Ordering::Acquire)
    }

    /// Records that the file now holds at least `len` bytes (a writer appended).
    pub(crate) fn grown_to(&self, len: u64) {
        self.len.fetch_max(len, Ordering::AcqRel);
    }

    /// The absolute file position of `addr`, checked so that `n` bytes fit in the file.
    pub fn checked(&self, addr: u64, n: u64, what: &str) -> Result<u64> {
        if addr == UNDEF {
            return Err(bad(format!("the {what} has an undefined address")));
        }
        let at = self.base.checked_add(addr).ok_or_else(|| bad(format!("the {what} address {addr:#x} overflows")))?;
        match at.checked_add(n) {
            Some(end) if end <= self.file_len() => Ok(at),
            _ => Err(bad(format!("the {what} at {addr:#x} ({n} bytes) lies past the end of the file ({} bytes): truncated or corrupted", self.file_len()))),
        }
    }

    /// Reads `n` bytes of metadata at `addr` (at most [`MAX_META`]).
    pub fn meta(&self, addr: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        if n > MAX_META {
            return Err(bad(format!("the {what} at {addr:#x} claims {n} bytes, more than any real HDF5 metadata block")));
        }
        self.raw(addr, n, what)
    }

    /// Reads `n` bytes at `addr` (raw data: the caller bounded `n`).
    pub fn raw(&self, addr: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        let at = self.checked(addr, n, what)?;
        let mut buf = vec![0u8; n as usize];
        self.read_into(at, &mut buf)?;
        Ok(buf)
    }

    /// Reads as much as the file holds of `n` bytes at `addr` (for blocks whose size is
    /// only known once parsed: object headers, B-tree nodes).
    pub fn meta_upto(&self, addr: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        let at = self.checked(addr, 0, what)?;
        let n = n.min(self.file_len() - at);
        let mut buf = vec![0u8; n as usize];
        self.read_into(at, &mut buf)?;
        Ok(buf)
    }

    /// Fills `buf` from file position `at` (already checked).
    pub fn read_into(&self, at: u64, buf: &mut [u8]) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(buf, at).map_err(|e| Error::io("cannot read", &e))
        }
        #[cfg(windows)]
        {
            use std::os::windows::fs::FileExt;
            let mut done = 0;
            while done < buf.len() {
                let n = self.file.seek_read(&mut buf[done..], at + done as u64).map_err(|e| Error::io("cannot read", &e))?;
                if n == 0 {
                    return Err(bad("the file ended early (it shrank while being read)"));
                }
                done += n;
            }
            Ok(())
        }
    }

    /// Writes `bytes` at file position `at` (a writer's), and grows the known length.
    pub fn write_at(&self, at: u64, bytes: &[u8]) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.write_all_at(bytes, at).map_err(|e| Error::io("cannot write", &e).at(&self.path))?;
        }
        #[cfg(windows)]
        {
            use std::os::windows::fs::FileExt;
            let mut done = 0;
            while done < bytes.len() {
                let n = self.file.seek_write(&bytes[done..], at + done as u64).map_err(|e| Error::io("cannot write", &e).at(&self.path))?;
                done += n;
            }
        }
        self.grown_to(at + bytes.len() as u64);
        Ok(())
    }

    /// Waits until everything written is on the disk (`fsync`).
    pub fn sync(&self) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io("cannot sync", &e).at(&self.path))
    }

    /// A cursor over a block read from the file.
    pub fn cur<'a>(&self, b: &'a [u8], what: &'static str) -> Cur<'a> {
        Cur { b, at: 0, what, offset_size: self.offset_size, length_size: self.length_size }
    }
}

/// Little-endian fields out of a block, every read checked against its end.
#[derive(Clone)]
pub struct Cur<'a> {
    pub b: &'a [u8],
    pub at: usize,
    pub what: &'static str,
    pub offset_size: u8,
    pub length_size: u8,
}

impl<'a> Cur<'a> {
    pub fn new(b: &'a [u8], what: &'static str, offset_size: u8, length_size: u8) -> Cur<'a> {
        Cur { b, at: 0, what, offset_size, length_size }
    }

    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.at.checked_add(n) {
            Some(end) if end <= self.b.len() => {
                let s = &self.b[self.at..end];
                self.at = end;
                Ok(s)
            }
            _ => Err(bad(format!("the {} ends early ({} bytes, {n} more needed at byte {})", self.what, self.b.len(), self.at))),
        }
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(drop)
    }

    /// Skips to the next multiple of `k` bytes from the block's start.
    pub fn align(&mut self, k: usize) -> Result<()> {
        let pad = self.at.next_multiple_of(k) - self.at;
        self.skip(pad.min(self.remaining()))
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(self.uint(2)? as u16)
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(self.uint(4)? as u32)
    }

    pub fn u64(&mut self) -> Result<u64> {
        self.uint(8)
    }

    /// An unsigned little-endian integer of `n` bytes (0..=8).
    pub fn uint(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(bad(format!("a {n}-byte integer field in the {}", self.what)));
        }
        let s = self.bytes(n)?;
        Ok(s.iter().rev().fold(0u64, |v, &b| (v << 8) | b as u64))
    }

    /// A file address; `None` when undefined (all bits set).
    pub fn addr(&mut self) -> Result<Option<u64>> {
        let n = self.offset_size as usize;
        let v = self.uint(n)?;
        let undef = if n == 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
        Ok(if v == undef { None } else { Some(v) })
    }

    /// A length field.
    pub fn length(&mut self) -> Result<u64> {
        self.uint(self.length_size as usize)
    }

    /// A NUL-terminated string (the NUL consumed).
    pub fn cstr(&mut self) -> Result<&'a [u8]> {
        let rest = &self.b[self.at.min(self.b.len())..];
        let n = rest.iter().position(|&c| c == 0).ok_or_else(|| bad(format!("an unterminated name in the {}", self.what)))?;
        self.at += n + 1;
        Ok(&rest[..n])
    }

    pub fn expect_sig(&mut self, sig: &[u8; 4], addr: u64) -> Result<()> {
        let s = self.bytes(4)?;
        if s != sig {
            return Err(bad(format!(
                "no {} at {addr:#x}: expected signature '{}', found {:?}",
                self.what,
                String::from_utf8_lossy(sig),
                String::from_utf8_lossy(s)
            )));
        }
        Ok(())
    }
}

/// Jenkins' lookup3 `hashlittle`, the checksum of every HDF5 structure with a signature
/// from superblock 2 on.
pub fn lookup3(data: &[u8], init: u32) -> u32 {
    let mut a = 0xdeadbeefu32.wrapping_add(data.len() as u32).wrapping_add(init);
    let (mut b, mut c) = (a, a);
    let mut k = data;
    fn rot(x: u32, k: u32) -> u32 {
        x.rotate_left(k)
    }
    let word = |s: &[u8], i: usize| -> u32 {
        let mut w = 0u32;
        for j in 0..4 {
            if let Some(&v) = s.get(i + j) {
                w |= (v as u32) << (8 * j);
            }
        }
        w
    };
    while k.len() > 12 {
        a = a.wrapping_add(word(k, 0));
        b = b.wrapping_add(word(k, 4));
        c = c.wrapping_add(word(k, 8));
        a = a.wrapping_sub(c);
        a ^= rot(c, 4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= rot(a, 6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= rot(b, 8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c);
        a ^= rot(c, 16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= rot(a, 19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= rot(b, 4);
        b = b.wrapping_add(a);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    a = a.wrapping_add(word(k, 0));
    b = b.wrapping_add(word(k, 4));
    c = c.wrapping_add(word(k, 8));
    c ^= b;
    c = c.wrapping_sub(rot(b, 14));
    a ^= c;
    a = a.wrapping_sub(rot(c, 11));
    b ^= a;
    b = b.wrapping_sub(rot(a, 25));
    c ^= b;
    c = c.wrapping_sub(rot(b, 16));
    a ^= c;
    a = a.wrapping_sub(rot(c, 4));
    b ^= a;
    b = b.wrapping_sub(rot(a, 14));
    c ^= b;
    c = c.wrapping_sub(rot(b, 24));
    c
}

/// Checks the lookup3 checksum stored in the 4 bytes after `body`.
pub fn verify_checksum(block: &[u8], body_len: usize, what: &str, addr: u64) -> Result<()> {
    let stored = block.get(body_len..body_len + 4).ok_or_else(|| bad(format!("the {what} at {addr:#x} ends before its checksum")))?;
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let actual = lookup3(&block[..body_len], 0);
    if stored != actual {
        return Err(bad(format!("the {what} at {addr:#x} fails its checksum (stored {stored:#010x}, computed {actual:#010x}): corrupted")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup3_matches_reference_values() {
        // Bob Jenkins' published driver values for hashlittle.
        assert_eq!(lookup3(b"", 0), 0xdeadbeef);
        assert_eq!(lookup3(b"Four score and seven years ago", 0), 0x17770551);
        assert_eq!(lookup3(b"Four score and seven years ago", 1), 0xcd628161);
    }
}
