//! `.npz` archives (`np.savez`, `np.savez_compressed`, `np.load` of an `.npz`).
//!
//! ```text
//! an .npz is a zip archive (format in crate::zip) whose members are .npy files:
//!   member  "<key>.npy"      one array per key; positional arrays are arr_0, arr_1...
//!   method  0 (stored)       np.savez: the .npy bytes as they are
//!           8 (deflate)      np.savez_compressed
//! the key is the member name without ".npy" (NumPy's NpzFile.files); a key may
//! hold '/' or any Unicode character: it is a dict key, never a path.
//! ```
//!
//! NumPy writes every member with ZIP64 local fields and stored data at whatever
//! offset follows the header (183, 452, ...: not aligned). mmnpy's [`NpzWriter`]
//! starts each stored member at a multiple of 64 bytes, so, since a `.npy`
//! header is a multiple of 64 bytes long, the array data are 64-byte aligned too.
//!
//! Reading: with a mode (`'r'` or `'c'`), a stored member is mapped in place, at
//! its offset in the archive: O(1) in its size, no copy, and its CRC-32 is not
//! verified (that would read every byte). `'r+'` and `'w+'` are refused: a write
//! would make the member disagree with its CRC. Deflated members, and stored ones
//! without a mode, are read into memory with their CRC checked. A member's size
//! must be exactly its `.npy` header plus the data the header declares, checked
//! before any memory is allocated, and inflation stops there: a deflate stream
//! that would produce more is refused (as is one claiming more than deflate's
//! 1032:1 maximum ratio), so a zip bomb costs at most the declared size.
//!
//! A member read into memory is written once, front to back, into anonymous
//! memory whose size is known beforehand; most of that cost is the kernel faulting
//! (zeroing) fresh pages, not the inflating. So the memory asks for huge pages and
//! a second pool thread faults it in ahead of the inflater
//! ([`Mapping::fill`]); the one deflate stream itself stays on one thread.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::descr::Descr;
use crate::dtype::ByteOrder;
use crate::error::{Error, ErrorKind, Result};
use crate::header::{self, Header, PREAMBLE_MAX};
use crate::kernels::pool;
use crate::mapping::{Mapping, Mode};
use crate::npy::{self, Array, NewArray, Replacement};
use crate::view::Layout;
use crate::zip::{Archive, Entry, Method, ZipWriter};
use crate::DType;

/// Deflate's largest possible expansion ratio (a run of one byte value).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// An open `.npz` archive; members are read on demand.
#[derive(Debug)]
pub struct NpzFile {
    archive: Archive,
    mode: Option<Mode>,
}

/// `np.load('x.npz', mmap_mode=mode)`.
pub fn open_npz(path: &Path, mode: Option<Mode>) -> Result<NpzFile> {
    if let Some(m @ (Mode::ReadWrite | Mode::Write)) = mode {
        return Err(Error::new(
            ErrorKind::UnsupportedMode,
            format!(
                "mode '{}' is not supported for .npz archives: members are mapped 'r' or 'c' only, since a write into the archive would break the member's CRC-32; use 'c' for private changes, or saveNpy to write a member out",
                m.name()
            ),
        )
        .at(path));
    }
    Ok(NpzFile { archive: Archive::open(path)?, mode })
}

/// Puts the member's name in front of an error's message.
fn in_member(e: Error, member: &str) -> Error {
    if e.message().contains(&format!("'{member}'")) {
        return e;
    }
    let mut out = Error::new(e.kind(), format!("member '{member}': {}", e.message()));
    if let Some(p) = e.path() {
        out = out.at(Path::new(p));
    }
    out
}

impl NpzFile {
    pub fn path(&self) -> &Path {
        self.archive.path()
    }

    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    /// NumPy's `files`: the member names, `.npy` removed where they end with it.
    pub fn keys(&self) -> Vec<String> {
        self.archive.entries().iter().map(|e| e.name.strip_suffix(".npy").unwrap_or(&e.name).to_string()).collect()
    }

    /// The member a key names: the exact member name first, then `key + ".npy"` (as NumPy).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.archive.find(key).or_else(|| self.archive.find(&format!("{key}.npy")))
    }

    fn entry_or_error(&self, key: &str) -> Result<&Entry> {
        self.entry(key).ok_or_else(|| {
            let keys = self.keys();
            let shown: Vec<String> = keys.iter().take(10).map(|k| format!("'{k}'")).collect();
            let more = if keys.len() > 10 { format!(" and {} more", keys.len() - 10) } else { String::new() };
            Error::new(
                ErrorKind::NotFound,
                format!("no member '{key}' in the archive (it holds {}{more})", if shown.is_empty() { "none".into() } else { shown.join(", ") }),
            )
            .at(self.archive.path())
        })
    }

    /// The array of member `key`: mapped (stored, with a mode) or in memory.
    pub fn get(&self, key: &str) -> Result<Array> {
        let e = self.entry_or_error(key)?;
        self.read_member(e).map_err(|err| in_member(err, &e.name).at(self.archive.path()))
    }

    /// Several members; deflated ones are inflated in parallel on the kernel pool.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Array>> {
        let entries = keys.iter().map(|k| self.entry_or_error(k)).collect::<Result<Vec<_>>>()?;
        if entries.len() <= 1 {
            return entries.iter().map(|e| self.get(&e.name)).collect();
        }
        pool::install(|| entries.par_iter().map(|e| self.get(&e.name)).collect())
    }

    /// The raw bytes of a small member (a `.npy` file of at most `max` bytes, CRC
    /// checked): for members whose dtype mmnpy does not map, such as the `|S3` string
    /// `scipy.sparse.save_npz` stores as `format`.
    pub fn get_raw(&self, key: &str, max: u64) -> Result<Vec<u8>> {
        let e = self.entry_or_error(key)?;
        let read = || -> Result<Vec<u8>> {
            if e.uncompressed_size > max {
                return Err(Error::new(ErrorKind::BadZip, format!("the member holds {} bytes, more than the {max} expected", e.uncompressed_size)));
            }
            if !e.is_stored() && e.uncompressed_size / MAX_DEFLATE_RATIO > e.compressed_size {
                return Err(Error::new(ErrorKind::BadZip, "the member claims more bytes than deflate can encode: refused as a zip bomb"));
            }
            let mut r = self.archive.reader(e)?;
            let mut out = vec![0u8; e.uncompressed_size as usize];
            r.read_exact(&mut out)?;
            r.finish()?;
            Ok(out)
        };
        read().map_err(|err| in_member(err, &e.name).at(self.archive.path()))
    }

    fn read_member(&self, e: &Entry) -> Result<Array> {
        let mut r = self.archive.reader(e)?;
        // The preamble, then the header text, through the same reader.
        let n = (r.remaining() as usize).min(PREAMBLE_MAX);
        let mut pre = [0u8; PREAMBLE_MAX];
        r.read_exact(&mut pre[..n])?;
        let preamble = header::parse_preamble(&pre[..n])?;
        let mut text = vec![0u8; preamble.header_len];
        let have = (n - preamble.len).min(preamble.header_len);
        text[..have].copy_from_slice(&pre[preamble.len..preamble.len + have]);
        let rest = (preamble.header_len - have) as u64;
        if rest > r.remaining() {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!("the member ends inside its .npy header ({} header bytes, the member holds {})", preamble.header_len, e.uncompressed_size),
            ));
        }
        r.read_exact(&mut text[have..])?;
        let h = header::parse_header(preamble.version, &text)?;
        let nbytes = h.nbytes()?;
        let data_at = preamble.data_offset() as u64;
        let declared = data_at.checked_add(nbytes).ok_or_else(|| Error::new(ErrorKind::BadShape, "the member's size overflows 64 bits"))?;
        if declared != e.uncompressed_size {
            let (kind, what) =
                if declared > e.uncompressed_size { (ErrorKind::Truncated, "too short") } else { (ErrorKind::BadZip, "longer than its .npy header says") };
            return Err(Error::new(
                kind,
                format!(
                    "the member is {what}: shape {} of {} needs {declared} bytes with the header, the member holds {}",
                    header::shape_repr(&h.shape),
                    h.dtype.descr(h.byte_order),
                    e.uncompressed_size
                ),
            ));
        }
        if !e.is_stored() && nbytes / MAX_DEFLATE_RATIO > e.compressed_size {
            return Err(Error::new(
                ErrorKind::BadZip,
                format!(
                    "the member claims {nbytes} bytes from {} compressed bytes, more than deflate can encode (1032:1): refused as a zip bomb",
                    e.compressed_size
                ),
            ));
        }
        let len = npy::to_usize(nbytes, "data")?;
        let path = self.archive.path();
        let offset = e.data_offset + data_at;
        if let (true, Some(mode)) = (e.is_stored(), self.mode) {
            let mapping = Mapping::map_file(self.archive.file(), path, offset, len, mode)?;
            return npy::file_array(&h, mapping, Some(mode), path, offset, Some(preamble.version));
        }
        // Memory faulted in on a second thread while this one inflates (or reads) into it.
        let mapping = Mapping::anonymous(len)?;
        mapping.fill(|dst| r.read_exact(dst))?;
        r.finish()?;
        let file_offset = if e.is_stored() { offset } else { 0 };
        npy::file_array(&h, mapping, None, path, file_offset, Some(preamble.version))
    }
}

/// `np.savez` / `np.savez_compressed`: writes members one by one into a temporary
/// file beside the target, renamed over it by [`finish`](NpzWriter::finish).
/// Dropped unfinished, it removes the temporary file and leaves the target untouched.
pub struct NpzWriter {
    replacement: Option<Replacement>,
    zip: Option<ZipWriter>,
    method: Method,
    path: PathBuf,
}

impl NpzWriter {
    /// `compress`: a deflate level 1..=9, or `None` for stored members.
    pub fn create(path: &Path, compress: Option<u32>) -> Result<NpzWriter> {
        let method = match compress {
            None => Method::Stored,
            Some(l @ 1..=9) => Method::Deflated(l),
            Some(l) => return Err(Error::new(ErrorKind::InvalidArgument, format!("compression level must be 1 to 9, got {l}")).at(path)),
        };
        let r = Replacement::create(path)?;
        let file = r.file.try_clone().map_err(|e| Error::io("cannot duplicate the file handle of", &e).at(path))?;
        Ok(NpzWriter { replacement: Some(r), zip: Some(ZipWriter::new(file)), method, path: path.to_path_buf() })
    }

    /// Makes the archive survive a power loss too: the file and its folder are synced
    /// before [`finish`](NpzWriter::finish) returns (see `Replacement`).
    pub fn durable(mut self, durable: bool) -> Self {
        self.replacement = self.replacement.take().map(|r| r.durable(durable));
        self
    }

    fn zip(&mut self) -> Result<&mut ZipWriter> {
        self.zip.as_mut().ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the archive is already finished").at(&self.path))
    }

    /// Adds `key.npy` holding a view: C order, or Fortran order when the view is
    /// Fortran- and not C-contiguous (as `np.save`); byte order kept.
    pub fn add_view(&mut self, key: &str, map: &Mapping, layout: &Layout, dtype: DType, byte_order: ByteOrder, version: Option<(u8, u8)>) -> Result<()> {
        self.add_view_as(key, map, layout, &Descr::numeric(dtype, byte_order), version)
    }

    /// [`NpzWriter::add_view`] for any dtype (datetimes, strings, records).
    pub fn add_view_as(&mut self, key: &str, map: &Mapping, layout: &Layout, descr: &Descr, version: Option<(u8, u8)>) -> Result<()> {
        let itemsize = descr.itemsize();
        layout.check(itemsize, map.len()).map_err(|e| e.at(&self.path))?;
        let fortran = layout.is_f_contiguous(itemsize) && !layout.is_c_contiguous(itemsize);
        let h = Header::with_descr(descr.clone(), fortran, layout.shape.iter().map(|&d| d as u64).collect());
        let head = h.to_bytes(version)?;
        let size = head.len() as u64 + h.nbytes()?;
        let method = self.method;
        let path = self.path.clone();
        self.zip()?
            .add(&format!("{key}.npy"), size, method, |sink| {
                sink(&head)?;
                let mut emit = |off: usize, len: usize| {
                    // SAFETY: `layout.check` proved every element lies inside the mapping.
                    sink(unsafe { std::slice::from_raw_parts(map.as_ptr().add(off), len) })
                };
                if fortran {
                    emit(layout.offset, layout.size() * itemsize)
                } else {
                    layout.for_each_run(itemsize, emit)
                }
            })
            .map_err(|e| e.at(&path))
    }

    /// Adds `key.npy` holding raw element bytes (already in `spec`'s byte and memory order).
    pub fn add_bytes(&mut self, key: &str, spec: &NewArray, bytes: &[u8], version: Option<(u8, u8)>) -> Result<()> {
        let h = Header {
            dtype: spec.dtype,
            byte_order: spec.dtype.order(spec.byte_order),
            fortran_order: spec.fortran_order,
            shape: spec.shape.iter().map(|&d| d as u64).collect(),
            descr: None,
        };
        if h.nbytes()? != bytes.len() as u64 {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("{} bytes given for an array of {} bytes", bytes.len(), h.nbytes()?)).at(&self.path));
        }
        let head = h.to_bytes(version)?;
        let size = (head.len() + bytes.len()) as u64;
        let method = self.method;
        let path = self.path.clone();
        self.zip()?
            .add(&format!("{key}.npy"), size, method, |sink| {
                sink(&head)?;
                sink(bytes)
            })
            .map_err(|e| e.at(&path))
    }

    /// Adds `key.npy` holding a whole `.npy` file given as bytes (for dtypes mmnpy does
    /// not map, such as the `|S3` string `scipy.sparse.save_npz` stores as `format`).
    pub fn add_npy_bytes(&mut self, key: &str, npy: &[u8]) -> Result<()> {
        let method = self.method;
        let path = self.path.clone();
        self.zip()?.add(&format!("{key}.npy"), npy.len() as u64, method, |sink| sink(npy)).map_err(|e| e.at(&path))
    }

    /// Writes the central directory, syncs, and renames the archive into place.
    pub fn finish(mut self) -> Result<()> {
        let zip = self.zip.take().ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the archive is already finished").at(&self.path))?;
        let r = self.replacement.take().expect("replacement lives until finish");
        let result = zip.finish().and_then(|f| f.sync_all().map_err(|e| Error::io("cannot sync", &e)));
        r.commit(result).map(drop).map_err(|e| e.at(&self.path))
    }
}

impl Drop for NpzWriter {
    fn drop(&mut self) {
        self.zip.take();
        if let Some(r) = self.replacement.take() {
            let _ = r.commit(Err(Error::new(ErrorKind::Io, "abandoned")));
        }
    }
}

/// Saves arrays as an `.npz` in one call (`np.savez` / `np.savez_compressed`).
pub fn save_npz(path: &Path, arrays: &[(&str, &Array)], compress: Option<u32>) -> Result<()> {
    let mut w = NpzWriter::create(path, compress)?;
    for (key, a) in arrays {
        w.add_view(key, &a.mapping, &a.layout(), a.dtype, a.byte_order, None)?;
    }
    w.finish()
}
