//! The one rayon pool mmnpy's kernels run on. It is owned (not rayon's global
//! pool) so its size can be chosen (`MMNPY_THREADS`, default: all cores), so the
//! kernels of several worker_threads share it, and so it can be shut down: the
//! Node binding calls [`shutdown`] when the last environment using the addon is
//! torn down, which stops the threads and waits for them to exit. A kernel
//! started afterwards simply builds a new pool.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);
/// Pool threads alive, for [`shutdown`] to wait on.
static ALIVE: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent even if a holder panicked.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn build() -> Option<ThreadPool> {
    let threads = std::env::var("MMNPY_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
    let mut b = ThreadPoolBuilder::new().thread_name(|i| format!("mmnpy-{i}")).start_handler(|_| *lock(&ALIVE.0) += 1).exit_handler(|_| {
        let mut n = lock(&ALIVE.0);
        *n = n.saturating_sub(1);
        ALIVE.1.notify_all();
    });
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    // Without threads (a sandbox refusing them), kernels run on the caller's thread.
    b.build().ok()
}

fn current() -> Option<Arc<ThreadPool>> {
    let mut p = lock(&POOL);
    if p.is_none() {
        *p = build().map(Arc::new);
    }
    p.clone()
}

/// Runs `f` on the pool (its `rayon::join`s and parallel iterators use it). The
/// pool stays alive until `f` returns, even if [`shutdown`] runs meanwhile.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match current() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Runs `f` on the pool when `parallel`, else on the calling thread: a small input
/// spares the handoff to the pool and back (~10-40 µs of wake-ups, more than the work).
/// Code that splits work checks [`on_pool`] (or uses [`for_each`], [`chunks_mut`]) so
/// that an inline run stays sequential instead of waking rayon's global pool.
pub fn install_if<R: Send>(parallel: bool, f: impl FnOnce() -> R + Send) -> R {
    if parallel {
        install(f)
    } else {
        f()
    }
}

/// Whether the calling thread is a pool thread (kernels split work only there).
pub fn on_pool() -> bool {
    rayon::current_thread_index().is_some()
}

/// `f(state, i)` for every `i` in `0..n`: in parallel on the pool (each thread's state
/// from `init`), in order on the calling thread elsewhere.
pub fn for_each<S, I, F>(n: usize, init: I, f: F)
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, usize) + Sync + Send,
{
    if on_pool() {
        (0..n).into_par_iter().for_each_init(init, f);
    } else if n > 0 {
        let mut s = init();
        (0..n).for_each(|i| f(&mut s, i));
    }
}

/// `f(k, chunk)` for the `size`-element chunks of `v`, stopping at the first error: in
/// parallel on the pool, in order on the calling thread elsewhere.
pub fn chunks_mut<T: Send, E: Send>(v: &mut [T], size: usize, f: impl Fn(usize, &mut [T]) -> Result<(), E> + Sync + Send) -> Result<(), E> {
    if on_pool() {
        v.par_chunks_mut(size).enumerate().try_for_each(|(k, c)| f(k, c))
    } else {
        v.chunks_mut(size).enumerate().try_for_each(|(k, c)| f(k, c))
    }
}

/// Threads the kernels use.
pub fn threads() -> usize {
    current().map(|p| p.current_num_threads()).unwrap_or(1)
}

/// Stops the pool: its threads exit once running kernels end; waits up to
/// `timeout` for them. Returns whether every thread had exited.
pub fn shutdown(timeout: Duration) -> bool {
    drop(lock(&POOL).take());
    let (alive, cv) = &ALIVE;
    let guard = lock(alive);
    let (guard, _) = cv.wait_timeout_while(guard, timeout, |n| *n > 0).unwrap_or_else(|p| p.into_inner());
    *guard == 0
}
