//! HDF5 files h5py wrote (`__test__/fixtures/make_h5_fixtures.py`, needs python3 with
//! h5py), read natively: every dataset compared byte for byte with h5py's `ds[()]`, many
//! hyperslabs compared with an element-by-element reference, attributes, group listings,
//! refused types and filters, mapping, and a hostile corpus refused with clear errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mmnpy_core::hdf5::{AttrValue, H5File, Object, Selection};
use mmnpy_core::{npy, Array, Mode};

/// A small JSON reader for the manifest.
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(BTreeMap<String, J>),
}

impl J {
    fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(m) => m.get(k).unwrap_or(&J::Null),
            _ => &J::Null,
        }
    }
    fn s(&self) -> &str {
        match self {
            J::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    fn arr(&self) -> &[J] {
        match self {
            J::Arr(v) => v,
            _ => &[],
        }
    }
    fn u64s(&self) -> Vec<u64> {
        self.arr()
            .iter()
            .map(|x| match x {
                J::Num(n) => *n as u64,
                _ => panic!(),
            })
            .collect()
    }
}

fn parse(s: &[u8], i: &mut usize) -> J {
    while s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    match s[*i] {
        b'{' => {
            *i += 1;
            let mut m = BTreeMap::new();
            loop {
                while s[*i].is_ascii_whitespace() || s[*i] == b',' {
                    *i += 1;
                }
                if s[*i] == b'}' {
                    *i += 1;
                    return J::Obj(m);
                }
                let J::Str(k) = parse(s, i) else { panic!() };
                while s[*i] != b':' {
                    *i += 1;
                }
                *i += 1;
                m.insert(k, parse(s, i));
            }
        }
        b'[' => {
            *i += 1;
            let mut v = Vec::new();
            loop {
                while s[*i].is_ascii_whitespace() || s[*i] == b',' {
                    *i += 1;
                }
                if s[*i] == b']' {
                    *i += 1;
                    return J::Arr(v);
                }
                v.push(parse(s, i));
            }
        }
        b'"' => {
            *i += 1;
            let mut out = String::new();
            loop {
                match s[*i] {
                    b'"' => {
                        *i += 1;
                        return J::Str(out);
                    }
                    b'\\' => {
                        *i += 1;
                        match s[*i] {
                            b'u' => {
                                let h = std::str::from_utf8(&s[*i + 1..*i + 5]).unwrap();
                                out.push(char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap_or('?'));
                                *i += 5;
                            }
                            b'n' => {
                                out.push('\n');
                                *i += 1;
                            }
                            c => {
                                out.push(c as char);
                                *i += 1;
                            }
                        }
                    }
                    _ => {
                        let start = *i;
                        while s[*i] != b'"' && s[*i] != b'\\' {
                            *i += 1;
                        }
                        out.push_str(std::str::from_utf8(&s[start..*i]).unwrap());
                    }
                }
            }
        }
        b't' => {
            *i += 4;
            J::Bool(true)
        }
        b'f' => {
            *i += 5;
            J::Bool(false)
        }
        b'n' => {
            *i += 4;
            J::Null
        }
        _ => {
            let start = *i;
            while *i < s.len() && (s[*i].is_ascii_digit() || b"+-.eE".contains(&s[*i])) {
                *i += 1;
            }
            J::Num(std::str::from_utf8(&s[start..*i]).unwrap().parse().unwrap())
        }
    }
}

fn fixtures() -> (tempfile::TempDir, J) {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../__test__/fixtures/make_h5_fixtures.py");
    let st = Command::new("python3").arg(&script).arg(dir.path()).status().expect("python3 runs");
    assert!(st.success(), "make_h5_fixtures.py failed (python3 with numpy and h5py needed)");
    let text = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let m = parse(&text, &mut 0);
    (dir, m)
}

fn bytes(a: &Array) -> Vec<u8> {
    a.mapping.read_bytes(0, a.mapping.len()).unwrap()
}

fn dataset(f: &H5File, path: &str) -> Box<mmnpy_core::hdf5::Dataset> {
    match f.get(path).unwrap_or_else(|e| panic!("{path}: {e}")) {
        Object::Dataset(d) => d,
        Object::Group(_) => panic!("{path} is a group"),
    }
}

/// The selected elements of `full` (C order over `shape`), element by element.
fn reference(full: &[u8], shape: &[u64], sel: &Selection, itemsize: usize) -> Vec<u8> {
    let r = shape.len();
    let n: u64 = sel.count.iter().product();
    let mut out = Vec::with_capacity(n as usize * itemsize);
    let mut idx = vec![0u64; r];
    for _ in 0..n {
        let mut flat = 0u64;
        for d in 0..r {
            flat = flat * shape[d] + sel.start[d] + idx[d] * sel.step[d];
        }
        let at = flat as usize * itemsize;
        out.extend_from_slice(&full[at..at + itemsize]);
        for d in (0..r).rev() {
            idx[d] += 1;
            if idx[d] < sel.count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// A few selections per shape: everything, a middle block, strided, one index per axis.
fn selections(shape: &[u64]) -> Vec<Selection> {
    let r = shape.len();
    let mut v = vec![Selection::all(shape)];
    if shape.contains(&0) || r == 0 {
        return v;
    }
    let mid = |d: usize| {
        let a = shape[d] / 3;
        let b = (shape[d] * 2 / 3).max(a + 1).min(shape[d]);
        (a, b - a)
    };
    v.push(Selection { start: (0..r).map(|d| mid(d).0).collect(), step: vec![1; r], count: (0..r).map(|d| mid(d).1).collect() });
    v.push(Selection {
        start: (0..r).map(|d| shape[d] % 2).collect(),
        step: vec![3; r],
        count: (0..r).map(|d| (shape[d] - shape[d] % 2).div_ceil(3)).collect(),
    });
    v.push(Selection { start: shape.iter().map(|&s| s - 1).collect(), step: vec![1; r], count: vec![1; r] });
    if r >= 2 {
        // One column.
        let mut s = Selection::all(shape);
        s.start[r - 1] = shape[r - 1] / 2;
        s.count[r - 1] = 1;
        v.push(s);
    }
    v
}

#[test]
fn every_dataset_reads_as_h5py_reads_it() {
    let (dir, m) = fixtures();
    let mut files: BTreeMap<String, H5File> = BTreeMap::new();
    let mut checked = 0;
    for d in m.get("datasets").arr() {
        let file = d.get("file").s().to_string();
        let path = d.get("path").s();
        let f = files.entry(file.clone()).or_insert_with(|| H5File::open(&dir.path().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}")));
        let ds = dataset(f, path);
        let expect = npy::load_npy(&dir.path().join(d.get("expect").s())).unwrap();
        assert_eq!(ds.shape, d.get("shape").u64s(), "{file}{path} shape");
        assert_eq!(ds.dtype.name(), d.get("dtype").s(), "{file}{path} dtype");
        assert_eq!(ds.byte_order.symbol().to_string(), d.get("byteOrder").s(), "{file}{path} byte order");
        assert_eq!(
            ds.chunks().map(|c| c.to_vec()),
            match d.get("chunks") {
                J::Null => None,
                c => Some(c.u64s()),
            },
            "{file}{path} chunks"
        );
        assert_eq!(
            ds.compression().as_deref(),
            match d.get("compression") {
                J::Null => None,
                c => Some(c.s()),
            },
            "{file}{path} compression"
        );
        let full = f.read(&ds, &Selection::all(&ds.shape)).unwrap_or_else(|e| panic!("{file}{path}: {e}"));
        assert_eq!(full.shape, expect.shape, "{file}{path}");
        assert_eq!(full.byte_order, expect.byte_order, "{file}{path}");
        let want = bytes(&expect);
        assert!(bytes(&full) == want, "{file}{path}: values differ from h5py's");
        for sel in selections(&ds.shape) {
            let got = f.read(&ds, &sel).unwrap_or_else(|e| panic!("{file}{path} {sel:?}: {e}"));
            assert_eq!(got.shape.iter().map(|&x| x as u64).collect::<Vec<_>>(), sel.count);
            assert!(bytes(&got) == reference(&want, &ds.shape, &sel, ds.itemsize()), "{file}{path} {sel:?}: values differ");
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} datasets checked");
}

#[test]
fn groups_attributes_and_refusals_match_h5py() {
    let (dir, m) = fixtures();
    let open = |file: &str| H5File::open(&dir.path().join(file)).unwrap();
    for g in m.get("groups").arr() {
        let f = open(g.get("file").s());
        let Object::Group(grp) = f.get(g.get("path").s()).unwrap() else { panic!("not a group") };
        let want: Vec<String> = g.get("keys").arr().iter().map(|k| k.s().to_string()).collect();
        assert_eq!(f.keys(&grp).unwrap(), want, "{}", g.get("path").s());
    }
    let mut n = 0;
    for a in m.get("attrs").arr() {
        let file = a.get("file").s();
        let f = open(file);
        let path = a.get("path").s();
        let header = match f.get(path).unwrap() {
            Object::Group(g) => g.header,
            Object::Dataset(d) => d.header,
        };
        let attrs = f.attrs(&header, path).unwrap();
        let name = a.get("name").s();
        let got = &attrs.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("{path}: no attribute {name}")).value;
        match (a.get("kind").s(), got) {
            ("string", AttrValue::String(s)) => assert_eq!(s, a.get("value").s(), "{path}@{name}"),
            ("strings", AttrValue::Strings(v, _)) => assert_eq!(v, &a.get("value").arr().iter().map(|x| x.s().to_string()).collect::<Vec<_>>()),
            ("number" | "bigint" | "bool" | "complex", AttrValue::Numbers(arr)) => assert!(arr.shape.is_empty(), "{path}@{name} is a scalar"),
            ("array", AttrValue::Numbers(arr)) => {
                assert_eq!(arr.shape.iter().map(|&x| x as u64).collect::<Vec<_>>(), a.get("shape").u64s());
                assert_eq!(arr.dtype.name(), a.get("dtype").s());
            }
            (k, v) => panic!("{path}@{name}: expected {k}, got {v:?}"),
        }
        n += 1;
    }
    assert!(n >= 15);
    // Values of a few, exactly.
    let f = open("earliest.h5");
    let root = f.root().unwrap();
    let attrs = f.attrs(&root.header, "/").unwrap();
    let val = |k: &str| attrs.iter().find(|a| a.name == k).unwrap().value.clone();
    let AttrValue::Numbers(big) = val("big") else { panic!() };
    assert_eq!(bytes(&big), ((1u64 << 60) + 1).to_le_bytes().to_vec());
    let AttrValue::Numbers(ints) = val("ints") else { panic!() };
    assert_eq!(bytes(&ints), vec![0, 0, 0, 1, 0, 2, 0, 3, 0, 4]);
    for r in m.get("refused").arr() {
        let f = open(r.get("file").s());
        let path = r.get("path").s();
        let e = f.get(path).and_then(|o| match o {
            Object::Dataset(d) => f.read(&d, &Selection::all(&d.shape)).map(drop),
            Object::Group(_) => panic!("{path} is a group"),
        });
        let e = e.expect_err(path);
        assert_eq!(e.code(), r.get("code").s(), "{path}: {e}");
        assert!(e.to_string().contains(r.get("mentions").s()), "{path}: {e}");
        assert!(e.to_string().contains(r.get("file").s()), "{path}: the error names the file: {e}");
    }
}

#[test]
fn contiguous_aligned_datasets_map_and_others_say_why_not() {
    let (dir, m) = fixtures();
    let mut mapped = 0;
    for x in m.get("mappable").arr() {
        let file = x.get("file").s();
        let f = H5File::open(&dir.path().join(file)).unwrap();
        let ds = dataset(&f, x.get("path").s());
        let aligned = matches!(x.get("aligned"), J::Bool(true));
        match f.mmap(&ds, Mode::ReadOnly) {
            Ok(a) => {
                assert!(aligned, "{} mapped at an unaligned offset", x.get("path").s());
                assert_eq!(
                    a.file_offset,
                    match x.get("offset") {
                        J::Num(n) => *n as u64,
                        _ => panic!(),
                    }
                );
                assert!(bytes(&a) == bytes(&f.read(&ds, &Selection::all(&ds.shape)).unwrap()));
                mapped += 1;
            }
            Err(e) => {
                assert!(!aligned, "{}: {e}", x.get("path").s());
                assert_eq!(e.code(), "ERR_MMNPY_NOT_MAPPABLE");
                assert!(e.message().contains("not a multiple of"), "{e}");
            }
        }
    }
    assert!(mapped >= 10);
    let f = H5File::open(&dir.path().join("aligned.h5")).unwrap();
    let e = f.mmap(&dataset(&f, "chunked"), Mode::ReadOnly).unwrap_err();
    assert_eq!(e.code(), "ERR_MMNPY_NOT_MAPPABLE");
    assert!(e.message().contains("chunked"));
    let f = H5File::open(&dir.path().join("earliest.h5")).unwrap();
    assert!(f.mmap(&dataset(&f, "compact"), Mode::ReadOnly).unwrap_err().message().contains("compact"));
    assert!(f.mmap(&dataset(&f, "chunked/gzip"), Mode::ReadOnly).unwrap_err().message().contains("gzip"));
    assert_eq!(f.mmap(&dataset(&f, "contig"), Mode::ReadWrite).unwrap_err().code(), "ERR_MMNPY_UNSUPPORTED_MODE");
}

#[test]
fn paths_visit_and_missing_members() {
    let (dir, _) = fixtures();
    let f = H5File::open(&dir.path().join("earliest.h5")).unwrap();
    assert!(f.has("/a/b/c/leaf").unwrap());
    assert!(f.has("a//b/./c").unwrap());
    assert!(!f.has("/a/nope").unwrap());
    let e = f.get("/a/nope/x").unwrap_err();
    assert_eq!(e.code(), "ERR_MMNPY_NOT_FOUND");
    assert!(e.message().contains("'nope'"), "{e}");
    let Object::Group(a) = f.get("/a").unwrap() else { panic!() };
    assert_eq!(f.visit(&a).unwrap(), vec!["b", "b/c", "b/c/leaf"]);
    let root = f.root().unwrap();
    let all = f.visit(&root).unwrap();
    assert!(all.contains(&"big/g39".to_string()) && all.contains(&"chunked/rows".to_string()));
}

#[test]
fn hostile_files_are_refused_clearly() {
    let (dir, m) = fixtures();
    for h in m.get("hostile").arr() {
        let file = h.get("file").s();
        let p: PathBuf = dir.path().join(file);
        let r = H5File::open(&p).and_then(|f| {
            // Whatever opens must read cleanly or fail cleanly, everywhere.
            let root = f.root()?;
            for name in f.visit(&root)? {
                if let Ok(Object::Dataset(d)) = f.get(&name) {
                    let _ = f.read(&d, &Selection::all(&d.shape));
                }
            }
            Ok(())
        });
        let e = r.expect_err(file);
        assert_eq!(e.code(), h.get("code").s(), "{file}: {e}");
        assert!(e.to_string().contains(h.get("mentions").s()), "{file}: {e}");
        assert!(e.to_string().contains(file), "{file}: the error names the file: {e}");
    }
}
