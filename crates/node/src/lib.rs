//! napi-rs glue between `mmnpy-core` and JavaScript: argument checking, error
//! mapping and external ArrayBuffers over mapped memory. No format or mapping
//! logic lives here.

#![deny(clippy::all)]

mod array;
mod buffers;
mod compute;
mod convert;

pub use array::*;
