//! Streaming mode (`{ release: true }`): kernels release the pages of the parts of a
//! view they have finished, so one pass over a file larger than RAM keeps a bounded
//! resident set. Only whole pages are released ([`Mapping::advise`] with
//! [`Hint::Release`]: `MADV_DONTNEED` where that cannot lose data, nothing in mode 'c'
//! or in memory); a released page is read again from the file if touched.

use super::pool;
use crate::mapping::{Hint, Mapping};

/// The bytes of a view one thread finishes before their pages are released.
pub(crate) const GRAIN: usize = 8 << 20;

/// Finished address ranges, released one step behind: each thread releases a range only
/// once it has finished its next one. A fault on a page of a large folio of the page
/// cache maps the whole folio, so the next piece's first touch of the folio across the
/// boundary would map again the pages of the previous piece released just before, and
/// they would stay (measured: a quarter of a backward walk's pages). Whatever is still
/// pending is released on drop.
pub(crate) struct Behind<'a> {
    map: &'a Mapping,
    slots: Vec<std::sync::Mutex<Option<(usize, usize)>>>,
}

impl<'a> Behind<'a> {
    pub(crate) fn new(map: &'a Mapping) -> Behind<'a> {
        Behind { map, slots: (0..pool::threads().max(1) + 1).map(|_| std::sync::Mutex::new(None)).collect() }
    }

    pub(crate) fn push(&self, start: usize, end: usize) {
        // The calling thread's slot (the last one for threads outside the pool).
        let i = rayon::current_thread_index().map_or(self.slots.len() - 1, |i| i % (self.slots.len() - 1).max(1));
        let old = self.slots[i].lock().map(|mut s| s.replace((start, end))).unwrap_or(None);
        if let Some((s, e)) = old {
            release_span(self.map, s, e);
        }
    }
}

impl Drop for Behind<'_> {
    fn drop(&mut self) {
        for slot in &self.slots {
            if let Some((s, e)) = slot.lock().ok().and_then(|mut g| g.take()) {
                release_span(self.map, s, e);
            }
        }
    }
}

/// Releases the whole pages of addresses `start..end` (inside `map`) from this process.
pub(crate) fn release_span(map: &Mapping, start: usize, end: usize) {
    let base = map.as_ptr() as usize;
    if end > start && start >= base {
        // A refused hint changes nothing but the memory use.
        let _ = map.advise(start - base, end - start, Hint::Release);
    }
}

/// Address range of elements `lo..lo + n` of a run from `base` by `stride`.
pub(crate) fn run_span(base: isize, stride: isize, itemsize: usize, lo: usize, n: usize) -> (usize, usize) {
    let a = base + lo as isize * stride;
    let b = base + (lo + n - 1) as isize * stride;
    (a.min(b) as usize, (a.max(b) + itemsize as isize) as usize)
}

