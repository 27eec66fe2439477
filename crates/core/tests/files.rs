//! Files end to end: create, map in every mode, save, and refuse short or hostile files.

use std::fs;

use mmnpy_core::npy::{self, NewArray};
use mmnpy_core::{ByteOrder, DType, ErrorKind, Mode};

fn spec(dtype: DType, shape: &[usize]) -> NewArray {
    NewArray { dtype, byte_order: ByteOrder::Little, shape: shape.to_vec(), fortran_order: false }
}

#[test]
fn create_write_reopen_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npy");
    let a = npy::create_npy(&p, &spec(DType::Float64, &[4, 3]), None).unwrap();
    assert_eq!(a.file_offset, 128);
    a.mapping.write_bytes(8, &2.5f64.to_le_bytes()).unwrap();
    a.mapping.flush().unwrap();
    drop(a);

    let r = npy::open_npy(&p, Mode::ReadOnly).unwrap();
    assert_eq!(r.mapping.read_bytes(8, 8).unwrap(), 2.5f64.to_le_bytes());
    // A write into an 'r' mapping is private (copy-on-write), never reaching the file.
    r.mapping.write_bytes(0, &[1; 8]).unwrap();
    let c = npy::open_npy(&p, Mode::CopyOnWrite).unwrap();
    c.mapping.write_bytes(16, &[7; 8]).unwrap();
    let on_disk = fs::read(&p).unwrap();
    assert_eq!(&on_disk[128..136], &[0; 8]);
    assert_eq!(&on_disk[144..152], &[0; 8]);

    let w = npy::open_npy(&p, Mode::ReadWrite).unwrap();
    w.mapping.write_bytes(24, &[9; 8]).unwrap();
    w.mapping.flush().unwrap();
    assert_eq!(&fs::read(&p).unwrap()[152..160], &[9; 8]);
}

#[test]
fn w_plus_is_refused_by_open_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npy");
    npy::create_npy(&p, &spec(DType::Int32, &[10]), None).unwrap();
    let before = fs::read(&p).unwrap();
    let e = npy::open_npy(&p, Mode::Write).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("a.npy"));
    assert_eq!(fs::read(&p).unwrap(), before);
}

#[test]
fn short_files_are_refused_in_every_mode_and_not_extended() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("short.npy");
    npy::create_npy(&p, &spec(DType::Float64, &[100]), None).unwrap();
    let f = fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(128 + 799).unwrap();
    for mode in [Mode::ReadOnly, Mode::ReadWrite, Mode::CopyOnWrite] {
        let e = npy::open_npy(&p, mode).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        assert!(e.to_string().contains("short.npy") && e.to_string().contains("short"), "{e}");
    }
    assert_eq!(npy::load_npy(&p).unwrap_err().kind(), ErrorKind::Truncated);
    let raw = npy::memmap_raw(&p, &spec(DType::Float64, &[200]).header(), true, Mode::ReadWrite, 0, false).unwrap_err();
    assert_eq!(raw.kind(), ErrorKind::Truncated);
    assert_eq!(fs::metadata(&p).unwrap().len(), 128 + 799);
}

#[test]
fn save_is_atomic_and_keeps_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.npy");
    let s = NewArray { dtype: DType::Int16, byte_order: ByteOrder::Big, shape: vec![2], fortran_order: false };
    npy::save_bytes(&p, &s, &[0, 1, 0, 2], None, false).unwrap();
    let a = npy::load_npy(&p).unwrap();
    assert_eq!(a.byte_order, ByteOrder::Big);
    assert_eq!(a.mapping.read_bytes(0, 4).unwrap(), vec![0, 1, 0, 2]);
    // Wrong data length: error, and the existing file is untouched.
    assert!(npy::save_bytes(&p, &s, &[0; 3], None, false).is_err());
    assert_eq!(npy::load_npy(&p).unwrap().mapping.read_bytes(0, 4).unwrap(), vec![0, 1, 0, 2]);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // A directory that does not exist: an error naming the file.
    let e = npy::save_bytes(&dir.path().join("no/such/dir.npy"), &s, &[0; 4], None, true).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("dir.npy"));
}

#[test]
fn special_files_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let e = npy::open_npy(dir.path(), Mode::ReadOnly).unwrap_err();
    assert!(e.to_string().contains("directory"), "{e}");
    #[cfg(unix)]
    {
        let e = npy::open_npy(std::path::Path::new("/dev/zero"), Mode::ReadOnly).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

#[test]
fn raw_memmap_infers_shape_and_checks_multiples() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("raw.bin");
    fs::write(&p, [0u8; 21]).unwrap();
    let a = npy::memmap_raw(&p, &spec(DType::Int32, &[]).header(), false, Mode::ReadOnly, 5, false).unwrap();
    assert_eq!(a.shape, vec![4]);
    let e = npy::memmap_raw(&p, &spec(DType::Int32, &[]).header(), false, Mode::ReadOnly, 4, false).unwrap_err();
    assert!(e.to_string().contains("multiple"), "{e}");
    let e = npy::memmap_raw(&p, &spec(DType::Int32, &[]).header(), false, Mode::Write, 0, false).unwrap_err();
    assert!(e.to_string().contains("shape must be given"), "{e}");
}

#[test]
fn w_plus_over_a_mapped_file_replaces_it_without_faulting_the_old_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.npy");
    let old = npy::create_npy(&p, &spec(DType::UInt8, &[1 << 20]), None).unwrap();
    old.mapping.write_bytes((1 << 20) - 1, &[42]).unwrap();
    let r = npy::open_npy(&p, Mode::ReadOnly).unwrap();
    // NumPy truncates here, and every reader of the old pages gets SIGBUS.
    let new = npy::create_npy(&p, &spec(DType::UInt8, &[1]), None).unwrap();
    assert_eq!(r.mapping.read_bytes((1 << 20) - 1, 1).unwrap(), vec![42]);
    assert_eq!(old.mapping.read_bytes((1 << 20) - 1, 1).unwrap(), vec![42]);
    assert_eq!(new.shape, vec![1]);
    assert_eq!(fs::metadata(&p).unwrap().len(), 129);
    let raw = dir.path().join("raw.bin");
    let m = npy::memmap_raw(&raw, &spec(DType::UInt8, &[4096]).header(), true, Mode::Write, 0, false).unwrap();
    m.mapping.write_bytes(4095, &[7]).unwrap();
    npy::memmap_raw(&raw, &spec(DType::UInt8, &[8]).header(), true, Mode::Write, 16, false).unwrap();
    assert_eq!(m.mapping.read_bytes(4095, 1).unwrap(), vec![7]);
    assert_eq!(fs::metadata(&raw).unwrap().len(), 24);
}

#[cfg(unix)]
#[test]
fn saving_through_a_symlink_replaces_the_file_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.npy");
    let link = dir.path().join("link.npy");
    npy::save_bytes(&real, &spec(DType::UInt8, &[1]), &[1], None, false).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    npy::save_bytes(&link, &spec(DType::UInt8, &[2]), &[5, 6], None, true).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(npy::load_npy(&real).unwrap().shape, vec![2]);
}
