//! Deflate (RFC 1951), CRC-32 and Adler-32 for zip members and zlib streams: our small
//! interface over `flate2` (with the pure-Rust `zlib-rs` backend), `zlib-rs` and
//! `crc32fast`, so that no other module names those crates.
//!
//! Parallel compression of one stream, as pigz does it: the input is cut into
//! chunks of [`CHUNK`] bytes, each compressed by its own compressor on the kernel
//! pool, primed with the last [`WINDOW`] bytes before the chunk as its dictionary
//! (so matches reach back across chunk boundaries as in one serial stream). Every
//! chunk but the last ends with a sync flush (an empty stored block: the stream is
//! byte-aligned there and no block is final), the last with a final block; their
//! concatenation is one valid raw deflate stream that any inflater reads. The
//! CRC-32 of each chunk is computed in the same task and the chunk CRCs are
//! combined in order.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::kernels::pool;

/// Bytes of input per independently compressed chunk. Larger chunks lose less ratio
/// to the missing shared dictionary (well under 0.1% at 1 MiB); smaller ones balance
/// the threads better on small members.
pub const CHUNK: usize = 1 << 20;
/// Deflate's window: how far back a match may reach, and the dictionary size.
pub const WINDOW: usize = 32 << 10;

/// The Adler-32 (zlib's checksum) of `bytes`, continued from `adler` (1 at the start).
pub fn adler32_update(adler: u32, bytes: &[u8]) -> u32 {
    zlib_rs::adler32::adler32(adler, bytes)
}

/// The CRC-32 (zip's, ISO-HDLC) of `bytes`, continued from `crc`.
pub fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(crc);
    h.update(bytes);
    h.finalize()
}

/// A CRC-32 accumulated over consecutive pieces.
#[derive(Clone, Default)]
pub struct Crc32(crc32fast::Hasher);

impl Crc32 {
    pub fn new() -> Self {
        Crc32(crc32fast::Hasher::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Appends the CRC of a piece computed separately.
    pub fn combine(&mut self, other: &Crc32) {
        self.0.combine(&other.0);
    }

    pub fn value(&self) -> u32 {
        self.0.clone().finalize()
    }
}

/// One compressed chunk and the CRC of its input.
pub struct Compressed {
    pub bytes: Vec<u8>,
    pub crc: Crc32,
}

fn deflate_chunk(dictionary: &[u8], data: &[u8], level: u32, last: bool) -> Compressed {
    let mut crc = Crc32::new();
    crc.update(data);
    let mut c = Compress::new(Compression::new(level), false);
    if !dictionary.is_empty() {
        // Only fails on a stream already started; this one is fresh.
        let _ = c.set_dictionary(&dictionary[dictionary.len().saturating_sub(WINDOW)..]);
    }
    // Deflate's worst case is about 5 bytes per 16 KiB stored block plus a few more.
    let mut out = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    loop {
        let consumed = c.total_in() as usize;
        // Errors from compress() only come from misuse of the stream state.
        let status = c.compress_vec(&data[consumed..], &mut out, flush).unwrap_or(Status::BufError);
        let done = if last { status == Status::StreamEnd } else { c.total_in() as usize == data.len() && out.len() < out.capacity() };
        if done {
            break;
        }
        out.reserve(out.capacity().max(4096));
    }
    Compressed { bytes: out, crc }
}

/// One zlib stream (RFC 1950: header, deflate, Adler-32) of `data` at `level` (0..=9),
/// what HDF5's deflate filter stores per chunk.
pub fn zlib(data: &[u8], level: u32) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(level.min(9)), true);
    let mut out = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    loop {
        let consumed = c.total_in() as usize;
        // Errors from compress() only come from misuse of the stream state.
        let status = c.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish).unwrap_or(Status::BufError);
        if status == Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// Compresses consecutive chunks of one stream in parallel on the kernel pool.
/// `before` holds the bytes that precede the first chunk in the stream (its last
/// [`WINDOW`] bytes prime the first compressor; empty at the start). When
/// `ends_stream`, the last chunk closes the stream; otherwise more chunks follow.
pub fn deflate_chunks(before: &[u8], chunks: &[&[u8]], level: u32, ends_stream: bool) -> Vec<Compressed> {
    let n = chunks.len();
    let level = level.min(9);
    let dictionary = |i: usize| if i == 0 { before } else { chunks[i - 1] };
    if n == 1 {
        return vec![deflate_chunk(before, chunks[0], level, ends_stream)];
    }
    pool::install(|| chunks.par_iter().enumerate().map(|(i, c)| deflate_chunk(dictionary(i), c, level, ends_stream && i + 1 == n)).collect())
}

/// CRCs of consecutive chunks, in parallel, combined in order.
pub fn crc32_chunks(chunks: &[&[u8]]) -> Crc32 {
    let parts: Vec<Crc32> = pool::install(|| {
        chunks
            .par_iter()
            .map(|c| {
                let mut h = Crc32::new();
                h.update(c);
                h
            })
            .collect()
    });
    let mut all = Crc32::new();
    for p in &parts {
        all.combine(p);
    }
    all
}

/// What one call of [`Inflater::inflate`] did.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub consumed: usize,
    pub produced: usize,
    /// The stream's final block has been decoded.
    pub ended: bool,
}

/// A raw deflate decoder that writes into caller-provided memory.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Inflater {
    pub fn new() -> Self {
        Inflater(Decompress::new(false))
    }

    /// Decodes from `input` into `output` until one of them is exhausted or the
    /// stream ends. Corrupt data is [`ErrorKind::BadZip`].
    pub fn inflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        let (in0, out0) = (self.0.total_in(), self.0.total_out());
        let status = self
            .0
            .decompress(input, output, FlushDecompress::None)
            .map_err(|e| Error::new(ErrorKind::BadZip, format!("corrupt deflate data: {}", e.message().unwrap_or("invalid stream"))))?;
        Ok(Step { consumed: (self.0.total_in() - in0) as usize, produced: (self.0.total_out() - out0) as usize, ended: status == Status::StreamEnd })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<u8> {
        let mut x: u64 = 7;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if i % 8 < 5 {
                    0
                } else {
                    (x >> 60) as u8
                }
            })
            .collect()
    }

    fn inflate_all(stream: &[u8], len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len + 16];
        let mut inf = Inflater::new();
        let (mut i, mut o) = (0, 0);
        loop {
            let s = inf.inflate(&stream[i..], &mut out[o..]).unwrap();
            i += s.consumed;
            o += s.produced;
            if s.ended {
                break;
            }
            assert!(s.consumed + s.produced > 0, "stuck");
        }
        out.truncate(o);
        out
    }

    #[test]
    fn joined_chunks_are_one_stream_with_combined_crc() {
        let data = sample(3 * CHUNK + 12345);
        let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
        let parts = deflate_chunks(&[], &chunks, 6, true);
        let mut joined = Vec::new();
        let mut crc = Crc32::new();
        for p in &parts {
            joined.extend_from_slice(&p.bytes);
            crc.combine(&p.crc);
        }
        assert_eq!(inflate_all(&joined, data.len()), data);
        assert_eq!(crc.value(), crc32_update(0, &data));
        assert_eq!(crc32_chunks(&chunks).value(), crc.value());
    }

    #[test]
    fn streams_can_continue_across_batches() {
        let data = sample(2 * CHUNK + 7);
        let (a, b) = data.split_at(CHUNK);
        let mut joined = Vec::new();
        for p in deflate_chunks(&[], &[a], 1, false).into_iter().chain(deflate_chunks(a, &b.chunks(CHUNK).collect::<Vec<_>>(), 1, true)) {
            joined.extend_from_slice(&p.bytes);
        }
        assert_eq!(inflate_all(&joined, data.len()), data);
        assert_eq!(inflate_all(&deflate_chunks(&[], &[&[]], 9, true)[0].bytes, 0), Vec::<u8>::new());
    }

    #[test]
    fn primed_chunks_compress_like_one_stream() {
        // A pattern with a period of 8000 bytes: without the dictionary every chunk
        // would code its first period as literals.
        let data: Vec<u8> = (0..(8 << 20) / 8).flat_map(|i| ((i % 1000) as f64 * 0.001).to_le_bytes()).collect();
        let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
        let joined: Vec<u8> = deflate_chunks(&[], &chunks, 6, true).into_iter().flat_map(|c| c.bytes).collect();
        let serial = deflate_chunks(&[], &[&data], 6, true).remove(0).bytes;
        assert_eq!(inflate_all(&joined, data.len()), data);
        assert!(joined.len() < serial.len() + serial.len() / 10 + 64, "parallel {} vs serial {}", joined.len(), serial.len());
    }

    #[test]
    fn corrupt_stream_is_an_error() {
        let mut inf = Inflater::new();
        let mut out = [0u8; 64];
        let e = inf.inflate(&[0xff; 32], &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadZip);
    }
}
