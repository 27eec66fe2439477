//! Memory mappings: the one place where mmnpy touches `mmap`.
//!
//! # How mmnpy lives with `mmap`'s unsafety
//!
//! Mapping a file is `unsafe` because the memory can change under us: another
//! process may write the file (that is the point of `'r+'`), or truncate it, after
//! which touching the lost pages raises `SIGBUS`. mmnpy's rules:
//!
//! - The file's length is checked against the header when it is mapped, so a file
//!   that is short to begin with is an error, never a fault. Truncating a file while
//!   it is mapped is a bug of whoever truncates it, as with every mmap user (NumPy
//!   included); mmnpy never truncates a file: `'w+'` and `saveNpy` write a new file
//!   and rename it over the old one, so existing mappings keep the old data.
//! - Mapped memory is only ever accessed through raw pointers (never as `&[u8]`
//!   held across calls), because JavaScript and other processes may write it at any
//!   time. Concurrent writers see torn values at worst, never memory unsafety.
//! - `'r'` maps privately and writable (copy-on-write): a stray write through a
//!   TypedArray lands in a private page instead of raising `SIGSEGV`, and the file is
//!   never modified. `'c'` is the same mapping, declared writable. `'r+'` and `'w+'`
//!   map shared, so writes reach the file and every other process mapping it.
//! - A mapping is owned by an `Arc`; everything that reads it (views, Rust kernels
//!   on worker threads) holds a clone, so the memory stays valid until the last user
//!   ends even when JavaScript closes the array meanwhile.
//! - The file descriptor is closed as soon as the mapping exists.

use std::fs::File;
use std::path::Path;
use std::ptr::NonNull;

use memmap2::{MmapMut, MmapOptions};

use crate::error::{err, Error, ErrorKind, Result};

/// The four modes of `np.memmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `'r'`: read only; the file is never modified.
    ReadOnly,
    /// `'r+'`: read and write, shared with the file.
    ReadWrite,
    /// `'w+'`: create (or overwrite) the file, then as `'r+'`.
    Write,
    /// `'c'`: copy-on-write; writes stay private to the mapping.
    CopyOnWrite,
}

impl Mode {
    /// Accepts NumPy's short and long names.
    pub fn parse(s: &str) -> Result<Mode> {
        Ok(match s {
            "r" | "readonly" => Mode::ReadOnly,
            "r+" | "readwrite" => Mode::ReadWrite,
            "w+" | "write" => Mode::Write,
            "c" | "copyonwrite" => Mode::CopyOnWrite,
            _ => {
                return err(
                    ErrorKind::InvalidArgument,
                    format!("mode must be one of 'r', 'r+', 'w+', 'c' (or 'readonly', 'readwrite', 'write', 'copyonwrite'), got '{s}'"),
                )
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::ReadOnly => "r",
            Mode::ReadWrite => "r+",
            Mode::Write => "w+",
            Mode::CopyOnWrite => "c",
        }
    }

    /// Whether writes through the array are allowed (privately or not).
    pub fn writeable(self) -> bool {
        self != Mode::ReadOnly
    }

    /// Whether writes reach the file.
    pub fn shared(self) -> bool {
        matches!(self, Mode::ReadWrite | Mode::Write)
    }
}

/// How a range of a mapping will be used (`madvise`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Read once, front to back: read ahead aggressively, drop behind.
    Sequential,
    /// Needed soon: start reading it in.
    WillNeed,
    /// Fault every page in now (Linux 5.14+), so a later pass takes no page faults.
    PopulateRead,
    /// Done with it: drop the pages from this process (RSS), the file keeps the data.
    Release,
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// A region of memory holding array data: part of a mapped file, or anonymous
/// memory for in-memory arrays. Zero-length regions map nothing.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    shared: bool,
    /// Whether dropping pages loses nothing the file does not hold ('r', 'r+', 'w+').
    releasable: bool,
    /// A private (copy-on-write) mapping of a file: 'r' and 'c'.
    private_file: bool,
    // Keeps the memory mapped; `None` when `len == 0`.
    _map: Option<MmapMut>,
}

// SAFETY: a `Mapping` is a pointer to memory that stays mapped for the mapping's
// lifetime and is only accessed through raw pointers (see the module doc); moving
// or sharing the handle between threads does not change that.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` gives no safe access to the bytes.
unsafe impl Sync for Mapping {}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("len", &self.len).field("shared", &self.shared).finish()
    }
}

impl Mapping {
    fn from_map(map: MmapMut, shared: bool, releasable: bool) -> Self {
        let len = map.len();
        let ptr = NonNull::new(map.as_ptr() as *mut u8).unwrap_or(NonNull::dangling());
        Mapping { ptr, len, shared, releasable, private_file: false, _map: Some(map) }
    }

    fn empty() -> Self {
        // 16-byte aligned dangling pointer: fine for any element type, never read.
        Mapping { ptr: NonNull::<u128>::dangling().cast(), len: 0, shared: false, releasable: false, private_file: false, _map: None }
    }

    /// Maps `len` bytes of `file` from `offset`. The caller has checked that the
    /// file is long enough.
    pub fn map_file(file: &File, path: &Path, offset: u64, len: usize, mode: Mode) -> Result<Self> {
        if len == 0 {
            return Ok(Mapping::empty());
        }
        let mut opts = MmapOptions::new();
        opts.offset(offset).len(len);
        // SAFETY: the file is at least `offset + len` bytes long (checked by the
        // caller); concurrent modification by other processes is the documented
        // contract of this module: the memory is only accessed through raw pointers.
        let map = unsafe {
            if mode.shared() {
                opts.map_mut(file)
            } else {
                opts.map_copy(file)
            }
        };
        let map = map.map_err(|e| Error::io("cannot map the file", &e).at(path))?;
        // 'r' pages come back from the file when released (its private copies hold
        // only stray writes, which never reach the file anyway); 'c' pages may hold
        // the user's private changes and are never released.
        let mut m = Mapping::from_map(map, mode.shared(), mode != Mode::CopyOnWrite);
        m.private_file = !mode.shared();
        Ok(m)
    }

    /// Zero-filled anonymous memory, for in-memory arrays.
    pub fn anonymous(len: usize) -> Result<Self> {
        if len == 0 {
            return Ok(Mapping::empty());
        }
        let map = MmapOptions::new().len(len).map_anon().map_err(|e| Error::io(&format!("cannot allocate {len} bytes"), &e))?;
        Ok(Mapping::from_map(map, false, false))
    }

    /// An in-memory copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let m = Mapping::anonymous(bytes.len())?;
        // SAFETY: `m` is a fresh private region of exactly `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), m.as_ptr(), bytes.len()) };
        Ok(m)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether writes reach a file.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Writes dirty pages of a shared mapping to the file (`msync`); no-op otherwise.
    pub fn flush(&self) -> Result<()> {
        match (&self._map, self.shared) {
            (Some(map), true) => map.flush().map_err(|e| Error::io("cannot flush the mapping", &e)),
            _ => Ok(()),
        }
    }

    /// Copies `len` bytes at `offset` out of the mapping, bounds-checked.
    pub fn read_bytes(&self, offset: usize, len: usize) -> Result<Vec<u8>> {
        self.check_range(offset, len)?;
        let mut out = vec![0u8; len];
        // SAFETY: the range is inside the mapping (checked above).
        unsafe { std::ptr::copy_nonoverlapping(self.as_ptr().add(offset), out.as_mut_ptr(), len) };
        Ok(out)
    }

    /// Copies `bytes` into the mapping at `offset`, bounds-checked.
    pub fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        self.check_range(offset, bytes.len())?;
        // SAFETY: the range is inside the mapping (checked above) and the mapping is
        // writable (shared read-write, private copy-on-write or anonymous).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.as_ptr().add(offset), bytes.len()) };
        Ok(())
    }

    /// Tells the kernel how bytes `offset..offset+len` will be used. `Release` drops
    /// the whole pages inside the range from this process (they are read again from
    /// the file if touched), and is ignored where it could lose data ('c', in memory).
    /// Hints the platform does not know are ignored: they never change results.
    pub fn advise(&self, offset: usize, len: usize, hint: Hint) -> Result<()> {
        self.check_range(offset, len)?;
        #[cfg(unix)]
        if let Some(map) = &self._map {
            use memmap2::{Advice, UncheckedAdvice};
            let page = page_size();
            let (start, end) = match hint {
                // Only whole pages inside the range: never a neighbour's bytes.
                Hint::Release => {
                    let base = self.as_ptr() as usize;
                    let s = (base + offset).div_ceil(page) * page - base;
                    let e = ((base + offset + len) / page * page).saturating_sub(base);
                    (s, e.max(s))
                }
                _ => (offset, offset + len),
            };
            if end <= start {
                return Ok(());
            }
            let r = match hint {
                Hint::Sequential => map.advise_range(Advice::Sequential, start, end - start),
                Hint::WillNeed => map.advise_range(Advice::WillNeed, start, end - start),
                #[cfg(target_os = "linux")]
                Hint::PopulateRead => map.advise_range(Advice::PopulateRead, start, end - start),
                #[cfg(not(target_os = "linux"))]
                Hint::PopulateRead => map.advise_range(Advice::WillNeed, start, end - start),
                Hint::Release if self.releasable => {
                    // SAFETY: DONTNEED on a shared or read-only-by-contract mapping only
                    // drops pages the file holds; 'c' and anonymous memory never get here.
                    unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start) }
                }
                Hint::Release => Ok(()),
            };
            // Old kernels lack some hints (EINVAL): a hint is only ever a hint.
            if let Err(e) = r {
                if e.raw_os_error() != Some(libc::EINVAL) {
                    return Err(Error::io("madvise failed", &e));
                }
            }
        }
        #[cfg(not(unix))]
        let _ = hint;
        Ok(())
    }

    /// Before a kernel writes bytes `offset..offset+len` of a copy-on-write file mapping
    /// ('c'): makes the private copies of those pages in one `MADV_POPULATE_WRITE`
    /// (Linux 5.14+) instead of one page fault per page from several threads, which
    /// contend and run slower than one thread. A no-op anywhere else; never fails.
    pub fn prepare_write(&self, offset: usize, len: usize) {
        #[cfg(target_os = "linux")]
        if let (true, Some(map), Ok(())) = (self.private_file, &self._map, self.check_range(offset, len)) {
            if len >= 1 << 20 {
                let _ = map.advise_range(memmap2::Advice::PopulateWrite, offset, len);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }

    pub fn check_range(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => err(ErrorKind::OutOfRange, format!("byte range {offset}..+{len} is outside the mapping of {} bytes", self.len)),
        }
    }
}
