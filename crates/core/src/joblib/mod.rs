//! joblib files (`joblib.dump`, `joblib.load`): one pickle stream ([`crate::pickle`])
//! with the bytes of every NumPy array written right after the object that stands
//! for it (joblib's `numpy_pickle.py`).
//!
//! ```text
//! a file is a pickle stream, uncompressed or compressed as a whole; the first bytes say which:
//!   80 (PROTO)     uncompressed, pickle protocol 2..5 (4 is joblib's default, 5 on Python 3.14)
//!   78             zlib  (joblib's default compressor: compress=1..9, '.z')
//!   1f 8b          gzip  ('.gz')
//!   42 5a ("BZ")   bz2   ('.bz2')
//!   fd 37 7a 58 5a xz    ('.xz')
//!   5d 00          lzma  ('.lzma', the legacy format)
//!   04 22 4d 18    lz4 frame ('.lz4')
//!   5a 46 ("ZF")   joblib < 0.10, arrays in companion files: refused
//!
//! every numpy.ndarray (and numpy.memmap, numpy.matrix) is pickled as the object
//!   joblib.numpy_pickle.NumpyArrayWrapper  NEWOBJ ()  BUILD {
//!     'subclass': numpy.ndarray | numpy.memmap,   'shape': (d0, d1, ...),
//!     'order': 'C' | 'F',                          'dtype': numpy.dtype(...) + its BUILD state,
//!     'allow_mmap': bool (False in compressed files),
//!     'numpy_array_alignment_bytes': 16            (absent in files of joblib <= 1.1) }
//! and right after that BUILD (protocol 4+: joblib ends the frame there, the bytes
//! below are outside any frame):
//!   L: u8, then L bytes 0xFF    only when numpy_array_alignment_bytes is present: the
//!                               data starts at the next multiple of it (L = 1..=align)
//!   prod(shape) * itemsize      the elements in `order`, in the dtype's byte order
//! and the pickle goes on after the data. An array referenced twice is written twice.
//! ```
//!
//! Reading ([`load`]): the stream runs through the restricted machine, whose `BUILD`
//! of a wrapper ([`ArrayReader`]) takes the array's bytes. Its dtype is any mmnpy
//! holds: numbers, records, datetimes, strings (the dtype's pickled state,
//! [`crate::pickle::globals::build_dtype`]). With a mode, an array of an
//! uncompressed file is mapped at its offset in the file (`np.memmap` in Python), in
//! its byte order and memory order: the load costs O(opcodes), not O(data). `'w+'`
//! maps as `'r+'` (as joblib: the file is never truncated). A compressed file is
//! inflated into memory (joblib ignores `mmap_mode` there too). Without a mode,
//! arrays are read into memory in the machine's byte order, as
//! `joblib.load` does (`ensure_native_byte_order`). Every size is checked before
//! memory is taken: an array's bytes against what is left of the file (or, compressed,
//! against the most the compressed bytes can expand to).
//!
//! Writing ([`Dumper`]): protocol 4 without frames; each array's wrapper declares a
//! 64-byte alignment (joblib reads any declared alignment and maps the data where the
//! pad puts it), so mapped data start on 64-byte boundaries; `allow_mmap` is False in
//! compressed files, as joblib writes them. Compression is one zlib stream (what
//! joblib's `compress=level` writes), deflated in parallel chunks
//! ([`crate::kernels::deflate`]).

mod compress;
mod write;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub use compress::Compression;
pub use write::Dumper;

use crate::descr::Descr;
use crate::dtype::ByteOrder;
use crate::error::{Error, ErrorKind, Result};
use crate::header::Header;
use crate::mapping::{Mapping, Mode};
use crate::npy;
use crate::pickle::globals::{array_descr, shape_of};
use crate::pickle::{self, bad, Arena, Build, Global, Machine, Node, Source, Val};

/// What a joblib file holds.
#[derive(Debug)]
pub struct Loaded {
    pub arena: Arena,
    pub root: Val,
    pub compression: Option<Compression>,
    pub protocol: u8,
}

impl Loaded {
    /// The value as flat steps for a binding ([`pickle::flat`]).
    pub fn flatten(&self) -> Result<pickle::flat::Flat> {
        pickle::flat::flatten(&self.arena, self.root)
    }
}

/// The `BUILD` of joblib's array wrapper: reads (or maps) the array that follows it.
pub struct ArrayReader<'f> {
    /// The mode arrays are mapped in; `None`: read into memory.
    mode: Option<Mode>,
    /// The uncompressed file, for mapping.
    file: Option<&'f File>,
    path: Option<PathBuf>,
}

impl ArrayReader<'_> {
    fn field(arena: &Arena, state: Val, key: &str, at: u64) -> Result<Val> {
        arena.get(state, key).ok_or_else(|| bad(at, format!("the array wrapper has no '{key}'")))
    }
}

impl Build for ArrayReader<'_> {
    fn build(&mut self, class: Global, state: Val, arena: &mut Arena, src: &mut Source) -> Result<Val> {
        let at = src.pos();
        if class != Global::NumpyArrayWrapper {
            return Err(bad(at, format!("BUILD of a {} object", class.name())));
        }
        if !matches!(arena.node(state), Some(Node::Dict(_))) {
            return Err(bad(at, format!("the state of an array wrapper is {}", arena.describe(state))));
        }
        let subclass = Self::field(arena, state, "subclass", at)?;
        match arena.node(subclass) {
            Some(Node::Global(Global::Ndarray | Global::Memmap)) => {}
            _ => return Err(bad(at, format!("the array wrapper's subclass is {}", arena.describe(subclass)))),
        }
        let shape = shape_of(arena, Self::field(arena, state, "shape", at)?, at)?;
        let fortran = match arena.str(Self::field(arena, state, "order", at)?) {
            Some("C") => false,
            Some("F") => true,
            _ => return Err(bad(at, "the array wrapper's order is not 'C' or 'F'")),
        };
        let descr = array_descr(arena, Self::field(arena, state, "dtype", at)?, at)?;
        let allow_mmap = matches!(arena.get(state, "allow_mmap"), Some(Val::Bool(true)) | Some(Val::Int(1)));
        let padded = match arena.get(state, "numpy_array_alignment_bytes") {
            None | Some(Val::None) => false,
            Some(Val::Int(n)) if n > 0 => true,
            Some(v) => return Err(bad(at, format!("the array wrapper's alignment is {}", arena.describe(v)))),
        };
        let h = Header::with_descr(descr, fortran, shape.iter().map(|&d| d as u64).collect());
        let size = h.nbytes()?;
        if padded {
            let mut pad = [0u8; 1];
            src.read_exact(&mut pad, "the array's pad length")?;
            src.skip(pad[0] as u64, "the array's padding")?;
        }
        let data_at = src.pos();
        if size > src.left() {
            let left = if src.exact() { format!("{} are left in the file", src.left()) } else { "the compressed stream cannot hold that many".to_string() };
            return Err(Error::new(
                ErrorKind::Truncated,
                format!(
                    "an array of shape {shape:?} {} needs {size} bytes at byte {data_at} of the pickle, {left}",
                    h.full_descr().to_numpy().unwrap_or_default()
                ),
            ));
        }
        let len = npy::to_usize(size, "array data")?;
        let path = self.path.clone().unwrap_or_default();
        let array = match (self.mode, self.file, allow_mmap) {
            (Some(mode), Some(file), true) => {
                let mapping = Mapping::map_file(file, &path, data_at, len, mode)?;
                src.skip(size, "array data")?;
                npy::file_array(&h, mapping, Some(mode), &path, data_at, None)?
            }
            _ => {
                let descr = h.full_descr();
                let swap = swaps_to_native(&descr);
                let mapping = Mapping::anonymous(len)?;
                mapping.fill(|dst| -> Result<()> {
                    src.read_exact(dst, "array data")?;
                    if swap {
                        descr.swap_in_place(dst);
                    }
                    Ok(())
                })?;
                let native = if swap { Header::with_descr(descr.with_order(ByteOrder::NATIVE), h.fortran_order, h.shape.clone()) } else { h };
                let mut a = npy::file_array(&native, mapping, None, &path, if self.file.is_some() { data_at } else { 0 }, None)?;
                if self.path.is_none() {
                    a.path = None;
                }
                a
            }
        };
        arena.add_array(array)
    }
}

/// Whether `joblib.load` without `mmap_mode` turns an array of this dtype to the
/// machine's byte order (`_ensure_native_byte_order`): a dtype in the other order,
/// or a record whose fields all are (looked at one level down, as joblib does: a
/// record with a one-byte, text, nested or subarray field keeps its order).
fn swaps_to_native(d: &Descr) -> bool {
    let other = |d: &Descr| d.order() != ByteOrder::NotApplicable && !d.order().is_native();
    match d {
        Descr::Record(r) => !r.fields.is_empty() && r.fields.iter().all(|f| f.shape.is_empty() && other(&f.descr)),
        d => other(d),
    }
}

/// Reads the first bytes, names the compressor, and rewinds.
fn sniff(file: &mut File, path: &Path) -> Result<Option<Compression>> {
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read", &e).at(path)),
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io("cannot seek", &e).at(path))?;
    Compression::detect(&head[..n]).map_err(|e| e.at(path))
}

/// `joblib.load(path, mmap_mode=mode)`.
pub fn load(path: &Path, mode: Option<Mode>) -> Result<Loaded> {
    let mode = mode.map(|m| if m == Mode::Write { Mode::ReadWrite } else { m });
    let (mut file, len) = npy::open_existing(path, mode.is_some_and(|m| m.shared()))?;
    let compression = sniff(&mut file, path)?;
    let reader_file = file.try_clone().map_err(|e| Error::io("cannot duplicate the file handle of", &e).at(path))?;
    let buffered = BufReader::with_capacity(1 << 16, reader_file);
    let (src, map_from) = match compression {
        None => (Source::new(Box::new(buffered), len, true), Some(&file)),
        Some(c) => (Source::new(c.decoder(buffered)?, len.saturating_mul(c.max_ratio()), false), None),
    };
    let mut reader = ArrayReader { mode, file: map_from, path: Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())) };
    let machine = Machine::new(src, &mut reader);
    run(machine, compression).map_err(|e| e.at(path))
}

/// A joblib file given as bytes, read into memory (no mapping).
pub fn load_bytes(bytes: &[u8]) -> Result<Loaded> {
    let compression = Compression::detect(&bytes[..bytes.len().min(6)])?;
    let cursor = std::io::Cursor::new(bytes);
    let src = match compression {
        None => Source::new(Box::new(cursor), bytes.len() as u64, true),
        Some(c) => Source::new(c.decoder(cursor)?, (bytes.len() as u64).saturating_mul(c.max_ratio()), false),
    };
    let mut reader = ArrayReader { mode: None, file: None, path: None };
    run(Machine::new(src, &mut reader), compression)
}

fn run<B: Build>(machine: Machine<'_, '_, B>, compression: Option<Compression>) -> Result<Loaded> {
    let (arena, root, protocol) = machine.run()?;
    Ok(Loaded { arena, root, compression, protocol })
}
