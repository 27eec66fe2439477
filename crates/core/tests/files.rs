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
    let raw = npy::memmap_raw(&p, &spec(DType::Float64, &[200]), true, Mode::ReadWrite, 0).unwrap_err();
    assert_eq!(raw.kind(), ErrorKind::Truncated);
    assert_eq!(fs::metadata(&p).unwrap().len(), 128 + 799);
}

#[test]
fn save_is_atomic_and_keeps_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.npy");
    let s = NewArray { dtype: DType::Int16, byte_order: ByteOrder::Big, shape: vec![2], fortran_order: false };
    npy::save_bytes(&p, &s, &[0, 1, 0, 2], None).unwrap();
    let a = npy::load_npy(&p).unwrap();
    assert_eq!(a.byte_order, ByteOrder::Big);
    assert_eq!(a.mapping.read_bytes(0, 4).unwrap(), vec![0, 1, 0, 2]);
    // Wrong data length: error, and the existing file is untouched.
    assert!(npy::save_bytes(&p, &s, &[0; 3], None).is_err());
    assert_eq!(npy::load_npy(&p).unwrap().mapping.read_bytes(0, 4).unwrap(), vec![0, 1, 0, 2]);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // A directory that does not exist: an error naming the file.
    let e = npy::save_bytes(&dir.path().join("no/such/dir.npy"), &s, &[0; 4], None).unwrap_err();
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
    let a = npy::memmap_raw(&p, &spec(DType::Int32, &[]), false, Mode::ReadOnly, 5).unwrap();
    assert_eq!(a.shape, vec![4]);
    let e = npy::memmap_raw(&p, &spec(DType::Int32, &[]), false, Mode::ReadOnly, 4).unwrap_err();
    assert!(e.to_string().contains("multiple"), "{e}");
    let e = npy::memmap_raw(&p, &spec(DType::Int32, &[]), false, Mode::Write, 0).unwrap_err();
    assert!(e.to_string().contains("shape must be given"), "{e}");
}
