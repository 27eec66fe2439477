//! Files mmnpy writes: read back by mmnpy's reader (and, in the ava suite, by h5py).
use mmnpy_core::hdf5::{AttrInput, AttrValue, Chunking, H5File, NewDataset, Object, Selection, WriteMode};
use mmnpy_core::{ByteOrder, DType, Descr};

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn spec(shape: &[u64], chunks: Chunking) -> NewDataset {
    NewDataset {
        descr: Descr::numeric(DType::Float64, ByteOrder::Little),
        shape: shape.to_vec(),
        maxshape: None,
        chunks,
        gzip: None,
        shuffle: false,
        fletcher32: false,
        fill: None,
    }
}

#[test]
fn written_file_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.h5");
    let f = H5File::open_write(&p, WriteMode::Truncate, false).unwrap();
    f.create_group("g/h").unwrap();
    f.create_dataset("g/c", &spec(&[10, 7], Chunking::Default)).unwrap();
    let vals: Vec<f64> = (0..70).map(|i| i as f64).collect();
    f.write("g/c", &Selection::all(&[10, 7]), &f64s(&vals)).unwrap();
    let mut s = spec(&[100, 7], Chunking::Shape(vec![16, 4]));
    s.gzip = Some(4);
    s.shuffle = true;
    s.fletcher32 = true;
    s.maxshape = Some(vec![None, Some(7)]);
    f.create_dataset("z", &s).unwrap();
    let vals: Vec<f64> = (0..700).map(|i| i as f64 * 0.5).collect();
    f.write("z", &Selection::all(&[100, 7]), &f64s(&vals)).unwrap();
    f.set_attr("/", "title", &AttrInput::Strings { values: vec!["héllo".into()], shape: None }).unwrap();
    f.set_attr("z", "scale", &AttrInput::Numbers { descr: Descr::numeric(DType::Float64, ByteOrder::Little), shape: vec![], bytes: f64s(&[0.25]) }).unwrap();
    f.resize("z", &[130, 7]).unwrap();
    f.close_write().unwrap();
    drop(f);
    let r = H5File::open(&p).unwrap();
    let Object::Dataset(d) = r.get("z").unwrap() else { panic!() };
    assert_eq!(d.shape, vec![130, 7]);
    let a = r.read(&d, &Selection::all(&d.shape)).unwrap();
    assert_eq!(a.mapping.len(), 130 * 7 * 8);
    let attrs = r.attrs_at("/").unwrap();
    assert!(matches!(&attrs[0].value, AttrValue::String(s) if s == "héllo"));
}

fn read_all(f: &H5File, path: &str) -> Vec<f64> {
    let Object::Dataset(d) = f.get(path).unwrap() else { panic!("{path} is not a dataset") };
    let a = f.read(&d, &Selection::all(&d.shape)).unwrap();
    let n = a.mapping.len();
    let bytes = a.mapping.read_bytes(0, n).unwrap();
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn the_file_between_commits_is_the_last_commit() {
    // What a process killed between two commits leaves: the bytes on disk at that moment.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.h5");
    let f = H5File::open_write(&p, WriteMode::Truncate, false).unwrap();
    let mut s = spec(&[64], Chunking::Shape(vec![8]));
    s.gzip = Some(1);
    s.maxshape = Some(vec![None]);
    f.create_dataset("x", &s).unwrap();
    let v1: Vec<f64> = (0..64).map(|i| i as f64).collect();
    f.write("x", &Selection::all(&[64]), &f64s(&v1)).unwrap();
    f.flush().unwrap();
    // Changes after the commit: chunks rewritten (partly and wholly), a resize, a group, an attribute.
    f.write("x", &Selection { start: vec![3], step: vec![5], count: vec![12] }, &f64s(&[-1.0; 12])).unwrap();
    f.resize("x", &[80]).unwrap();
    f.create_group("later").unwrap();
    f.set_attr("/", "later", &AttrInput::Strings { values: vec!["yes".into()], shape: None }).unwrap();
    let snapshot = dir.path().join("killed.h5");
    std::fs::copy(&p, &snapshot).unwrap();
    let old = H5File::open(&snapshot).unwrap();
    assert_eq!(read_all(&old, "x"), v1);
    assert!(!old.has("later").unwrap());
    assert!(old.attrs_at("/").unwrap().is_empty());
    // The writer's own reads see the changes; the next commit makes them the file's.
    let now = read_all(&f, "x");
    assert_eq!(now.len(), 80);
    assert_eq!(now[3], -1.0);
    assert_eq!(now[4], 4.0);
    f.close_write().unwrap();
    let new = H5File::open(&p).unwrap();
    assert_eq!(read_all(&new, "x"), now);
    assert!(new.has("later").unwrap());
}

#[test]
fn h5py_chunk_guess() {
    // Values h5py 3.16's guess_chunk gives for these shapes and item sizes.
    assert_eq!(mmnpy_core::hdf5::guess_chunk(&[1000, 1000], 8), vec![63, 63]);
    assert_eq!(mmnpy_core::hdf5::guess_chunk(&[10_000_000], 4), vec![9766]);
    assert_eq!(mmnpy_core::hdf5::guess_chunk(&[0, 64], 8), vec![128, 16]);
    assert_eq!(mmnpy_core::hdf5::guess_chunk(&[100], 4), vec![100]);
}

#[test]
fn chunks_longer_than_a_fixed_axis_are_read_but_not_rewritten() {
    // A fuzzed file (fuzz/artifacts/hdf5/oom-969fa...): '/g/z' is 4x6 float32 in chunks of
    // (2, 134283267), which HDF5 never creates. Rewriting one chunk allocated and compressed
    // 1 GiB; reads clip to the shape and stay cheap.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/artifacts/hdf5/oom-969fa55e7d29e642111df08e76e3ab067e05d67e");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("oversized.h5");
    std::fs::copy(&src, &p).unwrap();
    {
        let f = H5File::open(&p).unwrap();
        let Ok(Object::Dataset(d)) = f.get("g/z") else { panic!("g/z is a dataset") };
        assert_eq!(d.shape, vec![4, 6]);
        let sel = Selection { start: vec![0, 0], step: vec![1, 1], count: vec![4, 6] };
        assert_eq!(f.read(&d, &sel).unwrap().mapping.len(), 4 * 6 * 4);
    }
    let f = H5File::open_write(&p, WriteMode::ReadWrite, false).unwrap();
    let sel = Selection { start: vec![0, 0], step: vec![1, 1], count: vec![2, 2] };
    let e = f.write("g/z", &sel, &[0u8; 16]).unwrap_err();
    assert_eq!(e.kind(), mmnpy_core::ErrorKind::BadHdf5, "{e}");
    assert!(e.to_string().contains("longer than its fixed axis 1") && e.to_string().contains("g/z"), "{e}");
    // The other dataset, with sane chunks, is still written.
    let Ok(Object::Dataset(u)) = f.get("u") else { panic!("u is a dataset") };
    let n = u.shape[0].min(4);
    let sel = Selection { start: vec![0], step: vec![1], count: vec![n] };
    f.write("u", &sel, &vec![0u8; n as usize * u.itemsize()]).unwrap();
}

#[test]
fn a_never_written_layout_claiming_more_than_its_dataset_allocates_the_dataset_only() {
    // A contiguous dataset never written (address undefined) whose layout claims 2^40 bytes
    // instead of its own 80 (a fuzzed file's trick): a write must allocate 80 bytes, not
    // extend the file by a TiB (or fill it, with a fill value).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("claims.h5");
    {
        let f = H5File::open_write(&p, WriteMode::Truncate, false).unwrap();
        f.create_dataset("x", &spec(&[10], Chunking::Default)).unwrap();
        f.close_write().unwrap();
    }
    // mmnpy allocates at creation (h5py's default allocates late): make the layout message
    // (version 3, contiguous, address, size) say never written, and claim a TiB.
    let mut bytes = std::fs::read(&p).unwrap();
    let size = 80u64.to_le_bytes();
    let at = bytes.windows(18).position(|w| w[0] == 3 && w[1] == 1 && w[10..18] == size).expect("the layout message");
    bytes[at + 2..at + 10].copy_from_slice(&[0xff; 8]);
    bytes[at + 10..at + 18].copy_from_slice(&(1u64 << 40).to_le_bytes());
    // The version 2 object header holding it ("OHDR", version, flags, [times], [attribute
    // phase change], chunk 0's size, messages, checksum) gets its checksum again.
    let start = bytes[..at].windows(4).rposition(|w| w == b"OHDR").expect("a version 2 object header");
    let flags = bytes[start + 5];
    let mut q = start + 6 + if flags & 0x20 != 0 { 16 } else { 0 } + if flags & 0x10 != 0 { 4 } else { 0 };
    let width = 1usize << (flags & 3);
    let mut len = [0u8; 8];
    len[..width].copy_from_slice(&bytes[q..q + width]);
    q += width;
    let end = q + u64::from_le_bytes(len) as usize;
    assert!(end >= at + 18, "the layout message lies in chunk 0");
    let sum = mmnpy_core::hdf5::io::lookup3(&bytes[start..end], 0);
    bytes[end..end + 4].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    let before = bytes.len() as u64;
    let f = H5File::open_write(&p, WriteMode::ReadWrite, false).unwrap();
    f.write("x", &Selection::all(&[10]), &f64s(&[1.5; 10])).unwrap();
    f.close_write().unwrap();
    drop(f);
    let after = std::fs::metadata(&p).unwrap().len();
    assert!(after < before + (1 << 20), "the file grew from {before} to {after} bytes");
    let r = H5File::open(&p).unwrap();
    assert_eq!(read_all(&r, "x"), vec![1.5; 10]);
}

/// Durable writers sync every commit (new files before the rename, files changed in place
/// around the superblock) and write the same bytes as plain ones.
#[test]
fn durable_writers_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, durable: bool| {
        let p = dir.path().join(name);
        let f = H5File::open_write(&p, WriteMode::Truncate, durable).unwrap();
        let mut d = spec(&[512], Chunking::Shape(vec![64]));
        d.gzip = Some(4);
        f.create_dataset("x", &d).unwrap();
        let vals: Vec<f64> = (0..512).map(|i| i as f64).collect();
        f.write("x", &Selection::all(&[512]), &f64s(&vals)).unwrap();
        f.close_write().unwrap();
        drop(f);
        let f = H5File::open_write(&p, WriteMode::ReadWrite, durable).unwrap();
        f.write("x", &Selection::all(&[512]), &f64s(&[2.0; 512])).unwrap();
        f.flush().unwrap();
        f.close_write().unwrap();
        drop(f);
        assert_eq!(read_all(&H5File::open(&p).unwrap(), "x"), vec![2.0; 512]);
        std::fs::read(&p).unwrap()
    };
    assert_eq!(write("plain.h5", false), write("synced.h5", true));
}
