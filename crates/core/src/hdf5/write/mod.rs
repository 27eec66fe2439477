//! Writing HDF5 files: new ones (`'w'`, `'w-'`/`'x'`, `'a'`), and changes to existing
//! ones, h5py's (either `libver`) or ours (`'r+'`, `'a'`).
//!
//! # Design: copy on write, the superblock last
//!
//! The writer never changes a byte that the file's current state uses for metadata.
//! What it changes is kept as a model in memory ([`model`]): the groups and datasets it
//! created or altered, over the stored objects nobody touched (those stay where they
//! are, whatever their format, and are never rewritten). Data are written as they
//! come, into space at the end of the file (contiguous data in place, see below). A
//! commit (`flush()`, `close()`) appends new object headers for every changed object
//! and its ancestors up to the root (chunk indexes, global heap collections before
//! them), and then, last, writes a version 2 superblock (checksummed) pointing at the
//! new root. Until that one 48-byte write, the file on disk is the previous commit's,
//! complete; after it, the new one. A process killed at any moment leaves one or the
//! other; the space the old state used is not reused (files that change a lot grow;
//! h5py's `h5repack` compacts them).
//!
//! Within a session, a chunk written since the last commit may be rewritten in place
//! (no commit knows it); a committed chunk is never overwritten: its new version goes
//! elsewhere. Contiguous data are the exception: they are written in place, as
//! `np.memmap` would, so a crash while writing them after a commit leaves those
//! elements partly written (the file's structure stays consistent).
//!
//! `'w'` (and `'w-'`, and `'a'` when the file does not exist) writes a temporary file
//! beside the target (`.name.<pid>-<n>.mmnpy-tmp`, removed by the next writer in the
//! folder if the process died, as `saveNpy`'s) and renames it over the target at the
//! first commit (`'w-'`: only if nothing took the name meanwhile): until then the
//! target is the old file (or absent), never a partial new one.
//!
//! Durable writers (`durable`) also survive a power loss: a commit of a new file syncs it
//! before the rename and the folder after (`Replacement`); a commit in place syncs the
//! file before the superblock write (so the disk never holds a superblock naming headers
//! it lacks) and after it.
//!
//! # What is written
//!
//! The "HDF5 1.8" format h5py reads and writes with `libver='v108'` ([`encode`]):
//! superblock 2, object headers 2, groups as link messages in their header (up to
//! 65535 members), layout messages 3 (contiguous data aligned at 64 bytes, so every
//! dataset maps zero-copy; chunked data indexed by a B-tree v1, which serves every
//! maxshape and is what h5py writes by default), filters gzip (zlib, as h5py's
//! `compression='gzip'`), shuffle and fletcher32 in h5py's order, fill values, and
//! attributes (numbers and arrays of numbers; strings variable-length UTF-8, as h5py
//! stores `str`, in global heap collections). Every address and length is 8 bytes:
//! files with other sizes are not changed.
//!
//! # Limits
//! Objects with several hard links, named datatypes, external storage, datasets
//! whose partial edge chunks are unfiltered are read but not changed (a clear error);
//! datasets of variable-length strings take new attributes and resizes, not writes;
//! filters other than gzip, shuffle and fletcher32 are read-only (lzf, szip, ...).

mod commit;
mod data;
mod encode;
mod model;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, RwLock, RwLockWriteGuard};

use super::io::{bad, Source};
use super::layout::{ChunkIndex, Filter, Layout, DEFLATE, FLETCHER32, SHUFFLE};
use super::object::{kind, ObjectHeader};
use super::read::Selection;
use super::{about, join, split, superblock, Attr, Dataset, H5File, Object, MAX_DEPTH};
use crate::descr::Descr;
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};
use crate::npy::Replacement;
use encode::{Buf, Msg};
use model::{DNode, Kind, Loc, Node, Nodes, WLink};

/// How a file is opened for writing (h5py's modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `'w'`: a new file, replacing any.
    Truncate,
    /// `'w-'` / `'x'`: a new file; `ErrorKind::Exists` if there is one.
    Exclusive,
    /// `'a'`: read and write the file, created when missing.
    Append,
    /// `'r+'`: read and write a file that exists.
    ReadWrite,
}

/// How a new dataset is stored (h5py's `chunks=`).
#[derive(Debug, Clone, PartialEq)]
pub enum Chunking {
    /// `chunks=None`: contiguous, unless maxshape or a filter needs chunks (then guessed).
    Default,
    /// `chunks=True`: guessed.
    Auto,
    Shape(Vec<u64>),
}

/// A dataset to create.
#[derive(Debug, Clone)]
pub struct NewDataset {
    pub descr: Descr,
    pub shape: Vec<u64>,
    /// `None` entries are unlimited.
    pub maxshape: Option<Vec<Option<u64>>>,
    pub chunks: Chunking,
    /// gzip's level (0..=9).
    pub gzip: Option<u32>,
    pub shuffle: bool,
    pub fletcher32: bool,
    /// One element in the dtype's byte order.
    pub fill: Option<Vec<u8>>,
}

/// An attribute's value to write.
#[derive(Debug, Clone)]
pub enum AttrInput {
    /// Elements in `descr`'s byte order, C order; an empty shape is a scalar.
    Numbers { descr: Descr, shape: Vec<u64>, bytes: Vec<u8> },
    /// Variable-length UTF-8 strings; `shape` `None` is one scalar string.
    Strings { values: Vec<String>, shape: Option<Vec<u64>> },
}

/// h5py's `guess_chunk`: halves the axes in turn until a chunk is near a target
/// between 8 KiB and 1 MiB that grows with the dataset (PyTables' rule).
pub fn guess_chunk(shape: &[u64], itemsize: usize) -> Vec<u64> {
    const BASE: f64 = 16.0 * 1024.0;
    const MIN: f64 = 8.0 * 1024.0;
    const MAX: f64 = 1024.0 * 1024.0;
    let mut chunks: Vec<f64> = shape.iter().map(|&x| if x == 0 { 1024.0 } else { x as f64 }).collect();
    let n = chunks.len();
    if n == 0 {
        return Vec::new();
    }
    let size = chunks.iter().product::<f64>() * itemsize as f64;
    let target = (BASE * 2f64.powf((size / (1024.0 * 1024.0)).log10())).clamp(MIN, MAX);
    let mut idx = 0;
    loop {
        let bytes = chunks.iter().product::<f64>() * itemsize as f64;
        if (bytes < target || (bytes - target).abs() / target < 0.5) && bytes < MAX {
            break;
        }
        if chunks.iter().product::<f64>() == 1.0 {
            break;
        }
        chunks[idx % n] = (chunks[idx % n] / 2.0).ceil();
        idx += 1;
    }
    chunks.into_iter().map(|c| c as u64).collect()
}

/// Space in the file: the end, and regions freed since the last commit.
#[derive(Debug, Default)]
pub struct Alloc {
    /// The end of the allocated space (an address, relative to the superblock).
    end: u64,
    free: Vec<(u64, u64)>,
}

/// How many freed regions are remembered (the smallest are forgotten).
const MAX_FREE: usize = 4096;

impl Alloc {
    /// `n` bytes at a multiple of `align`: a freed region that fits, or the end. A size from
    /// a hostile file that would run the file past 2^64 bytes is an error, not a wrapped address.
    pub fn take(&mut self, n: u64, align: u64) -> Result<u64> {
        let fits = |a: u64, l: u64| a.checked_next_multiple_of(align).and_then(|s| s.checked_add(n)).is_some_and(|e| e <= a + l);
        if let Some(i) = self.free.iter().position(|&(a, l)| fits(a, l)) {
            let (a, l) = self.free.swap_remove(i);
            let s = a.next_multiple_of(align);
            if s > a {
                self.free.push((a, s - a));
            }
            if s + n < a + l {
                self.free.push((s + n, a + l - s - n));
            }
            return Ok(s);
        }
        let Some(end) = self.end.checked_next_multiple_of(align).and_then(|s| s.checked_add(n)) else {
            return Err(bad(format!("a region of {n} bytes at {} runs past the largest file size", self.end)));
        };
        self.end = end;
        Ok(end - n)
    }

    /// Gives back a region written since the last commit.
    pub fn give(&mut self, addr: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.free.push((addr, n));
        if self.free.len() > MAX_FREE {
            self.free.sort_by_key(|r| std::cmp::Reverse(r.1));
            self.free.truncate(MAX_FREE / 2);
        }
    }

    /// Makes the file at least as long as the allocated space (HDF5 refuses a file
    /// shorter than its end-of-file address).
    pub fn extend_file(&self, src: &Source) -> Result<()> {
        let need = src.base + self.end;
        if src.file_len() < need {
            let now = src.file.metadata().map_err(|e| Error::io("cannot stat", &e).at(&src.path))?.len();
            if now < need {
                src.file.set_len(need).map_err(|e| Error::io("cannot extend", &e).at(&src.path))?;
            }
            src.grown_to(need);
        }
        Ok(())
    }
}

/// The global heap collection strings go into until the next commit.
#[derive(Debug)]
struct Heap {
    addr: u64,
    size: u64,
    used: u64,
    objects: Vec<Vec<u8>>,
}

/// The writer's state (an `H5File` open for writing holds it behind a lock).
#[derive(Debug)]
pub struct Model {
    nodes: Nodes,
    alloc: Alloc,
    heap: Option<Heap>,
    extension: Option<u64>,
    /// The new file, until the first commit gives it the target's name.
    pending: Option<Replacement>,
    /// `pending` must not replace a file (`'w-'`, `'a'` creating).
    exclusive: bool,
    /// Commits wait for the disk (see the module doc).
    durable: bool,
    /// The root and end of file the superblock on disk names.
    committed: Option<(u64, u64)>,
    closed: bool,
}

fn exists_error(path: &Path) -> Error {
    Error::new(ErrorKind::Exists, "cannot create: the file exists (mode 'w-' creates a new file only; 'w' replaces it, 'a' opens it)").at(path)
}

impl H5File {
    /// Opens or creates an HDF5 file for writing; `durable`: every commit waits for the
    /// disk (see the module doc).
    pub fn open_write(path: &Path, mode: WriteMode, durable: bool) -> Result<H5File> {
        let exists = std::fs::symlink_metadata(path).is_ok();
        match mode {
            WriteMode::Truncate => create(path, false, durable),
            WriteMode::Exclusive if exists => Err(exists_error(path)),
            WriteMode::Exclusive => create(path, true, durable),
            WriteMode::Append if !exists => create(path, true, durable),
            WriteMode::Append | WriteMode::ReadWrite => open_existing(path, durable),
        }
    }

    /// Whether the file is open for writing.
    pub fn is_writable(&self) -> bool {
        self.w.is_some()
    }

    fn model(&self) -> Result<RwLockWriteGuard<'_, Model>> {
        let w = self
            .w
            .as_ref()
            .ok_or_else(|| self.fail(Error::new(ErrorKind::ReadOnly, "the HDF5 file is open read-only (mode 'r'): open it with 'r+' or 'a' to change it")))?;
        let m = w.write().map_err(|_| self.fail(bad("an earlier write failed midway (poisoned lock)")))?;
        if m.closed {
            return Err(self.fail(Error::new(ErrorKind::Closed, "the HDF5 file is closed")));
        }
        Ok(m)
    }

    /// Runs a change of the object at `path` on the writer's model; its errors name the
    /// object and mark the file's error state.
    fn edit(&self, path: &str, change: impl FnOnce(&mut Model, &str) -> Result<()>) -> Result<()> {
        let name = join("/", path);
        let mut m = self.model()?;
        change(&mut m, &name).map_err(|e| self.fail(about(e, &name)))
    }

    /// Creates a group, and the groups above it that do not exist (as h5py).
    pub fn create_group(&self, path: &str) -> Result<()> {
        self.edit(path, |m, name| {
            let (parent, last) = m.parent_of(self, name)?;
            let id = m.nodes.list.len();
            m.nodes.list.push(Node {
                kind: Kind::Group(BTreeMap::new()),
                attrs: BTreeMap::new(),
                keep: Vec::new(),
                at: None,
                parent: Some(parent),
                name: name.to_string(),
            });
            m.link(parent, &last, id);
            Ok(())
        })
    }

    /// Creates a dataset (and the groups above it that do not exist).
    pub fn create_dataset(&self, path: &str, spec: &NewDataset) -> Result<()> {
        self.edit(path, |m, name| {
            let plan = plan_dataset(spec)?;
            let (parent, last) = m.parent_of(self, name)?;
            let mut d = plan.into_dnode(name);
            if let Layout::Contiguous { size, .. } = d.ds.layout {
                if size > 0 {
                    let a = m.alloc.take(size, data::DATA_ALIGN)?;
                    m.alloc.extend_file(&self.src)?;
                    if let Some(fill) = &d.ds.fill {
                        data::fill_region(&self.src, self.src.base + a, size, fill)?;
                    }
                    d.ds.layout = Layout::Contiguous { addr: Some(a), size };
                }
            }
            let keep = std::mem::take(&mut d.ds.header.messages);
            let id = m.nodes.list.len();
            m.nodes.list.push(Node { kind: Kind::Dataset(Box::new(d)), attrs: BTreeMap::new(), keep, at: None, parent: Some(parent), name: name.to_string() });
            m.link(parent, &last, id);
            Ok(())
        })
    }

    /// Writes a hyperslab: `values` are the selected elements in C order, in the
    /// dataset's dtype and byte order.
    pub fn write(&self, path: &str, sel: &Selection, values: &[u8]) -> Result<()> {
        self.edit(path, |m, name| {
            let id = m.nodes.node_at(self, name, 0)?;
            let Model { nodes, alloc, .. } = m;
            let changed = data::write(&self.src, alloc, nodes.dnode(id)?, sel, values)?;
            if changed {
                nodes.touch(id);
            }
            Ok(())
        })
    }

    /// Changes the shape of a chunked dataset within its maxshape (h5py's `resize`).
    pub fn resize(&self, path: &str, shape: &[u64]) -> Result<()> {
        self.edit(path, |m, name| {
            let id = m.nodes.node_at(self, name, 0)?;
            let Model { nodes, alloc, .. } = m;
            data::resize(&self.src, alloc, nodes.dnode(id)?, shape)?;
            nodes.touch(id);
            Ok(())
        })
    }

    /// Sets (creates or replaces) an attribute.
    pub fn set_attr(&self, path: &str, attr: &str, value: &AttrInput) -> Result<()> {
        self.edit(path, |m, name| {
            let id = m.nodes.node_at(self, name, 0)?;
            let msg = m.attribute(&self.src, attr, value)?;
            m.nodes.list[id].attrs.insert(attr.to_string(), msg);
            m.nodes.touch(id);
            Ok(())
        })
    }

    /// Deletes an attribute (`ErrorKind::NotFound` when there is none of that name).
    pub fn delete_attr(&self, path: &str, attr: &str) -> Result<()> {
        self.edit(path, |m, name| {
            let id = m.nodes.node_at(self, name, 0)?;
            if m.nodes.list[id].attrs.remove(attr).is_none() {
                return Err(Error::new(ErrorKind::NotFound, format!("'{name}' has no attribute '{attr}'")));
            }
            m.nodes.touch(id);
            Ok(())
        })
    }

    /// Commits: the file on disk becomes what the writer holds (see the module doc).
    pub fn flush(&self) -> Result<()> {
        let mut m = self.model()?;
        m.commit(self).map_err(|e| self.fail(e))
    }

    /// Commits and closes the writer (later changes are `ErrorKind::Closed`). Idempotent.
    pub fn close_write(&self) -> Result<()> {
        let Some(w) = &self.w else { return Ok(()) };
        let mut m = w.write().map_err(|_| self.fail(bad("an earlier write failed midway (poisoned lock)")))?;
        if m.closed {
            return Ok(());
        }
        m.closed = true;
        let r = m.commit(self);
        if r.is_err() {
            if let Some(p) = m.pending.take() {
                p.abandon();
            }
        }
        r.map_err(|e| self.fail(e))
    }
}

/// Commits a writer that was never closed (h5py flushes a file it garbage-collects too).
pub(super) fn on_drop(f: &H5File) {
    if f.w.as_ref().is_some_and(|w| w.read().is_ok_and(|m| !m.closed)) {
        let _ = f.close_write();
    }
}

fn create(path: &Path, exclusive: bool, durable: bool) -> Result<H5File> {
    let r = Replacement::create(path)?.durable(durable);
    let file = r.file.try_clone().map_err(|e| Error::io("cannot open", &e).at(path))?;
    let abs = std::path::absolute(r.target()).unwrap_or_else(|_| path.to_path_buf());
    let src = Source { file, len: 0.into(), path: abs, offset_size: 8, length_size: 8, base: 0 };
    let root = Node { kind: Kind::Group(BTreeMap::new()), attrs: BTreeMap::new(), keep: Vec::new(), at: None, parent: None, name: "/".into() };
    let model = Model {
        nodes: Nodes { list: vec![root], by_addr: Default::default() },
        alloc: Alloc { end: encode::SUPERBLOCK_LEN as u64, free: Vec::new() },
        heap: None,
        extension: None,
        pending: Some(r),
        exclusive,
        durable,
        committed: None,
        closed: false,
    };
    Ok(H5File {
        src,
        root: u64::MAX,
        superblock_version: 2,
        user_block: 0,
        chunk_cache: Mutex::new(Default::default()),
        chunks_read: Default::default(),
        w: Some(RwLock::new(model)),
    })
}

fn open_existing(path: &Path, durable: bool) -> Result<H5File> {
    let (file, len) = crate::npy::open_existing(path, true)?;
    let mut src =
        Source { file, len: len.into(), path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()), offset_size: 8, length_size: 8, base: 0 };
    let sb = superblock::read(&mut src).map_err(|e| e.at(path))?;
    if src.offset_size != 8 || src.length_size != 8 {
        return Err(Error::new(
            ErrorKind::UnsupportedMode,
            format!(
                "the file uses {}-byte addresses and {}-byte lengths; mmnpy changes only files with 8-byte ones (as h5py writes)",
                src.offset_size, src.length_size
            ),
        )
        .at(path));
    }
    if sb.driver.is_some() {
        return Err(Error::new(
            ErrorKind::UnsupportedMode,
            "the file was written through a special HDF5 driver (family, multi, split); mmnpy does not change it",
        )
        .at(path));
    }
    let mut f = H5File {
        src,
        root: sb.root,
        superblock_version: sb.version,
        user_block: sb.base,
        chunk_cache: Mutex::new(Default::default()),
        chunks_read: Default::default(),
        w: None,
    };
    let mut nodes = Nodes::default();
    match f.object_at(sb.root, "/").map_err(|e| e.at(path))? {
        Object::Group(_) => {}
        Object::Dataset(_) => return Err(bad("the root object is not a group").at(path)),
    }
    nodes.load(&f, sb.root, None, "/").map_err(|e| e.at(path))?;
    // New space starts past everything in the file (allocations align themselves); a
    // session that changes nothing writes nothing, not even the superblock.
    let end = sb.eof.unwrap_or(0).max(len - sb.base);
    let model = Model {
        nodes,
        alloc: Alloc { end, free: Vec::new() },
        heap: None,
        extension: sb.extension,
        pending: None,
        exclusive: false,
        durable,
        committed: Some((sb.root, end)),
        closed: false,
    };
    f.w = Some(RwLock::new(model));
    Ok(f)
}

/// The validated parts of a dataset to create.
struct Plan {
    spec: NewDataset,
    maxshape: Vec<Option<u64>>,
    chunks: Option<Vec<u64>>,
    filters: Vec<Filter>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

fn plan_dataset(spec: &NewDataset) -> Result<Plan> {
    let itemsize = spec.descr.itemsize();
    encode::datatype(&spec.descr)?;
    let rank = spec.shape.len();
    if rank > super::types::MAX_RANK {
        return Err(invalid(format!("a dataset of {rank} dimensions; HDF5 allows at most {}", super::types::MAX_RANK)));
    }
    data_bytes(&spec.shape, itemsize)?;
    let maxshape = match &spec.maxshape {
        None => spec.shape.iter().map(|&s| Some(s)).collect(),
        Some(m) => {
            if m.len() != rank {
                return Err(invalid(format!("maxshape has {} dimensions, shape {rank}", m.len())));
            }
            for (d, (mx, &s)) in m.iter().zip(&spec.shape).enumerate() {
                if mx.is_some_and(|mx| mx < s) {
                    return Err(invalid(format!("maxshape {m:?} is smaller than shape {:?} on axis {d}", spec.shape)));
                }
            }
            m.clone()
        }
    };
    if let Some(level) = spec.gzip {
        if level > 9 {
            return Err(invalid(format!("gzip's level is 0 to 9, got {level}")));
        }
    }
    let filtered = spec.gzip.is_some() || spec.shuffle || spec.fletcher32;
    let chunks = match &spec.chunks {
        Chunking::Default if !filtered && spec.maxshape.is_none() => None,
        Chunking::Default | Chunking::Auto => {
            if rank == 0 {
                return Err(invalid("a scalar dataset cannot be chunked (so it takes no maxshape, compression, shuffle or fletcher32)"));
            }
            Some(guess_chunk(&spec.shape, itemsize))
        }
        Chunking::Shape(c) => {
            if rank == 0 {
                return Err(invalid("a scalar dataset cannot be chunked"));
            }
            if c.len() != rank {
                return Err(invalid(format!("chunks {c:?} has {} dimensions, the dataset {rank}", c.len())));
            }
            let limit: Vec<Option<u64>> = if spec.maxshape.is_some() { maxshape.clone() } else { spec.shape.iter().map(|&s| Some(s)).collect() };
            if c.contains(&0) || c.iter().zip(&limit).any(|(&k, l)| l.is_some_and(|l| k > l)) {
                return Err(invalid(format!(
                    "chunk shape {c:?} must be positive and not greater than the data shape in any dimension ({:?})",
                    limit.iter().map(|l| l.map_or(-1i64, |v| v as i64)).collect::<Vec<_>>()
                )));
            }
            Some(c.clone())
        }
    };
    if let Some(c) = &chunks {
        if c.iter().any(|&k| k > u32::MAX as u64) || data_bytes(c, itemsize).is_err() || data_bytes(c, itemsize)? > u32::MAX as u64 {
            return Err(invalid(format!("a chunk of {c:?} elements is larger than HDF5's 4 GiB chunk limit")));
        }
    } else if maxshape.iter().zip(&spec.shape).any(|(m, &s)| *m != Some(s)) {
        return Err(invalid("a dataset with a maxshape larger than its shape must be chunked"));
    }
    if let Some(f) = &spec.fill {
        if f.len() != itemsize {
            return Err(invalid(format!("a fill value of {} bytes for {itemsize}-byte elements", f.len())));
        }
    }
    let mut filters = Vec::new();
    if spec.shuffle {
        filters.push(Filter { id: SHUFFLE, name: String::new(), optional: true, values: vec![itemsize as u32] });
    }
    if let Some(level) = spec.gzip {
        filters.push(Filter { id: DEFLATE, name: String::new(), optional: true, values: vec![level] });
    }
    if spec.fletcher32 {
        filters.push(Filter { id: FLETCHER32, name: String::new(), optional: false, values: Vec::new() });
    }
    Ok(Plan { spec: spec.clone(), maxshape, chunks, filters })
}

fn data_bytes(shape: &[u64], itemsize: usize) -> Result<u64> {
    shape
        .iter()
        .try_fold(itemsize as u64, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::new(ErrorKind::BadShape, format!("a dataset of shape {shape:?} holds more than 2^64 bytes")))
}

impl Plan {
    /// The dataset's node; its kept messages (datatype, fill value, filters) ride in the header.
    fn into_dnode(self, name: &str) -> DNode {
        let spec = self.spec;
        let itemsize = spec.descr.itemsize();
        let (dtype, byte_order, descr) = match &spec.descr {
            Descr::Num { dtype, order } => (*dtype, *order, None),
            d => {
                let (t, o) = d.storage().unwrap_or((DType::UInt8, ByteOrder::NotApplicable));
                (t, o, Some(d.clone()))
            }
        };
        let chunked = self.chunks.is_some();
        let mut keep = vec![
            Msg { kind: kind::DATATYPE, flags: 1, data: encode::datatype(&spec.descr).unwrap_or_default() },
            Msg {
                kind: kind::FILL,
                flags: 1,
                data: encode::fill_value(if chunked { encode::ALLOC_INCREMENTAL } else { encode::ALLOC_LATE }, spec.fill.as_deref()),
            },
        ];
        if !self.filters.is_empty() {
            let list: Vec<(u16, u16, Vec<u32>)> = self.filters.iter().map(|f| (f.id, u16::from(f.optional), f.values.clone())).collect();
            keep.push(Msg { kind: kind::FILTERS, flags: 1, data: encode::filters(&list) });
        }
        let layout = match self.chunks {
            Some(dims) => Layout::Chunked { dims, index: ChunkIndex::BTree1(None), edge_unfiltered: false },
            None => Layout::Contiguous { addr: None, size: data_bytes(&spec.shape, itemsize).unwrap_or(0) },
        };
        let header = ObjectHeader {
            addr: u64::MAX,
            messages: keep.into_iter().map(|m| super::object::Message { kind: m.kind, flags: m.flags, data: m.data }).collect(),
            refcount: 1,
        };
        let ds = Dataset {
            name: name.to_string(),
            header,
            shape: spec.shape.clone(),
            maxshape: self.maxshape,
            dtype,
            byte_order,
            descr,
            vlen_str: false,
            layout,
            filters: self.filters,
            fill: spec.fill.filter(|v| v.iter().any(|&b| b != 0)),
            entries: None,
        };
        DNode { ds, chunks: BTreeMap::new(), snapshot: None, layout_raw: None, index_dirty: chunked }
    }
}

impl Model {
    /// The group that will hold the last part of `name` (created with the groups above
    /// it when missing), and that part; `ErrorKind::Exists` when it exists.
    fn parent_of(&mut self, f: &H5File, name: &str) -> Result<(usize, String)> {
        let parts = split(name);
        let Some((last, above)) = parts.split_last() else {
            return Err(Error::new(ErrorKind::Exists, "the root group exists"));
        };
        if parts.len() > MAX_DEPTH * 4 {
            return Err(invalid(format!("a path of {} levels; mmnpy nests groups at most {} deep", parts.len(), MAX_DEPTH * 4)));
        }
        for p in &parts {
            if p.as_bytes().contains(&0) {
                return Err(invalid(format!("a name with a NUL byte: {p:?}")));
            }
        }
        let mut cur = 0usize;
        let mut walked = String::new();
        for part in above {
            walked.push('/');
            walked.push_str(part);
            cur = match self.nodes.group_links(cur)?.get(*part) {
                Some(_) => self.nodes.node_at(f, &walked, 0)?,
                None => {
                    let id = self.nodes.list.len();
                    self.nodes.list.push(Node {
                        kind: Kind::Group(BTreeMap::new()),
                        attrs: BTreeMap::new(),
                        keep: Vec::new(),
                        at: None,
                        parent: Some(cur),
                        name: walked.clone(),
                    });
                    self.link(cur, part, id);
                    id
                }
            };
            if !matches!(self.nodes.list[cur].kind, Kind::Group(_)) {
                return Err(invalid(format!("'{walked}' is a dataset, not a group")));
            }
        }
        if self.nodes.group_links(cur)?.contains_key(*last) {
            return Err(Error::new(ErrorKind::Exists, format!("cannot create '{name}': the name exists")));
        }
        Ok((cur, last.to_string()))
    }

    fn link(&mut self, parent: usize, name: &str, child: usize) {
        if let Kind::Group(l) = &mut self.nodes.list[parent].kind {
            l.insert(name.to_string(), WLink::Node(child));
        }
        self.nodes.touch(child);
    }

    /// An attribute message (strings go into the global heap now).
    fn attribute(&mut self, src: &Source, name: &str, value: &AttrInput) -> Result<Vec<u8>> {
        let msg = match value {
            AttrInput::Numbers { descr, shape, bytes } => {
                let n = data_bytes(shape, descr.itemsize())?;
                if bytes.len() as u64 != n {
                    return Err(invalid(format!("{} bytes for an attribute of shape {shape:?} of {}", bytes.len(), descr.name().unwrap_or_default())));
                }
                if n > u16::MAX as u64 {
                    return Err(too_big(name, n));
                }
                encode::attribute(name, &encode::datatype(descr)?, &encode::dataspace(shape, None), bytes)?
            }
            AttrInput::Strings { values, shape } => {
                let dims = shape.clone().unwrap_or_default();
                if dims.iter().product::<u64>() != values.len() as u64 {
                    return Err(invalid(format!("{} strings for an attribute of shape {dims:?}", values.len())));
                }
                if values.len() as u64 * 16 > u16::MAX as u64 {
                    return Err(too_big(name, values.len() as u64 * 16));
                }
                let refs = self.strings(src, values)?;
                let mut data = Buf::default();
                for (s, (addr, index)) in values.iter().zip(refs) {
                    data.u32(s.len() as u32).u64(addr).u32(index);
                }
                encode::attribute(name, &encode::vlen_utf8(), &encode::dataspace(&dims, None), &data.0)?
            }
        };
        if msg.len() > u16::MAX as usize {
            return Err(too_big(name, msg.len() as u64));
        }
        Ok(msg)
    }

    /// Puts strings into global heap collections; their (collection, index) pairs.
    fn strings(&mut self, src: &Source, values: &[String]) -> Result<Vec<(u64, u32)>> {
        let mut out = Vec::with_capacity(values.len());
        let write = |h: &Heap| src.write_at(src.base + h.addr, &encode::global_heap(&h.objects, h.size));
        for (i, v) in values.iter().enumerate() {
            if v.len() > u32::MAX as usize {
                return Err(invalid("a string longer than 4 GiB"));
            }
            let need = encode::gcol_object_len(v.len());
            let fits = self.heap.as_ref().is_some_and(|h| h.used + need + 16 <= h.size && h.objects.len() < u16::MAX as usize);
            if !fits {
                if let Some(h) = &self.heap {
                    write(h)?;
                }
                let rest: u64 = values[i..].iter().map(|s| encode::gcol_object_len(s.len())).sum::<u64>().min(1 << 20);
                let size = (16 + need.max(rest) + 16).max(encode::GCOL_MIN).next_multiple_of(8);
                let addr = self.alloc.take(size, 8)?;
                self.heap = Some(Heap { addr, size, used: 16, objects: Vec::new() });
            }
            let Some(h) = self.heap.as_mut() else { return Err(bad("no global heap")) };
            h.objects.push(v.as_bytes().to_vec());
            h.used += need;
            out.push((h.addr, h.objects.len() as u32));
        }
        if let Some(h) = &self.heap {
            write(h)?;
        }
        self.alloc.extend_file(src)?;
        Ok(out)
    }
}

fn too_big(name: &str, n: u64) -> Error {
    invalid(format!(
        "attribute '{name}' takes {n} bytes; an attribute is kept in its object's header, under 64 KiB (h5py's limit too): store large values as a dataset"
    ))
}

/// `H5File::get` of a file open for writing.
pub(super) fn get(f: &H5File, w: &RwLock<Model>, name: &str) -> Result<Object> {
    let mut m = w.write().map_err(|_| bad("an earlier write failed midway (poisoned lock)"))?;
    let loc = m.nodes.locate(f, name, 0)?;
    m.nodes.object(f, loc, name)
}

pub(super) fn locate(f: &H5File, w: &RwLock<Model>, name: &str) -> Result<()> {
    let m = w.read().map_err(|_| bad("an earlier write failed midway (poisoned lock)"))?;
    m.nodes.locate(f, name, 0).map(drop)
}

fn group_loc(f: &H5File, m: &Model, name: &str) -> Result<Loc> {
    let loc = m.nodes.locate(f, name, 0)?;
    if !m.nodes.is_group(f, loc)? {
        return Err(invalid(format!("'{name}' is a dataset, not a group")));
    }
    Ok(loc)
}

pub(super) fn keys(f: &H5File, w: &RwLock<Model>, name: &str) -> Result<Vec<String>> {
    let m = w.read().map_err(|_| bad("an earlier write failed midway (poisoned lock)"))?;
    let loc = group_loc(f, &m, name)?;
    let mut out: Vec<String> = m.nodes.keys(f, loc)?.into_iter().map(|(n, _)| n).collect();
    out.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(out)
}

pub(super) fn visit(f: &H5File, w: &RwLock<Model>, name: &str) -> Result<Vec<String>> {
    let m = w.read().map_err(|_| bad("an earlier write failed midway (poisoned lock)"))?;
    let loc = group_loc(f, &m, name)?;
    m.nodes.visit(f, loc)
}

pub(super) fn attrs(f: &H5File, w: &RwLock<Model>, name: &str) -> Result<Vec<Attr>> {
    let m = w.read().map_err(|_| bad("an earlier write failed midway (poisoned lock)"))?;
    let loc = m.nodes.locate(f, name, 0)?;
    let mut out = m.nodes.attrs(f, loc, name)?;
    out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(out)
}
