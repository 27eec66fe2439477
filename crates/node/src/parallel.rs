//! The native side of `Parallel` and `memit`: process-wide handles that let the
//! threads of one process use one mapping ([`mmnpy_core::shared`]), the preallocated
//! temporary `.npy` files of auto-memmapping, and memory counters with a sampling
//! thread ([`mmnpy_core::memstat`]).

use std::path::Path;
use std::time::Duration;

use mmnpy_core::memstat::{self, Sampler, Usage};
use mmnpy_core::npy;
use mmnpy_core::shared;
use mmnpy_core::{Error, ErrorKind, Mode};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::array::{layout, wrap, NativeArray};
use crate::convert::{index, invalid, OrJs};

fn handle(h: f64) -> Result<u64, String> {
    Ok(index(h, "handle")? as u64)
}

#[napi]
impl NativeArray {
    /// Registers this array's mapping under a new process-wide handle, which any
    /// thread of the process can adopt until `releaseShared(handle)`. Only
    /// file-backed arrays mapped `'r'`, `'r+'` or `'w+'` are shared: an in-memory or
    /// `'c'` array's bytes are its own, not the file's.
    #[napi]
    pub fn share(&self) -> Result<f64, String> {
        let map = self.holder.get().or_js()?;
        match self.info.mode {
            Some(Mode::ReadOnly | Mode::ReadWrite | Mode::Write) if self.info.path.is_some() => {}
            _ => return Err(invalid("only file-backed arrays mapped 'r', 'r+' or 'w+' can be shared")),
        }
        let mut a = self.info.clone();
        a.mapping = map;
        Ok(shared::share(a) as f64)
    }

    /// `'<device>:<inode>'` of the mapped file (null in memory or where unknown), for a
    /// process that maps the same path to check it still names the same file.
    #[napi]
    pub fn file_identity(&self) -> Result<Option<String>, String> {
        let map = self.holder.get().or_js()?;
        Ok(map.file_identity().map(|(dev, ino)| format!("{dev}:{ino}")))
    }

    /// Writes a view to a new `.npy` file at `path` whose whole size is reserved
    /// first (`posix_fallocate`): `ENOSPC` is an error before any data is written.
    #[napi]
    pub fn save_preallocated(&self, path: String, shape: Vec<f64>, strides: Vec<f64>, offset: f64) -> Result<(), String> {
        let map = self.holder.get().or_js()?;
        let l = layout(&shape, &strides, offset)?;
        npy::save_view_preallocated(Path::new(&path), &map, &l, self.info.dtype, self.info.byte_order).or_js()
    }
}

/// The array behind a process-wide handle, with its own reference to the mapping:
/// closing it, or this thread ending, leaves the mapping to the others. An array
/// shared in `'w+'` is adopted as `'r+'` (the file exists now).
#[napi]
pub fn adopt_shared(env: Env, handle: f64, allow_copy: bool) -> Result<NativeArray, String> {
    let mut a = shared::adopt(self::handle(handle)?).or_js()?;
    if a.mode == Some(Mode::Write) {
        a.mode = Some(Mode::ReadWrite);
    }
    wrap(&env, a, allow_copy)
}

/// Drops the registry's reference to a shared mapping; returns whether it was live.
#[napi]
pub fn release_shared(handle: f64) -> Result<bool, String> {
    Ok(shared::release(self::handle(handle)?))
}

/// How many handles are registered in this process (for leak checks).
#[napi]
pub fn shared_live_count() -> u32 {
    shared::live_count() as u32
}

/// Reserves the blocks behind bytes `offset..offset+length` of a file (`posix_fallocate`).
#[napi]
pub fn preallocate_file(path: String, offset: f64, length: f64) -> Result<(), String> {
    npy::preallocate_path(Path::new(&path), index(offset, "offset")? as u64, index(length, "length")? as u64).or_js()
}

/// Resident memory in bytes (Linux `/proc/self/status`).
#[napi(object)]
pub struct MemUsage {
    pub rss: f64,
    /// The peak of `rss` (`VmHWM`).
    pub hwm: f64,
    pub anon: f64,
    pub file: f64,
    pub shmem: f64,
}

impl From<Usage> for MemUsage {
    fn from(u: Usage) -> Self {
        MemUsage { rss: u.rss as f64, hwm: u.hwm as f64, anon: u.anon as f64, file: u.file as f64, shmem: u.shmem as f64 }
    }
}

/// This process's resident memory now, or null where the platform does not say.
#[napi]
pub fn memory_usage() -> Option<MemUsage> {
    Usage::now().map(MemUsage::from)
}

/// Resets the peak (`VmHWM`) to the current resident set; false where impossible.
#[napi]
pub fn reset_memory_peak() -> bool {
    memstat::reset_peak()
}

/// Samples the resident memory split on a native thread until `stop()`.
#[napi]
pub struct MemSampler {
    sampler: Option<Sampler>,
}

#[napi]
impl MemSampler {
    /// Starts sampling every `intervalUs` microseconds (none where the platform does
    /// not report the split: `stop()` then returns null).
    #[napi(constructor)]
    pub fn new(interval_us: f64) -> Result<Self, String> {
        if !(interval_us.is_finite() && interval_us >= 1.0) {
            return Err(crate::convert::js_error(Error::new(
                ErrorKind::InvalidArgument,
                format!("interval must be at least 1 microsecond, got {interval_us}"),
            )));
        }
        Ok(MemSampler { sampler: Sampler::start(Duration::from_micros(interval_us as u64)) })
    }

    /// Stops sampling; the maximum of each field seen since the start (null if none).
    #[napi]
    pub fn stop(&mut self) -> Option<MemUsage> {
        self.sampler.take().map(|s| s.stop().into())
    }
}
