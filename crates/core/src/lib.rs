//! mmnpy-core: NumPy arrays on memory-mapped files, without Node.js.
//!
//! - [`header`]: the `.npy` format (specified in its module doc), parsed strictly.
//! - [`dtype`]: the element types and their NumPy spellings.
//! - [`descr`]: the dtypes beyond numbers: datetimes, strings, records (header descr forms, limits).
//! - [`mapping`]: memory mappings and the modes `r`, `r+`, `w+`, `c` (and how
//!   mmnpy lives with mmap's unsafety).
//! - [`view`]: strided views (shape, byte strides, offset), bounds-checked.
//! - [`npy`]: opening, creating, loading and saving files.
//! - [`zip`]: the zip container (specified in its module doc), read and written.
//! - [`npz`]: `.npz` archives of `.npy` members on top of [`zip`].
//! - [`pickle`]: Python's pickle format (specified in its module doc), read by a restricted machine that runs no code.
//! - [`joblib`]: joblib files (`joblib.dump` / `joblib.load`) on top of [`pickle`], arrays mapped in place.
//! - [`sparse`]: `scipy.sparse` matrices (`save_npz` files, specified in its module doc) on top of [`npz`].
//! - [`shared`]: process-wide handles to mappings, for the threads of one process.
//! - [`memstat`]: resident memory by kind and its peak (`memit`).
//! - [`error`]: error kinds with stable codes.

pub mod descr;
pub mod dtype;
pub mod error;
pub mod fuzz;
pub mod hdf5;
pub mod header;
pub mod joblib;
pub mod kernels;
pub mod mapping;
pub mod memstat;
pub mod npy;
pub mod npz;
pub mod pickle;
pub mod shared;
pub mod sparse;
pub mod view;
pub mod zip;

pub use descr::Descr;
pub use dtype::{ByteOrder, DType};
pub use error::{Error, ErrorKind, Result};
pub use mapping::{Hint, Mapping, Mode};
pub use npy::{Array, NewArray};
pub use view::Layout;
