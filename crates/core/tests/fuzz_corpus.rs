//! Replays every committed fuzz input through the same checks the fuzz targets run
//! (`mmnpy_core::fuzz`): the seed corpora (`fuzz/corpus/<target>/`) and every crash,
//! timeout or leak the fuzzer ever found (`fuzz/artifacts/<target>/`, committed once
//! fixed), so `cargo test` re-checks them in seconds.

use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] =
    &[("npy_header", mmnpy_core::fuzz::npy_header), ("npz", mmnpy_core::fuzz::npz), ("pickle", mmnpy_core::fuzz::pickle), ("hdf5", mmnpy_core::fuzz::hdf5)];

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn committed_fuzz_inputs_pass_their_checks() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (target, check) in TARGETS {
        let seeds = inputs(&fuzz.join("corpus").join(target));
        assert!(!seeds.is_empty(), "no seed corpus for {target}: run python3 fuzz/make_seeds.py");
        for p in seeds.iter().chain(inputs(&fuzz.join("artifacts").join(target)).iter()) {
            let data = std::fs::read(p).unwrap();
            let r = std::panic::catch_unwind(|| check(&data));
            assert!(r.is_ok(), "{target}: {} fails its check", p.display());
        }
    }
}

#[test]
fn seeds_are_accepted_files() {
    // The seeds are valid files: the fuzzer starts past the magic strings.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/npy_header");
    for p in inputs(&dir) {
        let data = std::fs::read(&p).unwrap();
        assert!(mmnpy_core::npy::inspect(&data).is_ok(), "{} is not a valid .npy", p.display());
    }
}

#[test]
fn pickle_seeds_are_joblib_files_that_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/pickle");
    let seeds = inputs(&dir);
    assert!(seeds.len() >= 5);
    for p in seeds {
        let data = std::fs::read(&p).unwrap();
        let loaded = mmnpy_core::joblib::load_bytes(&data).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        loaded.flatten().unwrap();
    }
}

#[test]
fn hdf5_seeds_are_h5py_files_that_open() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/hdf5");
    let seeds = inputs(&dir);
    assert!(seeds.len() >= 4);
    for p in seeds {
        let f = mmnpy_core::hdf5::H5File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let root = f.root().unwrap();
        assert!(!f.visit(&root).unwrap().is_empty(), "{}", p.display());
    }
}
