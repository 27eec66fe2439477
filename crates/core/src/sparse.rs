//! Sparse matrices as `scipy.sparse.save_npz` writes them (read by `load_npz`).
//!
//! ```text
//! an .npz archive (format in crate::npz) whose members are:
//!   format.npy    0-d '|S3' (bytes, as save_npz writes) or '<U3' (unicode): csr csc coo bsr dia
//!   shape.npy     1-D integers, 2 elements (rows, cols); n-D COO arrays (other lengths) refused
//!   _is_array.npy 0-d bool True, only for the *_array classes (absent for *_matrix)
//!   data.npy      csr/csc/coo: 1-D values (nnz)
//!                 bsr: 3-D (nblocks, R, C) blocks; dia: 2-D (n_diags, L)
//!   csr/csc/bsr   indices.npy  1-D minor indices (block columns for bsr), nnz elements
//!                 indptr.npy   1-D, major + 1 elements (block rows + 1 for bsr):
//!                              indptr[0] = 0, never decreasing, indptr[-1] = nnz
//!   coo           row.npy, col.npy  1-D, nnz elements each (n-D arrays: coords.npy, refused)
//!   dia           offsets.npy  1-D, n_diags elements: diagonal k holds (j - k, j) at data[d, j]
//! index arrays: int32, or int64 when int32 cannot hold nnz or a dimension; any byte order
//! values: bool, integers, float32, float64, complex64, complex128 (not float16: scipy.sparse
//! refuses it)
//! save_npz members are deflated by default (compressed=True), stored with compressed=False
//! ```
//!
//! Loading maps the stored members of an archive in place with a mode (zero copy, O(1) in
//! the number of nonzeros) and inflates deflated ones, as [`crate::npz`] does. Index arrays
//! that are not native int32/int64 are converted in memory (an int32 `indptr` beside int64
//! `indices` is widened so both read alike). BSR and DIA are converted to CSR in memory,
//! keeping SciPy's product order: a BSR block row becomes `R` rows whose entries run block by
//! block, column by column (SciPy's `bsr_matvec` adds in that order), and a DIA's in-range
//! entries (stored zeros included, as `dia_matvec` multiplies them) run diagonal by
//! diagonal in `offsets` order. So `A @ x` of the converted matrix equals SciPy's.
//!
//! Every matrix is validated once ([`crate::kernels::spmv::problem`], in
//! parallel): `indptr` of `major + 1` elements from 0 to `nnz` never decreasing, every index
//! inside the shape, lengths that agree. SciPy checks the indices only with
//! `check_format(full_check=True)`; here an out-of-range index is always an error. A file
//! loaded with a mode checks its structure (O(rows)) at load and its indices (O(nnz)) on first
//! use ([`SparseMatrix::validate`]), so loading stays O(1) in the number of nonzeros. The
//! kernels also check every index they read, so parts changed after validation (a `'c'`
//! mapping written from JavaScript) give an error, never a read outside the vector.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};
use crate::header::{self, MAGIC};
use crate::kernels::elementwise::Dest;
use crate::kernels::reduce::{self, Op, Reduced, Source, Value};
use crate::kernels::spconv::{self, Compressed};
use crate::kernels::spmv::{self, Check, Kind, Matrix, Part};
use crate::mapping::Mode;
use crate::npy::{self, Array, NewArray};
use crate::npz::{self, NpzWriter};

/// A sparse layout mmnpy keeps (BSR and DIA are read as CSR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csr,
    Csc,
    Coo,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csr => "csr",
            Format::Csc => "csc",
            Format::Coo => "coo",
        }
    }

    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s {
            "csr" => Format::Csr,
            "csc" => Format::Csc,
            "coo" => Format::Coo,
            _ => return Err(Error::new(ErrorKind::InvalidArgument, format!("format must be 'csr', 'csc' or 'coo', got '{s}'"))),
        })
    }

    fn kind(self) -> Kind {
        match self {
            Format::Csr => Kind::Csr,
            Format::Csc => Kind::Csc,
            Format::Coo => Kind::Coo,
        }
    }

    /// Names of the two index parts.
    pub fn index_names(self) -> [&'static str; 2] {
        match self {
            Format::Coo => ["row", "col"],
            _ => ["indices", "indptr"],
        }
    }
}

/// A validated sparse matrix: its values and two index arrays (`indices`, `indptr` for
/// CSR/CSC; `row`, `col` for COO), each a 1-D array, mapped or in memory.
#[derive(Debug, Clone)]
pub struct SparseMatrix {
    pub format: Format,
    pub shape: [usize; 2],
    pub data: Array,
    /// `indices` (CSR/CSC) or `row` (COO).
    pub a: Array,
    /// `indptr` (CSR/CSC) or `col` (COO).
    pub b: Array,
    /// A `*_array` (not `*_matrix`) class in SciPy.
    pub is_array: bool,
    /// The index check (O(nnz)): done when the matrix is made, or, for a file loaded with a
    /// mode, on first use (so loading stays O(1) in the nonzeros); shared by the transpose.
    checked: Arc<OnceLock<Option<String>>>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadSparse, msg)
}

fn part(a: &Array) -> Part<'_> {
    Part { map: &a.mapping, len: a.shape.first().copied().unwrap_or(0), dtype: a.dtype, order: a.byte_order }
}

fn in_memory(dtype: DType, bytes: &[u8]) -> Result<Array> {
    let n = bytes.len() / dtype.itemsize();
    npy::from_bytes(bytes, &NewArray { dtype, byte_order: ByteOrder::NATIVE, shape: vec![n], fortran_order: false })
}

fn i64_bytes(v: &[i64], dtype: DType) -> Vec<u8> {
    if dtype == DType::Int32 {
        v.iter().flat_map(|&x| (x as i32).to_ne_bytes()).collect()
    } else {
        v.iter().flat_map(|&x| x.to_ne_bytes()).collect()
    }
}

fn index_array(v: &[i64], dtype: DType) -> Result<Array> {
    in_memory(dtype, &i64_bytes(v, dtype))
}

/// Every element of a 1-D (or 0-d) integer or bool array as i64.
fn values_i64(a: &Array, name: &str) -> Result<Vec<i64>> {
    if !matches!(a.dtype.kind(), 'i' | 'u' | 'b') {
        return Err(Error::new(ErrorKind::UnsupportedDtype, format!("{name} must hold integers, got {}", a.dtype.descr(a.byte_order))));
    }
    let n: usize = a.shape.iter().product();
    let p = Part { map: &a.mapping, len: n, dtype: a.dtype, order: a.byte_order };
    p.check(name)?;
    let v: Vec<i64> = p.load(0..n);
    if a.dtype == DType::UInt64 {
        let u: Vec<u64> = p.load(0..n);
        if let Some(x) = u.iter().find(|&&x| x > i64::MAX as u64) {
            return Err(bad(format!("{name} holds {x}, too large for an index")));
        }
    }
    Ok(v)
}

/// The index dtype SciPy picks (`get_index_dtype`): int64 when an input is int64 or
/// `maxval` passes int32, else int32.
fn index_dtype(inputs: &[DType], maxval: usize) -> DType {
    if inputs.contains(&DType::Int64) || maxval > i32::MAX as usize {
        DType::Int64
    } else {
        DType::Int32
    }
}

impl SparseMatrix {
    /// Makes a matrix from its parts and validates it (in parallel). Index arrays of
    /// other integer dtypes or byte orders are converted to native int32/int64.
    pub fn new(format: Format, shape: [usize; 2], data: Array, a: Array, b: Array, is_array: bool) -> Result<SparseMatrix> {
        SparseMatrix::make(format, shape, data, a, b, is_array, false)
    }

    /// [`new`](Self::new), the index check left to [`validate`](Self::validate) (first use).
    fn make(format: Format, shape: [usize; 2], data: Array, a: Array, b: Array, is_array: bool, defer: bool) -> Result<SparseMatrix> {
        for d in shape {
            if d > i64::MAX as usize {
                return Err(Error::new(ErrorKind::BadShape, format!("shape ({}, {}) overflows 64-bit indices", shape[0], shape[1])));
            }
        }
        let [na, nb] = format.index_names();
        for (arr, name) in [(&data, "data"), (&a, na), (&b, nb)] {
            if arr.shape.len() != 1 {
                return Err(bad(format!("{name} must be 1-D, got shape {:?}", arr.shape)));
            }
        }
        if data.dtype == DType::Float16 {
            return Err(Error::new(ErrorKind::UnsupportedDtype, "scipy.sparse does not support float16 values: use float32"));
        }
        part(&data).check("data")?;
        let (a, b) = Self::native_indices(a, b, na, nb)?;
        let checked = Arc::new(OnceLock::new());
        if !defer {
            checked.set(None).ok();
        }
        let m = SparseMatrix { format, shape, data, a, b, is_array, checked };
        if let Some(p) = spmv::problem(&m.matrix(), if defer { Check::Structure } else { Check::Both })? {
            return Err(bad(p));
        }
        Ok(m)
    }

    /// Checks every index against the shape, once (in parallel); later calls return the
    /// first result. The error names the file the matrix was loaded from.
    pub fn validate(&self) -> Result<()> {
        self.validate_rel(false)
    }

    /// [`validate`](Self::validate); `release`: a streaming call's first use, whose check
    /// releases the index pages behind it as the product does (see [`spmv::problem`]).
    fn validate_rel(&self, release: bool) -> Result<()> {
        let p = self.checked.get_or_init(|| spmv::problem_rel(&self.matrix(), Check::Indices, release).unwrap_or_else(|e| Some(e.message().to_string())));
        match (p, &self.data.path) {
            (None, _) => Ok(()),
            (Some(p), Some(path)) => Err(bad(p.clone()).at(path)),
            (Some(p), None) => Err(bad(p.clone())),
        }
    }

    /// Both index arrays as native int32/int64 of one dtype.
    fn native_indices(a: Array, b: Array, na: &str, nb: &str) -> Result<(Array, Array)> {
        let ok = |x: &Array| matches!(x.dtype, DType::Int32 | DType::Int64) && x.byte_order.is_native();
        let convert = |x: &Array, name: &str, to: DType| -> Result<Array> { index_array(&values_i64(x, name)?, to) };
        let (a, b) = match (ok(&a), ok(&b)) {
            (true, true) => (a, b),
            _ => {
                let wide = |x: &Array| x.dtype.itemsize() > 4 || x.dtype == DType::UInt32;
                let to = if wide(&a) || wide(&b) { DType::Int64 } else { DType::Int32 };
                (if ok(&a) && a.dtype == to { a } else { convert(&a, na, to)? }, if ok(&b) && b.dtype == to { b } else { convert(&b, nb, to)? })
            }
        };
        if a.dtype == b.dtype {
            return Ok((a, b));
        }
        // Widen the int32 one (for CSR/CSC usually the short indptr).
        Ok(if a.dtype == DType::Int32 { (convert(&a, na, DType::Int64)?, b) } else { (a, convert(&b, nb, DType::Int64)?) })
    }

    /// The matrix as the kernels see it.
    pub fn matrix(&self) -> Matrix<'_> {
        Matrix { kind: self.format.kind(), shape: self.shape, data: part(&self.data), a: part(&self.a), b: part(&self.b) }
    }

    pub fn nnz(&self) -> usize {
        self.data.shape[0]
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype
    }

    fn from_compressed(format: Format, shape: [usize; 2], c: Compressed, dtype: DType, order: ByteOrder, idx: DType, is_array: bool) -> Result<SparseMatrix> {
        let data = npy::from_bytes(&c.data, &NewArray { dtype, byte_order: order, shape: vec![c.indices.len()], fortran_order: false })?;
        SparseMatrix::new(format, shape, data, index_array(&c.indices, idx)?, index_array(&c.indptr, idx)?, is_array)
    }

    /// SciPy's `transpose()`: the same arrays, CSR ↔ CSC, COO's row and col swapped.
    pub fn transpose(&self) -> SparseMatrix {
        let shape = [self.shape[1], self.shape[0]];
        match self.format {
            Format::Csr => SparseMatrix { format: Format::Csc, shape, ..self.clone() },
            Format::Csc => SparseMatrix { format: Format::Csr, shape, ..self.clone() },
            Format::Coo => SparseMatrix { shape, a: self.b.clone(), b: self.a.clone(), ..self.clone() },
        }
    }

    /// SciPy's `tocsr()` / `tocsc()` / `tocoo()`: CSR ↔ CSC keep every entry in storage
    /// order; COO → CSR/CSC sums duplicates (see [`spconv::sum_duplicates`]); to COO shares
    /// the index and value arrays it can.
    pub fn convert(&self, to: Format) -> Result<SparseMatrix> {
        self.validate()?;
        if to == self.format {
            return Ok(self.clone());
        }
        let m = self.matrix();
        let idx = index_dtype(&[self.a.dtype], self.nnz().max(self.shape[0]).max(self.shape[1]));
        if to == Format::Coo {
            let major = index_array(&spconv::expand(&m)?, self.a.dtype)?;
            let (row, col) = if self.format == Format::Csr { (major, self.a.clone()) } else { (self.a.clone(), major) };
            return SparseMatrix::new(Format::Coo, self.shape, self.data.clone(), row, col, self.is_array);
        }
        let mut c = spconv::compress(&m, to.kind())?;
        let mut order = self.data.byte_order;
        if self.format == Format::Coo && self.nnz() > 0 {
            spconv::sum_duplicates(&mut c, self.dtype(), !order.is_native());
            order = self.dtype().order(ByteOrder::NATIVE);
        }
        SparseMatrix::from_compressed(to, self.shape, c, self.dtype(), order, idx, self.is_array)
    }

    /// CSR with every entry kept in storage order (for `to_dense` and sums).
    fn stable_csr(&self) -> Result<SparseMatrix> {
        self.validate()?;
        if self.format == Format::Csr {
            return Ok(self.clone());
        }
        let c = spconv::compress(&self.matrix(), Kind::Csr)?;
        let idx = index_dtype(&[self.a.dtype], self.nnz().max(self.shape[0]).max(self.shape[1]));
        SparseMatrix::from_compressed(Format::Csr, self.shape, c, self.dtype(), self.data.byte_order, idx, self.is_array)
    }

    /// `A @ x` (see [`spmv::dot`]): into `out`, or a new in-memory array.
    pub fn dot(&self, x: &Source, out: Option<&Dest>, release: bool) -> Result<Option<Array>> {
        self.validate_rel(release)?;
        match spmv::dot(&self.matrix(), x, out, release)? {
            None => Ok(None),
            Some((dtype, shape, mem)) => Ok(Some(npy::in_memory(mem, &NewArray { dtype, byte_order: ByteOrder::NATIVE, shape, fortran_order: false })?)),
        }
    }

    /// SciPy's `toarray()`: into `out` when given (the matrix's shape and dtype), else a new
    /// in-memory array. Duplicates are added in storage order.
    pub fn to_dense(&self, out: Option<&Dest>) -> Result<Option<Array>> {
        let csr = self.stable_csr()?;
        match out {
            Some(o) => spconv::to_dense(&csr.matrix(), o).map(|_| None),
            None => {
                let a = npy::zeros(&NewArray { dtype: self.dtype(), byte_order: ByteOrder::NATIVE, shape: self.shape.to_vec(), fortran_order: false })?;
                let l = a.layout();
                let d = Dest { map: &a.mapping, layout: &l, dtype: a.dtype, order: a.byte_order, release: false };
                spconv::to_dense(&csr.matrix(), &d)?;
                Ok(Some(a))
            }
        }
    }

    /// Whether every row (column) has strictly increasing indices: SciPy's canonical format.
    fn canonical(&self) -> bool {
        if self.format == Format::Coo {
            return false;
        }
        let Ok(ptr) = values_i64(&self.b, "indptr") else { return false };
        let Ok(ind) = values_i64(&self.a, "indices") else { return false };
        ptr.windows(2).all(|w| ind[w[0] as usize..w[1] as usize].windows(2).all(|p| p[0] < p[1]))
    }

    /// SciPy's `sum(axis)`. `None`: the values summed as `np.sum` (pairwise) after
    /// duplicates are summed; an axis: a 1-D array of NumPy's sum dtype.
    pub fn sum(&self, axis: Option<isize>) -> Result<Summed> {
        self.validate()?;
        let axis = match axis {
            None => None,
            Some(a @ (0 | 1)) => Some(a as usize),
            Some(a @ (-2 | -1)) => Some((a + 2) as usize),
            Some(a) => return Err(Error::new(ErrorKind::OutOfRange, format!("axis {a} is out of bounds for a 2-D matrix"))),
        };
        let Some(axis) = axis else {
            let canon;
            let m = if self.canonical() {
                self
            } else {
                canon = self.convert(Format::Coo)?.convert(if self.format == Format::Csc { Format::Csc } else { Format::Csr })?;
                &canon
            };
            let l = m.data.layout();
            let src = Source { map: &m.data.mapping, layout: &l, dtype: m.data.dtype, order: m.data.byte_order, release: false };
            return Ok(Summed::Scalar(reduce::reduce_all(&src, Op::Sum, None)?));
        };
        let minor = match self.format {
            Format::Csr => axis == 1,
            Format::Csc => axis == 0,
            Format::Coo => false,
        };
        if minor {
            return Ok(Summed::Array(spconv::minor_sums(&self.matrix())?));
        }
        // The product with ones of the sum dtype, as SciPy's `_spbase.sum`.
        let t = spconv::sum_dtype(self.dtype());
        let (m, n) = if axis == 0 { (self.transpose(), self.shape[0]) } else { (self.clone(), self.shape[1]) };
        let ones = npy::zeros(&NewArray { dtype: t, byte_order: ByteOrder::NATIVE, shape: vec![n], fortran_order: false })?;
        let ol = ones.layout();
        crate::kernels::elementwise::fill(&Dest { map: &ones.mapping, layout: &ol, dtype: t, order: ones.byte_order, release: false }, Value::Int(1))?;
        let src = Source { map: &ones.mapping, layout: &ol, dtype: t, order: ones.byte_order, release: false };
        let r = m.dot(&src, None, false)?.ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "no result"))?;
        let bytes = r.mapping.read_bytes(0, r.mapping.len())?;
        Ok(Summed::Array(Reduced { dtype: r.dtype, shape: r.shape, bytes }))
    }

    /// `scipy.sparse.save_npz`: the members SciPy writes, in its order, deflated at
    /// `compress` (1..9) or stored (then 64-byte aligned, mapped zero-copy by [`load_sparse`]).
    pub fn save(&self, path: &Path, compress: Option<u32>) -> Result<()> {
        let mut w = NpzWriter::create(path, compress)?;
        let [na, nb] = self.format.index_names();
        for (key, a) in [(na, &self.a), (nb, &self.b)] {
            w.add_view(key, &a.mapping, &a.layout(), a.dtype, a.byte_order, None)?;
        }
        w.add_npy_bytes("format", &bytes_npy(self.format.name().as_bytes()))?;
        let shape: Vec<u8> = self.shape.iter().flat_map(|&d| (d as i64).to_le_bytes()).collect();
        w.add_bytes("shape", &NewArray { dtype: DType::Int64, byte_order: ByteOrder::Little, shape: vec![2], fortran_order: false }, &shape, None)?;
        w.add_view("data", &self.data.mapping, &self.data.layout(), self.data.dtype, self.data.byte_order, None)?;
        if self.is_array {
            w.add_bytes("_is_array", &NewArray { dtype: DType::Bool, byte_order: ByteOrder::NotApplicable, shape: vec![], fortran_order: false }, &[1], None)?;
        }
        w.finish()
    }
}

/// What `sum` gives: a scalar (no axis) or a 1-D array.
pub enum Summed {
    Scalar(Value),
    Array(Reduced),
}

/// A 0-d `|S<n>` `.npy` file holding `s` (as NumPy writes `np.array(b'csr')`).
fn bytes_npy(s: &[u8]) -> Vec<u8> {
    let text = format!("{{'descr': '|S{}', 'fortran_order': False, 'shape': (), }}", s.len());
    let hlen = text.len() + 1;
    let pad = header::ARRAY_ALIGN - (MAGIC.len() + 4 + hlen) % header::ARRAY_ALIGN;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&((hlen + pad) as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend_from_slice(s);
    out
}

/// The text of a 0-d `|S<n>` or `<U<n>`/`>U<n>` `.npy` file (`format`): strict.
fn string_npy(bytes: &[u8]) -> Result<String> {
    let pre = header::parse_preamble(bytes)?;
    let end = pre.data_offset();
    if bytes.len() < end {
        return Err(bad("the format member ends inside its header"));
    }
    let text = std::str::from_utf8(&bytes[pre.len..end]).map_err(|_| bad("the format member's header is not text"))?;
    let descr = text.split("'descr':").nth(1).and_then(|r| r.trim_start().strip_prefix('\'')).and_then(|r| r.split('\'').next()).unwrap_or("");
    let shape_ok = text.split("'shape':").nth(1).is_some_and(|r| r.trim_start().starts_with("()"));
    let body = &bytes[end..];
    let (kind, n) = descr.trim_start_matches(['|', '<', '>', '=']).split_at(descr.trim_start_matches(['|', '<', '>', '=']).len().min(1));
    let n: usize = n.parse().map_err(|_| bad(format!("format must be a 0-d string, got dtype '{descr}'")))?;
    if !shape_ok {
        return Err(bad("format must be a 0-d string"));
    }
    let s = match kind {
        "S" if body.len() == n => String::from_utf8_lossy(body).trim_end_matches('\0').to_string(),
        "U" if body.len() == 4 * n => {
            let be = descr.starts_with('>');
            body.chunks_exact(4)
                .map(|c| {
                    let u = if be { u32::from_be_bytes([c[0], c[1], c[2], c[3]]) } else { u32::from_le_bytes([c[0], c[1], c[2], c[3]]) };
                    char::from_u32(u).unwrap_or('\u{fffd}')
                })
                .collect::<String>()
                .trim_end_matches('\0')
                .to_string()
        }
        _ => return Err(bad(format!("format must be a 0-d string, got dtype '{descr}' with {} data bytes", body.len()))),
    };
    Ok(s)
}

/// `scipy.sparse.load_npz(path)`; with a mode (`'r'` or `'c'`) stored members are mapped.
pub fn load_sparse(path: &Path, mode: Option<Mode>) -> Result<SparseMatrix> {
    load_inner(path, mode).map_err(|e| e.at(path))
}

fn load_inner(path: &Path, mode: Option<Mode>) -> Result<SparseMatrix> {
    let f = npz::open_npz(path, mode)?;
    if f.entry("format").is_none() {
        return Err(Error::new(ErrorKind::NotFound, "the file does not contain a sparse array or matrix (no 'format' member)"));
    }
    let format = string_npy(&f.get_raw("format", 4096)?)?;
    let shape = values_i64(&f.get("shape")?, "shape")?;
    if shape.len() != 2 {
        return Err(Error::new(
            ErrorKind::BadShape,
            format!("a {}-D sparse array (shape {shape:?}) is not supported: loadSparse reads 2-D matrices and arrays", shape.len()),
        ));
    }
    if shape.iter().any(|&d| d < 0) {
        return Err(Error::new(ErrorKind::BadShape, format!("shape {shape:?} has a negative dimension")));
    }
    let shape = [shape[0] as usize, shape[1] as usize];
    let is_array = f.entry("_is_array").is_some() && values_i64(&f.get("_is_array")?, "_is_array")?.first().is_some_and(|&v| v != 0);
    let get = |names: &[&str]| f.get_many(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    match format.as_str() {
        "csr" | "csc" => {
            let mut p = get(&["data", "indices", "indptr"])?.into_iter();
            let (data, indices, indptr) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            SparseMatrix::make(Format::parse(&format)?, shape, data, indices, indptr, is_array, mode.is_some())
        }
        "coo" => {
            if f.entry("coords").is_some() && f.entry("row").is_none() {
                return Err(Error::new(ErrorKind::BadShape, "an n-D COO array (member 'coords') is not supported: loadSparse reads 2-D matrices and arrays"));
            }
            let mut p = get(&["data", "row", "col"])?.into_iter();
            let (data, row, col) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            SparseMatrix::make(Format::Coo, shape, data, row, col, is_array, mode.is_some())
        }
        "bsr" => {
            let mut p = get(&["data", "indices", "indptr"])?.into_iter();
            bsr_to_csr(shape, p.next().unwrap(), p.next().unwrap(), p.next().unwrap(), is_array)
        }
        "dia" => {
            let mut p = get(&["data", "offsets"])?.into_iter();
            dia_to_csr(shape, p.next().unwrap(), p.next().unwrap(), is_array)
        }
        other => Err(Error::new(ErrorKind::UnsupportedDtype, format!("unknown sparse format '{other}' (csr, csc, coo, bsr and dia are read)"))),
    }
}

/// Element `k` of a C-contiguous array, as bytes.
fn elem_bytes(a: &Array, k: usize) -> &[u8] {
    let isz = a.dtype.itemsize();
    // SAFETY: callers pass k < a's element count, which lies inside its mapping (npy checked it).
    unsafe { std::slice::from_raw_parts(a.mapping.as_ptr().add(k * isz), isz) }
}

/// BSR → CSR: block row `bi` gives rows `bi*R .. bi*R + R`; each row runs over the block
/// row's blocks in order, and each block's `C` columns in order (SciPy's `bsr_matvec` order).
fn bsr_to_csr(shape: [usize; 2], data: Array, indices: Array, indptr: Array, is_array: bool) -> Result<SparseMatrix> {
    if data.shape.len() != 3 {
        return Err(bad(format!("bsr data must be 3-D (blocks, R, C), got shape {:?}", data.shape)));
    }
    let (nb, r, c) = (data.shape[0], data.shape[1], data.shape[2]);
    if r == 0 || c == 0 || !shape[0].is_multiple_of(r) || !shape[1].is_multiple_of(c) {
        return Err(bad(format!("bsr blocks of ({r}, {c}) do not divide shape ({}, {})", shape[0], shape[1])));
    }
    let (ind, ptr) = (values_i64(&indices, "indices")?, values_i64(&indptr, "indptr")?);
    let (brows, bcols) = (shape[0] / r, shape[1] / c);
    if ptr.len() != brows + 1 || ptr[0] != 0 || ptr.windows(2).any(|w| w[1] < w[0]) || ptr[brows] as usize != ind.len() || ind.len() != nb {
        return Err(bad(format!("bsr indptr ({} elements) does not describe {nb} blocks in {brows} block rows", ptr.len())));
    }
    if let Some((k, &j)) = ind.iter().enumerate().find(|(_, &j)| j < 0 || j as usize >= bcols) {
        return Err(bad(format!("indices[{k}] = {j} is out of range for {bcols} block columns")));
    }
    let nnz = nb * r * c;
    let (mut out_ind, mut out_ptr, mut bytes) = (Vec::with_capacity(nnz), vec![0i64], Vec::with_capacity(nnz * data.dtype.itemsize()));
    for bi in 0..brows {
        for i in 0..r {
            for (jj, &bj) in ind.iter().enumerate().take(ptr[bi + 1] as usize).skip(ptr[bi] as usize) {
                for j in 0..c {
                    out_ind.push(bj * c as i64 + j as i64);
                    bytes.extend_from_slice(elem_bytes(&data, (jj * r + i) * c + j));
                }
            }
            out_ptr.push(out_ind.len() as i64);
        }
    }
    let idx = index_dtype(&[indices.dtype], nnz.max(shape[0]).max(shape[1]));
    let mut d = npy::from_bytes(&bytes, &NewArray { dtype: data.dtype, byte_order: data.byte_order, shape: vec![nnz], fortran_order: false })?;
    d.path = data.path.clone();
    SparseMatrix::new(Format::Csr, shape, d, index_array(&out_ind, idx)?, index_array(&out_ptr, idx)?, is_array)
}

/// DIA → CSR: diagonal `d` (offset `k`) holds `(j - k, j)` at `data[d, j]` for `j` in
/// `max(0, k) .. min(rows + k, cols, L)`; each row's entries run in diagonal order, stored
/// zeros kept (SciPy's `dia_matvec` order and products).
fn dia_to_csr(shape: [usize; 2], data: Array, offsets: Array, is_array: bool) -> Result<SparseMatrix> {
    if data.shape.len() != 2 {
        return Err(bad(format!("dia data must be 2-D (diagonals, L), got shape {:?}", data.shape)));
    }
    let (nd, l) = (data.shape[0], data.shape[1]);
    let off = values_i64(&offsets, "offsets")?;
    if off.len() != nd {
        return Err(bad(format!("dia offsets hold {} diagonals, data {nd}", off.len())));
    }
    let (rows, cols) = (shape[0] as i64, shape[1] as i64);
    let mut per_row: Vec<Vec<(i64, usize)>> = vec![Vec::new(); shape[0]];
    for (d, &k) in off.iter().enumerate() {
        let (j0, j1) = (k.max(0), (rows.saturating_add(k)).min(cols).min(l as i64));
        for j in j0..j1.max(j0) {
            per_row[(j - k) as usize].push((j, d * l + j as usize));
        }
    }
    let nnz: usize = per_row.iter().map(Vec::len).sum();
    let (mut ind, mut ptr, mut bytes) = (Vec::with_capacity(nnz), vec![0i64], Vec::with_capacity(nnz * data.dtype.itemsize()));
    for row in &per_row {
        for &(j, e) in row {
            ind.push(j);
            bytes.extend_from_slice(elem_bytes(&data, e));
        }
        ptr.push(ind.len() as i64);
    }
    let idx = index_dtype(&[offsets.dtype], nnz.max(shape[0]).max(shape[1]));
    let mut d = npy::from_bytes(&bytes, &NewArray { dtype: data.dtype, byte_order: data.byte_order, shape: vec![nnz], fortran_order: false })?;
    d.path = data.path.clone();
    SparseMatrix::new(Format::Csr, shape, d, index_array(&ind, idx)?, index_array(&ptr, idx)?, is_array)
}

/// The path of a matrix's values, when they come from a file.
pub fn source_path(m: &SparseMatrix) -> Option<PathBuf> {
    m.data.path.clone()
}
