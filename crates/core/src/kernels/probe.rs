//! The machine's own ceiling, measured: how fast all cores read memory that is
//! already mapped and faulted in (a file's own mapping when one is given: its pages
//! may sit in large folios, read faster than fresh anonymous memory), and how fast
//! one core copies memory. Benchmarks report kernels against these figures.

use std::time::Instant;

use rayon::prelude::*;

use super::pool;
use super::simd;
use crate::error::Result;
use crate::mapping::{Mapping, Mode};

/// Bytes per second, best of `runs`.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// All pool threads summing u64 words of faulted memory (the file's, if given).
    pub read: f64,
    /// One thread copying memory to memory.
    pub memcpy: f64,
}

/// Sum of the u64 words of `s`, all pool threads.
fn read_all(s: &[u64]) -> u64 {
    pool::install(|| s.par_chunks(1 << 16).map(read_chunk).reduce(|| 0, u64::wrapping_add))
}

simd::dispatch!(
    /// Sum of the u64 words of `c` with the CPU's widest loads, each line asked for a page
    /// ahead as the kernels ask for theirs ([`simd::prefetch_ahead`]): the probe must read at
    /// least as fast as any kernel could, or "against the ceiling" means nothing.
    fn read_chunk(c: &[u64]) -> u64,
    read_lines(c)
);

#[inline(always)]
fn read_lines(c: &[u64]) -> u64 {
    let mut acc = [0u64; 8];
    let mut lines = c.chunks_exact(8);
    for line in &mut lines {
        simd::prefetch_ahead(line.as_ptr() as *const u8);
        for (a, &x) in acc.iter_mut().zip(line) {
            *a = a.wrapping_add(x);
        }
    }
    acc.iter().chain(lines.remainder()).fold(0u64, |a, &x| a.wrapping_add(x))
}

/// Measures over `bytes` of anonymous memory (touched first, so no page faults count);
/// the read ceiling over the mapping of `file` instead when given (read once first).
pub fn measure(bytes: usize, runs: usize, file: Option<&std::path::Path>) -> Result<Ceiling> {
    let words = (bytes / 8).max(1 << 10);
    let src = Mapping::anonymous(words * 8)?;
    let dst = Mapping::anonymous(words * 8)?;
    // SAFETY: both regions are fresh, private, `words * 8` bytes, owned here.
    let (s, d) = unsafe { (std::slice::from_raw_parts_mut(src.as_ptr() as *mut u64, words), std::slice::from_raw_parts_mut(dst.as_ptr() as *mut u64, words)) };
    s.iter_mut().enumerate().for_each(|(i, w)| *w = i as u64);
    d.fill(1);
    let mapped = match file {
        Some(path) => {
            let f = std::fs::File::open(path).map_err(|e| crate::Error::io(&format!("cannot open {}", path.display()), &e))?;
            let len = f.metadata().map_err(|e| crate::Error::io(&format!("cannot stat {}", path.display()), &e))?.len() as usize;
            Some(Mapping::map_file(&f, path, 0, len / 8 * 8, Mode::ReadOnly)?)
        }
        None => None,
    };
    let probe: &[u64] = match &mapped {
        // SAFETY: the mapping is page-aligned, `len / 8 * 8` bytes, and lives to the end of this function.
        Some(m) => unsafe { std::slice::from_raw_parts(m.as_ptr() as *const u64, m.len() / 8) },
        None => s,
    };
    std::hint::black_box(read_all(probe));
    let mut read: f64 = 0.0;
    let mut copy: f64 = 0.0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        std::hint::black_box(read_all(probe));
        read = read.max(std::mem::size_of_val(probe) as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        d.copy_from_slice(s);
        std::hint::black_box(&d[words / 2]);
        copy = copy.max((words * 8) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(Ceiling { read, memcpy: copy })
}
