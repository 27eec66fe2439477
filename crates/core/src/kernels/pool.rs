//! The one rayon pool mmnpy's kernels run on. It is owned (not rayon's global
//! pool) so its size can be chosen (`MMNPY_THREADS`, default: all cores), so the
//! kernels of several worker_threads share it, and so it can be shut down: the
//! Node binding calls [`shutdown`] when the last environment using the addon is
//! torn down, which stops the threads and waits for them to exit. A kernel
//! started afterwards simply builds a new pool.
//!
//! A thread may instead run its kernels itself ([`run_here`]): `Parallel`'s worker
//! threads do when there is a worker per core, so that two workers each summing their
//! half do not hand both halves to the same cores' pool (as joblib limits the inner
//! threads of its workers, and as worker processes get `MMNPY_THREADS`).

use std::cell::OnceCell;
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

thread_local! {
    /// This thread's own pool of one thread, itself ([`run_here`]).
    static HERE: OnceCell<ThreadPool> = const { OnceCell::new() };
}

/// From now on, kernels called on this thread run on it alone: a pool of one thread
/// that is the calling thread itself (rayon's `use_current_thread`), so a kernel starts
/// without a handoff and splits nothing. For threads that live as long as their work
/// (rayon keeps the small registry of such a pool until the process ends). Returns
/// false where the pool cannot be made (this thread already belongs to a pool).
pub fn run_here() -> bool {
    HERE.with(|h| {
        if h.get().is_some() {
            return true;
        }
        if rayon::current_thread_index().is_some() {
            return false;
        }
        match ThreadPoolBuilder::new().num_threads(1).use_current_thread().build() {
            Ok(p) => h.set(p).is_ok(),
            Err(_) => false,
        }
    })
}

/// Whether this thread runs its kernels itself ([`run_here`]).
pub fn runs_here() -> bool {
    HERE.with(|h| h.get().is_some())
}

/// Runs `f` on the pool (its `rayon::join`s and parallel iterators use it). The
/// pool stays alive until `f` returns, even if [`shutdown`] runs meanwhile. On a
/// thread that runs its kernels itself ([`run_here`]), `f` runs here.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if runs_here() {
        // This thread is the one thread of its own pool: rayon runs `f` in place.
        return HERE.with(|h| h.get().expect("checked above").install(f));
    }
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

/// Threads the kernels use (on this thread: 1 after [`run_here`]).
pub fn threads() -> usize {
    if runs_here() {
        return 1;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_here_runs_kernels_on_the_calling_thread_alone() {
        let v: Vec<u64> = (0..1_000_000).collect();
        let expected: u64 = install(|| v.par_iter().sum());
        let v2 = v.clone();
        let (here, threads, index, same_thread, sum) = std::thread::spawn(move || {
            let me = std::thread::current().id();
            let here = run_here() && run_here();
            let (index, ran_on) = install(|| (rayon::current_thread_index(), std::thread::current().id()));
            let sum: u64 = install(|| v2.par_iter().sum());
            (here, threads(), index, ran_on == me, sum)
        })
        .join()
        .unwrap();
        assert!(here);
        assert_eq!(threads, 1);
        assert_eq!(index, Some(0));
        assert!(same_thread);
        assert_eq!(sum, expected);
        // Other threads keep the shared pool.
        assert!(!runs_here());
    }

    #[test]
    fn run_here_refuses_on_a_pool_thread() {
        assert!(!install(run_here));
    }
}
