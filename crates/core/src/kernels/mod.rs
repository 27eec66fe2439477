//! Compute kernels over mapped memory: element access, reductions, selection and joins, parallel
//! deflate, and the thread pool they run on.

pub mod assign;
pub mod close;
pub mod compare;
pub mod construct;
pub mod datetime;
pub mod deflate;
pub mod dot;
pub mod elem;
pub mod elementwise;
pub(crate) mod flat;
pub mod join;
pub(crate) mod nest;
pub mod pool;
pub mod probe;
pub mod reduce;
pub mod select;
pub mod simd;
pub mod source;
pub mod spconv;
pub mod spmv;
pub mod stream;
pub mod r#where;

/// Whether kernels take their specialised paths for native, contiguous data (loops the
/// compiler vectorizes: contiguous sums, min/max, row-by-row axis sums, direct
/// elementwise loops). `MMNPY_KERNEL_PATHS=generic` turns them off, so the test suite can
/// check that the generic paths give the same results (read once per process).
pub fn fast_paths() -> bool {
    static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FAST.get_or_init(|| std::env::var_os("MMNPY_KERNEL_PATHS").is_none_or(|v| v != "generic"))
}
