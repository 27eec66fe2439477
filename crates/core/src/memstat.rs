//! Resident memory of this process, split by kind, and its peak during a call
//! (`memit`).
//!
//! Linux reports, in `/proc/self/status`: `VmRSS` (resident now), `VmHWM` (its
//! high-water mark, exact, reset to the current value by writing `5` to
//! `/proc/self/clear_refs`), and the resident set split into `RssAnon` (anonymous
//! memory: heaps, copies), `RssFile` (pages of mapped files, shared with the page
//! cache) and `RssShmem` (shared memory: tmpfs such as `/dev/shm`, `MAP_SHARED`
//! anonymous memory). The kernel keeps no peak per kind, so [`Sampler`] reads the
//! split from a thread of its own at a fixed interval and keeps each maximum: a
//! spike shorter than the interval can be missed by the split, never by `VmHWM`.
//!
//! Elsewhere nothing here is available ([`Usage::now`] is `None`); the JavaScript
//! layer then samples what Node reports.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Resident memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub rss: u64,
    /// `VmHWM`: the peak of `rss` since the process started or [`reset_peak`].
    pub hwm: u64,
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
}

impl Usage {
    /// This process's usage now (Linux), or `None`.
    pub fn now() -> Option<Usage> {
        #[cfg(target_os = "linux")]
        {
            std::fs::read_to_string("/proc/self/status").ok().and_then(|s| Usage::parse(&s))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Parses `/proc/<pid>/status` (sizes in kB).
    pub fn parse(status: &str) -> Option<Usage> {
        let mut u = Usage::default();
        let mut seen = 0;
        for line in status.lines() {
            let Some((key, rest)) = line.split_once(':') else { continue };
            let field = match key {
                "VmRSS" => &mut u.rss,
                "VmHWM" => &mut u.hwm,
                "RssAnon" => &mut u.anon,
                "RssFile" => &mut u.file,
                "RssShmem" => &mut u.shmem,
                _ => continue,
            };
            *field = rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok()? * 1024;
            seen += 1;
        }
        (seen == 5).then_some(u)
    }

    fn max(self, o: Usage) -> Usage {
        Usage { rss: self.rss.max(o.rss), hwm: self.hwm.max(o.hwm), anon: self.anon.max(o.anon), file: self.file.max(o.file), shmem: self.shmem.max(o.shmem) }
    }
}

/// Resets `VmHWM` to the current resident set (Linux: `/proc/self/clear_refs`).
/// Returns whether it did; it also resets what Node's `resourceUsage().maxRSS` reports.
pub fn reset_peak() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", b"5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Samples [`Usage`] on a thread of its own until [`Sampler::stop`], keeping the
/// maximum of each field.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<Usage>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling every `interval` (from now); `None` where [`Usage::now`] is.
    pub fn start(interval: Duration) -> Option<Sampler> {
        let first = Usage::now()?;
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new(first));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::Builder::new()
            .name("mmnpy-memit".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    if let Some(u) = Usage::now() {
                        let mut m = p.lock().unwrap_or_else(|e| e.into_inner());
                        *m = m.max(u);
                    }
                    std::thread::park_timeout(interval);
                }
            })
            .ok()?;
        Some(Sampler { stop, peak, thread: Some(thread) })
    }

    /// Stops sampling (after one last sample) and returns the maxima.
    pub fn stop(mut self) -> Usage {
        self.finish();
        let last = Usage::now().unwrap_or_default();
        let m = *self.peak.lock().unwrap_or_else(|e| e.into_inner());
        m.max(last)
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_status_fields() {
        let s = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 512 kB\nRssFile:\t 500 kB\nRssShmem:\t 12 kB\n";
        assert_eq!(Usage::parse(s), Some(Usage { rss: 1 << 20, hwm: 2 << 20, anon: 512 << 10, file: 500 << 10, shmem: 12 << 10 }));
        assert_eq!(Usage::parse("VmRSS: 1 kB\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_sampler_sees_anonymous_memory_that_is_freed_before_stop() {
        let before = Usage::now().unwrap();
        let s = Sampler::start(Duration::from_millis(1)).unwrap();
        let n = 64 << 20;
        let mut v = vec![0u8; n];
        for i in (0..n).step_by(4096) {
            v[i] = 1;
        }
        // Wait (with a deadline) until the sampler has seen the pages.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while s.peak.lock().unwrap().anon < before.anon + (n as u64) / 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::hint::black_box(&v);
        drop(v);
        let peak = s.stop();
        assert!(peak.anon >= before.anon + (n as u64) / 2, "anon peak {} before {}", peak.anon, before.anon);
    }
}
