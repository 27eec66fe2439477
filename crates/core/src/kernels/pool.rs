//! The one rayon pool mmnpy's kernels run on. It is owned (not rayon's global
//! pool) so its size can be chosen (`MMNPY_THREADS`, default: all cores) and so
//! kernels from several worker_threads share it instead of each starting threads.

use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();

fn pool() -> Option<&'static ThreadPool> {
    POOL.get_or_init(|| {
        let threads = std::env::var("MMNPY_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
        let mut b = ThreadPoolBuilder::new().thread_name(|i| format!("mmnpy-{i}"));
        if let Some(n) = threads {
            b = b.num_threads(n);
        }
        // Without threads (a sandbox refusing them), kernels run on the caller's thread.
        b.build().ok()
    })
    .as_ref()
}

/// Runs `f` on the pool (its `rayon::join`s and parallel iterators use it).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Threads the kernels use.
pub fn threads() -> usize {
    pool().map(|p| p.current_num_threads()).unwrap_or(1)
}
