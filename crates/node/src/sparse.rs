//! Sparse matrices from JavaScript: `NativeSparse` holds a validated
//! `mmnpy_core::sparse::SparseMatrix` (its parts keep their own `Arc`s on the memory) and
//! hands its parts out as `NativeArray`s; `lib/sparse.ts` tracks them so that closing the
//! matrix closes them. Products run synchronously or as an AsyncTask holding clones of the
//! parts, so `close()` during a product leaves the memory mapped until it ends.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use mmnpy_core::kernels::elementwise::Dest;
use mmnpy_core::kernels::reduce::Source;
use mmnpy_core::npy::{self, Array, NewArray};
use mmnpy_core::sparse::{self, Format, SparseMatrix, Summed};
use mmnpy_core::{view, Error, ErrorKind, Layout, Mapping};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{wrap, NativeArray};
use crate::compute::{axis_array, task_error, writable, ScalarRet, ViewArg};
use crate::convert::{self, invalid, js_error, OrJs};

fn path(p: &str) -> Result<PathBuf, String> {
    if p.is_empty() || p.contains('\0') {
        return Err(invalid("path must be a non-empty string without NUL bytes"));
    }
    Ok(PathBuf::from(p))
}

fn closed() -> napi::Error<String> {
    js_error(Error::new(ErrorKind::Closed, "the sparse matrix is closed"))
}

/// What JavaScript needs to know about a matrix.
#[napi(object)]
pub struct SparseInfo {
    pub format: String,
    pub shape: Vec<f64>,
    pub nnz: f64,
    pub dtype: String,
    pub index_dtype: String,
    pub is_array: bool,
    /// The file the values are mapped from or were read from.
    pub filename: Option<String>,
}

#[napi]
pub struct NativeSparse {
    inner: RefCell<Option<SparseMatrix>>,
    allow_copy: bool,
}

impl NativeSparse {
    fn new(m: SparseMatrix, allow_copy: bool) -> NativeSparse {
        NativeSparse { inner: RefCell::new(Some(m)), allow_copy }
    }

    fn get(&self) -> Result<SparseMatrix, String> {
        self.inner.borrow().as_ref().cloned().ok_or_else(closed)
    }
}

/// `scipy.sparse.load_npz(path)`; with `mode` (`'r'`/`'c'`) stored members are mapped.
#[napi]
pub fn load_sparse(path: String, mode: Option<String>, allow_copy: bool) -> Result<NativeSparse, String> {
    let mode = mode.as_deref().map(convert::mode).transpose()?;
    Ok(NativeSparse::new(sparse::load_sparse(&self::path(&path)?, mode).or_js()?, allow_copy))
}

/// A 1-D part from a view of an array: the array itself when the view is all of it
/// (zero copy), else a copy of the view's elements.
fn part(a: &NativeArray, v: &ViewArg, name: &str) -> Result<Array, String> {
    let map = a.holder.get().or_js()?;
    let l = v.layout.clone();
    if l.shape.len() != 1 {
        return Err(js_error(Error::new(ErrorKind::BadSparse, format!("{name} must be 1-D, got shape {:?}", l.shape))));
    }
    let isz = a.info.dtype.itemsize();
    l.check(isz, map.len()).or_js()?;
    let n = l.shape[0];
    let info = &a.info;
    if l.offset == 0 && (n <= 1 || l.strides[0] == isz as isize) && n * isz == map.len() {
        return Ok(Array { mapping: map, shape: vec![n], fortran_order: false, ..info.clone() });
    }
    let bytes = view::gather(&map, &l, info.dtype, info.byte_order, info.byte_order).or_js()?;
    npy::from_bytes(&bytes, &NewArray { dtype: info.dtype, byte_order: info.byte_order, shape: vec![n], fortran_order: false }).or_js()
}

/// `csr((data, indices, indptr), shape)`, `csc(...)`, `coo((data, (row, col)), shape)`: validated.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn sparse_from_parts(
    format: String,
    data: &NativeArray,
    dv: ViewArg,
    a: &NativeArray,
    av: ViewArg,
    b: &NativeArray,
    bv: ViewArg,
    shape: Vec<f64>,
    is_array: bool,
    allow_copy: bool,
) -> Result<NativeSparse, String> {
    let f = Format::parse(&format).or_js()?;
    let s = convert::shape(&shape)?;
    if s.len() != 2 {
        return Err(js_error(Error::new(ErrorKind::BadShape, format!("a sparse matrix is 2-D, got shape {s:?}"))));
    }
    let [na, nb] = f.index_names();
    let m = SparseMatrix::new(f, [s[0], s[1]], part(data, &dv, "data")?, part(a, &av, na)?, part(b, &bv, nb)?, is_array).or_js()?;
    Ok(NativeSparse::new(m, allow_copy))
}

/// A view of an array, owned (Arc on its memory) so a task can carry it.
pub struct Owned {
    map: Arc<Mapping>,
    layout: Layout,
    array: Array,
}

impl Owned {
    fn of(a: &NativeArray, v: &ViewArg) -> Result<Owned, String> {
        Ok(Owned { map: a.holder.get().or_js()?, layout: v.layout.clone(), array: a.info.clone() })
    }
    fn source(&self) -> Source<'_> {
        Source { map: &self.map, layout: &self.layout, dtype: self.array.dtype, order: self.array.byte_order, release: false }
    }
}

/// `A @ x` into `out` (when given), streaming over the matrix's pages when `release`.
pub struct SparseDotTask {
    m: SparseMatrix,
    x: Owned,
    out: Option<Owned>,
    release: bool,
    allow_copy: bool,
}

impl SparseDotTask {
    fn run(&self) -> mmnpy_core::Result<Option<Array>> {
        let out = self.out.as_ref().map(|o| Dest { release: false, ..o.source() });
        self.m.dot(&self.x.source(), out.as_ref(), self.release)
    }
}

impl Task for SparseDotTask {
    type Output = Option<Array>;
    type JsValue = Option<NativeArray>;

    fn compute(&mut self) -> napi::Result<Option<Array>> {
        self.run().map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: Option<Array>) -> napi::Result<Option<NativeArray>> {
        output.map(|a| wrap(&env, a, self.allow_copy)).transpose().map_err(convert::resolve_error)
    }
}

/// A sum: `scalar` without an axis, else `array`.
pub enum SumOut {
    Scalar(ScalarRet),
    Array(NativeArray),
}

impl ToNapiValue for SumOut {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: forwarded to napi-rs' own conversions with the same env.
        unsafe {
            match val {
                SumOut::Scalar(s) => ScalarRet::to_napi_value(env, s),
                SumOut::Array(a) => NativeArray::to_napi_value(env, a),
            }
        }
    }
}

impl TypeName for SumOut {
    fn type_name() -> &'static str {
        "number | boolean | bigint | Complex | NativeArray"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

#[napi]
impl NativeSparse {
    #[napi]
    pub fn info(&self) -> Result<SparseInfo, String> {
        let m = self.get()?;
        Ok(SparseInfo {
            format: m.format.name().into(),
            shape: m.shape.iter().map(|&d| d as f64).collect(),
            nnz: m.nnz() as f64,
            dtype: m.dtype().name().into(),
            index_dtype: m.a.dtype.name().into(),
            is_array: m.is_array,
            filename: m.data.path.as_ref().map(|p| p.display().to_string()),
        })
    }

    /// `[data, indices, indptr]` (CSR/CSC) or `[data, row, col]` (COO) as arrays over the same memory.
    #[napi]
    pub fn parts(&self, env: Env) -> Result<Vec<NativeArray>, String> {
        let m = self.get()?;
        [m.data, m.a, m.b].into_iter().map(|a| wrap(&env, a, self.allow_copy)).collect()
    }

    fn dot_task(&self, x: &NativeArray, xv: ViewArg, out: Option<&NativeArray>, ov: Option<ViewArg>, release: bool) -> Result<SparseDotTask, String> {
        let out = match (out, ov) {
            (Some(o), Some(v)) => {
                writable(o)?;
                Some(Owned::of(o, &v)?)
            }
            (None, _) => None,
            _ => return Err(invalid("out needs its view")),
        };
        Ok(SparseDotTask { m: self.get()?, x: Owned::of(x, &xv)?, out, release, allow_copy: self.allow_copy })
    }

    /// `A @ x` (x a vector or a dense matrix): a new array, or nothing when written into `out`.
    #[napi]
    pub fn dot(
        &self,
        env: Env,
        x: &NativeArray,
        xv: ViewArg,
        out: Option<&NativeArray>,
        ov: Option<ViewArg>,
        release: bool,
    ) -> Result<Option<NativeArray>, String> {
        let t = self.dot_task(x, xv, out, ov, release)?;
        t.run().or_js()?.map(|a| wrap(&env, a, self.allow_copy)).transpose()
    }

    /// `dot` off the JavaScript thread.
    #[napi(ts_return_type = "Promise<NativeArray | null>")]
    pub fn dot_async(
        &self,
        x: &NativeArray,
        xv: ViewArg,
        out: Option<&NativeArray>,
        ov: Option<ViewArg>,
        release: bool,
    ) -> Result<AsyncTask<SparseDotTask>, String> {
        Ok(AsyncTask::new(self.dot_task(x, xv, out, ov, release)?))
    }

    #[napi]
    pub fn transpose(&self) -> Result<NativeSparse, String> {
        Ok(NativeSparse::new(self.get()?.transpose(), self.allow_copy))
    }

    /// `tocsr()` / `tocsc()` / `tocoo()`.
    #[napi]
    pub fn convert(&self, format: String) -> Result<NativeSparse, String> {
        let f = Format::parse(&format).or_js()?;
        Ok(NativeSparse::new(self.get()?.convert(f).or_js()?, self.allow_copy))
    }

    #[napi(ts_return_type = "number | boolean | bigint | Complex | NativeArray")]
    pub fn sum(&self, env: Env, axis: Option<i32>) -> Result<SumOut, String> {
        Ok(match self.get()?.sum(axis.map(|a| a as isize)).or_js()? {
            Summed::Scalar(v) => SumOut::Scalar(ScalarRet(v)),
            Summed::Array(r) => SumOut::Array(axis_array(&env, r, self.allow_copy)?),
        })
    }

    /// `toarray()`: a new array, or nothing when written into `out`.
    #[napi]
    pub fn to_dense(&self, env: Env, out: Option<&NativeArray>, ov: Option<ViewArg>) -> Result<Option<NativeArray>, String> {
        let m = self.get()?;
        match (out, ov) {
            (Some(o), Some(v)) => {
                writable(o)?;
                let o = Owned::of(o, &v)?;
                m.to_dense(Some(&o.source())).or_js()?;
                Ok(None)
            }
            (None, _) => m.to_dense(None).or_js()?.map(|a| wrap(&env, a, self.allow_copy)).transpose(),
            _ => Err(invalid("out needs its view")),
        }
    }

    /// `scipy.sparse.save_npz(path, A, compressed=level is not None)`, atomically.
    #[napi]
    pub fn save(&self, path: String, level: Option<u32>) -> Result<(), String> {
        self.get()?.save(&self::path(&path)?, level).or_js()
    }

    /// Drops the matrix's references to its memory. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.borrow_mut().take();
    }
}
