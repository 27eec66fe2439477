//! HDF5 files from JavaScript: `NativeH5`, an open file answering by absolute object
//! path (groups, datasets, attributes), with hyperslab reads on the calling thread or
//! as an async task, and zero-copy maps of contiguous datasets. The TS layer
//! (`lib/h5.ts`) turns slice specs into selections and tracks the arrays it hands out.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use mmnpy_core::hdf5::{AttrValue, Dataset, H5File, Object, Selection};
use mmnpy_core::{Error, ErrorKind};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{wrap, NativeArray};
use crate::compute::task_error;
use crate::convert::{self, index, invalid, js_error, OrJs};

fn closed() -> napi::Error<String> {
    js_error(Error::new(ErrorKind::Closed, "the HDF5 file is closed"))
}

#[napi]
pub struct NativeH5 {
    // An Arc so a read running on another thread keeps the file open past close().
    inner: RefCell<Option<Arc<H5File>>>,
    allow_copy: bool,
}

/// What `Dataset` exposes, read once.
#[napi(object)]
pub struct H5DatasetInfo {
    pub shape: Vec<f64>,
    /// `null` entries are unlimited.
    pub maxshape: Vec<Option<f64>>,
    pub dtype: String,
    pub byte_order: String,
    pub chunks: Option<Vec<f64>>,
    pub compression: Option<String>,
    pub compression_opts: Option<u32>,
    pub shuffle: bool,
    pub fletcher32: bool,
    /// `'compact' | 'contiguous' | 'chunked'`.
    pub layout: String,
}

/// An attribute: numeric ones are fetched as arrays by `attr_array`.
#[napi(object)]
pub struct H5AttrInfo {
    pub name: String,
    /// `'numbers' | 'string' | 'strings' | 'empty' | 'unsupported'`.
    pub kind: String,
    /// The string (`'string'`), or the type's description (`'unsupported'`).
    pub text: Option<String>,
    pub texts: Option<Vec<String>>,
    pub shape: Option<Vec<f64>>,
}

/// Opens an HDF5 file. Only `'r'` is implemented; the writing modes are refused clearly.
#[napi]
pub fn open_h5(path: String, mode: String, allow_copy: bool) -> Result<NativeH5, String> {
    if path.is_empty() || path.contains('\0') {
        return Err(invalid("path must be a non-empty string without NUL bytes"));
    }
    match mode.as_str() {
        "r" => {}
        "r+" | "w" | "w-" | "x" | "a" => {
            return Err(js_error(
                Error::new(ErrorKind::UnsupportedMode, format!("mode '{mode}': mmnpy reads HDF5 files ('r'); writing them is not implemented yet"))
                    .at(&PathBuf::from(&path)),
            ))
        }
        m => return Err(invalid(format!("mode must be one of 'r', 'r+', 'w', 'w-', 'x', 'a' (as h5py), got '{m}'"))),
    }
    let f = H5File::open(&PathBuf::from(&path)).or_js()?;
    Ok(NativeH5 { inner: RefCell::new(Some(Arc::new(f))), allow_copy })
}

fn selection(start: &[f64], step: &[f64], count: &[f64]) -> Result<Selection, String> {
    let v = |xs: &[f64], what: &str| xs.iter().map(|&x| index(x, what).map(|i| i as u64)).collect::<Result<Vec<u64>, String>>();
    Ok(Selection { start: v(start, "selection start")?, step: v(step, "selection step")?, count: v(count, "selection count")? })
}

pub struct H5ReadTask {
    file: Arc<H5File>,
    ds: Box<Dataset>,
    sel: Selection,
    allow_copy: bool,
}

impl Task for H5ReadTask {
    type Output = mmnpy_core::Array;
    type JsValue = NativeArray;

    fn compute(&mut self) -> napi::Result<mmnpy_core::Array> {
        self.file.read(&self.ds, &self.sel).map_err(task_error)
    }

    fn resolve(&mut self, env: Env, output: mmnpy_core::Array) -> napi::Result<NativeArray> {
        wrap(&env, output, self.allow_copy).map_err(|e| napi::Error::new(Status::GenericFailure, format!("{}: {}", e.status, e.reason)))
    }
}

#[napi]
impl NativeH5 {
    fn file(&self) -> Result<Arc<H5File>, String> {
        self.inner.borrow().clone().ok_or_else(closed)
    }

    fn dataset(&self, path: &str) -> Result<(Arc<H5File>, Box<Dataset>), String> {
        let f = self.file()?;
        match f.get(path).or_js()? {
            Object::Dataset(d) => Ok((f, d)),
            Object::Group(_) => Err(js_error(Error::new(ErrorKind::InvalidArgument, format!("'{path}' is a group, not a dataset")).at(f.path()))),
        }
    }

    fn group(&self, path: &str) -> Result<(Arc<H5File>, mmnpy_core::hdf5::Group), String> {
        let f = self.file()?;
        match f.get(path).or_js()? {
            Object::Group(g) => Ok((f, g)),
            Object::Dataset(_) => Err(js_error(Error::new(ErrorKind::InvalidArgument, format!("'{path}' is a dataset, not a group")).at(f.path()))),
        }
    }

    /// Absolute path of the file.
    #[napi]
    pub fn filename(&self) -> Result<String, String> {
        Ok(self.file()?.path().display().to_string())
    }

    /// `'group'` or `'dataset'`.
    #[napi]
    pub fn kind(&self, path: String) -> Result<String, String> {
        Ok(match self.file()?.get(&path).or_js()? {
            Object::Group(_) => "group",
            Object::Dataset(_) => "dataset",
        }
        .into())
    }

    #[napi]
    pub fn has(&self, path: String) -> Result<bool, String> {
        self.file()?.has(&path).or_js()
    }

    /// A group's member names, in h5py's order.
    #[napi]
    pub fn keys(&self, path: String) -> Result<Vec<String>, String> {
        let (f, g) = self.group(&path)?;
        f.keys(&g).or_js()
    }

    /// Every object below a group, each once, relative names in h5py's `visit` order.
    #[napi]
    pub fn visit(&self, path: String) -> Result<Vec<String>, String> {
        let (f, g) = self.group(&path)?;
        f.visit(&g).or_js()
    }

    #[napi]
    pub fn dataset_info(&self, path: String) -> Result<H5DatasetInfo, String> {
        let (_, d) = self.dataset(&path)?;
        let layout = match &d.layout {
            mmnpy_core::hdf5::Layout::Compact(_) => "compact",
            mmnpy_core::hdf5::Layout::Contiguous { .. } => "contiguous",
            mmnpy_core::hdf5::Layout::Chunked { .. } => "chunked",
        };
        Ok(H5DatasetInfo {
            shape: d.shape.iter().map(|&x| x as f64).collect(),
            maxshape: d.maxshape.iter().map(|m| m.map(|x| x as f64)).collect(),
            dtype: d.dtype_name(),
            byte_order: d.full_descr().order().symbol().to_string(),
            chunks: d.chunks().map(|c| c.iter().map(|&x| x as f64).collect()),
            compression: d.compression(),
            compression_opts: d.compression_opts(),
            shuffle: d.shuffle(),
            fletcher32: d.fletcher32(),
            layout: layout.into(),
        })
    }

    /// The attributes of the object at `path`, in name order.
    #[napi]
    pub fn attrs(&self, path: String) -> Result<Vec<H5AttrInfo>, String> {
        let f = self.file()?;
        let header = match f.get(&path).or_js()? {
            Object::Group(g) => g.header,
            Object::Dataset(d) => d.header,
        };
        let attrs = f.attrs(&header, &path).or_js()?;
        Ok(attrs
            .into_iter()
            .map(|a| {
                let (kind, text, texts, shape) = match a.value {
                    AttrValue::Numbers(arr) => ("numbers", None, None, Some(arr.shape.iter().map(|&x| x as f64).collect())),
                    AttrValue::String(s) => ("string", Some(s), None, None),
                    AttrValue::Strings(v, shape) => ("strings", None, Some(v), Some(shape.iter().map(|&x| x as f64).collect())),
                    AttrValue::Empty => ("empty", None, None, None),
                    AttrValue::Unsupported(d) => ("unsupported", Some(d), None, None),
                };
                H5AttrInfo { name: a.name, kind: kind.into(), text, texts, shape }
            })
            .collect())
    }

    /// A numeric attribute's value as an in-memory array (0-d for scalars).
    #[napi]
    pub fn attr_array(&self, env: Env, path: String, name: String) -> Result<NativeArray, String> {
        let f = self.file()?;
        let header = match f.get(&path).or_js()? {
            Object::Group(g) => g.header,
            Object::Dataset(d) => d.header,
        };
        let attrs = f.attrs(&header, &path).or_js()?;
        match attrs.into_iter().find(|a| a.name == name).map(|a| a.value) {
            Some(AttrValue::Numbers(arr)) => wrap(&env, arr, self.allow_copy),
            Some(_) => Err(invalid(format!("attribute '{name}' of '{path}' is not numeric"))),
            None => Err(js_error(Error::new(ErrorKind::NotFound, format!("'{path}' has no attribute '{name}'")).at(f.path()))),
        }
    }

    /// Reads a hyperslab (per axis: start, step >= 1, count) into memory.
    #[napi]
    pub fn read(&self, env: Env, path: String, start: Vec<f64>, step: Vec<f64>, count: Vec<f64>) -> Result<NativeArray, String> {
        let (f, d) = self.dataset(&path)?;
        let a = f.read(&d, &selection(&start, &step, &count)?).or_js()?;
        wrap(&env, a, self.allow_copy)
    }

    /// The strings of a hyperslab of a dataset of variable-length strings, in C order.
    #[napi]
    pub fn read_strings(&self, path: String, start: Vec<f64>, step: Vec<f64>, count: Vec<f64>) -> Result<Vec<String>, String> {
        let (f, d) = self.dataset(&path)?;
        f.read_strings(&d, &selection(&start, &step, &count)?).or_js()
    }

    /// `read` off the JavaScript thread.
    #[napi]
    pub fn read_async(&self, path: String, start: Vec<f64>, step: Vec<f64>, count: Vec<f64>) -> Result<AsyncTask<H5ReadTask>, String> {
        let (file, ds) = self.dataset(&path)?;
        Ok(AsyncTask::new(H5ReadTask { file, ds, sel: selection(&start, &step, &count)?, allow_copy: self.allow_copy }))
    }

    /// Maps a contiguous, unfiltered dataset zero-copy (`'r'` or `'c'`).
    #[napi]
    pub fn mmap(&self, env: Env, path: String, mode: String) -> Result<NativeArray, String> {
        let (f, d) = self.dataset(&path)?;
        let a = f.mmap(&d, convert::mode(&mode)?).or_js()?;
        wrap(&env, a, self.allow_copy)
    }

    /// Closes the file (reads still running finish first). Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.borrow_mut().take();
    }
}
