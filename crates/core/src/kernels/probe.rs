//! The machine's own ceiling, measured: how fast all cores read memory that is
//! already mapped and faulted in, and how fast one core copies it. Benchmarks
//! report kernels against these figures.

use std::time::Instant;

use rayon::prelude::*;

use super::pool;
use crate::error::Result;
use crate::mapping::Mapping;

/// Bytes per second, best of `runs`.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// All pool threads summing u64 words of faulted memory.
    pub read: f64,
    /// One thread copying memory to memory.
    pub memcpy: f64,
}

/// Measures over `bytes` of anonymous memory (touched first, so no page faults count).
pub fn measure(bytes: usize, runs: usize) -> Result<Ceiling> {
    let words = (bytes / 8).max(1 << 10);
    let src = Mapping::anonymous(words * 8)?;
    let dst = Mapping::anonymous(words * 8)?;
    // SAFETY: both regions are fresh, private, `words * 8` bytes, owned here.
    let (s, d) = unsafe { (std::slice::from_raw_parts_mut(src.as_ptr() as *mut u64, words), std::slice::from_raw_parts_mut(dst.as_ptr() as *mut u64, words)) };
    s.iter_mut().enumerate().for_each(|(i, w)| *w = i as u64);
    d.fill(1);
    let mut read: f64 = 0.0;
    let mut copy: f64 = 0.0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let total: u64 = pool::install(|| s.par_chunks(1 << 16).map(|c| c.iter().fold(0u64, |a, &x| a.wrapping_add(x))).reduce(|| 0, u64::wrapping_add));
        std::hint::black_box(total);
        read = read.max((words * 8) as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        d.copy_from_slice(s);
        std::hint::black_box(&d[words / 2]);
        copy = copy.max((words * 8) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(Ceiling { read, memcpy: copy })
}
