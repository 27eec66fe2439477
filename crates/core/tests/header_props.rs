//! Property tests for the `.npy` header: round trips, NumPy's layout rules, and
//! that no input, however hostile, makes the parser panic.

use mmnpy_core::dtype::ALL_DTYPES;
use mmnpy_core::header::{parse_header, parse_preamble, Header, ARRAY_ALIGN};
use mmnpy_core::{ByteOrder, ErrorKind};
use proptest::prelude::*;

fn header_strategy() -> impl Strategy<Value = Header> {
    (0..ALL_DTYPES.len(), prop::bool::ANY, prop::bool::ANY, prop::collection::vec(0u64..100_000, 0..8))
        .prop_map(|(d, big, fortran, shape)| {
            let dtype = ALL_DTYPES[d];
            Header { dtype, byte_order: dtype.order(if big { ByteOrder::Big } else { ByteOrder::Little }), fortran_order: fortran, shape, descr: None }
        })
        .prop_filter("size fits in 64 bits", |h| h.nbytes().is_ok())
}

fn parse_all(bytes: &[u8]) -> mmnpy_core::Result<Header> {
    let p = parse_preamble(bytes)?;
    let end = p.len.checked_add(p.header_len).filter(|&e| e <= bytes.len());
    match end {
        Some(end) => parse_header(p.version, &bytes[p.len..end]),
        None => Err(mmnpy_core::Error::new(ErrorKind::Truncated, "short")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn written_headers_parse_back_and_align(h in header_strategy(), v in prop::sample::select(vec![None, Some((1u8, 0u8)), Some((2, 0)), Some((3, 0))])) {
        let bytes = h.to_bytes(v).unwrap();
        prop_assert_eq!(bytes.len() % ARRAY_ALIGN, 0);
        prop_assert_eq!(*bytes.last().unwrap(), b'\n');
        prop_assert_eq!(parse_all(&bytes).unwrap(), h);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_all(&bytes);
        let _ = parse_header((1, 0), &bytes);
        let _ = parse_header((3, 0), &bytes);
    }

    #[test]
    fn mutated_headers_never_panic(h in header_strategy(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = h.to_bytes(None).unwrap();
        for (i, b) in edits {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let _ = parse_all(&bytes);
    }

    #[test]
    fn header_text_from_literal_pieces_never_panics(pieces in prop::collection::vec(prop::sample::select(vec![
        "{", "}", "(", ")", "[", "]", ",", ":", " ", "'descr'", "'shape'", "'fortran_order'", "'<f8'",
        "True", "False", "None", "-", "1", "99999999999999999999999999999999999999999", "1.5", "1e5", "'", "\"", "\\", "L", "x",
    ]), 0..60)) {
        let text: String = pieces.concat();
        let _ = parse_header((1, 0), text.as_bytes());
    }
}

#[test]
fn growth_padding_matches_numpy_for_both_orders() {
    // np.save of shape (3, 4) float64 C: 21 - len('3') spaces after the dict;
    // Fortran order pads for the last axis: 21 - len('4').
    let c = Header { dtype: mmnpy_core::DType::Float64, byte_order: ByteOrder::Little, fortran_order: false, shape: vec![3, 12345], descr: None };
    let text = String::from_utf8(c.to_bytes(None).unwrap()[10..].to_vec()).unwrap();
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 12345), }";
    assert!(text.starts_with(&format!("{dict}{}", " ".repeat(20))));
    let f = Header { fortran_order: true, ..c };
    let text = String::from_utf8(f.to_bytes(None).unwrap()[10..].to_vec()).unwrap();
    let dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 12345), }";
    assert!(text.starts_with(&format!("{dict}{}", " ".repeat(16))));
}
