//! `.npz` archives end to end: write, read back mapped and in memory, and refuse
//! every kind of malformed archive with the right error kind (never a panic).

use std::fs;
use std::path::Path;

use mmnpy_core::npz::{self, NpzWriter};
use mmnpy_core::zip::{Archive, Method, ZipWriter};
use mmnpy_core::{ByteOrder, DType, ErrorKind, Mode, NewArray};

fn spec(dtype: DType, shape: &[usize]) -> NewArray {
    NewArray { dtype, byte_order: ByteOrder::Little, shape: shape.to_vec(), fortran_order: false }
}

fn f64_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (i as f64 * 0.5).to_le_bytes()).collect()
}

fn write_npz(p: &Path, compress: Option<u32>, members: &[(&str, usize)]) {
    let mut w = NpzWriter::create(p, compress).unwrap();
    for (k, n) in members {
        w.add_bytes(k, &spec(DType::Float64, &[*n]), &f64_bytes(*n), None).unwrap();
    }
    w.finish().unwrap();
}

fn read_all(a: &mmnpy_core::Array) -> Vec<u8> {
    a.mapping.read_bytes(0, a.mapping.len()).unwrap()
}

#[test]
fn round_trip_stored_aligned_and_deflated() {
    let dir = tempfile::tempdir().unwrap();
    for compress in [None, Some(1), Some(6), Some(9)] {
        let p = dir.path().join(format!("a{compress:?}.npz"));
        write_npz(&p, compress, &[("x", 1000), ("odd name/é", 3), ("big", 700_000), ("empty", 0)]);
        let f = npz::open_npz(&p, Some(Mode::ReadOnly)).unwrap();
        assert_eq!(f.keys(), vec!["x", "odd name/é", "big", "empty"]);
        for (k, n) in [("x", 1000), ("odd name/é", 3), ("big", 700_000), ("empty", 0)] {
            let a = f.get(k).unwrap();
            assert_eq!(a.shape, vec![n]);
            assert_eq!(read_all(&a), f64_bytes(n), "{k} {compress:?}");
            if compress.is_none() {
                assert_eq!(a.mode, Some(Mode::ReadOnly));
                assert_eq!(a.file_offset % 64, 0, "stored data of {k} at {}", a.file_offset);
            } else {
                assert_eq!(a.mode, None);
            }
        }
        // The same, in memory and several at once.
        let f = npz::open_npz(&p, None).unwrap();
        let many = f.get_many(&["big".into(), "x.npy".into(), "empty".into()]).unwrap();
        assert_eq!(read_all(&many[0]), f64_bytes(700_000));
        assert_eq!(many[1].shape, vec![1000]);
        assert_eq!(f.get("nope").unwrap_err().kind(), ErrorKind::NotFound);
    }
}

#[test]
fn parallel_deflate_of_a_large_member_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.npz");
    // Several batches of chunks, and a tail.
    let n = 3 * (8 << 20) / 8 + 12345;
    write_npz(&p, Some(6), &[("x", n)]);
    let f = npz::open_npz(&p, Some(Mode::ReadOnly)).unwrap();
    assert_eq!(read_all(&f.get("x").unwrap()), f64_bytes(n));
}

#[test]
fn modes_r_plus_and_w_plus_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npz");
    write_npz(&p, None, &[("x", 4)]);
    for m in [Mode::ReadWrite, Mode::Write] {
        assert_eq!(npz::open_npz(&p, Some(m)).unwrap_err().kind(), ErrorKind::UnsupportedMode);
    }
}

#[test]
fn copy_on_write_members_never_reach_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npz");
    write_npz(&p, None, &[("x", 16)]);
    let before = fs::read(&p).unwrap();
    let f = npz::open_npz(&p, Some(Mode::CopyOnWrite)).unwrap();
    let a = f.get("x").unwrap();
    a.mapping.write_bytes(0, &[0xAB; 16]).unwrap();
    assert_eq!(&a.mapping.read_bytes(0, 2).unwrap(), &[0xAB, 0xAB]);
    assert_eq!(fs::read(&p).unwrap(), before);
    // Each get is its own private copy, like two np.load(..., mmap_mode='c').
    assert_eq!(f.get("x").unwrap().mapping.read_bytes(0, 8).unwrap(), 0f64.to_le_bytes());
}

#[test]
fn zip64_with_more_than_65535_members() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("many.npz");
    let mut w = NpzWriter::create(&p, None).unwrap();
    for i in 0..65_600u32 {
        w.add_bytes(&format!("a{i}"), &spec(DType::UInt32, &[1]), &i.to_le_bytes(), None).unwrap();
    }
    w.finish().unwrap();
    let f = npz::open_npz(&p, Some(Mode::ReadOnly)).unwrap();
    assert_eq!(f.keys().len(), 65_600);
    assert_eq!(f.get("a65599").unwrap().mapping.read_bytes(0, 4).unwrap(), 65_599u32.to_le_bytes());
}

/// A small valid archive and its parsed entries, for the hostile mutations below.
fn base(dir: &Path, compress: Option<u32>) -> (std::path::PathBuf, Vec<u8>, Vec<mmnpy_core::zip::Entry>, u64) {
    let p = dir.join(format!("base{compress:?}.npz"));
    write_npz(&p, compress, &[("a", 64), ("b", 64)]);
    let bytes = fs::read(&p).unwrap();
    let entries = Archive::open(&p).unwrap().entries().to_vec();
    let eocd = bytes.len() - 22;
    let cd = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap()) as u64;
    (p, bytes, entries, cd)
}

fn put16(b: &mut [u8], at: u64, v: u16) {
    b[at as usize..at as usize + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: u64, v: u32) {
    b[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
}

/// Offset of the central header of entry `k` (entries written in order, names of one byte + ".npy").
fn central_at(bytes: &[u8], cd: u64, k: usize) -> u64 {
    let mut p = cd as usize;
    for _ in 0..k {
        let (n, x, c) = (
            u16::from_le_bytes([bytes[p + 28], bytes[p + 29]]),
            u16::from_le_bytes([bytes[p + 30], bytes[p + 31]]),
            u16::from_le_bytes([bytes[p + 32], bytes[p + 33]]),
        );
        p += 46 + (n + x + c) as usize;
    }
    p as u64
}

fn open_err(dir: &Path, name: &str, bytes: &[u8], mode: Option<Mode>) -> ErrorKind {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    let e = match npz::open_npz(&p, mode) {
        Err(e) => e,
        Ok(f) => f.get_many(&f.keys()).expect_err(name),
    };
    assert!(e.to_string().contains(p.to_str().unwrap()), "{name}: the error names the file: {e}");
    e.kind()
}

#[test]
fn hostile_archives_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, good, entries, cd) = base(d, None);
    let (_, zgood, zentries, zcd) = base(d, Some(6));

    assert_eq!(open_err(d, "empty", &[], None), ErrorKind::BadZip);
    assert_eq!(open_err(d, "truncated", &good[..good.len() - 30], None), ErrorKind::BadZip);
    assert_eq!(open_err(d, "no-central", &good[..cd as usize], None), ErrorKind::BadZip);
    let mut b = good.clone();
    put32(&mut b, (good.len() - 22 + 12) as u64, 1 << 30);
    assert_eq!(open_err(d, "central-size-past-end", &b, None), ErrorKind::BadZip);
    let mut b = good.clone();
    put16(&mut b, (good.len() - 22 + 10) as u64, 60_000);
    put16(&mut b, (good.len() - 22 + 8) as u64, 60_000);
    assert_eq!(open_err(d, "too-many-entries", &b, None), ErrorKind::BadZip);

    // Local header disagreeing with the central one: method, CRC, name.
    let mut b = good.clone();
    put16(&mut b, entries[1].header_offset + 8, 8);
    assert_eq!(open_err(d, "local-method", &b, None), ErrorKind::BadZip);
    let mut b = good.clone();
    put32(&mut b, entries[0].header_offset + 14, 0xdead_beef);
    assert_eq!(open_err(d, "local-crc", &b, None), ErrorKind::BadZip);
    let mut b = good.clone();
    b[entries[0].header_offset as usize + 30] = b'z';
    assert_eq!(open_err(d, "local-name", &b, None), ErrorKind::BadZip);
    // A central offset pointing at no local header.
    let mut b = good.clone();
    put32(&mut b, central_at(&good, cd, 1) + 42, 3);
    assert_eq!(open_err(d, "bad-offset", &b, None), ErrorKind::BadZip);

    // Overlap: member a's sizes grown (locally and centrally) to cover member b.
    let mut b = good.clone();
    let grown = (entries[1].data_offset + 8 - entries[0].data_offset) as u32;
    for at in [entries[0].header_offset + 18, entries[0].header_offset + 22, central_at(&good, cd, 0) + 20, central_at(&good, cd, 0) + 24] {
        put32(&mut b, at, grown);
    }
    assert_eq!(open_err(d, "overlap", &b, None), ErrorKind::BadZip);

    // CRC mismatch: a stored member read into memory, a deflated member.
    let mut b = good.clone();
    b[entries[1].data_offset as usize + 200] ^= 1;
    assert_eq!(open_err(d, "stored-crc", &b, None), ErrorKind::Checksum);
    let mut b = zgood.clone();
    for at in [zentries[0].header_offset + 14, central_at(&zgood, zcd, 0) + 16] {
        put32(&mut b, at, zentries[0].crc32 ^ 1);
    }
    assert_eq!(open_err(d, "deflated-crc", &b, None), ErrorKind::Checksum);
    let mut b = zgood.clone();
    let mid = zentries[0].data_offset as usize + 10;
    b[mid..mid + 8].copy_from_slice(&[0xff; 8]);
    assert!(matches!(open_err(d, "deflated-corrupt", &b, None), ErrorKind::BadZip | ErrorKind::Checksum));

    // Encrypted, unknown method (both headers agree).
    for (name, off, val) in [("encrypted", 6u64, 1u16), ("method-12", 8, 12)] {
        let mut b = good.clone();
        let cen = central_at(&good, cd, 0) + off + 2;
        let v = u16::from_le_bytes([good[cen as usize], good[cen as usize + 1]]);
        put16(&mut b, entries[0].header_offset + off, if name == "encrypted" { v | val } else { val });
        put16(&mut b, cen, if name == "encrypted" { v | val } else { val });
        assert_eq!(open_err(d, name, &b, Some(Mode::ReadOnly)), ErrorKind::UnsupportedZip, "{name}");
    }
}

#[test]
fn bombs_and_non_npy_members_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A deflated member whose stream holds more than its headers declare.
    let header = mmnpy_core::npy::from_bytes(&f64_bytes(4), &spec(DType::Float64, &[4])).unwrap().npy_header(None).unwrap();
    let declared = header.len() as u64 + 32;
    let mut content = header.clone();
    content.extend(f64_bytes(4));
    content.extend(vec![0u8; 1 << 20]);
    let p = d.join("bomb.npz");
    let f = fs::File::create(&p).unwrap();
    let mut w = ZipWriter::new(f);
    w.add("x.npy", content.len() as u64, Method::Deflated(9), |sink| sink(&content)).unwrap();
    w.finish().unwrap();
    let mut b = fs::read(&p).unwrap();
    let e = Archive::open(&p).unwrap().entries()[0].clone();
    let eocd = b.len() - 22;
    let cd = u32::from_le_bytes(b[eocd + 16..eocd + 20].try_into().unwrap()) as u64;
    put32(&mut b, e.header_offset + 22, declared as u32);
    put32(&mut b, cd + 24, declared as u32);
    assert_eq!(open_err(d, "inflates-past", &b, None), ErrorKind::BadZip);

    // A member that is not a .npy, and one too short for its header.
    let p = d.join("text.npz");
    let mut w = ZipWriter::new(fs::File::create(&p).unwrap());
    w.add("notes.txt", 5, Method::Stored, |sink| sink(b"hello")).unwrap();
    w.finish().unwrap();
    assert_eq!(open_err(d, "not-npy", &fs::read(&p).unwrap(), Some(Mode::ReadOnly)), ErrorKind::BadMagic);
    let p = d.join("short.npz");
    let mut w = ZipWriter::new(fs::File::create(&p).unwrap());
    w.add("x.npy", 40, Method::Stored, |sink| sink(&header[..40])).unwrap();
    w.finish().unwrap();
    assert_eq!(open_err(d, "short-npy", &fs::read(&p).unwrap(), Some(Mode::ReadOnly)), ErrorKind::Truncated);
}

#[test]
fn unfinished_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npz");
    fs::write(&p, b"old").unwrap();
    let mut w = NpzWriter::create(&p, None).unwrap();
    w.add_bytes("x", &spec(DType::Int8, &[2]), &[1, 2], None).unwrap();
    assert!(w.add_bytes("x", &spec(DType::Int8, &[2]), &[1, 2], None).is_err(), "duplicate key");
    drop(w);
    assert_eq!(fs::read(&p).unwrap(), b"old");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
}
