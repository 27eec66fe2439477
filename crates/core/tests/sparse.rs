//! Sparse matrices end to end against SciPy: files `scipy.sparse.save_npz` wrote (every
//! format, both index dtypes, compressed and stored) loaded mapped and in memory; products,
//! dense copies, sums and conversions compared bit for bit with SciPy's; malformed files
//! refused with the right error kind. The fixtures come from
//! `__test__/fixtures/make_sparse_fixtures.py` (needs python3 with NumPy and SciPy).

use std::path::{Path, PathBuf};
use std::process::Command;

use mmnpy_core::kernels::elementwise::Dest;
use mmnpy_core::kernels::reduce::{Reduced, Source, Value};
use mmnpy_core::npz;
use mmnpy_core::sparse::{load_sparse, Format, SparseMatrix, Summed};
use mmnpy_core::{Array, ByteOrder, DType, Mode, NewArray};

fn fixtures() -> (tempfile::TempDir, serde_like::Manifest) {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../__test__/fixtures/make_sparse_fixtures.py");
    let st = Command::new("python3").arg(&script).arg(dir.path()).status().expect("python3 runs");
    assert!(st.success(), "make_sparse_fixtures.py failed (python3 with numpy and scipy needed)");
    let text = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    let m = serde_like::parse(&text);
    (dir, m)
}

/// A tiny reader for the fixture manifest (flat JSON of strings, numbers, bools, lists).
mod serde_like {
    pub struct Good {
        pub file: String,
        pub expect: String,
        pub loaded: String,
        pub is_array: bool,
        pub nnz: usize,
        pub shape: [usize; 2],
        pub format: String,
    }
    pub struct Hostile {
        pub file: String,
        pub code: String,
        pub mentions: String,
        pub deferred: bool,
    }
    pub struct Manifest {
        pub good: Vec<Good>,
        pub hostile: Vec<Hostile>,
    }
    fn field<'a>(obj: &'a str, key: &str) -> &'a str {
        let at = obj.find(&format!("\"{key}\": ")).unwrap_or_else(|| panic!("no {key} in {obj}")) + key.len() + 4;
        let rest = &obj[at..];
        if let Some(r) = rest.strip_prefix('"') {
            &r[..r.find('"').unwrap()]
        } else if rest.starts_with('[') {
            &rest[..rest.find(']').unwrap() + 1]
        } else {
            rest.split([',', '\n', '}']).next().unwrap().trim()
        }
    }
    fn objects(section: &str) -> Vec<&str> {
        section.split('{').filter_map(|o| o.find('}').map(|e| &o[..e])).collect()
    }
    pub fn parse(text: &str) -> Manifest {
        let h = text.find("\"hostile\"").unwrap();
        let good = objects(&text[..h])
            .into_iter()
            .map(|o| {
                let s: Vec<usize> = field(o, "shape").trim_matches(['[', ']']).split(',').map(|x| x.trim().parse().unwrap()).collect();
                Good {
                    file: field(o, "file").into(),
                    expect: field(o, "expect").into(),
                    loaded: field(o, "loaded").into(),
                    is_array: field(o, "isArray") == "true",
                    nnz: field(o, "nnz").parse().unwrap(),
                    shape: [s[0], s[1]],
                    format: field(o, "format").into(),
                }
            })
            .collect();
        let hostile = objects(&text[h..])
            .into_iter()
            .map(|o| Hostile {
                file: field(o, "file").into(),
                code: field(o, "code").into(),
                mentions: field(o, "mentions").into(),
                deferred: field(o, "deferred") == "true",
            })
            .collect();
        Manifest { good, hostile }
    }
}

/// The elements in C order (SciPy's CSC `toarray()` is Fortran-ordered).
fn bytes(a: &Array) -> Vec<u8> {
    mmnpy_core::view::gather(&a.mapping, &a.layout(), a.dtype, a.byte_order, a.byte_order).unwrap()
}

fn src<'a>(a: &'a Array, l: &'a mmnpy_core::Layout) -> Source<'a> {
    Source { map: &a.mapping, layout: l, dtype: a.dtype, order: a.byte_order, release: false }
}

/// Same dtype, shape and bytes (NaN payloads included).
fn same(what: &str, got: &Reduced, want: &Array) {
    assert_eq!(got.dtype, want.dtype, "{what}: dtype");
    assert_eq!(got.shape, want.shape, "{what}: shape");
    assert!(want.byte_order.is_native());
    assert!(got.bytes == bytes(want), "{what}: values differ from SciPy's");
}

fn same_array(what: &str, got: &Array, want: &Array) {
    same(what, &Reduced { dtype: got.dtype, shape: got.shape.clone(), bytes: bytes(got) }, want);
}

fn value_bytes(v: Value, dtype: DType) -> Vec<u8> {
    match (v, dtype) {
        (Value::Float(f), DType::Float32) => (f as f32).to_ne_bytes().to_vec(),
        (Value::Float(f), _) => f.to_ne_bytes().to_vec(),
        (Value::Int(i), _) => i.to_ne_bytes().to_vec(),
        (Value::UInt(u), _) => u.to_ne_bytes().to_vec(),
        (Value::Complex(r, i), DType::Complex64) => [(r as f32).to_ne_bytes(), (i as f32).to_ne_bytes()].concat(),
        (Value::Complex(r, i), _) => [r.to_ne_bytes(), i.to_ne_bytes()].concat(),
        (Value::Bool(b), _) => vec![b as u8],
    }
}

fn check_matrix(g: &serde_like::Good, m: &SparseMatrix, exp: &npz::NpzFile) {
    let f = &g.file;
    assert_eq!(m.format.name(), g.loaded, "{f}");
    assert_eq!(m.shape, g.shape, "{f}");
    assert_eq!(m.is_array, g.is_array, "{f}");
    if g.format == g.loaded {
        assert_eq!(m.nnz(), g.nnz, "{f}");
    }
    for (x, y) in [("x", "y"), ("X", "Y"), ("xi", "yi")] {
        let xa = exp.get(x).unwrap();
        let l = xa.layout();
        let r = m.dot(&src(&xa, &l), None, false).unwrap().unwrap();
        same_array(&format!("{f}: A @ {x}"), &r, &exp.get(y).unwrap());
        // The same product written into a given array.
        let want = exp.get(y).unwrap();
        let out =
            mmnpy_core::npy::zeros(&NewArray { dtype: want.dtype, byte_order: ByteOrder::NATIVE, shape: want.shape.clone(), fortran_order: false }).unwrap();
        let ol = out.layout();
        m.dot(&src(&xa, &l), Some(&Dest { map: &out.mapping, layout: &ol, dtype: out.dtype, order: out.byte_order, release: false }), true).unwrap();
        same_array(&format!("{f}: A @ {x} into out"), &out, &want);
    }
    same_array(&format!("{f}: toarray"), &m.to_dense(None).unwrap().unwrap(), &exp.get("dense").unwrap());
    if !exp.has_key("sum") {
        return;
    }
    match m.sum(None).unwrap() {
        Summed::Scalar(v) => {
            let want = exp.get("sum").unwrap();
            assert_eq!(value_bytes(v, want.dtype), bytes(&want), "{f}: sum()");
        }
        Summed::Array(_) => panic!("sum() is a scalar"),
    }
    for (axis, key) in [(0, "sum0"), (1, "sum1"), (-1, "sum1")] {
        match m.sum(Some(axis)).unwrap() {
            Summed::Array(r) => same(&format!("{f}: sum(axis={axis})"), &r, &exp.get(key).unwrap()),
            Summed::Scalar(_) => panic!("an axis sum is an array"),
        }
    }
    for to in [Format::Csr, Format::Csc, Format::Coo] {
        let c = m.convert(to).unwrap();
        let [na, nb] = to.index_names();
        let p = to.name();
        same_array(&format!("{f}: to{p}().data"), &c.data, &exp.get(&format!("{p}_data")).unwrap());
        for (name, part) in [(na, &c.a), (nb, &c.b)] {
            let want = exp.get(&format!("{p}_{name}")).unwrap();
            let got: Vec<i64> = index_values(part);
            let wanted: Vec<i64> = index_values(&want);
            assert_eq!(got, wanted, "{f}: to{p}().{name}");
        }
    }
}

fn index_values(a: &Array) -> Vec<i64> {
    let b = bytes(a);
    match a.dtype {
        DType::Int32 => b.chunks_exact(4).map(|c| i32::from_ne_bytes(c.try_into().unwrap()) as i64).collect(),
        DType::Int64 => b.chunks_exact(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect(),
        d => panic!("index dtype {d:?}"),
    }
}

trait HasKey {
    fn has_key(&self, k: &str) -> bool;
}
impl HasKey for npz::NpzFile {
    fn has_key(&self, k: &str) -> bool {
        self.entry(k).is_some()
    }
}

#[test]
fn scipy_files_products_sums_conversions_equal_scipy() {
    let (dir, man) = fixtures();
    assert!(man.good.len() >= 30);
    for g in &man.good {
        let exp = npz::open_npz(&dir.path().join(&g.expect), None).unwrap();
        for mode in [None, Some(Mode::ReadOnly), Some(Mode::CopyOnWrite)] {
            let m = load_sparse(&dir.path().join(&g.file), mode).unwrap_or_else(|e| panic!("{}: {e}", g.file));
            check_matrix(g, &m, &exp);
        }
    }
}

#[test]
fn stored_members_are_mapped_in_place() {
    let (dir, man) = fixtures();
    let g = man.good.iter().find(|g| g.file.ends_with("_stored.npz") && g.format == "csr").unwrap();
    let m = load_sparse(&dir.path().join(&g.file), Some(Mode::ReadOnly)).unwrap();
    assert_eq!(m.data.mode, Some(Mode::ReadOnly), "data mapped");
    assert_eq!(m.a.mode, Some(Mode::ReadOnly), "indices mapped");
    let z = man.good.iter().find(|g| g.file.ends_with("_z.npz") && g.format == "csr").unwrap();
    let m = load_sparse(&dir.path().join(&z.file), Some(Mode::ReadOnly)).unwrap();
    assert_eq!(m.data.mode, None, "deflated members are inflated into memory");
}

#[test]
fn saved_files_round_trip_and_scipy_reads_them() {
    let (dir, man) = fixtures();
    let out = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    for (i, g) in man.good.iter().enumerate() {
        let m = load_sparse(&dir.path().join(&g.file), Some(Mode::ReadOnly)).unwrap();
        for compress in [None, Some(6)] {
            let p = out.path().join(format!("{i}-{compress:?}.npz"));
            m.save(&p, compress).unwrap();
            let back = load_sparse(&p, Some(Mode::ReadOnly)).unwrap();
            assert_eq!((back.format, back.shape, back.is_array), (m.format, m.shape, m.is_array));
            assert_eq!(bytes(&back.data), bytes(&m.data));
            assert_eq!(index_values(&back.a), index_values(&m.a));
            assert_eq!(index_values(&back.b), index_values(&m.b));
            if compress.is_none() {
                assert_eq!(back.data.mode, Some(Mode::ReadOnly), "stored: mapped");
            }
            pairs.push((p, dir.path().join(&g.file)));
        }
    }
    // SciPy loads every file to a matrix equal to the one it wrote, of the same class.
    let list: Vec<String> = pairs.iter().map(|(a, b)| format!("{}\t{}", a.display(), b.display())).collect();
    let listing = out.path().join("pairs.txt");
    std::fs::write(&listing, list.join("\n")).unwrap();
    let code = r#"
import sys, numpy as np, scipy.sparse as sp
bad = []
for line in open(sys.argv[1]).read().splitlines():
    ours, theirs = line.split('\t')
    a, b = sp.load_npz(ours), sp.load_npz(theirs)
    if b.format in ('bsr', 'dia'):
        b = b.tocsr()
        same = a.format == 'csr' and a.shape == b.shape and abs(a - b).max() == 0 if a.nnz else b.nnz == 0 or abs(b).max() == 0
    else:
        same = type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.toarray(), b.toarray(), equal_nan=True)
    if not same:
        bad.append(ours)
print('\n'.join(bad))
sys.exit(1 if bad else 0)
"#;
    let o = Command::new("python3").args(["-c", code]).arg(&listing).output().unwrap();
    assert!(o.status.success(), "SciPy disagrees on: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

#[test]
fn malformed_files_are_refused_naming_the_file() {
    let (dir, man) = fixtures();
    assert!(man.hostile.len() >= 15);
    for h in &man.hostile {
        let p: PathBuf = dir.path().join(&h.file);
        for mode in [None, Some(Mode::ReadOnly)] {
            let e = match (h.deferred, mode) {
                // Mapped: loading is O(1) in the nonzeros; the index check runs on first use.
                (true, Some(_)) => {
                    let m = load_sparse(&p, mode).unwrap_or_else(|e| panic!("{}: {e}", h.file));
                    let x = mmnpy_core::npy::zeros(&NewArray {
                        dtype: DType::Float64,
                        byte_order: ByteOrder::NATIVE,
                        shape: vec![m.shape[1]],
                        fortran_order: false,
                    })
                    .unwrap();
                    let l = x.layout();
                    let e = m.dot(&src(&x, &l), None, false).expect_err("the first product finds the bad index");
                    assert_eq!(m.transpose().to_dense(None).unwrap_err().message(), e.message(), "checked once, the result kept");
                    e
                }
                _ => load_sparse(&p, mode).err().unwrap_or_else(|| panic!("{} was accepted", h.file)),
            };
            assert_eq!(e.code(), h.code, "{}: {e}", h.file);
            assert!(e.message().contains(&h.mentions), "{}: {e}", h.file);
            assert!(e.to_string().contains(&h.file), "{}: the error names the file: {e}", h.file);
        }
    }
    let e = load_sparse(&dir.path().join(&man.good[0].file), Some(Mode::ReadWrite)).unwrap_err();
    assert_eq!(e.code(), "ERR_MMNPY_UNSUPPORTED_MODE");
}

/// SciPy's `csr_matvec`, written plainly: the reference for the parallel kernel.
fn csr_matvec_reference(indptr: &[i64], indices: &[i32], data: &[f64], x: &[f64]) -> Vec<f64> {
    (0..indptr.len() - 1)
        .map(|i| {
            let mut sum = 0.0;
            for jj in indptr[i] as usize..indptr[i + 1] as usize {
                sum += data[jj] * x[indices[jj] as usize];
            }
            sum
        })
        .collect()
}

fn array_of<T: Copy>(v: &[T], dtype: DType) -> Array {
    // SAFETY: plain numbers viewed as their bytes.
    let b = unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) };
    mmnpy_core::npy::from_bytes(b, &NewArray { dtype, byte_order: ByteOrder::NATIVE, shape: vec![v.len()], fortran_order: false }).unwrap()
}

#[test]
fn parallel_csr_product_equals_the_serial_order_on_skewed_rows() {
    // Rows of very different lengths (a few with 100k entries, many empty), unsorted columns,
    // duplicates: bands split by nonzero count must still add each row in storage order.
    let (rows, cols) = (100_000usize, 50_000usize);
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut indptr = vec![0i64];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for i in 0..rows {
        let len = match i % 1000 {
            7 => 20_000,
            0..=400 => 0,
            _ => (rnd() % 12) as usize,
        };
        for _ in 0..len {
            indices.push((rnd() % cols as u64) as i32);
            data.push(f64::from_bits(rnd() >> 2) * if rnd() % 2 == 0 { 1e-300 } else { 1e300 } % 1e6);
        }
        indptr.push(indices.len() as i64);
    }
    let x: Vec<f64> = (0..cols).map(|_| (rnd() % 2001) as f64 / 7.0 - 140.0).collect();
    let want = csr_matvec_reference(&indptr, &indices, &data, &x);
    let m =
        SparseMatrix::new(Format::Csr, [rows, cols], array_of(&data, DType::Float64), array_of(&indices, DType::Int32), array_of(&indptr, DType::Int64), true)
            .unwrap();
    assert_eq!(m.a.dtype, DType::Int64, "int32 indices beside int64 indptr are widened to one dtype");
    let xa = array_of(&x, DType::Float64);
    let l = xa.layout();
    for release in [false, true] {
        let got = bytes(&m.dot(&src(&xa, &l), None, release).unwrap().unwrap());
        let got: Vec<f64> = got.chunks_exact(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "parallel product differs from the serial order");
    }
    // A CSC's product scatters in storage order on one thread; its tocsr() keeps that order
    // in each row, so the parallel CSR product of the conversion is the same, bit for bit.
    let c = m.convert(Format::Csc).unwrap();
    let bits = |m: &SparseMatrix| -> Vec<u64> {
        let r = bytes(&m.dot(&src(&xa, &l), None, false).unwrap().unwrap());
        r.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect()
    };
    let scatter = bits(&c);
    assert_eq!(scatter, bits(&c.convert(Format::Csr).unwrap()));
    assert_ne!(scatter, want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "the column order differs from the row order here (the test can fail)");
}

#[test]
fn products_into_a_reused_result_region_are_exact() {
    // A result of 4 MiB or more goes into the region of a dropped result of its size
    // (`Mapping::scratch`), which holds the old bytes: every row, empty ones included, must
    // be written. The region is filled with NaNs first; CSR (rows written once) and CSC
    // (scatter after zeroing) products must both equal the serial order, bit for bit.
    let (rows, cols) = (700_001usize, 1000usize);
    let mut indptr = vec![0i64];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for i in 0..rows {
        for d in 0..(i % 5) {
            // Increasing columns in each row: the CSC scatter adds them in the same order.
            indices.push(((i * 7) % 900 + d * 31) as i32);
            data.push(((i + d) % 97) as f64 - 48.5);
        }
        indptr.push(indices.len() as i64);
    }
    let x: Vec<f64> = (0..cols).map(|j| (j % 13) as f64 * 0.25 - 1.0).collect();
    let want: Vec<u64> = csr_matvec_reference(&indptr, &indices, &data, &x).iter().map(|v| v.to_bits()).collect();
    let m =
        SparseMatrix::new(Format::Csr, [rows, cols], array_of(&data, DType::Float64), array_of(&indices, DType::Int32), array_of(&indptr, DType::Int64), true)
            .unwrap();
    let xa = array_of(&x, DType::Float64);
    let l = xa.layout();
    for m in [m.clone(), m.convert(Format::Csc).unwrap()] {
        let dirty = mmnpy_core::Mapping::scratch(rows * 8).unwrap();
        // SAFETY: `dirty` is rows * 8 writable bytes owned here.
        unsafe { dirty.as_ptr().write_bytes(0xff, rows * 8) };
        let at = dirty.as_ptr();
        drop(dirty);
        let r = m.dot(&src(&xa, &l), None, false).unwrap().unwrap();
        assert_eq!(r.mapping.as_ptr(), at, "the product reuses the dropped region (the test can fail)");
        let got: Vec<u64> = bytes(&r).chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert!(got == want, "{:?} product into a reused region differs from the serial order", m.format);
    }
}

#[test]
fn products_with_a_large_x_equal_the_serial_order() {
    // x of 8 MiB: gathered at random and read nearly in order (a band of 11 columns per row):
    // both equal the serial order, bit for bit. The random gathers read an x that mmnpy
    // allocated in place (asked for in huge pages) and copy any other x into huge pages
    // first (here: memory owned elsewhere, as a JavaScript ArrayBuffer), twice so that the
    // second copy lands in the first one's cached region.
    let cols = 1usize << 20;
    let mut seed = 0x2545f4914f6cdd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let x: Vec<f64> = (0..cols).map(|_| (rnd() % 4001) as f64 / 3.0 - 600.0).collect();
    let xa = array_of(&x, DType::Float64);
    let l = xa.layout();
    for banded in [false, true] {
        let rows = 60_000usize;
        let mut indptr = vec![0i32];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for i in 0..rows {
            let len = if banded { 11 } else { (rnd() % 24) as usize };
            for d in 0..len {
                indices.push(if banded { ((i * 17 + d) % cols) as i32 } else { (rnd() % cols as u64) as i32 });
                data.push((rnd() % 1_000_003) as f64 / 1e3 - 500.0);
            }
            indptr.push(indices.len() as i32);
        }
        let want = csr_matvec_reference(&indptr.iter().map(|&p| p as i64).collect::<Vec<_>>(), &indices, &data, &x);
        let m = SparseMatrix::new(
            Format::Csr,
            [rows, cols],
            array_of(&data, DType::Float64),
            array_of(&indices, DType::Int32),
            array_of(&indptr, DType::Int32),
            false,
        )
        .unwrap();
        assert!(xa.mapping.huge_advised());
        let mut owned_elsewhere = x.clone();
        // SAFETY: the Vec's bytes stay allocated and unmoved while `borrowed` lives (below).
        let borrowed = unsafe { mmnpy_core::Mapping::borrowed(owned_elsewhere.as_mut_ptr() as *mut u8, cols * 8) };
        assert!(!borrowed.huge_advised());
        let sources = [src(&xa, &l), Source { map: &borrowed, ..src(&xa, &l) }, Source { map: &borrowed, ..src(&xa, &l) }];
        for (k, s) in sources.iter().enumerate() {
            let got = bytes(&m.dot(s, None, false).unwrap().unwrap());
            let got: Vec<f64> = got.chunks_exact(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
            assert_eq!(got.len(), rows);
            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "banded {banded}, x {k}: the product differs from the serial order");
        }
        drop(borrowed);
    }
}

#[test]
fn products_into_out_are_exact_and_never_overwrite_their_operands() {
    // A contiguous native `out` is written by the kernel itself; one that overlaps `x` (or
    // is strided, or the other byte order) goes through a temporary. Row i reads x[i - 2..=i]
    // (a lower band), so writing straight into an `out` that is `x` would change what later
    // rows read: the result must still be the serial order over the original x.
    let n = 300_000usize;
    let mut indptr = vec![0i64];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i.saturating_sub(2)..=i {
            indices.push(j as i32);
            data.push(((i * 3 + j) % 19) as f64 - 9.25);
        }
        indptr.push(indices.len() as i64);
    }
    let x: Vec<f64> = (0..n).map(|j| (j % 23) as f64 * 0.5 - 5.0).collect();
    let want: Vec<u64> = csr_matvec_reference(&indptr, &indices, &data, &x).iter().map(|v| v.to_bits()).collect();
    let m = SparseMatrix::new(Format::Csr, [n, n], array_of(&data, DType::Float64), array_of(&indices, DType::Int32), array_of(&indptr, DType::Int64), false)
        .unwrap();
    let bits = |a: &Array, l: &mmnpy_core::Layout, order: ByteOrder| -> Vec<u64> {
        let b = mmnpy_core::view::gather(&a.mapping, l, a.dtype, order, ByteOrder::NATIVE).unwrap();
        b.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect()
    };
    for m in [m.clone(), m.convert(Format::Csc).unwrap()] {
        let f = m.format;
        // Contiguous, filled with NaN first: written whole by the kernel.
        let out = array_of(&vec![f64::NAN; n], DType::Float64);
        let ol = out.layout();
        let xa = array_of(&x, DType::Float64);
        let xl = xa.layout();
        assert!(m
            .dot(&src(&xa, &xl), Some(&Dest { map: &out.mapping, layout: &ol, dtype: out.dtype, order: out.byte_order, release: false }), false)
            .unwrap()
            .is_none());
        assert!(bits(&out, &ol, ByteOrder::NATIVE) == want, "{f:?}: contiguous out");
        // `out` is `x` itself.
        assert!(m
            .dot(&src(&xa, &xl), Some(&Dest { map: &xa.mapping, layout: &xl, dtype: xa.dtype, order: xa.byte_order, release: false }), false)
            .unwrap()
            .is_none());
        assert!(bits(&xa, &xl, ByteOrder::NATIVE) == want, "{f:?}: out = x differs from A @ x (overwrote x while reading it?)");
        // `out` overlaps `x` shifted by one element, in one buffer of n + 1.
        let mut both = x.clone();
        both.push(7.0);
        let buf = array_of(&both, DType::Float64);
        let (xl, ol) = (mmnpy_core::Layout { offset: 0, ..buf.layout() }, mmnpy_core::Layout { offset: 8, ..buf.layout() });
        let (xl, ol) = (mmnpy_core::Layout { shape: vec![n], ..xl }, mmnpy_core::Layout { shape: vec![n], ..ol });
        let d = Dest { map: &buf.mapping, layout: &ol, dtype: DType::Float64, order: buf.byte_order, release: false };
        assert!(m.dot(&src(&buf, &xl), Some(&d), false).unwrap().is_none());
        assert!(bits(&buf, &ol, ByteOrder::NATIVE) == want, "{f:?}: out overlapping x");
        // Strided (every other element of 2n), and the other byte order.
        let xa = array_of(&x, DType::Float64);
        let xl = xa.layout();
        let wide = array_of(&vec![f64::NAN; 2 * n], DType::Float64);
        let wl = mmnpy_core::Layout { shape: vec![n], strides: vec![16], offset: 8 };
        assert!(m
            .dot(&src(&xa, &xl), Some(&Dest { map: &wide.mapping, layout: &wl, dtype: DType::Float64, order: wide.byte_order, release: false }), false)
            .unwrap()
            .is_none());
        assert!(bits(&wide, &wl, ByteOrder::NATIVE) == want, "{f:?}: strided out");
        let swapped = if ByteOrder::NATIVE == ByteOrder::Little { ByteOrder::Big } else { ByteOrder::Little };
        let other = array_of(&vec![0.0f64; n], DType::Float64);
        let ol = other.layout();
        assert!(m
            .dot(&src(&xa, &xl), Some(&Dest { map: &other.mapping, layout: &ol, dtype: DType::Float64, order: swapped, release: false }), false)
            .unwrap()
            .is_none());
        assert!(bits(&other, &ol, swapped) == want, "{f:?}: out in the other byte order");
    }
}

#[test]
fn constructor_errors_name_the_problem() {
    let d = array_of(&[1.0f64, 2.0, 3.0], DType::Float64);
    let bad = |ind: &[i32], ptr: &[i32], shape: [usize; 2]| {
        SparseMatrix::new(Format::Csr, shape, d.clone(), array_of(ind, DType::Int32), array_of(ptr, DType::Int32), true).unwrap_err()
    };
    let e = bad(&[0, 1, 2], &[0, 2, 1, 3], [3, 3]);
    assert_eq!(e.code(), "ERR_MMNPY_BAD_SPARSE");
    assert!(e.message().contains("indptr decreases at position 2 (2 > 1)"), "{e}");
    assert!(bad(&[0, 5, 2], &[0, 1, 2, 3], [3, 3]).message().contains("indices[1] = 5 is out of range for 3 columns"));
    assert!(bad(&[0, 1, 2], &[0, 1, 2, 4], [3, 3]).message().contains("indptr ends at 4"));
    assert!(bad(&[0, 1, 2], &[0, 1, 3], [3, 3]).message().contains("indptr has 3 elements"));
    assert!(bad(&[0, 1], &[0, 1, 2, 3], [3, 3]).message().contains("differ in length"));
    let e = SparseMatrix::new(Format::Csr, [usize::MAX, 3], d.clone(), array_of(&[0i32, 1, 2], DType::Int32), array_of(&[0i32, 3], DType::Int32), true)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_MMNPY_BAD_SHAPE");
}
