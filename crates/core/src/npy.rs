//! Opening, creating and saving arrays: `.npy` files (format in [`crate::header`]),
//! raw binary files (`np.memmap`, `np.fromfile`), and in-memory arrays.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::descr::Descr;
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, Error, ErrorKind, Result};
use crate::header::{self, Header, PREAMBLE_MAX};
use crate::mapping::{Mapping, Mode};
use crate::view::Layout;

/// An array: its memory, what its elements are, and where they came from.
#[derive(Debug, Clone)]
pub struct Array {
    pub mapping: Arc<Mapping>,
    pub dtype: DType,
    pub byte_order: ByteOrder,
    pub shape: Vec<usize>,
    pub fortran_order: bool,
    /// `None` for in-memory arrays.
    pub mode: Option<Mode>,
    /// Absolute path of the file the array maps or was read from.
    pub path: Option<PathBuf>,
    /// Byte offset of the first element in the file.
    pub file_offset: u64,
    /// The `.npy` format version of the file, when it is one.
    pub version: Option<(u8, u8)>,
    /// The full dtype when it is not numeric (datetimes, strings, records); `dtype`
    /// and `byte_order` are then its storage (see [`Header::descr`]).
    pub descr: Option<Descr>,
}

impl Array {
    /// The layout of the whole array over its mapping.
    pub fn layout(&self) -> Layout {
        Layout::contiguous(&self.shape, self.itemsize(), self.fortran_order)
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        self.descr.as_ref().map_or(self.dtype.itemsize(), |d| d.itemsize())
    }

    /// The full dtype, numeric or not.
    pub fn full_descr(&self) -> Descr {
        self.descr.clone().unwrap_or(Descr::numeric(self.dtype, self.byte_order))
    }

    fn header(&self) -> Header {
        Header::with_descr(self.full_descr(), self.fortran_order, self.shape.iter().map(|&d| d as u64).collect())
    }
}

/// The array a file holds, once its memory is mapped or read.
pub(crate) fn file_array(h: &Header, mapping: Mapping, mode: Option<Mode>, path: &Path, file_offset: u64, version: Option<(u8, u8)>) -> Result<Array> {
    Ok(Array {
        mapping: Arc::new(mapping),
        dtype: h.dtype,
        byte_order: h.dtype.order(h.byte_order),
        shape: to_usize_shape(&h.shape).map_err(|e| e.at(path))?,
        fortran_order: h.fortran_order,
        mode,
        path: Some(absolute(path)),
        file_offset,
        version,
        descr: h.descr.clone(),
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Opens an existing regular file (refusing FIFOs, devices and directories, which
/// could hang or never end).
pub(crate) fn open_existing(path: &Path, write: bool) -> Result<(File, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot open", &e).at(path))?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
        return Err(Error::new(ErrorKind::Io, format!("cannot open: it is {what}")).at(path));
    }
    let file = OpenOptions::new().read(true).write(write).open(path).map_err(|e| Error::io("cannot open", &e).at(path))?;
    let len = file.metadata().map_err(|e| Error::io("cannot stat", &e).at(path))?.len();
    Ok((file, len))
}

/// Reads up to `buf.len()` bytes; fewer only at the end of the file.
fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads and checks the preamble and header; returns the header, the data offset
/// and the version. Checks the file holds all the data the header announces.
fn read_header(file: &mut impl Read, file_len: u64) -> Result<(Header, u64, (u8, u8))> {
    let mut pre = [0u8; PREAMBLE_MAX];
    let n = read_up_to(file, &mut pre).map_err(|e| Error::io("cannot read", &e))?;
    let preamble = header::parse_preamble(&pre[..n])?;
    let mut text = vec![0u8; preamble.header_len];
    let have = n - preamble.len;
    text[..have.min(preamble.header_len)].copy_from_slice(&pre[preamble.len..preamble.len + have.min(preamble.header_len)]);
    if have < preamble.header_len {
        let got = read_up_to(file, &mut text[have..]).map_err(|e| Error::io("cannot read", &e))?;
        if have + got < preamble.header_len {
            return err(
                ErrorKind::Truncated,
                format!("file is too short: the header should be {} bytes but the file ends after {}", preamble.header_len, have + got),
            );
        }
    }
    let h = header::parse_header(preamble.version, &text)?;
    let offset = preamble.data_offset() as u64;
    let nbytes = h.nbytes()?;
    let available = file_len.saturating_sub(offset);
    if available < nbytes {
        return err(
            ErrorKind::Truncated,
            format!(
                "file is too short: shape {} of {} needs {nbytes} data bytes after the header, the file has {available}",
                header::shape_repr(&h.shape),
                h.full_descr().to_numpy().unwrap_or_else(|_| "a record".into())
            ),
        );
    }
    Ok((h, offset, preamble.version))
}

/// The header, data offset and version of a whole `.npy` file given as bytes, with
/// every check [`open_npy`] makes before mapping (the fuzz targets' entry point).
pub fn inspect(bytes: &[u8]) -> Result<(Header, u64, (u8, u8))> {
    read_header(&mut std::io::Cursor::new(bytes), bytes.len() as u64)
}

fn to_usize_shape(shape: &[u64]) -> Result<Vec<usize>> {
    shape.iter().map(|&d| usize::try_from(d).map_err(|_| Error::new(ErrorKind::BadShape, "shape too large for this platform"))).collect()
}

pub(crate) fn to_usize(n: u64, what: &str) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::new(ErrorKind::BadShape, format!("{what} of {n} bytes is too large for this platform")))
}

/// `np.load(path, mmap_mode=mode)`: maps an existing `.npy` file. `'w+'` is refused
/// before the file is touched (NumPy truncates it first).
pub fn open_npy(path: &Path, mode: Mode) -> Result<Array> {
    if mode == Mode::Write {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "mode 'w+' would overwrite the file; use openNpy(path, { mode: 'w+', shape, dtype }) to create one",
        )
        .at(path));
    }
    let (mut file, file_len) = open_existing(path, mode.shared())?;
    let (h, offset, version) = read_header(&mut file, file_len).map_err(|e| e.at(path))?;
    let len = to_usize(h.nbytes()?, "data").map_err(|e| e.at(path))?;
    let mapping = Mapping::map_file(&file, path, offset, len, mode)?;
    file_array(&h, mapping, Some(mode), path, offset, Some(version))
}

/// `np.load(path)`: reads a whole `.npy` file into memory.
pub fn load_npy(path: &Path) -> Result<Array> {
    let (mut file, file_len) = open_existing(path, false)?;
    let (h, offset, version) = read_header(&mut file, file_len).map_err(|e| e.at(path))?;
    let len = to_usize(h.nbytes()?, "data").map_err(|e| e.at(path))?;
    let mapping = read_into_memory(&mut file, len).map_err(|e| e.at(path))?;
    file_array(&h, mapping, None, path, offset, Some(version))
}

/// Reads `len` bytes from the file's current position into fresh memory.
fn read_into_memory(file: &mut File, len: usize) -> Result<Mapping> {
    let mapping = Mapping::anonymous(len)?;
    if len > 0 {
        // SAFETY: the mapping is fresh, private to this function and `len` bytes long.
        let dst = unsafe { std::slice::from_raw_parts_mut(mapping.as_ptr(), len) };
        let got = read_up_to(file, dst).map_err(|e| Error::io("cannot read", &e))?;
        if got < len {
            return err(ErrorKind::Truncated, format!("file is too short: expected {len} data bytes, read {got}"));
        }
    }
    Ok(mapping)
}

/// What to create: dtype, byte order, shape and memory order.
#[derive(Debug, Clone)]
pub struct NewArray {
    pub dtype: DType,
    pub byte_order: ByteOrder,
    pub shape: Vec<usize>,
    pub fortran_order: bool,
}

impl NewArray {
    /// The header of an array of this spec (no extended descr).
    pub fn header(&self) -> Header {
        Header {
            dtype: self.dtype,
            byte_order: self.dtype.order(self.byte_order),
            fortran_order: self.fortran_order,
            shape: self.shape.iter().map(|&d| d as u64).collect(),
            descr: None,
        }
    }
}

/// `np.lib.format.open_memmap(path, mode='w+', ...)`: creates (or replaces) a `.npy`
/// file of zeros, allocated sparsely, and maps it shared.
pub fn create_npy(path: &Path, spec: &NewArray, version: Option<(u8, u8)>) -> Result<Array> {
    create_npy_with(path, spec.header(), version, false)
}

/// [`create_npy`] for any dtype: the header says what to create. `durable`: the new
/// file (its header and size) and its folder are synced before it is mapped, so it
/// exists under its name after a power loss; data written later through the mapping
/// are synced by `flush` (`msync(MS_SYNC)` waits for the disk).
pub fn create_npy_with(path: &Path, h: Header, version: Option<(u8, u8)>, durable: bool) -> Result<Array> {
    let nbytes = h.nbytes()?;
    let len = to_usize(nbytes, "data")?;
    let head = h.to_bytes(version)?;
    let offset = head.len() as u64;
    // Sparse: the data is a hole until written.
    let file = create_sparse(path, &head, nbytes, durable)?;
    let mapping = Mapping::map_file(&file, path, offset, len, Mode::Write)?;
    file_array(&h, mapping, Some(Mode::Write), path, offset, Some(version.unwrap_or((1, 0))))
}

/// `np.memmap`: maps a raw binary file as the dtype, byte order and memory order of `h`
/// (any dtype, records and strings too). Without `shape_given`, the shape is the number
/// of whole elements after `offset`. A file shorter than `offset` + the shape is an
/// error in every mode (NumPy extends it in `'r+'`); `'w+'` creates the file (synced
/// with its folder when `durable`, as [`create_npy_with`]).
pub fn memmap_raw(path: &Path, h: &Header, shape_given: bool, mode: Mode, offset: u64, durable: bool) -> Result<Array> {
    let itemsize = h.itemsize() as u64;
    let dtype = h.full_descr().name().unwrap_or_else(|_| "record".into());
    let (file, shape) = if mode == Mode::Write {
        if !shape_given {
            return Err(Error::new(ErrorKind::InvalidArgument, "shape must be given if mode == 'w+'").at(path));
        }
        let nbytes = h.nbytes()?;
        // np.memmap 'w+' makes the file exactly offset + nbytes long, zero-filled.
        let len = offset.checked_add(nbytes).ok_or_else(|| Error::new(ErrorKind::BadShape, "offset + size overflows 64 bits"))?;
        let file = create_sparse(path, &[], len, durable)?;
        (file, h.shape.clone())
    } else {
        let (file, file_len) = open_existing(path, mode.shared())?;
        if offset > file_len {
            return Err(Error::new(ErrorKind::Truncated, format!("file is too short: offset {offset} is past its end ({file_len} bytes)")).at(path));
        }
        let available = file_len - offset;
        let shape = if shape_given {
            let nbytes = h.nbytes()?;
            if nbytes > available {
                return Err(Error::new(
                    ErrorKind::Truncated,
                    format!(
                        "file is too short: shape {} of {dtype} needs {nbytes} bytes after offset {offset}, the file has {available}",
                        header::shape_repr(&h.shape),
                    ),
                )
                .at(path));
            }
            h.shape.clone()
        } else {
            vec![whole_elements(available, itemsize, &dtype).map_err(|e| e.at(path))?]
        };
        (file, shape)
    };
    let h = Header { shape, ..h.clone() };
    let len = to_usize(h.nbytes()?, "data")?;
    let mapping = Mapping::map_file(&file, path, offset, len, mode)?;
    file_array(&h, mapping, Some(mode), path, offset, None)
}

/// How many `itemsize`-byte elements `available` bytes hold, exactly (NumPy's rule for a
/// shape inferred from the file size); a dtype of 0 bytes has no such count.
fn whole_elements(available: u64, itemsize: u64, dtype: &str) -> Result<u64> {
    if itemsize == 0 {
        return err(ErrorKind::InvalidArgument, format!("the dtype {dtype} has 0 bytes per element: give the shape (or count)"));
    }
    if !available.is_multiple_of(itemsize) {
        return err(ErrorKind::InvalidArgument, format!("size of available data ({available} bytes) is not a multiple of the {itemsize}-byte {dtype}"));
    }
    Ok(available / itemsize)
}

/// `np.fromfile`: reads `count` elements (all whole elements when `None`) of the dtype of
/// `h` (its shape is ignored) from `offset` into memory.
pub fn from_file(path: &Path, h: &Header, count: Option<u64>, offset: u64) -> Result<Array> {
    use std::io::{Seek, SeekFrom};
    let (mut file, file_len) = open_existing(path, false)?;
    let itemsize = h.itemsize() as u64;
    let dtype = h.full_descr().name().unwrap_or_else(|_| "record".into());
    if itemsize == 0 {
        // np.fromfile: "The elements are 0-sized."
        return Err(Error::new(ErrorKind::InvalidArgument, format!("the dtype {dtype} has 0 bytes per element: nothing to read")).at(path));
    }
    // Whole elements after `offset`: np.fromfile drops a trailing partial one.
    let available = file_len.saturating_sub(offset) / itemsize;
    let n = match count {
        None => available,
        Some(c) if c <= available => c,
        Some(c) => {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!("file is too short: {c} elements of {dtype} requested after offset {offset}, the file has {available}"),
            )
            .at(path))
        }
    };
    let h = Header { shape: vec![n], fortran_order: false, ..h.clone() };
    let len = to_usize(h.nbytes()?, "data")?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| Error::io("cannot seek", &e).at(path))?;
    let mapping = read_into_memory(&mut file, len).map_err(|e| e.at(path))?;
    file_array(&h, mapping, None, path, offset, None)
}

/// An in-memory array holding a copy of `bytes`.
pub fn from_bytes(bytes: &[u8], spec: &NewArray) -> Result<Array> {
    let nbytes = spec.header().nbytes()?;
    if nbytes != bytes.len() as u64 {
        return err(ErrorKind::InvalidArgument, format!("{} bytes given for an array of {nbytes} bytes", bytes.len()));
    }
    in_memory(Mapping::from_bytes(bytes)?, spec)
}

/// A new in-memory array of zeros (overflow-checked size).
pub fn zeros(spec: &NewArray) -> Result<Array> {
    let len = to_usize(spec.header().nbytes()?, "data")?;
    in_memory(Mapping::anonymous(len)?, spec)
}

/// An in-memory array of any dtype holding a copy of `bytes` (zeros when `None`),
/// in the dtype's byte order and C order (Fortran order when `h.fortran_order`).
pub fn from_bytes_with(h: &Header, bytes: Option<&[u8]>) -> Result<Array> {
    let nbytes = h.nbytes()?;
    let mapping = match bytes {
        Some(b) if b.len() as u64 != nbytes => return err(ErrorKind::InvalidArgument, format!("{} bytes given for an array of {nbytes} bytes", b.len())),
        Some(b) => Mapping::from_bytes(b)?,
        None => Mapping::anonymous(to_usize(nbytes, "data")?)?,
    };
    Ok(Array {
        mapping: Arc::new(mapping),
        dtype: h.dtype,
        byte_order: h.byte_order,
        shape: to_usize_shape(&h.shape)?,
        fortran_order: h.fortran_order,
        mode: None,
        path: None,
        file_offset: 0,
        version: None,
        descr: h.descr.clone(),
    })
}

pub(crate) fn in_memory(mapping: Mapping, spec: &NewArray) -> Result<Array> {
    Ok(Array {
        mapping: Arc::new(mapping),
        dtype: spec.dtype,
        byte_order: spec.dtype.order(spec.byte_order),
        shape: spec.shape.clone(),
        fortran_order: spec.fortran_order,
        mode: None,
        path: None,
        file_offset: 0,
        version: None,
        descr: None,
    })
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new file about to replace another: written under a temporary name beside the
/// target (through symlinks: beside the file they point to), then renamed over it.
/// Replacing rather than truncating keeps every existing mapping of the old file
/// valid (truncating a mapped file makes its readers fault with `SIGBUS`).
///
/// Temporary names are `.{name}.{pid}-{n}.mmnpy-tmp`: a writer killed before its
/// rename leaves one behind, and the next replacement in the same folder removes
/// those whose process no longer runs ([`remove_stale_temporaries`]).
///
/// Without `durable`, a replacement is atomic against crashes of the process: the
/// target is the old file or the complete new one. With `durable`, the new file and
/// then its folder are `fsync`ed too, so the same holds after a power loss or an
/// operating-system crash.
#[derive(Debug)]
pub(crate) struct Replacement {
    pub(crate) file: File,
    tmp: PathBuf,
    target: PathBuf,
    durable: bool,
}

const TEMP_SUFFIX: &str = ".mmnpy-tmp";

/// Removes temporary files of killed mmnpy writers from `dir`: names ending in
/// `.mmnpy-tmp` whose writer's process id is not alive any more (on Unix; elsewhere
/// nothing is removed). A file of a live process (even a reused id) is kept.
fn remove_stale_temporaries(dir: &Path) {
    #[cfg(unix)]
    {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(TEMP_SUFFIX)) else { continue };
            // `{name}.{pid}-{n}`: the pid sits between the last '.' and the last '-'.
            let Some(tail) = stem.rsplit('.').next() else { continue };
            let Some(pid) = tail.split('-').next().and_then(|p| p.parse::<i32>().ok()) else { continue };
            if pid <= 0 || pid as u32 == std::process::id() {
                continue;
            }
            // SAFETY: kill with signal 0 only checks whether the process exists.
            let gone = unsafe { libc::kill(pid, 0) } == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// `fsync` of a folder, so that a rename inside it survives a crash of the system.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("cannot sync the folder", &e).at(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl Replacement {
    pub(crate) fn create(path: &Path) -> Result<Replacement> {
        // Write through symlinks, as NumPy does, by replacing the file they point to.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        // Only regular files are replaced: renaming over a device (/dev/null as root), a
        // FIFO or a socket would destroy it.
        if let Ok(meta) = std::fs::metadata(&target) {
            if !meta.is_file() {
                let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
                return Err(Error::new(ErrorKind::Io, format!("cannot replace: it is {what}")).at(path));
            }
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        remove_stale_temporaries(&dir);
        let tmp = dir.join(format!(".{name}.{}-{}{TEMP_SUFFIX}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io("cannot create a temporary file beside", &e).at(path))?;
        // Keep the permissions of the file being replaced.
        if let Ok(meta) = std::fs::metadata(&target) {
            let _ = file.set_permissions(meta.permissions());
        }
        Ok(Replacement { file, tmp, target, durable: false })
    }

    /// `fsync` of the new file when durable.
    fn sync_file(&self) -> Result<()> {
        if self.durable {
            self.file.sync_all().map_err(|e| Error::io("cannot sync", &e))?;
        }
        Ok(())
    }

    /// `fsync` of the target's folder when durable (after the new name is in place).
    fn sync_folder(&self) -> Result<()> {
        if self.durable {
            sync_dir(self.target.parent().unwrap_or(Path::new(".")))?;
        }
        Ok(())
    }

    /// Makes the replacement survive a power loss too (see the type's doc).
    pub(crate) fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Renames the new file over the target; on error the temporary file is removed.
    pub(crate) fn commit(self, result: Result<()>) -> Result<File> {
        let durable = self.durable;
        let result = result
            .and_then(|_| self.sync_file())
            .and_then(|_| {
                let old = hold_replaced(&self.target);
                if old.is_some() && !durable && exchange(&self.tmp, &self.target) {
                    // The temporary name holds the old file now; it is freed when `old` goes.
                    let _ = std::fs::remove_file(&self.tmp);
                } else {
                    std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io("cannot rename the temporary file onto", &e))?;
                }
                if let Some(old) = old {
                    release_in_background(old);
                }
                Ok(())
            })
            .and_then(|_| self.sync_folder());
        match result {
            Ok(()) => Ok(self.file),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }
}

impl Replacement {
    /// The path being written (the target, not the temporary file).
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Gives the new file the target's name only if nothing has that name (a hard link,
    /// then the temporary name removed): `ErrorKind::Exists` if something took it since.
    pub(crate) fn commit_new(self) -> Result<File> {
        if let Err(e) = self.sync_file() {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e.at(&self.target));
        }
        if let Err(e) = std::fs::hard_link(&self.tmp, &self.target) {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                let _ = std::fs::remove_file(&self.tmp);
                return Err(Error::new(ErrorKind::Exists, "cannot create: the file exists (it appeared while being written)").at(&self.target));
            }
            // File systems without hard links: a rename, checked just before.
            if self.target.exists() {
                let _ = std::fs::remove_file(&self.tmp);
                return Err(Error::new(ErrorKind::Exists, "cannot create: the file exists (it appeared while being written)").at(&self.target));
            }
            std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io("cannot rename the temporary file onto", &e).at(&self.target))?;
            return Ok(self.file);
        }
        let _ = std::fs::remove_file(&self.tmp);
        self.sync_folder()?;
        Ok(self.file)
    }

    /// Gives up: removes the temporary file.
    pub(crate) fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Replaced files at least this large are freed in the background ([`hold_replaced`]).
const RELEASE_BEHIND_MIN: u64 = 32 << 20;

/// The big file a `rename` is about to replace, held open (`O_PATH`: no read access
/// needed, never blocks) so that freeing it does not happen inside the call: the last
/// reference to a replaced file frees its cached pages and its blocks, which takes a
/// while for a big file, and that is not the caller's wait.
#[cfg(target_os = "linux")]
fn hold_replaced(target: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_NOFOLLOW).open(target).ok()?;
    let meta = f.metadata().ok()?;
    (meta.is_file() && meta.len() >= RELEASE_BEHIND_MIN).then_some(f)
}

#[cfg(not(target_os = "linux"))]
fn hold_replaced(_target: &Path) -> Option<File> {
    None
}

/// Swaps the two names atomically (`renameat2(RENAME_EXCHANGE)`); false where the
/// kernel or the file system cannot. Replacing a big file so, instead of renaming over
/// it, keeps ext4 from writing the new file back inside the call (its `auto_da_alloc`
/// does that for a rename over an existing file: ~1 s per GiB here): the new file's
/// data reach the disk when the kernel writes them back, which is all a write without
/// `durable` promises; `durable` writes sync and rename.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (std::ffi::CString::new(a.as_os_str().as_bytes()), std::ffi::CString::new(b.as_os_str().as_bytes())) else { return false };
    // SAFETY: two NUL-terminated paths; the raw syscall needs no glibc 2.28 symbol.
    unsafe { libc::syscall(libc::SYS_renameat2, libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> bool {
    false
}

/// Drops the last reference to a replaced file on a thread of its own.
fn release_in_background(old: File) {
    // Spawning fails only when threads run out: then the file is dropped here.
    let _ = std::thread::Builder::new().name("mmnpy-release".into()).spawn(move || drop(old));
}

/// Writes a file atomically: into a temporary file beside it, then renamed over
/// `path` (synced first when `durable`). On error the temporary file is removed and
/// `path` is untouched.
fn write_atomic(path: &Path, durable: bool, write: impl FnOnce(&mut BufWriter<&File>) -> Result<()>) -> Result<()> {
    let r = Replacement::create(path)?.durable(durable);
    let result = {
        let mut w = BufWriter::with_capacity(1 << 20, &r.file);
        write(&mut w).and_then(|_| w.flush().map_err(|e| Error::io("cannot write", &e)))
    };
    r.commit(result).map(drop).map_err(|e| e.at(path))
}

/// Creates `path` holding `head` followed by `data_len` zero bytes (a sparse hole),
/// replacing any existing file without truncating it; returns the file, open read-write.
/// `durable`: synced, and its folder after the rename.
fn create_sparse(path: &Path, head: &[u8], data_len: u64, durable: bool) -> Result<File> {
    let r = Replacement::create(path)?.durable(durable);
    let result = (|| {
        (&r.file).write_all(head).map_err(|e| Error::io("cannot write the header", &e))?;
        let len = (head.len() as u64).checked_add(data_len).ok_or_else(|| Error::new(ErrorKind::BadShape, "file size overflows 64 bits"))?;
        r.file.set_len(len).map_err(|e| Error::io("cannot size the file", &e))
    })();
    r.commit(result).map_err(|e| e.at(path))
}

/// `np.save` of raw element bytes (already in `spec`'s byte and memory order).
pub fn save_bytes(path: &Path, spec: &NewArray, bytes: &[u8], version: Option<(u8, u8)>, durable: bool) -> Result<()> {
    let h = spec.header();
    if h.nbytes()? != bytes.len() as u64 {
        return err(ErrorKind::InvalidArgument, format!("{} bytes given for an array of {} bytes", bytes.len(), h.nbytes()?));
    }
    let head = h.to_bytes(version)?;
    write_atomic(path, durable, |w| {
        w.write_all(&head).map_err(|e| Error::io("cannot write", &e))?;
        w.write_all(bytes).map_err(|e| Error::io("cannot write", &e))
    })
}

/// `np.save` of a view: C order, or Fortran order when the view is Fortran- and
/// not C-contiguous (as NumPy decides); the byte order is kept.
pub fn save_view(path: &Path, map: &Mapping, layout: &Layout, dtype: DType, byte_order: ByteOrder, version: Option<(u8, u8)>, durable: bool) -> Result<()> {
    save_view_as(path, map, None, layout, &Descr::numeric(dtype, byte_order), version, durable)
}

/// [`save_view`] for any dtype; `source` is the file `map` maps, if any (see
/// [`Mapping::write_range`]).
pub fn save_view_as(path: &Path, map: &Mapping, source: Option<&Path>, layout: &Layout, descr: &Descr, version: Option<(u8, u8)>, durable: bool) -> Result<()> {
    let (head, fortran) = view_header(map, layout, descr, version)?;
    write_atomic(path, durable, |w| {
        w.write_all(&head).map_err(|e| Error::io("cannot write", &e))?;
        write_view(w, map, source, layout, descr.itemsize(), fortran)
    })
}

/// The `.npy` header of a view as [`save_view`] writes it, and whether the data go in
/// Fortran order.
fn view_header(map: &Mapping, layout: &Layout, descr: &Descr, version: Option<(u8, u8)>) -> Result<(Vec<u8>, bool)> {
    let itemsize = descr.itemsize();
    layout.check(itemsize, map.len())?;
    let fortran = layout.is_f_contiguous(itemsize) && !layout.is_c_contiguous(itemsize);
    let h = Header::with_descr(descr.clone(), fortran, layout.shape.iter().map(|&d| d as u64).collect());
    Ok((h.to_bytes(version)?, fortran))
}

/// Writes the elements of a view (checked by [`view_header`]) in file order; `source`,
/// the file `map` maps, lets the kernel copy long runs file to file.
fn write_view(w: &mut BufWriter<&File>, map: &Mapping, source: Option<&Path>, layout: &Layout, itemsize: usize, fortran: bool) -> Result<()> {
    let mut emit = |off: usize, len: usize| map.write_range(w, source, off, len);
    if fortran {
        // Fortran-contiguous: memory order is the file order, one block.
        emit(layout.offset, layout.size() * itemsize)
    } else {
        layout.for_each_run(itemsize, emit)
    }
}

/// Reserves the blocks of bytes `offset..offset+len` of `file` (`posix_fallocate`),
/// so that writing them later, through a mapping too, cannot run out of space. A
/// sparse file on a full tmpfs kills the process that writes it through a mapping
/// (`SIGBUS`); this fails with `ENOSPC` instead. Elsewhere than Linux the file is
/// only extended.
pub fn preallocate(file: &File, offset: u64, len: u64) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (off, n) = (i64::try_from(offset), i64::try_from(len));
        let (Ok(off), Ok(n)) = (off, n) else { return err(ErrorKind::BadShape, "file size overflows 64 bits") };
        // SAFETY: plain syscall on an open descriptor; it returns the error number.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), off, n) };
        if rc != 0 {
            let e = std::io::Error::from_raw_os_error(rc);
            return Err(Error::io(&format!("cannot reserve {len} bytes on disk"), &e));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let end = offset.checked_add(len).ok_or_else(|| Error::new(ErrorKind::BadShape, "file size overflows 64 bits"))?;
        let now = file.metadata().map_err(|e| Error::io("cannot stat the file", &e))?.len();
        if now < end {
            file.set_len(end).map_err(|e| Error::io("cannot size the file", &e))?;
        }
        Ok(())
    }
}

/// Reserves the blocks behind bytes `offset..offset+len` of the file at `path` (see
/// [`preallocate`]), for a sparse output file about to be written through mappings.
pub fn preallocate_path(path: &Path, offset: u64, len: u64) -> Result<()> {
    let file = OpenOptions::new().write(true).open(path).map_err(|e| Error::io("cannot open", &e).at(path))?;
    preallocate(&file, offset, len).map_err(|e| e.at(path))
}

/// `np.save` of a view into a new file at `path` (which must not exist), its whole
/// size reserved first with [`preallocate`]: no space is an error before any byte of
/// data is written, and the file can then be mapped and written without `SIGBUS`. On
/// error the file is removed. For temporary files that only this process names (the
/// parallel workers' inputs), so not atomic.
pub fn save_view_preallocated(path: &Path, map: &Mapping, layout: &Layout, dtype: DType, byte_order: ByteOrder) -> Result<()> {
    let (head, fortran) = view_header(map, layout, &Descr::numeric(dtype, byte_order), None)?;
    let data = (layout.size() as u64).checked_mul(dtype.itemsize() as u64).ok_or_else(|| Error::new(ErrorKind::BadShape, "array size overflows 64 bits"))?;
    let file = open_new(path)?;
    let result = (|| {
        preallocate(&file, 0, head.len() as u64 + data)?;
        let mut w = BufWriter::with_capacity(1 << 20, &file);
        w.write_all(&head).map_err(|e| Error::io("cannot write", &e))?;
        write_view(&mut w, map, None, layout, dtype.itemsize(), fortran)?;
        w.flush().map_err(|e| Error::io("cannot write", &e))
    })();
    if result.is_err() {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
    result.map_err(|e| e.at(path))
}

/// Creates `path`, which must not exist, readable and writable by its owner only.
fn open_new(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| Error::io("cannot create", &e).at(path))
}

impl Array {
    /// Saves the whole array like `np.save`.
    pub fn save(&self, path: &Path, version: Option<(u8, u8)>) -> Result<()> {
        save_view_as(path, &self.mapping, self.path.as_deref(), &self.layout(), &self.full_descr(), version, false)
    }

    /// The header this array would get in a `.npy` file.
    pub fn npy_header(&self, version: Option<(u8, u8)>) -> Result<Vec<u8>> {
        self.header().to_bytes(version)
    }
}
