//! What each fuzz target checks, on arbitrary bytes (`fuzz/`): shared with the test
//! that replays the committed corpora and crash files (`tests/fuzz_corpus.rs`), so a
//! crash found once is re-checked by every `cargo test`. A check panics only when an
//! invariant is broken; errors are expected answers.

use crate::npy;

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
