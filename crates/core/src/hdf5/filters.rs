//! Undoing a chunk's filter pipeline: deflate (zlib streams), shuffle and fletcher32.
//!
//! The pipeline lists filters in the order they were applied on writing; reading
//! undoes them last to first, skipping those whose bit is set in the chunk's filter
//! mask. Each stage's output size is known beforehand (the chunk's bytes, plus 4 for
//! every fletcher32 still to undo), so inflation stops there: a stream that would
//! produce more is refused, and a chunk costs at most its declared size in memory.
//! Other filters (lzf, szip, scale-offset, n-bit, blosc, ...) are refused with
//! `ERR_MMNPY_UNSUPPORTED_FILTER` naming the filter, unless optional and masked.

use flate2::{Decompress, FlushDecompress, Status};

use super::io::bad;
use super::layout::{filter_name, Filter, DEFLATE, FLETCHER32, SHUFFLE};
use crate::error::{Error, ErrorKind, Result};

/// Checks that every filter of the pipeline is one mmnpy undoes.
pub fn check_supported(filters: &[Filter]) -> Result<()> {
    for f in filters {
        if !matches!(f.id, DEFLATE | SHUFFLE | FLETCHER32) {
            return Err(Error::new(
                ErrorKind::UnsupportedFilter,
                format!(
                    "the dataset is compressed with filter '{}', which mmnpy does not decode (it reads gzip, shuffle and fletcher32)",
                    filter_name(f.id, &f.name)
                ),
            ));
        }
    }
    Ok(())
}

/// Undoes the pipeline on one chunk's stored bytes; the result is `chunk_bytes` long.
pub fn decode(filters: &[Filter], mask: u32, raw: Vec<u8>, chunk_bytes: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; chunk_bytes];
    decode_into(filters, mask, raw, &mut out)?;
    Ok(out)
}

/// Undoes the pipeline on one chunk's stored bytes straight into `out` (the chunk's
/// `out.len()` bytes, e.g. their place in a result): the last stage undone (the first
/// filter applied: deflate, shuffle, or a fletcher32 check) writes there, so a chunk
/// costs no buffer of its size beyond the stages before it.
pub fn decode_into(filters: &[Filter], mask: u32, raw: Vec<u8>, out: &mut [u8]) -> Result<()> {
    let chunk_bytes = out.len();
    // sizes[i]: the size of the data filter i was applied to.
    let mut sizes = Vec::with_capacity(filters.len());
    let mut n = chunk_bytes;
    for (i, f) in filters.iter().enumerate() {
        sizes.push(n);
        if f.id == FLETCHER32 && mask & (1 << i) == 0 {
            n += 4;
        }
    }
    // The stages to undo, last applied first.
    let stages: Vec<usize> = (0..filters.len()).rev().filter(|&i| mask & (1 << i) == 0).collect();
    let Some((&last, before)) = stages.split_last() else {
        return copy_whole(&raw, out);
    };
    let mut data = raw;
    for &i in before {
        let f = &filters[i];
        data = match f.id {
            DEFLATE => inflate(&data, sizes[i])?,
            SHUFFLE => unshuffle(&data, shuffle_size(f)),
            FLETCHER32 => fletcher_check(data)?,
            _ => return Err(unsupported(f)),
        };
    }
    // `sizes[last]` is `chunk_bytes`: no unmasked fletcher32 comes before the last stage.
    let f = &filters[last];
    match f.id {
        DEFLATE => inflate_into(&data, out),
        SHUFFLE if data.len() == chunk_bytes => {
            unshuffle_into(&data, shuffle_size(f), out);
            Ok(())
        }
        SHUFFLE => copy_whole(&data, out),
        FLETCHER32 => copy_whole(&fletcher_check(data)?, out),
        _ => Err(unsupported(f)),
    }
}

fn shuffle_size(f: &Filter) -> usize {
    f.values.first().copied().unwrap_or(1) as usize
}

fn unsupported(f: &Filter) -> Error {
    Error::new(ErrorKind::UnsupportedFilter, format!("a chunk needs filter '{}', which mmnpy does not decode", filter_name(f.id, &f.name)))
}

/// Copies a decoded chunk to `out`, which it must fill exactly.
fn copy_whole(data: &[u8], out: &mut [u8]) -> Result<()> {
    if data.len() != out.len() {
        return Err(bad(format!("a chunk decodes to {} bytes; the chunk holds {}", data.len(), out.len())));
    }
    out.copy_from_slice(data);
    Ok(())
}

/// Inflates a zlib stream into exactly `want` bytes at most.
pub fn inflate(src: &[u8], want: usize) -> Result<Vec<u8>> {
    check_ratio(src, want)?;
    let mut out = vec![0u8; want];
    inflate_into(src, &mut out)?;
    Ok(out)
}

fn check_ratio(src: &[u8], want: usize) -> Result<()> {
    // Deflate expands at most 1032:1: a larger claim is refused before allocating it.
    if want as u64 > src.len() as u64 * 1032 + 1024 {
        return Err(bad(format!("a chunk of {} compressed bytes claims {want} bytes, more than deflate can encode (1032:1)", src.len())));
    }
    Ok(())
}

/// Inflates a zlib stream into `out`, which it must fill exactly: a stream that ends
/// early or holds more is refused.
pub fn inflate_into(src: &[u8], out: &mut [u8]) -> Result<()> {
    let want = out.len();
    check_ratio(src, want)?;
    let mut d = Decompress::new(true);
    let status = d.decompress(src, out, FlushDecompress::Finish).map_err(|e| bad(format!("a chunk's deflate stream is corrupted: {e}")))?;
    let produced = d.total_out() as usize;
    match status {
        Status::StreamEnd if produced == want => Ok(()),
        // A chunk is stored whole (edge chunks too): a shorter stream is a damaged chunk.
        Status::StreamEnd => Err(bad(format!("a chunk's deflate stream ends early ({produced} of {want} bytes)"))),
        _ if produced == want => {
            // The output is full: anything more in the stream is a chunk larger than its size.
            let mut probe = [0u8; 1];
            let more = d
                .decompress(&src[d.total_in() as usize..], &mut probe, FlushDecompress::Finish)
                .map_err(|e| bad(format!("a chunk's deflate stream is corrupted: {e}")))?;
            if d.total_out() as usize > want || !matches!(more, Status::StreamEnd) {
                return Err(bad(format!("a chunk inflates past its size of {want} bytes")));
            }
            Ok(())
        }
        _ => Err(bad(format!("a chunk's deflate stream ends early ({produced} of {want} bytes)"))),
    }
}

/// HDF5's shuffle: all first bytes of the elements, then all second bytes, ...
pub fn unshuffle(src: &[u8], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    unshuffle_into(src, size, &mut out);
    out
}

/// [`unshuffle`] into `out` (`src.len()` bytes).
pub fn unshuffle_into(src: &[u8], size: usize, out: &mut [u8]) {
    debug_assert_eq!(src.len(), out.len());
    if size <= 1 || src.len() < size {
        out.copy_from_slice(src);
        return;
    }
    let n = src.len() / size;
    match size {
        2 => unshuffle_n::<2>(src, n, out),
        4 => unshuffle_n::<4>(src, n, out),
        8 => unshuffle_n::<8>(src, n, out),
        _ => {
            for b in 0..size {
                let plane = &src[b * n..(b + 1) * n];
                for (e, &v) in plane.iter().enumerate() {
                    out[e * size + b] = v;
                }
            }
        }
    }
    out[n * size..].copy_from_slice(&src[n * size..]);
}

/// [`unshuffle_into`] for elements of `S` bytes: element by element, so each output
/// element is written whole (the planes are read in step, each sequentially).
fn unshuffle_n<const S: usize>(src: &[u8], n: usize, out: &mut [u8]) {
    let planes: [&[u8]; S] = std::array::from_fn(|b| &src[b * n..(b + 1) * n]);
    for (e, o) in out[..n * S].chunks_exact_mut(S).enumerate() {
        for b in 0..S {
            o[b] = planes[b][e];
        }
    }
}

/// The inverse of [`unshuffle`] (what a writer applies).
pub fn shuffle(src: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 || src.len() < size {
        return src.to_vec();
    }
    let n = src.len() / size;
    let mut out = vec![0u8; src.len()];
    for e in 0..n {
        for b in 0..size {
            out[b * n + e] = src[e * size + b];
        }
    }
    out[n * size..].copy_from_slice(&src[n * size..]);
    out
}

/// Checks that mmnpy can apply every filter of a pipeline (to write chunks).
pub fn check_encodable(filters: &[Filter]) -> Result<()> {
    for f in filters {
        if !matches!(f.id, DEFLATE | SHUFFLE | FLETCHER32) {
            return Err(Error::new(
                ErrorKind::UnsupportedFilter,
                format!(
                    "the dataset is compressed with filter '{}', which mmnpy does not write (it writes gzip, shuffle and fletcher32)",
                    filter_name(f.id, &f.name)
                ),
            ));
        }
    }
    Ok(())
}

/// Applies the pipeline to one chunk's bytes, in order: what is stored for it (with
/// filter mask 0).
pub fn encode(filters: &[Filter], data: Vec<u8>, itemsize: usize) -> Result<Vec<u8>> {
    check_encodable(filters)?;
    let mut data = data;
    for f in filters {
        data = match f.id {
            SHUFFLE => shuffle(&data, f.values.first().map_or(itemsize, |&v| v as usize)),
            DEFLATE => crate::kernels::deflate::zlib(&data, f.values.first().copied().unwrap_or(6)),
            _ => {
                let sum = fletcher32(&data);
                data.extend_from_slice(&sum.to_le_bytes());
                data
            }
        };
    }
    Ok(data)
}

/// HDF5's Fletcher-32 over the bytes read as big-endian 16-bit words.
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut s1, mut s2) = (0u32, 0u32);
    let words = data.chunks_exact(2);
    let odd = words.remainder().first().copied();
    let mut k = 0;
    for w in words {
        s1 += (w[0] as u32) << 8 | w[1] as u32;
        s2 += s1;
        k += 1;
        if k == 360 {
            s1 = (s1 & 0xffff) + (s1 >> 16);
            s2 = (s2 & 0xffff) + (s2 >> 16);
            k = 0;
        }
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    if let Some(b) = odd {
        s1 += (b as u32) << 8;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    (s2 << 16) | s1
}

fn fletcher_check(mut data: Vec<u8>) -> Result<Vec<u8>> {
    if data.len() < 4 {
        return Err(bad("a fletcher32-checked chunk is shorter than its checksum"));
    }
    let n = data.len() - 4;
    let stored = u32::from_le_bytes([data[n], data[n + 1], data[n + 2], data[n + 3]]);
    let sum = fletcher32(&data[..n]);
    // HDF5 1.6 and earlier stored it with the two halves' bytes swapped on some machines.
    let b = sum.to_le_bytes();
    let reversed = u32::from_le_bytes([b[1], b[0], b[3], b[2]]);
    if stored != sum && stored != reversed {
        return Err(Error::new(ErrorKind::Checksum, format!("a chunk fails its fletcher32 checksum (stored {stored:#010x}, computed {sum:#010x}): corrupted")));
    }
    data.truncate(n);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_round_trips_with_a_tail() {
        let v: Vec<u8> = (0..23).collect();
        assert_eq!(unshuffle(&shuffle(&v, 4), 4), v);
        assert_eq!(shuffle(&[1, 2, 3, 4, 5, 6], 2), vec![1, 3, 5, 2, 4, 6]);
    }

    #[test]
    fn unshuffle_into_undoes_shuffle_for_every_element_size() {
        for size in [2usize, 3, 4, 8, 16] {
            for len in [0usize, 1, size - 1, size, 5 * size + 1, 1000 * size + 3] {
                let v: Vec<u8> = (0..len).map(|i| (i * 7 + size) as u8).collect();
                let mut out = vec![0u8; len];
                unshuffle_into(&shuffle(&v, size), size, &mut out);
                assert_eq!(out, v, "size {size}, {len} bytes");
            }
        }
    }

    #[test]
    fn decode_into_gives_what_the_pipeline_encoded() {
        let f = |id: u16, values: Vec<u32>| Filter { id, name: String::new(), optional: false, values };
        let v: Vec<u8> = (0..4096u32).flat_map(|i| (i as f64).sqrt().to_le_bytes()).collect();
        let pipelines = [
            vec![f(DEFLATE, vec![4])],
            vec![f(SHUFFLE, vec![8]), f(DEFLATE, vec![4])],
            vec![f(SHUFFLE, vec![8]), f(DEFLATE, vec![4]), f(FLETCHER32, vec![])],
            vec![f(FLETCHER32, vec![])],
            vec![f(SHUFFLE, vec![8])],
        ];
        for p in &pipelines {
            let stored = encode(p, v.clone(), 8).unwrap();
            let mut out = vec![0u8; v.len()];
            decode_into(p, 0, stored.clone(), &mut out).unwrap();
            assert_eq!(out, v);
            assert_eq!(decode(p, 0, stored.clone(), v.len()).unwrap(), v);
            // A chunk of another size is refused, not misread.
            let mut short = vec![0u8; v.len() - 8];
            assert!(decode_into(p, 0, stored, &mut short).is_err());
        }
        // Every filter masked: the stored bytes are the chunk.
        let mut out = vec![0u8; v.len()];
        decode_into(&pipelines[1], 0b11, v.clone(), &mut out).unwrap();
        assert_eq!(out, v);
    }

    #[test]
    fn inflate_refuses_a_stream_longer_than_the_chunk() {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(&[7u8; 1000]).unwrap();
        let z = e.finish().unwrap();
        assert_eq!(inflate(&z, 1000).unwrap(), vec![7u8; 1000]);
        assert!(inflate(&z, 999).unwrap_err().message().contains("past its size"));
        assert!(inflate(&z, 1001).unwrap_err().message().contains("ends early"));
        assert!(inflate(&z[..z.len() / 2], 1000).is_err());
    }
}
