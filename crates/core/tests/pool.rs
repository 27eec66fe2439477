//! The kernels' pool shuts down and joins its threads, and the next kernel starts
//! a new one (alone in this test binary, so no other test's kernels interfere).

use std::time::Duration;

use mmnpy_core::kernels::pool;
use rayon::prelude::*;

#[test]
fn shutdown_joins_and_the_next_kernel_starts_a_new_pool() {
    let threads = pool::install(rayon::current_num_threads);
    assert!(threads >= 1);
    let named = |prefix: &str| -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok()).filter(|c| c.starts_with(prefix)).count())
            .unwrap_or(0)
    };
    // Waits (with a deadline, never sampling once) until the thread count is `want`:
    // threads start and end a moment after the pool says so, later still on a busy core.
    let settle = |want: usize| -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let n = named("mmnpy-");
            if n == want || std::time::Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    if cfg!(target_os = "linux") {
        assert_eq!(settle(threads), threads, "pool threads are running");
    }
    assert!(pool::shutdown(Duration::from_secs(20)), "every pool thread exited");
    if cfg!(target_os = "linux") {
        // The exit handlers have run; the OS threads end a moment later.
        assert_eq!(settle(0), 0, "no pool thread is left");
    }
    let sum: u64 = pool::install(|| (0..1000u64).into_par_iter().sum());
    assert_eq!(sum, 499_500);
}
