//! What each fuzz target checks, on arbitrary bytes (`fuzz/`): shared with the test
//! that replays the committed corpora and crash files (`tests/fuzz_corpus.rs`), so a
//! crash found once is re-checked by every `cargo test`. A check panics only when an
//! invariant is broken; errors are expected answers.

use crate::mapping::Mode;
use crate::{npy, npz};

/// The `.npy` preamble + header parser and the size checks made before mapping.
pub fn npy_header(data: &[u8]) {
    if let Ok((h, offset, version)) = npy::inspect(data) {
        let nbytes = h.nbytes().expect("an accepted header has a size");
        assert!(offset.checked_add(nbytes).is_some_and(|end| end <= data.len() as u64), "accepted a header whose data is not in the file");
        assert!(matches!(version, (1, 0) | (2, 0) | (3, 0)), "accepted version {version:?}");
        // What we accept we can write back, and read again as the same header.
        if let Ok(bytes) = h.to_bytes(Some(version)) {
            let mut file = bytes.clone();
            file.resize(bytes.len() + nbytes.min(1 << 20) as usize, 0);
            if nbytes <= 1 << 20 {
                let (again, _, _) = npy::inspect(&file).expect("a header we wrote parses");
                assert_eq!(again, h, "round trip changed the header");
            }
        }
    }
}

/// The zip directory reader and the `.npz` member reader (in memory and mapped), on
/// arbitrary bytes written to a temporary file (the reader works on files).
pub fn npz(data: &[u8]) {
    use std::io::Write;
    thread_local! {
        static FILE: std::path::PathBuf = std::env::temp_dir().join(format!("mmnpy-fuzz-{}-{:?}.npz", std::process::id(), std::thread::current().id()));
    }
    FILE.with(|p| {
        let written = std::fs::File::create(p).and_then(|mut f| f.write_all(data));
        if written.is_err() {
            return;
        }
        for mode in [None, Some(Mode::ReadOnly), Some(Mode::CopyOnWrite)] {
            let Ok(archive) = npz::open_npz(p, mode) else { continue };
            for key in archive.keys() {
                if let Ok(a) = archive.get(&key) {
                    let expect = a.shape.iter().product::<usize>() * a.itemsize();
                    assert_eq!(a.mapping.len(), expect, "member '{key}' maps {} bytes for {expect}", a.mapping.len());
                    // Touch the first and last bytes: a mapped member must lie inside the file.
                    if expect > 0 {
                        let _ = a.mapping.read_bytes(0, 1).expect("first byte");
                        let _ = a.mapping.read_bytes(expect - 1, 1).expect("last byte");
                    }
                }
            }
        }
        let _ = std::fs::remove_file(p);
    });
}

/// The restricted pickle machine and joblib's array wrapper (uncompressed and
/// compressed streams, read into memory), and the same bytes as a file mapped in `'r'`.
pub fn pickle(data: &[u8]) {
    use std::io::Write;
    let check = |loaded: &crate::joblib::Loaded| {
        for a in &loaded.arena.arrays {
            let expect = a.shape.iter().product::<usize>() * a.itemsize();
            assert_eq!(a.mapping.len(), expect, "an array maps {} bytes for {expect}", a.mapping.len());
            if expect > 0 {
                let _ = a.mapping.read_bytes(expect - 1, 1).expect("last byte");
            }
        }
        // What loads flattens, or is refused cleanly; every step has its payload.
        if let Ok(f) = loaded.flatten() {
            assert_eq!(f.arrays.iter().filter(|&&i| i >= loaded.arena.arrays.len()).count(), 0, "a step names a missing array");
        }
    };
    if let Ok(loaded) = crate::joblib::load_bytes(data) {
        check(&loaded);
    }
    thread_local! {
        static FILE: std::path::PathBuf = std::env::temp_dir().join(format!("mmnpy-fuzz-{}-{:?}.joblib", std::process::id(), std::thread::current().id()));
    }
    FILE.with(|p| {
        if std::fs::File::create(p).and_then(|mut f| f.write_all(data)).is_ok() {
            if let Ok(loaded) = crate::joblib::load(p, Some(Mode::ReadOnly)) {
                check(&loaded);
            }
        }
        let _ = std::fs::remove_file(p);
    });
}

/// The HDF5 reader: open, walk every group, read every attribute and a bounded hyperslab
/// of every dataset (at most 64 indices per axis), on arbitrary bytes as a file. Then the
/// writer on the same bytes (`'r+'`): a small write, a resize to the same shape and an
/// attribute on a few datasets, a new group; a commit that succeeds must reopen with it.
pub fn hdf5(data: &[u8]) {
    use crate::hdf5::{AttrInput, H5File, Object, Selection, WriteMode};
    use std::io::Write;
    thread_local! {
        static FILE: std::path::PathBuf = std::env::temp_dir().join(format!("mmnpy-fuzz-{}-{:?}.h5", std::process::id(), std::thread::current().id()));
    }
    FILE.with(|p| {
        if std::fs::File::create(p).and_then(|mut f| f.write_all(data)).is_err() {
            return;
        }
        if let Ok(f) = H5File::open(p) {
            if let Ok(root) = f.root() {
                let _ = f.attrs(&root.header, "/");
                for name in f.visit(&root).unwrap_or_default() {
                    match f.get(&name) {
                        Ok(Object::Dataset(d)) => {
                            let _ = f.attrs(&d.header, &name);
                            let sel =
                                Selection { start: vec![0; d.shape.len()], step: vec![1; d.shape.len()], count: d.shape.iter().map(|&n| n.min(64)).collect() };
                            if let Ok(a) = f.read(&d, &sel) {
                                // The whole element: a record's or a string's size, not its storage unit's.
                                let expect = sel.count.iter().product::<u64>() as usize * d.full_descr().itemsize();
                                assert_eq!(a.mapping.len(), expect, "a hyperslab of {:?} holds {} bytes", sel.count, a.mapping.len());
                            }
                            if let Ok(m) = f.mmap(&d, Mode::ReadOnly) {
                                if !m.mapping.is_empty() {
                                    let _ = m.mapping.read_bytes(m.mapping.len() - 1, 1).expect("last byte");
                                }
                            }
                        }
                        Ok(Object::Group(g)) => {
                            let _ = f.attrs(&g.header, &name);
                            let _ = f.keys(&g);
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        if let Ok(f) = H5File::open_write(p, WriteMode::ReadWrite, false) {
            for name in f.visit_at("/").unwrap_or_default().iter().take(8) {
                let Ok(Object::Dataset(d)) = f.get(name) else { continue };
                // Small datasets and chunks only: a write allocates (and fills) never-written
                // contiguous data whole, and every chunk it touches whole. Chunks of up to 4 GiB
                // along unlimited axes are valid HDF5 (HDF5 writes them whole too): a 1 GiB chunk
                // of a 10-element dataset took 1.8 s, a libFuzzer timeout on a loaded machine.
                let nbytes = |dims: &[u64]| dims.iter().try_fold(d.itemsize() as u64, |a, &n| a.checked_mul(n));
                let bytes = nbytes(&d.shape);
                let chunk = match &d.layout {
                    crate::hdf5::Layout::Chunked { dims, .. } => nbytes(dims),
                    _ => Some(0),
                };
                if bytes.is_some_and(|b| b <= 1 << 22) && chunk.is_some_and(|b| b <= 1 << 22) {
                    let count: Vec<u64> = d.shape.iter().map(|&n| n.min(4)).collect();
                    let n = count.iter().product::<u64>() as usize * d.itemsize();
                    let sel = Selection { start: vec![0; count.len()], step: vec![1; count.len()], count };
                    let _ = f.write(name, &sel, &vec![0u8; n]);
                    let _ = f.resize(name, &d.shape);
                }
                let _ = f.set_attr(name, "fuzz", &AttrInput::Strings { values: vec!["x".into()], shape: None });
            }
            if f.create_group("fuzz_group").is_ok() && f.flush().is_ok() {
                drop(f);
                let r = H5File::open(p).expect("a file mmnpy committed reopens");
                assert!(r.has("fuzz_group").unwrap_or(false), "the committed group is missing");
            }
        }
        let _ = std::fs::remove_file(p);
    });
}
