//! Headers of the dtypes beyond numbers (datetimes, strings, records): the files
//! NumPy wrote for the fuzz seeds (`fuzz/make_seeds.py`) parse, and mmnpy writes
//! their headers back byte for byte; hostile descr forms are refused clearly.

use mmnpy_core::descr::{Descr, Field, Record, TimeUnit};
use mmnpy_core::header::{parse_header, Header};
use mmnpy_core::{npy, ByteOrder, DType, ErrorKind};

fn seed(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/npy_header").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn numpy_headers_round_trip_byte_for_byte() {
    for name in ["M8_ns", "m8_2s_be", "M8_generic", "S5", "U6_le", "U6_be", "rec_packed", "rec_aligned", "rec_nested", "rec_F", "rec_utf8_names"] {
        let file = seed(&format!("{name}.npy"));
        let (h, offset, _) = npy::inspect(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(h.descr.is_some(), "{name}");
        assert_eq!(h.to_bytes(None).unwrap(), file[..offset as usize], "{name}: header differs from NumPy's");
    }
}

#[test]
fn parsed_layouts() {
    let (h, _, v) = npy::inspect(&seed("rec_nested.npy")).unwrap();
    let Some(Descr::Record(r)) = &h.descr else { panic!("not a record") };
    assert_eq!(r.itemsize, 24 + 4 + 8);
    assert_eq!(r.fields.iter().map(|f| (f.name.as_str(), f.offset)).collect::<Vec<_>>(), [("x", 0), ("s", 24), ("it's", 28)]);
    assert_eq!(r.fields[0].shape, [2, 3]);
    assert_eq!(r.fields[0].descr, Descr::Num { dtype: DType::Float32, order: ByteOrder::Big });
    assert_eq!(r.fields[2].descr, Descr::Time { delta: true, unit: TimeUnit::Micro, multiple: 25, order: ByteOrder::Little });
    assert_eq!(r.fields[1].descr.record().unwrap().fields[1].descr, Descr::Bytes(3));
    assert_eq!(v, (1, 0));
    let (h, _, _) = npy::inspect(&seed("rec_aligned.npy")).unwrap();
    let r = h.descr.as_ref().and_then(|d| d.record()).unwrap();
    assert_eq!((r.itemsize, r.fields[1].offset), (16, 8));
    let (h, _, v) = npy::inspect(&seed("rec_utf8_names.npy")).unwrap();
    assert_eq!(v, (3, 0));
    assert_eq!(h.descr.unwrap().record().unwrap().fields[1].name, "中");
    let (h, _, _) = npy::inspect(&seed("M8_ns.npy")).unwrap();
    assert_eq!((h.dtype, h.byte_order, h.itemsize()), (DType::Int64, ByteOrder::Little, 8));
}

fn text(descr: &str, shape: &str) -> String {
    format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}")
}

#[test]
fn dict_form_and_escapes() {
    let h =
        parse_header((1, 0), text("{'names': ['b', 'a'], 'formats': ['<f8', ('<i2', (3,))], 'offsets': [8, 0], 'itemsize': 24}", "(2,)").as_bytes()).unwrap();
    let r = h.descr.as_ref().unwrap().record().unwrap();
    assert_eq!((r.itemsize, r.fields[0].offset, r.fields[1].shape.clone()), (24, 8, vec![3]));
    // Out of order: NumPy cannot write it to .npy either.
    assert!(h.to_bytes(None).is_err());
    let h = parse_header((1, 0), text("[('\\u4e2d\\x41', '<i4')]", "(1,)").as_bytes()).unwrap();
    assert_eq!(h.descr.unwrap().record().unwrap().fields[0].name, "中A");
}

#[test]
fn writes_what_numpy_writes_for_made_records() {
    let f = |name: &str, descr: Descr, shape: Vec<usize>, offset| Field { name: name.into(), descr, shape, offset };
    let r = Record::new(
        vec![
            f("a", Descr::numeric(DType::Int8, ByteOrder::Little), vec![], 0),
            f("t", Descr::parse(">M8[ns]").unwrap(), vec![2], 8),
            f("u", Descr::parse("<U2").unwrap(), vec![], 24),
        ],
        40,
    )
    .unwrap();
    let h = Header::with_descr(Descr::Record(r), false, vec![3]);
    let bytes = h.to_bytes(None).unwrap();
    let text = String::from_utf8(bytes[10..].to_vec()).unwrap();
    assert!(
        text.starts_with("{'descr': [('a', '|i1'), ('', '|V7'), ('t', '>M8[ns]', (2,)), ('u', '<U2'), ('', '|V8')], 'fortran_order': False, 'shape': (3,), }"),
        "{text}"
    );
    assert_eq!(bytes.len() % 64, 0);
}

#[test]
fn hostile_descrs_are_refused_clearly() {
    let many = format!("[{}]", (0..5000).map(|i| format!("('f{i}', '|u1')")).collect::<Vec<_>>().join(", "));
    let mut deep = "'<f8'".to_string();
    for _ in 0..7 {
        deep = format!("[('n', {deep})]");
    }
    let cases: Vec<(String, &str, ErrorKind, &str)> = vec![
        (text("[('a', '<i4'), ('a', '<f8')]", "(1,)"), "duplicate", ErrorKind::BadHeader, "two fields"),
        (text("{'names': ['a', 'b'], 'formats': ['<f8', '<f8'], 'offsets': [0, 4], 'itemsize': 16}", "(1,)"), "overlap", ErrorKind::BadHeader, "overlap"),
        (text("{'names': ['a'], 'formats': ['<f8'], 'offsets': [12], 'itemsize': 16}", "(1,)"), "past itemsize", ErrorKind::BadHeader, "past"),
        (text("{'names': ['a'], 'formats': ['<f8'], 'offsets': [-1]}", "(1,)"), "negative offset", ErrorKind::BadHeader, "offset"),
        (text("[('', '<i4')]", "(1,)"), "empty name", ErrorKind::BadHeader, "empty name"),
        (text(&many, "(1,)"), "too many fields", ErrorKind::UnsupportedDtype, "more than 4096"),
        (text(&deep, "(1,)"), "too deep", ErrorKind::UnsupportedDtype, "nest"),
        (text("[]", "(1000000000000,)"), "zero-size records, huge shape", ErrorKind::BadShape, "zero-size"),
        (text("[('a', '|V0')]", "(1,)"), "zero-size void", ErrorKind::UnsupportedDtype, "zero-size"),
        (text("[('a', '<f8', (1073741824, 1073741824))]", "(1,)"), "huge subarray", ErrorKind::BadHeader, "too large"),
        (text("[('a', '<f8', (-2,))]", "(1,)"), "negative subarray", ErrorKind::BadHeader, "negative"),
        (text("[('a', '<f8', 'x')]", "(1,)"), "bad subarray", ErrorKind::BadHeader, "subarray shape"),
        (text("[(('title', 'a'), '<f8')]", "(1,)"), "titles", ErrorKind::UnsupportedDtype, "title"),
        (text("[('a', '|O')]", "(1,)"), "object field", ErrorKind::UnsupportedDtype, "pickle"),
        (text("[('a', 3)]", "(1,)"), "type not a string", ErrorKind::BadHeader, "not a dtype"),
        (text("[('a',)]", "(1,)"), "short entry", ErrorKind::BadHeader, "items"),
        (text("['a']", "(1,)"), "entry not a tuple", ErrorKind::BadHeader, "not a (name, type)"),
        (text("('<f8', (2,))", "(1,)"), "subarray descr", ErrorKind::UnsupportedDtype, "tuple"),
        (text("'<M8[fortnight]'", "(1,)"), "bad unit", ErrorKind::UnsupportedDtype, "fortnight"),
        (text("'|S3000000000'", "(1,)"), "huge string", ErrorKind::BadHeader, "too large"),
        (text("{'names': ['a'], 'formats': ['<f8'], 'code': 'x'}", "(1,)"), "unknown dict key", ErrorKind::BadHeader, "unexpected key"),
        (text("[('a', '<f8')] ", "(9223372036854775807,)"), "overflowing size", ErrorKind::BadShape, "overflow"),
        (text("[('\\ud800', '<f8')]", "(1,)"), "surrogate escape", ErrorKind::BadHeader, "code point"),
    ];
    for (t, what, kind, word) in cases {
        let e = parse_header((1, 0), t.as_bytes()).expect_err(what);
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert!(e.to_string().contains(word), "{what}: '{e}' should mention '{word}'");
    }
}
