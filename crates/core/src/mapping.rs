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
//!
//! # Files larger than memory
//!
//! Linux charges a private writable mapping's whole length against the commit limit
//! when it is made, so without care a file larger than RAM + swap could not be opened
//! in `'r'` or `'c'` (`ENOMEM`). Private mappings are therefore made with
//! `MAP_NORESERVE`: nothing is charged up front, and `'c'` takes memory only for the
//! pages actually written. A `'c'` job that writes more pages than memory can hold is
//! stopped by the kernel's out-of-memory killer (as NumPy's would be); results that
//! large belong in an `'r+'`/`'w+'` file. macOS never charges file mappings up front.
//!
//! Under strict accounting (`vm.overcommit_memory = 2`) the kernel ignores
//! `MAP_NORESERVE`. There:
//! - `'r'` maps the file read-only ([`Mapping::is_read_only`]): any size opens, the
//!   kernels read it directly, and the Node layer hands JavaScript bounded *copies*
//!   instead of the mapped memory, so a stray write still lands in private memory and
//!   never faults.
//! - `'c'` must reserve its whole length: when the commit limit cannot take it, the
//!   error is `ERR_MMNPY_NO_MEMORY` naming the reason and the way out (`'r'`, or a
//!   smaller `memmap` window), never a bare `ENOMEM`.
//!
//! `MMNPY_SIMULATE_STRICT_OVERCOMMIT=1` makes mmnpy behave as under strict accounting
//! (no `MAP_NORESERVE`, read-only `'r'`), for tests on machines that are not set so.
//! - A mapping is owned by an `Arc`; everything that reads it (views, Rust kernels
//!   on worker threads) holds a clone, so the memory stays valid until the last user
//!   ends even when JavaScript closes the array meanwhile.
//! - The file descriptor is closed as soon as the mapping exists.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::ptr::NonNull;

use memmap2::{Mmap, MmapMut, MmapOptions};

use crate::error::{err, Error, ErrorKind, Result};

/// A writer into an open file: what [`Mapping::write_range`] can have the kernel
/// copy into.
pub trait FileWriter: Write {
    fn file(&self) -> &File;
}

impl FileWriter for File {
    fn file(&self) -> &File {
        self
    }
}

impl FileWriter for &File {
    fn file(&self) -> &File {
        self
    }
}

/// Runs at least this long are copied file to file by [`Mapping::write_range`]; shorter
/// ones are not worth opening the file for.
const KERNEL_COPY_MIN: usize = 256 << 10;

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

/// Size from which [`Mapping::anonymous`] asks for huge pages.
pub const HUGE_MIN: usize = 4 << 20;
/// Bytes faulted in per step by [`Mapping::fill`].
pub const FILL_STEP: usize = 8 << 20;

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
    /// The mapped file (device, inode) and the length it must keep, for [`Mapping::check_file`].
    file: Option<(u64, u64, u64)>,
    /// Made by [`Mapping::scratch`]: goes back to [`SCRATCH`] when dropped.
    scratch: bool,
    // Keeps the memory mapped; `None` when `len == 0`.
    _map: Option<Region>,
}

/// Large anonymous regions of dropped [`Mapping::scratch`] mappings, kept for the next
/// `scratch` of the same length (most recent last): at most [`SCRATCH_REGIONS`] regions
/// and [`SCRATCH_BYTES`] bytes. A product's result in fresh memory costs a page fault per
/// page and the kernel zeroing every byte (and, for huge pages on a fragmented machine,
/// compaction), more than a quarter of a CSR product's time here; SciPy pays it in each
/// `np.zeros` (BENCHMARKS.md "2026-11-30 (sparse2)"). Cached regions are advised
/// `MADV_FREE`: the kernel takes their pages back under memory pressure (a later write
/// then faults in fresh zeroed ones), without waiting for the region's next use.
static SCRATCH: std::sync::Mutex<Vec<(usize, MmapMut)>> = std::sync::Mutex::new(Vec::new());
/// Regions [`SCRATCH`] keeps at most.
pub const SCRATCH_REGIONS: usize = 4;
/// Bytes [`SCRATCH`] keeps at most.
pub const SCRATCH_BYTES: usize = 512 << 20;

impl Drop for Mapping {
    fn drop(&mut self) {
        if !self.scratch {
            return;
        }
        let Some(Region::Writable(map)) = self._map.take() else { return };
        if map.len() > SCRATCH_BYTES {
            return;
        }
        #[cfg(target_os = "linux")]
        // SAFETY: nothing refers to this memory any more (the mapping is being dropped);
        // its bytes are never read before the next owner writes them (`scratch`'s contract).
        let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::Free) };
        let Ok(mut cache) = SCRATCH.lock() else { return };
        cache.push((self.len, map));
        let mut total: usize = cache.iter().map(|(_, m)| m.len()).sum();
        while cache.len() > SCRATCH_REGIONS || total > SCRATCH_BYTES {
            // The oldest goes (unmapped outside nothing: dropping it here is one munmap).
            total -= cache.remove(0).1.len();
        }
    }
}

/// The memory behind a mapping: writable (shared, private or anonymous), or mapped
/// read-only (`'r'` under strict overcommit accounting, see the module doc).
enum Region {
    Writable(MmapMut),
    ReadOnly(Mmap),
    /// Small anonymous memory from the allocator (see [`HEAP_MAX`]).
    Heap(HeapBlock),
    /// Memory someone else owns, for the length of one call (see [`Mapping::borrowed`]).
    Borrowed(NonNull<u8>),
}

/// Anonymous memory below this many bytes comes from the allocator, as NumPy's
/// small arrays do: an `mmap` + page fault + `munmap` per small result costs more than
/// the work of a call on it.
pub const HEAP_MAX: usize = 256 << 10;

/// Zeroed, 64-byte aligned heap memory (a cache line, as a mapping's start is),
/// owned through a raw pointer: it is written through raw pointers only, like every
/// mapping. Blocks come in power-of-two sizes and freed ones are kept for reuse in a
/// small per-size cache ([`HeapCache`]), as NumPy keeps its small data buffers: the
/// results of calls on small arrays are made and dropped at a high rate, and the
/// allocator's aligned path (split chunks, consolidation, trimming and re-faulting the
/// heap top) cost more than the call's work.
struct HeapBlock {
    ptr: NonNull<u8>,
    class: usize,
}

/// Cached free blocks per size class (64 B .. [`HEAP_MAX`], powers of two), at most
/// [`HEAP_CACHE_BYTES`] bytes and [`HEAP_CACHE_BLOCKS`] blocks per class.
struct HeapCache([std::sync::Mutex<Vec<usize>>; HEAP_CLASSES]);

const HEAP_CLASSES: usize = (HEAP_MAX.trailing_zeros() - 6 + 1) as usize;
const HEAP_CACHE_BYTES: usize = 1 << 20;
const HEAP_CACHE_BLOCKS: usize = 32;

static HEAP_CACHE: HeapCache = HeapCache([const { std::sync::Mutex::new(Vec::new()) }; HEAP_CLASSES]);

impl HeapBlock {
    /// The size class (index) of a block of at least `len` bytes.
    fn class(len: usize) -> usize {
        (len.max(64).next_power_of_two().trailing_zeros() - 6) as usize
    }

    fn layout(class: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(64 << class, 64).expect("a small size with a power-of-two alignment")
    }

    fn zeroed(len: usize) -> HeapBlock {
        let class = Self::class(len);
        let cached = HEAP_CACHE.0.get(class).and_then(|c| c.lock().map(|mut v| v.pop()).unwrap_or(None));
        if let Some(p) = cached {
            let ptr = NonNull::new(p as *mut u8).expect("cached blocks are non-null");
            // SAFETY: a cached block is `64 << class >= len` bytes this cache owns (it was
            // taken off the list above, so nothing else refers to it).
            unsafe { ptr.as_ptr().write_bytes(0, len) };
            return HeapBlock { ptr, class };
        }
        let layout = Self::layout(class);
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else { std::alloc::handle_alloc_error(layout) };
        HeapBlock { ptr, class }
    }
}

impl Drop for HeapBlock {
    fn drop(&mut self) {
        let keep = (HEAP_CACHE_BYTES >> 6 >> self.class).clamp(1, HEAP_CACHE_BLOCKS);
        if let Some(Ok(mut list)) = HEAP_CACHE.0.get(self.class).map(|c| c.lock()) {
            if list.len() < keep {
                list.push(self.ptr.as_ptr() as usize);
                return;
            }
        }
        // SAFETY: `ptr` came from `alloc_zeroed` with this class's layout and is freed only here.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.class)) };
    }
}

impl Region {
    fn ptr(&self) -> *const u8 {
        match self {
            Region::Writable(m) => m.as_ptr(),
            Region::ReadOnly(m) => m.as_ptr(),
            Region::Heap(h) => h.ptr.as_ptr() as *const u8,
            Region::Borrowed(p) => p.as_ptr() as *const u8,
        }
    }

    #[cfg(unix)]
    fn advise_range(&self, advice: memmap2::Advice, offset: usize, len: usize) -> std::io::Result<()> {
        match self {
            Region::Writable(m) => m.advise_range(advice, offset, len),
            Region::ReadOnly(m) => m.advise_range(advice, offset, len),
            // Allocator and borrowed memory take no advice (they are never released either).
            Region::Heap(_) | Region::Borrowed(_) => Ok(()),
        }
    }

    /// # Safety
    /// As `memmap2`'s `unchecked_advise_range`: the advice must not lose data the
    /// caller still needs.
    #[cfg(unix)]
    unsafe fn unchecked_advise_range(&self, advice: memmap2::UncheckedAdvice, offset: usize, len: usize) -> std::io::Result<()> {
        // SAFETY: forwarded from the caller.
        unsafe {
            match self {
                Region::Writable(m) => m.unchecked_advise_range(advice, offset, len),
                Region::ReadOnly(m) => m.unchecked_advise_range(advice, offset, len),
                Region::Heap(_) | Region::Borrowed(_) => Ok(()),
            }
        }
    }
}

/// Whether the kernel does strict overcommit accounting (`vm.overcommit_memory = 2`,
/// read once), or `MMNPY_SIMULATE_STRICT_OVERCOMMIT=1` asks to behave as if it did.
fn strict_overcommit() -> bool {
    if std::env::var_os("MMNPY_SIMULATE_STRICT_OVERCOMMIT").is_some_and(|v| v == "1") {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *STRICT.get_or_init(|| std::fs::read_to_string("/proc/sys/vm/overcommit_memory").is_ok_and(|s| s.trim() == "2"))
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// What the commit limit has left, from `/proc/meminfo` (Linux), for error messages.
fn commit_room() -> Option<(u64, u64)> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = info.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok().map(|kb| kb * 1024)
    };
    Some((field("CommitLimit:")?, field("Committed_AS:")?))
}

fn is_enomem(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::OutOfMemory || e.raw_os_error() == Some(libc::ENOMEM)
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
    fn from_region(map: Region, len: usize, shared: bool, releasable: bool) -> Self {
        let ptr = NonNull::new(map.ptr() as *mut u8).unwrap_or(NonNull::dangling());
        Mapping { ptr, len, shared, releasable, private_file: false, file: None, scratch: false, _map: Some(map) }
    }

    fn empty() -> Self {
        // 16-byte aligned dangling pointer: fine for any element type, never read.
        Mapping {
            ptr: NonNull::<u128>::dangling().cast(),
            len: 0,
            shared: false,
            releasable: false,
            private_file: false,
            file: None,
            scratch: false,
            _map: None,
        }
    }

    /// Maps `len` bytes of `file` from `offset`. The caller has checked that the
    /// file is long enough.
    pub fn map_file(file: &File, path: &Path, offset: u64, len: usize, mode: Mode) -> Result<Self> {
        if len == 0 {
            return Ok(Mapping::empty());
        }
        let mut m = Mapping::map_file_region(file, path, offset, len, mode)?;
        #[cfg(unix)]
        if let Ok(meta) = file.metadata() {
            use std::os::unix::fs::MetadataExt;
            m.file = Some((meta.dev(), meta.ino(), offset + len as u64));
        }
        Ok(m)
    }

    /// Whether the file at `path`, when it is still the file this mapping maps, still
    /// holds every mapped byte. Another process truncating a mapped file makes any
    /// touch of the lost pages kill the process (`SIGBUS`, as for every mmap user,
    /// NumPy included); this finds it without touching them (`flush()` calls it).
    /// A file replaced by another one under the same path (as `saveNpy` does) is
    /// not this mapping's file any more, and the mapping keeps the old one: fine.
    pub fn check_file(&self, path: &Path) -> Result<()> {
        #[cfg(unix)]
        if let (Some((dev, ino, need)), Ok(meta)) = (self.file, std::fs::metadata(path)) {
            use std::os::unix::fs::MetadataExt;
            if meta.dev() == dev && meta.ino() == ino && meta.len() < need {
                return Err(Error::new(
                    ErrorKind::Truncated,
                    format!(
                        "the file was truncated to {} bytes while mapped ({need} are mapped): touching the lost pages would kill the process (SIGBUS); close() this array and open the file again",
                        meta.len()
                    ),
                )
                .at(path));
            }
        }
        #[cfg(not(unix))]
        let _ = path;
        Ok(())
    }

    /// The mapped file's (device, inode), where the platform says: another process
    /// opening the same path can check that it still names this file.
    pub fn file_identity(&self) -> Option<(u64, u64)> {
        self.file.map(|(dev, ino, _)| (dev, ino))
    }

    fn map_file_region(file: &File, path: &Path, offset: u64, len: usize, mode: Mode) -> Result<Self> {
        let mut opts = MmapOptions::new();
        opts.offset(offset).len(len);
        // SAFETY (all three maps below): the file is at least `offset + len` bytes long
        // (checked by the caller); concurrent modification by other processes is the
        // documented contract of this module: the memory is only accessed through raw
        // pointers.
        if mode.shared() {
            let map = unsafe { opts.map_mut(file) }.map_err(|e| Error::io("cannot map the file", &e).at(path))?;
            return Ok(Mapping::from_region(Region::Writable(map), len, true, true));
        }
        let strict = strict_overcommit();
        if !strict {
            // Nothing is charged up front: files of any size open (module doc).
            opts.no_reserve_swap();
        }
        let private = if mode == Mode::ReadOnly && strict { None } else { Some(unsafe { opts.map_copy(file) }) };
        match private {
            Some(Ok(map)) => {
                // 'r' pages come back from the file when released (its private copies
                // hold only stray writes, which never reach the file anyway); 'c' pages
                // may hold the user's private changes and are never released.
                let mut m = Mapping::from_region(Region::Writable(map), len, false, mode == Mode::ReadOnly);
                m.private_file = true;
                Ok(m)
            }
            Some(Err(e)) if mode == Mode::CopyOnWrite && is_enomem(&e) => Err(Error::new(ErrorKind::NoMemory, cow_refused(len)).at(path)),
            Some(Err(e)) if !is_enomem(&e) => Err(Error::io("cannot map the file", &e).at(path)),
            // 'r' under strict accounting (or refused a private mapping): read-only.
            _ => {
                let map = unsafe { opts.map(file) }.map_err(|e| Error::io("cannot map the file read-only", &e).at(path))?;
                Ok(Mapping::from_region(Region::ReadOnly(map), len, false, true))
            }
        }
    }

    /// Whether this is anonymous memory this mapping owns and unmaps when dropped, of
    /// at least [`HEAP_MAX`] bytes (made by [`Mapping::anonymous`]): what a JavaScript
    /// wrapper reports to the garbage collector as memory it keeps alive. File mappings
    /// (the page cache's, reclaimable), small heap blocks and borrowed memory are not.
    pub fn is_owned_anonymous(&self) -> bool {
        !self.shared && !self.private_file && self.file.is_none() && matches!(self._map, Some(Region::Writable(_)))
    }

    /// Whether the memory was asked for in transparent huge pages: owned anonymous memory
    /// of [`HUGE_MIN`] bytes or more ([`Mapping::anonymous`], [`Mapping::scratch`]; Linux
    /// grants the advice when it can).
    pub fn huge_advised(&self) -> bool {
        cfg!(target_os = "linux") && self.is_owned_anonymous() && self.len >= HUGE_MIN
    }

    /// Whether the memory is mapped read-only ('r' under strict overcommit accounting):
    /// it must then never be handed to code that could write it (module doc).
    pub fn is_read_only(&self) -> bool {
        matches!(self._map, Some(Region::ReadOnly(_)))
    }

    /// The `len` bytes at `ptr`, owned elsewhere, as a mapping the kernels can read and
    /// write for the length of one call (a JavaScript ArrayBuffer during a call on it):
    /// dropping it frees nothing, and nothing is ever released or advised on it.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be valid for reads and writes, and stay so (not freed, not
    /// moved), as long as the returned mapping lives.
    pub unsafe fn borrowed(ptr: *mut u8, len: usize) -> Self {
        match NonNull::new(ptr) {
            Some(p) if len > 0 => {
                Mapping { ptr: p, len, shared: false, releasable: false, private_file: false, file: None, scratch: false, _map: Some(Region::Borrowed(p)) }
            }
            _ => Mapping::empty(),
        }
    }

    /// Zero-filled anonymous memory, for in-memory arrays. On Linux, from [`HUGE_MIN`]
    /// bytes it asks for transparent huge pages, as NumPy does for its large arrays: a
    /// 2 MiB page is one fault instead of 512 when it is filled, and gathers from it miss
    /// the TLB far less. Only a hint.
    pub fn anonymous(len: usize) -> Result<Self> {
        if len == 0 {
            return Ok(Mapping::empty());
        }
        if len < HEAP_MAX {
            return Ok(Mapping::from_region(Region::Heap(HeapBlock::zeroed(len)), len, false, false));
        }
        let map = MmapOptions::new().len(len).map_anon().map_err(|e| Error::io(&format!("cannot allocate {len} bytes"), &e))?;
        #[cfg(target_os = "linux")]
        if len >= HUGE_MIN {
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        Ok(Mapping::from_region(Region::Writable(map), len, false, false))
    }

    /// Anonymous memory of `len` bytes whose contents are unspecified: the caller writes
    /// every byte before anything reads one (a kernel's result). From [`HUGE_MIN`] bytes
    /// it is the region of a dropped `scratch` mapping of the same length when one is
    /// cached ([`SCRATCH`]: its pages are faulted in already, nothing is zeroed), else
    /// fresh as [`Mapping::anonymous`]; dropping it caches its region.
    pub fn scratch(len: usize) -> Result<Self> {
        if len < HUGE_MIN {
            return Mapping::anonymous(len);
        }
        let cached = SCRATCH.lock().ok().and_then(|mut c| c.iter().rposition(|(n, _)| *n == len).map(|i| c.remove(i).1));
        let mut m = match cached {
            Some(map) => Mapping::from_region(Region::Writable(map), len, false, false),
            None => Mapping::anonymous(len)?,
        };
        m.scratch = true;
        Ok(m)
    }

    /// Runs `write(dst)` over the whole mapping on this thread while another thread
    /// of the kernel pool faults the pages in ahead of it, front to back, with
    /// `MADV_POPULATE_WRITE` (Linux 5.14+), in [`FILL_STEP`] steps until `write`
    /// returns. Faulting fresh anonymous memory is most of the cost of filling it
    /// once (the kernel zeroes every page), and it overlaps the writer's work this
    /// way. The prefaulting never touches the bytes, so it cannot race the writer.
    /// Elsewhere, or below [`FILL_STEP`] bytes, `write` simply runs.
    pub fn fill<R: Send>(&self, write: impl FnOnce(&mut [u8]) -> R + Send) -> R {
        let len = self.len;
        let ptr = self.ptr.as_ptr() as usize;
        // SAFETY: the mapping is `len` writable bytes (a fill target is anonymous memory
        // made by `anonymous`, never read-only), and the caller holds the only
        // handle through which it is written while `write` runs; the prefault below only
        // asks the kernel to map pages.
        let dst = || unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, len) };
        #[cfg(target_os = "linux")]
        if let (true, Some(Region::Writable(map))) = (len >= 2 * FILL_STEP, &self._map) {
            use std::sync::atomic::{AtomicBool, Ordering};
            let done = AtomicBool::new(false);
            let (r, ()) = crate::kernels::pool::install(|| {
                rayon::join(
                    || {
                        let r = write(dst());
                        done.store(true, Ordering::Relaxed);
                        r
                    },
                    || {
                        let mut at = 0;
                        while at < len && !done.load(Ordering::Relaxed) {
                            let n = FILL_STEP.min(len - at);
                            // EINVAL before Linux 5.14, ENOMEM when memory runs out: the
                            // writer then takes the faults itself, as without this.
                            if map.advise_range(memmap2::Advice::PopulateWrite, at, n).is_err() {
                                break;
                            }
                            at += n;
                        }
                    },
                )
            });
            return r;
        }
        write(dst())
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
            (Some(Region::Writable(map)), true) => map.flush().map_err(|e| Error::io("cannot flush the mapping", &e)),
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

    /// Writes bytes `offset..offset+len` of the mapping to `w` (after what it holds).
    ///
    /// When the mapping's bytes are its file's (shared mappings, and `'r'` ones: their
    /// pages are the file's, bar stray writes through a TypedArray, which never count)
    /// and `source` still names that file, the kernel copies them file to file
    /// (`copy_file_range`): no page of the mapping is faulted in and nothing passes
    /// through this process, about twice the speed of a `write` from the mapping here.
    /// Otherwise, and for what the kernel will not copy, they are written from memory.
    pub fn write_range<W: FileWriter>(&self, w: &mut BufWriter<W>, source: Option<&Path>, offset: usize, len: usize) -> Result<()> {
        self.check_range(offset, len)?;
        let done = match source {
            Some(path) if len >= KERNEL_COPY_MIN && self.releasable => self.copy_file_range(w, path, offset, len)?,
            _ => 0,
        };
        // SAFETY: the range is inside the mapping (checked above); the caller keeps the
        // mapping alive for the call.
        let rest = unsafe { std::slice::from_raw_parts(self.as_ptr().add(offset + done), len - done) };
        w.write_all(rest).map_err(|e| Error::io("cannot write", &e))
    }

    /// The kernel copy of [`Mapping::write_range`]: how many bytes it wrote.
    #[cfg(target_os = "linux")]
    fn copy_file_range<W: FileWriter>(&self, w: &mut BufWriter<W>, path: &Path, offset: usize, len: usize) -> Result<usize> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let Some((dev, ino, end)) = self.file else { return Ok(0) };
        let Ok(src) = File::open(path) else { return Ok(0) };
        match src.metadata() {
            Ok(meta) if meta.dev() == dev && meta.ino() == ino => {}
            _ => return Ok(0),
        }
        // The file offset of mapped byte 0, and of the first byte to copy.
        let start = end - self.len as u64;
        let Ok(mut from) = libc::loff_t::try_from(start + offset as u64) else { return Ok(0) };
        w.flush().map_err(|e| Error::io("cannot write", &e))?;
        let out = w.get_ref().file().as_raw_fd();
        let mut done = 0usize;
        while done < len {
            // SAFETY: plain syscall on two open descriptors; `from` is a valid in/out
            // offset, the output offset is the file's own (null).
            let n = unsafe { libc::copy_file_range(src.as_raw_fd(), &mut from, out, std::ptr::null_mut(), len - done, 0) };
            if n > 0 {
                done += n as usize;
                continue;
            }
            if n == 0 {
                // End of file before the mapped bytes: another process truncated it.
                self.check_file(path)?;
                return Ok(done);
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                // No space, quota, I/O error: writing from memory would fail the same way.
                Some(libc::ENOSPC | libc::EDQUOT | libc::EIO | libc::EFBIG) => return Err(Error::io("cannot write", &e)),
                // Not supported here (old kernel, across file systems, special files).
                _ => return Ok(done),
            }
        }
        Ok(done)
    }

    #[cfg(not(target_os = "linux"))]
    fn copy_file_range<W: FileWriter>(&self, _w: &mut BufWriter<W>, _path: &Path, _offset: usize, _len: usize) -> Result<usize> {
        Ok(0)
    }

    /// Copies `bytes` into the mapping at `offset`, bounds-checked.
    pub fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        self.check_range(offset, bytes.len())?;
        if self.is_read_only() {
            return err(ErrorKind::ReadOnly, "assignment destination is read-only");
        }
        // SAFETY: the range is inside the mapping (checked above) and the mapping is
        // writable (shared read-write, private copy-on-write or anonymous; not
        // read-only, checked above).
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
                    // SAFETY: DONTNEED on a shared, read-only or read-only-by-contract
                    // mapping only drops pages the file holds; 'c' and anonymous memory
                    // never get here.
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
        if let (true, Some(Region::Writable(map)), Ok(())) = (self.private_file, &self._map, self.check_range(offset, len)) {
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

/// The message of a copy-on-write mapping the kernel refused to reserve.
fn cow_refused(len: usize) -> String {
    let room = match commit_room() {
        Some((limit, used)) => format!(" (CommitLimit {limit} bytes, {} committed already)", used),
        None => String::new(),
    };
    let why = if strict_overcommit() {
        "strict overcommit accounting (vm.overcommit_memory = 2) reserves memory for every page a 'c' mapping could write"
    } else {
        "the kernel would not reserve memory for every page a 'c' mapping could write"
    };
    format!(
        "cannot map {len} bytes copy-on-write: {why}, and {len} bytes exceed what is left{room}; open it with mmapMode 'r' (read-only, any size), or map a smaller part with memmap(..., {{ offset, shape }})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_regions_are_reused_and_the_cache_stays_bounded() {
        // Lengths no other test asks for, so concurrent tests cannot take these regions.
        let len = HUGE_MIN + 3 * 4096 + 17;
        let a = Mapping::scratch(len).unwrap();
        assert!(a.is_owned_anonymous() && a.len() == len);
        // SAFETY: `a` is `len` writable bytes owned here.
        unsafe { a.as_ptr().write_bytes(0xA5, len) };
        let p = a.as_ptr();
        drop(a);
        let b = Mapping::scratch(len).unwrap();
        assert_eq!(b.as_ptr(), p, "the dropped region of the same length comes back");
        let c = Mapping::scratch(len).unwrap();
        assert_ne!(c.as_ptr(), p, "a region is handed to one owner at a time");
        drop((b, c));
        // Many regions dropped: the cache keeps at most SCRATCH_REGIONS of them.
        let many: Vec<Mapping> = (1..=SCRATCH_REGIONS + 3).map(|i| Mapping::scratch(HUGE_MIN + i * 4096 + 5).unwrap()).collect();
        drop(many);
        let cache = SCRATCH.lock().unwrap();
        assert!(cache.len() <= SCRATCH_REGIONS && cache.iter().map(|(_, m)| m.len()).sum::<usize>() <= SCRATCH_BYTES);
        drop(cache);
        // Small scratch memory is plain anonymous memory (zeroed, never cached).
        let small = Mapping::scratch(4096).unwrap();
        assert!(!small.scratch);
    }

    #[test]
    fn write_range_copies_the_file_where_the_mapping_is_the_file_and_memory_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("src.bin");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (base, len) = (4096 + 128, 2_500_000);
        let (off, n) = (1000, KERNEL_COPY_MIN + 12345);
        for mode in [Mode::ReadOnly, Mode::ReadWrite, Mode::CopyOnWrite] {
            let file = std::fs::OpenOptions::new().read(true).write(mode.shared()).open(&path).unwrap();
            let m = Mapping::map_file(&file, &path, base as u64, len, mode).unwrap();
            drop(file);
            // A write through the mapping: in 'r+' it is the file's, in 'c' the
            // mapping's own; in 'r' a stray one, which never counts.
            m.write_bytes(off + 7, &[0xEE; 3]).unwrap();
            let mut want = bytes[base + off..base + off + n].to_vec();
            if mode != Mode::ReadOnly {
                want[7..10].fill(0xEE);
            }
            for source in [Some(path.as_path()), None] {
                let out_path = dir.path().join("out.bin");
                let out = File::create(&out_path).unwrap();
                let mut w = BufWriter::new(&out);
                w.write_all(b"head").unwrap();
                m.write_range(&mut w, source, off, n).unwrap();
                w.write_all(b"tail").unwrap();
                w.flush().unwrap();
                drop(w);
                let got = std::fs::read(&out_path).unwrap();
                assert_eq!((&got[..4], &got[got.len() - 4..]), (&b"head"[..], &b"tail"[..]), "{mode:?}");
                let mut expect = want.clone();
                if mode == Mode::ReadOnly && (source.is_none() || cfg!(not(target_os = "linux"))) {
                    expect[7..10].fill(0xEE); // from memory: the stray write shows
                }
                assert!(got[4..got.len() - 4] == expect[..], "{mode:?}, source {source:?}");
            }
        }
        // The mapped file replaced under its name: the new file is not read.
        let before = std::fs::read(&path).unwrap();
        let file = File::open(&path).unwrap();
        let m = Mapping::map_file(&file, &path, 0, len, Mode::ReadOnly).unwrap();
        drop(file);
        let tmp = dir.path().join("new.bin");
        std::fs::write(&tmp, vec![0u8; 3_000_000]).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let out_path = dir.path().join("out2.bin");
        let out = File::create(&out_path).unwrap();
        let mut w = BufWriter::new(&out);
        m.write_range(&mut w, Some(&path), 0, len).unwrap();
        w.flush().unwrap();
        drop(w);
        assert!(std::fs::read(&out_path).unwrap() == before[..len]);
    }

    #[test]
    fn reused_heap_blocks_come_back_zeroed_and_64_byte_aligned() {
        // Dirty every size class, drop (into the cache), and take again.
        for round in 0..3 {
            let maps: Vec<Mapping> =
                (0..HEAP_CLASSES).flat_map(|c| [(64usize << c) - 1, 64 << c]).filter(|&n| n < HEAP_MAX).map(|n| Mapping::anonymous(n).unwrap()).collect();
            for m in &maps {
                assert_eq!(m.as_ptr() as usize % 64, 0);
                assert!(m.read_bytes(0, m.len()).unwrap().iter().all(|&b| b == 0), "round {round}: {} bytes not zeroed", m.len());
                m.write_bytes(0, &vec![0xA5; m.len()]).unwrap();
            }
        }
        // More blocks than a class keeps: the rest go back to the allocator.
        let many: Vec<Mapping> = (0..3 * HEAP_CACHE_BLOCKS).map(|_| Mapping::anonymous(100).unwrap()).collect();
        drop(many);
        let cached = HEAP_CACHE.0[HeapBlock::class(100)].lock().unwrap().len();
        assert!(cached <= HEAP_CACHE_BLOCKS, "{cached} blocks cached");
    }

    #[test]
    fn fill_writes_every_byte_and_returns_the_writer_result() {
        for len in [0, 1, FILL_STEP - 3, 3 * FILL_STEP + 4097] {
            let m = Mapping::anonymous(len).unwrap();
            let r = m.fill(|dst| {
                assert_eq!(dst.len(), len);
                for (i, b) in dst.iter_mut().enumerate() {
                    *b = (i % 251) as u8;
                }
                len * 2
            });
            assert_eq!(r, len * 2);
            // SAFETY: `m` is `len` bytes long and nothing else writes it.
            let got = unsafe { std::slice::from_raw_parts(m.as_ptr(), len) };
            assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        }
    }

    #[test]
    fn fill_passes_errors_through() {
        let m = Mapping::anonymous(4 * FILL_STEP).unwrap();
        let r: Result<()> = m.fill(|dst| {
            dst[0] = 1;
            err(ErrorKind::BadZip, "corrupt")
        });
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadZip);
    }
}
