//! HDF5 files from JavaScript: `NativeH5`, an open file answering by absolute object
//! path (groups, datasets, attributes), with hyperslab reads on the calling thread or
//! as an async task, and zero-copy maps of contiguous datasets; opened for writing, it
//! creates groups and datasets, writes hyperslabs, resizes, sets and deletes
//! attributes, and commits on `flush`/`close`. The TS layer (`lib/h5.ts`) turns slice
//! specs into selections, values into arrays of the dataset's dtype, and tracks the
//! arrays it hands out.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use mmnpy_core::descr::Descr;
use mmnpy_core::hdf5::{AttrInput, AttrValue, Chunking, Dataset, H5File, NewDataset, Object, Selection, WriteMode};
use mmnpy_core::{Error, ErrorKind};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

use crate::array::{wrap, NativeArray};
use crate::compute::{task_error, ViewArg};
use crate::convert::{self, index, invalid, js_error, OrJs};
use crate::dtypes::descr_spec;

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

/// A dataset to create: `createDataset`'s options, checked by the TS layer.
#[napi(object)]
pub struct H5DatasetSpec {
    pub shape: Vec<f64>,
    /// Any dtype spelling.
    pub dtype: String,
    /// `null` entries are unlimited; absent: the shape.
    pub maxshape: Option<Vec<Option<f64>>>,
    /// A chunk shape; absent: contiguous unless `autoChunks` or a filter or maxshape needs chunks.
    pub chunks: Option<Vec<f64>>,
    pub auto_chunks: bool,
    pub gzip: Option<u32>,
    pub shuffle: bool,
    pub fletcher32: bool,
}

/// Opens an HDF5 file in one of h5py's modes.
#[napi]
pub fn open_h5(path: String, mode: String, allow_copy: bool, durable: bool) -> Result<NativeH5, String> {
    if path.is_empty() || path.contains('\0') {
        return Err(invalid("path must be a non-empty string without NUL bytes"));
    }
    let p = PathBuf::from(&path);
    let f = match mode.as_str() {
        "r" => H5File::open(&p),
        "r+" => H5File::open_write(&p, WriteMode::ReadWrite, durable),
        "w" => H5File::open_write(&p, WriteMode::Truncate, durable),
        "w-" | "x" => H5File::open_write(&p, WriteMode::Exclusive, durable),
        "a" => H5File::open_write(&p, WriteMode::Append, durable),
        m => return Err(invalid(format!("mode must be one of 'r', 'r+', 'w', 'w-', 'x', 'a' (as h5py), got '{m}'"))),
    }
    .or_js()?;
    Ok(NativeH5 { inner: RefCell::new(Some(Arc::new(f))), allow_copy })
}

fn dims(xs: &[f64], what: &str) -> Result<Vec<u64>, String> {
    xs.iter().map(|&x| index(x, what).map(|i| i as u64)).collect()
}

/// Calls `f` with the elements of a view as bytes in C order, in `want`'s byte order:
/// the view's own memory when it is C-contiguous in that order, else a copy (values of
/// the same dtype in the other byte order are swapped).
fn with_values<R>(a: &NativeArray, view: &ViewArg, want: &Descr, f: impl FnOnce(&[u8]) -> R) -> Result<R, String> {
    let have = a.info.full_descr();
    let swap = if have == *want {
        false
    } else if have.with_order(want.order()) == *want {
        true
    } else {
        return Err(invalid(format!("values of dtype {} for a dataset of dtype {}", have.name().unwrap_or_default(), want.name().unwrap_or_default())));
    };
    let map = a.holder.get().or_js()?;
    let itemsize = have.itemsize();
    let l = &view.layout;
    l.check(itemsize, map.len()).or_js()?;
    if !swap && l.is_c_contiguous(itemsize) {
        let n = l.size() * itemsize;
        if n == 0 {
            return Ok(f(&[]));
        }
        // SAFETY: `check` proved the view's bytes lie inside the mapping, which `map` keeps alive.
        let bytes = unsafe { std::slice::from_raw_parts(map.as_ptr().add(l.offset), n) };
        return Ok(f(bytes));
    }
    let mut bytes = mmnpy_core::view::gather_bytes(&map, l, itemsize).or_js()?;
    if swap {
        have.swap_in_place(&mut bytes);
    }
    Ok(f(&bytes))
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
        wrap(&env, output, self.allow_copy).map_err(convert::resolve_error)
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
        self.file()?.keys_at(&path).or_js()
    }

    /// Every object below a group, each once, relative names in h5py's `visit` order.
    #[napi]
    pub fn visit(&self, path: String) -> Result<Vec<String>, String> {
        self.file()?.visit_at(&path).or_js()
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
        let attrs = self.file()?.attrs_at(&path).or_js()?;
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
        let attrs = f.attrs_at(&path).or_js()?;
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

    /// Chunks `read`/`read_async` have read and decoded since the file was opened (a
    /// diagnostic: mmbench and the tests check a hyperslab reads only what it intersects).
    #[napi]
    pub fn chunks_read(&self) -> Result<f64, String> {
        Ok(self.file()?.chunks_read() as f64)
    }

    /// Maps a contiguous, unfiltered dataset zero-copy (`'r'` or `'c'`).
    #[napi]
    pub fn mmap(&self, env: Env, path: String, mode: String) -> Result<NativeArray, String> {
        let (f, d) = self.dataset(&path)?;
        let a = f.mmap(&d, convert::mode(&mode)?).or_js()?;
        wrap(&env, a, self.allow_copy)
    }

    /// Whether the file is open for writing.
    #[napi]
    pub fn writable(&self) -> Result<bool, String> {
        Ok(self.file()?.is_writable())
    }

    /// Creates a group and the missing groups above it.
    #[napi]
    pub fn create_group(&self, path: String) -> Result<(), String> {
        self.file()?.create_group(&path).or_js()
    }

    /// Creates a dataset (and the missing groups above it); `fill`: a 0-d array of the fill value.
    #[napi]
    pub fn create_dataset(&self, path: String, spec: H5DatasetSpec, fill: Option<&NativeArray>, fill_view: Option<ViewArg>) -> Result<(), String> {
        let f = self.file()?;
        let descr = descr_spec(&spec.dtype)?;
        let fill = match (fill, &fill_view) {
            (Some(a), Some(v)) => Some(with_values(a, v, &descr, |b| b.to_vec())?),
            _ => None,
        };
        let maxshape = match &spec.maxshape {
            None => None,
            Some(m) => Some(m.iter().map(|x| x.map(|v| index(v, "maxshape").map(|i| i as u64)).transpose()).collect::<Result<Vec<_>, String>>()?),
        };
        let chunks = match (&spec.chunks, spec.auto_chunks) {
            (Some(c), _) => Chunking::Shape(dims(c, "chunks")?),
            (None, true) => Chunking::Auto,
            (None, false) => Chunking::Default,
        };
        let new = NewDataset {
            descr,
            shape: dims(&spec.shape, "shape")?,
            maxshape,
            chunks,
            gzip: spec.gzip,
            shuffle: spec.shuffle,
            fletcher32: spec.fletcher32,
            fill,
        };
        f.create_dataset(&path, &new).or_js()
    }

    /// Writes a hyperslab (per axis: start, step >= 1, count) from the elements of a
    /// view of the selection's shape, of the dataset's dtype (either byte order).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn write(&self, path: String, start: Vec<f64>, step: Vec<f64>, count: Vec<f64>, values: &NativeArray, view: ViewArg) -> Result<(), String> {
        let (f, d) = self.dataset(&path)?;
        let sel = selection(&start, &step, &count)?;
        with_values(values, &view, &d.full_descr(), |bytes| f.write(&path, &sel, bytes))?.or_js()
    }

    /// Changes a chunked dataset's shape within its maxshape.
    #[napi]
    pub fn resize(&self, path: String, shape: Vec<f64>) -> Result<(), String> {
        self.file()?.resize(&path, &dims(&shape, "shape")?).or_js()
    }

    /// Sets a numeric attribute to the elements of a view (its dtype and shape).
    #[napi]
    pub fn set_attr_array(&self, path: String, name: String, values: &NativeArray, view: ViewArg) -> Result<(), String> {
        let descr = values.info.full_descr();
        let bytes = with_values(values, &view, &descr, |b| b.to_vec())?;
        let shape = view.layout.shape.iter().map(|&d| d as u64).collect();
        self.file()?.set_attr(&path, &name, &AttrInput::Numbers { descr, shape, bytes }).or_js()
    }

    /// Sets a string attribute (variable-length UTF-8): one string when `shape` is absent.
    #[napi]
    pub fn set_attr_strings(&self, path: String, name: String, values: Vec<String>, shape: Option<Vec<f64>>) -> Result<(), String> {
        let shape = shape.map(|s| dims(&s, "shape")).transpose()?;
        self.file()?.set_attr(&path, &name, &AttrInput::Strings { values, shape }).or_js()
    }

    #[napi]
    pub fn delete_attr(&self, path: String, name: String) -> Result<(), String> {
        self.file()?.delete_attr(&path, &name).or_js()
    }

    /// Commits what was written: the file on disk holds it all.
    #[napi]
    pub fn flush(&self) -> Result<(), String> {
        let f = self.file()?;
        if f.is_writable() {
            f.flush().or_js()?;
        }
        Ok(())
    }

    /// Closes the file, committing what was written (reads still running finish first).
    /// Idempotent.
    #[napi]
    pub fn close(&self) -> Result<(), String> {
        match self.inner.borrow_mut().take() {
            Some(f) => f.close_write().or_js(),
            None => Ok(()),
        }
    }
}
