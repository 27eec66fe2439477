//! napi-rs glue between `mmnpy-core` and JavaScript: argument checking, error
//! mapping and external ArrayBuffers over mapped memory. No format or mapping
//! logic lives here.

#![deny(clippy::all)]
// Functions exported with #[napi] are registered only in the cdylib, not in test builds.
#![cfg_attr(test, allow(dead_code))]

mod array;
mod buffers;
mod compute;
mod convert;
mod dtypes;
mod everyday;
mod h5;
mod joblib;
mod npz;
mod parallel;
mod select;
mod sparse;
mod window;

pub use array::*;
pub use dtypes::*;
pub use h5::*;
pub use joblib::*;
pub use npz::*;
pub use parallel::*;
pub use sparse::*;
pub use window::*;
