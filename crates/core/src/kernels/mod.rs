//! Compute kernels over mapped memory: element access, reductions, and the
//! thread pool they run on.

pub mod elem;
pub mod pool;
pub mod reduce;
