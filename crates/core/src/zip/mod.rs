//! The zip container (PKWARE APPNOTE 6.3), read and written here: the one zip
//! implementation of mmnpy (`.npz` archives, `scipy.sparse.save_npz` files).
//!
//! ```text
//! [local file header 1][data 1][data descriptor 1]   (descriptor only with flag bit 3)
//! ...
//! [local file header n][data n][data descriptor n]
//! [central directory header 1] ... [central directory header n]
//! [zip64 end of central directory record]             (ZIP64 only)
//! [zip64 end of central directory locator]            (ZIP64 only)
//! [end of central directory record]
//! ```
//!
//! All integers are little-endian.
//!
//! ```text
//! local file header                  central directory header
//! 0   4  0x04034b50                  0   4  0x02014b50
//! 4   2  version needed              4   2  version made by
//! 6   2  flags                       6   2  version needed
//! 8   2  method (0 stored, 8 deflate) 8  2  flags
//! 10  4  DOS time, date              10  2  method
//! 14  4  CRC-32                      12  4  DOS time, date
//! 18  4  compressed size             16  4  CRC-32
//! 22  4  uncompressed size           20  4  compressed size
//! 26  2  name length n               24  4  uncompressed size
//! 28  2  extra length m              28  2  name length n
//! 30  n  name                        30  2  extra length m
//! 30+n m extra fields                32  2  comment length k
//!                                    34  2  disk number start
//! end of central directory           36  2  internal attributes
//! 0   4  0x06054b50                  38  4  external attributes
//! 4   2  this disk                   42  4  offset of the local header
//! 6   2  disk of the central dir.    46  n  name, then m extra, k comment
//! 8   2  entries on this disk
//! 10  2  entries in total            zip64 end of central directory locator
//! 12  4  size of the central dir.    0   4  0x07064b50
//! 16  4  offset of the central dir.  4   4  disk of the zip64 record
//! 20  2  comment length, comment     8   8  offset of the zip64 record
//!                                    16  4  number of disks
//! zip64 end of central directory
//! 0   4  0x06064b50, 4 8 size of the rest (>= 44), 12 2 made by, 14 2 needed,
//! 16  4  this disk, 20 4 disk of the central directory, 24 8 entries on this
//!        disk, 32 8 entries in total, 40 8 size, 48 8 offset of the central dir.
//! ```
//!
//! Extra fields are `(id: u16, size: u16, data)`. The ZIP64 field (id 1) holds, in
//! this order, only the 8-byte values whose 32-bit header field is `0xFFFFFFFF`:
//! uncompressed size, compressed size, local header offset (then a 4-byte disk
//! number when that field is `0xFFFF`); in a local header it holds both sizes.
//! Flag bit 0 marks encryption, bit 3 a data descriptor (`[0x08074b50] crc,
//! compressed, uncompressed`, sizes 8 bytes when the entry is ZIP64) after the data,
//! the local header's CRC and sizes then being zero; bit 11 a UTF-8 name (else the
//! name is code page 437).
//!
//! What the reader ([`read`]) checks, so that a hostile archive is an error and
//! never a fault, a huge allocation or an unbounded inflate: the end record is
//! found in the last 64 KiB + 22 bytes; every count, size and offset (32- or 64-bit)
//! is checked against the file length with overflow-checked arithmetic; the
//! central directory must hold exactly the announced entries; each local header
//! must agree with its central header (name, method, flags, CRC and sizes, also
//! those of a data descriptor); no two members' byte ranges may overlap, nor
//! reach into the central directory; names are unique and hold no NUL. Members
//! are then read with their CRC checked (inflated members always, stored members
//! when read into memory), never producing more bytes than their headers declare.
//! Encrypted members, methods other than 0 and 8, and multi-disk archives are
//! refused. Names are keys, never paths: nothing is ever extracted.
//!
//! The writer ([`write`]) puts the data of stored members at a multiple of 64 bytes
//! (padding in the local header's extra field, id `0xD935`, as Android's zipalign
//! does), uses ZIP64 fields when a size or offset needs them, and writes sizes and
//! CRC in the local header itself (no data descriptors).

pub mod read;
pub mod write;

pub use read::{Archive, Entry, MemberReader};
pub use write::{Method, ZipWriter};

pub(crate) const LOCAL_SIG: u32 = 0x0403_4b50;
pub(crate) const CENTRAL_SIG: u32 = 0x0201_4b50;
pub(crate) const EOCD_SIG: u32 = 0x0605_4b50;
pub(crate) const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
pub(crate) const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
pub(crate) const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
pub(crate) const ZIP64_EXTRA: u16 = 0x0001;
pub(crate) const ALIGN_EXTRA: u16 = 0xD935;
pub(crate) const LOCAL_LEN: usize = 30;
pub(crate) const CENTRAL_LEN: usize = 46;
pub(crate) const EOCD_LEN: usize = 22;
pub(crate) const ZIP64_EOCD_LEN: usize = 56;
pub(crate) const ZIP64_LOCATOR_LEN: usize = 20;

pub(crate) const FLAG_ENCRYPTED: u16 = 1;
pub(crate) const FLAG_DESCRIPTOR: u16 = 1 << 3;
pub(crate) const FLAG_UTF8: u16 = 1 << 11;

/// Little-endian field reads over a byte slice whose length the caller checked.
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads exactly `buf.len()` bytes at `offset` (positioned read: the file's cursor
/// is not shared state, so members can be read from several threads).
pub(crate) fn read_at(file: &std::fs::File, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let (mut done, len) = (0usize, buf.len());
        while done < len {
            match file.seek_read(&mut buf[done..], offset + done as u64) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Writes all of `buf` at `offset`.
pub(crate) fn write_at(file: &std::fs::File, offset: u64, buf: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.write_all_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0usize;
        while done < buf.len() {
            match file.seek_write(&buf[done..], offset + done as u64) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
