//! joblib's compressors: which one a file uses (by its first bytes, as joblib's
//! `_detect_compressor`), the decoders (all pure Rust), and the zlib writer.

use std::io::{Read, Write};

use crate::error::{Error, ErrorKind, Result};
use crate::kernels::deflate::{self, CHUNK, WINDOW};
use crate::pickle::Stream;

/// Memory a lzma / xz decoder may take for its dictionary (KiB).
const LZMA_MEM_KB: u32 = 1 << 20;
/// Bytes compressed per parallel batch when writing.
const BATCH: usize = 8 * CHUNK;

/// A compressor joblib writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zlib,
    Gzip,
    Bz2,
    Xz,
    Lzma,
    Lz4,
}

struct Decoded<D>(D);

impl<D: Read> Read for Decoded<D> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<D: Read + Send> Stream for Decoded<D> {}

impl Compression {
    /// The compressor of a file from its first bytes (up to 6); `None`: uncompressed.
    pub fn detect(head: &[u8]) -> Result<Option<Compression>> {
        let c =
            match head {
                [0x80, ..] => return Ok(None),
                [0x78, ..] => Compression::Zlib,
                [0x1f, 0x8b, ..] => Compression::Gzip,
                [b'B', b'Z', ..] => Compression::Bz2,
                [0xfd, b'7', b'z', b'X', b'Z', ..] => Compression::Xz,
                [0x5d, 0x00, ..] => Compression::Lzma,
                [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Lz4,
                [b'Z', b'F', ..] => return Err(Error::new(
                    ErrorKind::BadPickle,
                    "a file of joblib < 0.10 (its arrays live in companion files), which mmnpy does not read: load it with Python's joblib and dump it again",
                )),
                [] => return Err(Error::new(ErrorKind::Truncated, "the file is empty: not a joblib file")),
                [b, ..] => {
                    return Err(Error::new(
                        ErrorKind::BadPickle,
                        format!(
                        "not a joblib file: it starts with 0x{b:02x}, neither a pickle (0x80) nor a compressor joblib writes (zlib, gzip, bz2, xz, lzma, lz4)"
                    ),
                    ))
                }
            };
        Ok(Some(c))
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Zlib => "zlib",
            Compression::Gzip => "gzip",
            Compression::Bz2 => "bz2",
            Compression::Xz => "xz",
            Compression::Lzma => "lzma",
            Compression::Lz4 => "lz4",
        }
    }

    /// The most bytes one compressed byte can expand to (a bound for length checks).
    pub fn max_ratio(self) -> u64 {
        match self {
            Compression::Zlib | Compression::Gzip => 1032,
            Compression::Lz4 => 256,
            // No useful bound: memory then grows only as data is decoded.
            Compression::Bz2 | Compression::Xz | Compression::Lzma => u64::MAX,
        }
    }

    /// A decoder of the whole stream.
    pub fn decoder<'a, R: Read + Send + 'a>(self, r: R) -> Result<Box<dyn Stream + 'a>> {
        let corrupt = |e: std::io::Error| Error::new(ErrorKind::BadPickle, format!("corrupt {} stream: {e}", self.name()));
        Ok(match self {
            Compression::Zlib => Box::new(Decoded(flate2::read::ZlibDecoder::new(r))),
            Compression::Gzip => Box::new(Decoded(flate2::read::MultiGzDecoder::new(r))),
            Compression::Bz2 => Box::new(Decoded(bzip2::read::MultiBzDecoder::new(r))),
            Compression::Xz => Box::new(Decoded(lzma_rust2::XzReader::new_mem_limit(r, true, LZMA_MEM_KB))),
            Compression::Lzma => Box::new(Decoded(lzma_rust2::LzmaReader::new_mem_limit(r, LZMA_MEM_KB, None).map_err(corrupt)?)),
            Compression::Lz4 => Box::new(Decoded(lz4_flex::frame::FrameDecoder::new(r))),
        })
    }
}

/// One zlib stream (RFC 1950: header, deflate, Adler-32), deflated in parallel
/// batches ([`deflate::deflate_chunks`]): what `zlib.decompressobj` (joblib's reader)
/// reads like any other.
pub(crate) struct ZlibWriter<W: Write> {
    out: W,
    level: u32,
    buf: Vec<u8>,
    /// The last [`WINDOW`] bytes before `buf` (the next batch's dictionary).
    tail: Vec<u8>,
    adler: u32,
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("cannot write", &e)
}

impl<W: Write> ZlibWriter<W> {
    pub(crate) fn new(mut out: W, level: u32) -> Result<Self> {
        // CMF 0x78 (deflate, 32 KiB window); FLG: the level class, and FCHECK.
        let flg = match level {
            0 | 1 => 0x01,
            2..=5 => 0x5e,
            6 => 0x9c,
            _ => 0xda,
        };
        out.write_all(&[0x78, flg]).map_err(write_err)?;
        Ok(ZlibWriter { out, level, buf: Vec::with_capacity(BATCH), tail: Vec::new(), adler: 1 })
    }

    pub(crate) fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let n = (BATCH - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.buf.len() == BATCH {
                self.batch(false)?;
            }
        }
        Ok(())
    }

    fn batch(&mut self, last: bool) -> Result<()> {
        let chunks: Vec<&[u8]> = if self.buf.is_empty() { vec![&[][..]] } else { self.buf.chunks(CHUNK).collect() };
        for part in deflate::deflate_chunks(&self.tail, &chunks, self.level, last) {
            self.out.write_all(&part.bytes).map_err(write_err)?;
        }
        self.adler = deflate::adler32_update(self.adler, &self.buf);
        let keep = WINDOW.min(self.buf.len());
        if keep == WINDOW {
            self.tail.clear();
        } else {
            let drop = (self.tail.len() + keep).saturating_sub(WINDOW);
            self.tail.drain(..drop);
        }
        self.tail.extend_from_slice(&self.buf[self.buf.len() - keep..]);
        self.buf.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<W> {
        self.batch(true)?;
        self.out.write_all(&self.adler.to_be_bytes()).map_err(write_err)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_zlib_stream_inflates_with_its_checksum() {
        let data: Vec<u8> = (0..(3 * BATCH + 12345)).map(|i| ((i / 7) % 251) as u8 ^ (i % 3) as u8).collect();
        for level in [1, 3, 6, 9] {
            let mut w = ZlibWriter::new(Vec::new(), level).unwrap();
            for piece in data.chunks(777_777) {
                w.write(piece).unwrap();
            }
            let z = w.finish().unwrap();
            let mut out = Vec::new();
            // ZlibDecoder checks the Adler-32 at the end of the stream.
            flate2::read::ZlibDecoder::new(&z[..]).read_to_end(&mut out).unwrap();
            assert_eq!(out, data, "level {level}");
        }
        let z = ZlibWriter::new(Vec::new(), 3).unwrap().finish().unwrap();
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..]).read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn detects_every_compressor_and_refuses_the_rest() {
        assert_eq!(Compression::detect(&[0x80, 4]).unwrap(), None);
        assert_eq!(Compression::detect(&[0x78, 0x9c]).unwrap(), Some(Compression::Zlib));
        assert_eq!(Compression::detect(b"\x04\x22\x4d\x18").unwrap(), Some(Compression::Lz4));
        assert_eq!(Compression::detect(b"ZF").unwrap_err().kind(), ErrorKind::BadPickle);
        assert_eq!(Compression::detect(b"").unwrap_err().kind(), ErrorKind::Truncated);
        assert!(Compression::detect(b"PK\x03\x04").unwrap_err().to_string().contains("0x50"));
    }
}
