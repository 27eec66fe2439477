//! `.npz` archives from JavaScript: `NativeNpz` (an open archive handing out
//! members as `NativeArray`s) and `NativeNpzWriter` (members added one by one,
//! renamed into place by `finish`). The TS layer (`lib/npz.ts`) tracks the arrays
//! it hands out so that closing the archive closes them.

use std::cell::RefCell;
use std::path::PathBuf;

use mmnpy_core::npz::{self, NpzFile, NpzWriter};
use mmnpy_core::{Error, ErrorKind};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::array::{layout, wrap, NativeArray};
use crate::convert::{self, invalid, js_error, OrJs};

fn path(p: &str) -> Result<PathBuf, String> {
    if p.is_empty() || p.contains('\0') {
        return Err(invalid("path must be a non-empty string without NUL bytes"));
    }
    Ok(PathBuf::from(p))
}

fn closed() -> napi::Error<String> {
    js_error(Error::new(ErrorKind::Closed, "the archive is closed"))
}

#[napi]
pub struct NativeNpz {
    // A RefCell so close() can drop the archive (and its file descriptor) through `&self`.
    inner: RefCell<Option<NpzFile>>,
    allow_copy: bool,
}

/// `np.load('x.npz', mmap_mode=mode)`: opens and checks the archive; members are read by `get`.
#[napi]
pub fn open_npz(path: String, mode: Option<String>, allow_copy: bool) -> Result<NativeNpz, String> {
    let mode = match mode {
        Some(m) => Some(convert::mode(&m)?),
        None => None,
    };
    let f = npz::open_npz(&self::path(&path)?, mode).or_js()?;
    Ok(NativeNpz { inner: RefCell::new(Some(f)), allow_copy })
}

#[napi]
impl NativeNpz {
    /// NumPy's `files`: member names without `.npy`.
    #[napi]
    pub fn keys(&self) -> Result<Vec<String>, String> {
        self.inner.borrow().as_ref().map(|f| f.keys()).ok_or_else(closed)
    }

    #[napi]
    pub fn has(&self, key: String) -> Result<bool, String> {
        self.inner.borrow().as_ref().map(|f| f.entry(&key).is_some()).ok_or_else(closed)
    }

    /// Absolute path of the archive.
    #[napi]
    pub fn filename(&self) -> Result<String, String> {
        self.inner.borrow().as_ref().map(|f| f.path().display().to_string()).ok_or_else(closed)
    }

    /// One member: mapped (stored, with a mode) or in memory.
    #[napi]
    pub fn get(&self, env: Env, key: String) -> Result<NativeArray, String> {
        let a = self.inner.borrow().as_ref().ok_or_else(closed)?.get(&key).or_js()?;
        wrap(&env, a, self.allow_copy)
    }

    /// Several members; deflated ones are inflated in parallel.
    #[napi]
    pub fn get_many(&self, env: Env, keys: Vec<String>) -> Result<Vec<NativeArray>, String> {
        let arrays = self.inner.borrow().as_ref().ok_or_else(closed)?.get_many(&keys).or_js()?;
        arrays.into_iter().map(|a| wrap(&env, a, self.allow_copy)).collect()
    }

    /// Closes the archive's file. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.inner.borrow_mut().take();
    }
}

#[napi]
pub struct NativeNpzWriter {
    inner: RefCell<Option<NpzWriter>>,
}

/// Starts an `.npz` in a temporary file beside `path`; `level` 1..9 deflates, none stores.
#[napi]
pub fn create_npz(path: String, level: Option<u32>, durable: bool) -> Result<NativeNpzWriter, String> {
    Ok(NativeNpzWriter { inner: RefCell::new(Some(NpzWriter::create(&self::path(&path)?, level).or_js()?.durable(durable))) })
}

#[napi]
impl NativeNpzWriter {
    fn with<T>(&self, f: impl FnOnce(&mut NpzWriter) -> mmnpy_core::Result<T>) -> Result<T, String> {
        let mut inner = self.inner.borrow_mut();
        let w = inner.as_mut().ok_or_else(|| invalid("the archive is already finished or abandoned"))?;
        f(w).or_js()
    }

    /// Adds `key.npy` holding a view of an array (`np.save`'s rules for the order).
    #[napi]
    pub fn add_array(
        &self,
        key: String,
        array: &NativeArray,
        shape: Vec<f64>,
        strides: Vec<f64>,
        offset: f64,
        version: Option<Vec<u32>>,
    ) -> Result<(), String> {
        let map = array.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        let version = convert::version(version)?;
        let a = &array.info;
        self.with(|w| w.add_view_as(&key, &map, &l, &a.full_descr(), version))
    }

    /// Adds `key.npy` holding raw element bytes (already in the dtype's byte order).
    #[napi]
    pub fn add_bytes(&self, key: String, bytes: &[u8], dtype: String, shape: Vec<f64>, fortran_order: bool, version: Option<Vec<u32>>) -> Result<(), String> {
        let spec = convert::new_array(&dtype, &shape, fortran_order)?;
        let version = convert::version(version)?;
        self.with(|w| w.add_bytes(&key, &spec, bytes, version))
    }

    /// Writes the central directory and renames the archive into place.
    #[napi]
    pub fn finish(&self) -> Result<(), String> {
        let w = self.inner.borrow_mut().take().ok_or_else(|| invalid("the archive is already finished or abandoned"))?;
        w.finish().or_js()
    }

    /// Removes the temporary file; the target is left as it was.
    #[napi]
    pub fn abort(&self) {
        self.inner.borrow_mut().take();
    }
}
