//! Compute kernels over mapped memory: element access, reductions, parallel
//! deflate, and the thread pool they run on.

pub mod assign;
pub mod close;
pub mod compare;
pub mod construct;
pub mod deflate;
pub mod dot;
pub mod elem;
pub mod elementwise;
pub(crate) mod nest;
pub mod pool;
pub mod probe;
pub mod reduce;
pub mod spconv;
pub mod spmv;
pub mod stream;
