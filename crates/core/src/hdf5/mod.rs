//! HDF5 files as h5py writes them, read and written natively (no C library).
//!
//! An HDF5 file is a graph of objects addressed by byte offsets:
//!
//! ```text
//! superblock (superblock.rs)  → the root group's object header
//! object header (object.rs)   → messages: dataspace, datatype (types.rs), data layout,
//!                               filter pipeline, fill value (layout.rs), attributes
//!                               (attrs.rs), and a group's links:
//!   symbol-table group        symbol table message → B-tree v1 of symbol table nodes +
//!                               local heap of names (btree1.rs, heap.rs)   [libver earliest]
//!   link-message group        link messages in the header (links.rs)    [libver latest]
//! dataset data                compact (in the header), contiguous (one block), or chunked:
//!                               a chunk index (btree1.rs, chunks.rs) → chunks, each passed
//!                               through the filter pipeline (filters.rs)
//! ```
//!
//! Every address and size is checked against the file's length before anything is read
//! or allocated, walks are bounded (B-tree levels, continuation chunks, link depth, group
//! cycles), and what mmnpy does not read (compound types, lzf, external links, ...) is
//! refused with an error naming it, never misread. Reading a hyperslab touches only the
//! chunks it intersects and decodes them in parallel on the kernel pool (read.rs).
//!
//! Writing (write/): an `H5File` opened for writing keeps what it changes as a model over
//! the stored file, appends new data and metadata, and commits by writing a version 2
//! superblock last (the design, and what is written, are in write/mod.rs). Reads of such a
//! file go through the model, so they see every earlier write.

mod attrs;
mod btree1;
mod btree2;
mod chunks;
mod dense;
mod filters;
mod heap;
pub mod io;
mod layout;
mod links;
mod object;
mod read;
mod superblock;
mod types;
mod write;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

pub use attrs::{Attr, AttrValue};
pub use btree1::ChunkEntry;
pub use layout::{ChunkIndex, Filter, Layout};
pub use read::Selection;
pub use types::Element;
pub use write::{guess_chunk, AttrInput, Chunking, NewDataset, WriteMode};

use crate::descr::Descr;
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};
use io::{bad, Source};
use links::Link;
use object::{kind, ObjectHeader};

/// How deep soft links may chain, and groups nest in a walk.
pub const MAX_DEPTH: usize = 64;
/// The most objects [`H5File::visit`] lists.
pub const MAX_VISIT: usize = 10_000_000;

/// An open HDF5 file.
#[derive(Debug)]
pub struct H5File {
    src: Source,
    root: u64,
    pub superblock_version: u8,
    /// Where the superblock is (after a user block).
    pub user_block: u64,
    chunk_cache: Mutex<HashMap<u64, Arc<Vec<ChunkEntry>>>>,
    /// Chunks `read` has read from the file (and decoded) since the file was opened.
    chunks_read: AtomicU64,
    /// The writer's state, when open for writing: what it changed, over the stored file.
    w: Option<RwLock<write::Model>>,
}

impl Drop for H5File {
    fn drop(&mut self) {
        write::on_drop(self);
    }
}

/// A group or a dataset.
#[derive(Debug, Clone)]
pub enum Object {
    Group(Group),
    Dataset(Box<Dataset>),
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub header: ObjectHeader,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub header: ObjectHeader,
    pub shape: Vec<u64>,
    /// `None` entries are unlimited.
    pub maxshape: Vec<Option<u64>>,
    /// The storage of `descr` (int64 for datetimes, uint8 for records and strings).
    pub dtype: DType,
    pub byte_order: ByteOrder,
    /// The full dtype when it is not numeric: a record (compound), `S<n>` (fixed-length
    /// strings), a tagged NumPy dtype; for variable-length strings the heap references
    /// (`V<n>`), which [`H5File::read_strings`] resolves.
    pub descr: Option<Descr>,
    /// Variable-length strings (h5py: an object array of bytes / str).
    pub vlen_str: bool,
    pub layout: Layout,
    pub filters: Vec<Filter>,
    /// The fill value's bytes, when one is set and not all zero.
    pub fill: Option<Vec<u8>>,
    /// The chunks, when a writer holds them (else read from the chunk index).
    pub entries: Option<Arc<Vec<ChunkEntry>>>,
}

impl Dataset {
    pub fn itemsize(&self) -> usize {
        self.descr.as_ref().map_or(self.dtype.itemsize(), Descr::itemsize)
    }

    /// The full dtype.
    pub fn full_descr(&self) -> Descr {
        self.descr.clone().unwrap_or(Descr::numeric(self.dtype, self.byte_order))
    }

    /// The dtype's name as the JavaScript API reports it (`'object'` for
    /// variable-length strings, as h5py's `dtype('O')`).
    pub fn dtype_name(&self) -> String {
        if self.vlen_str {
            return "object".into();
        }
        self.full_descr().name().unwrap_or_default()
    }

    /// Chunk shape, or `None` when not chunked.
    pub fn chunks(&self) -> Option<&[u64]> {
        match &self.layout {
            Layout::Chunked { dims, .. } => Some(dims),
            _ => None,
        }
    }

    /// h5py's `compression`: the first compressing filter's name.
    pub fn compression(&self) -> Option<String> {
        self.filters.iter().find(|f| !matches!(f.id, layout::SHUFFLE | layout::FLETCHER32)).map(|f| layout::filter_name(f.id, &f.name))
    }

    /// gzip's level, when deflated.
    pub fn compression_opts(&self) -> Option<u32> {
        self.filters.iter().find(|f| f.id == layout::DEFLATE).and_then(|f| f.values.first().copied())
    }

    pub fn has_filter(&self, id: u16) -> bool {
        self.filters.iter().any(|f| f.id == id)
    }

    pub fn shuffle(&self) -> bool {
        self.has_filter(layout::SHUFFLE)
    }

    pub fn fletcher32(&self) -> bool {
        self.has_filter(layout::FLETCHER32)
    }
}

/// Puts `path`'s object name in front of a message.
fn about(e: Error, name: &str) -> Error {
    if e.message().contains(&format!("'{name}'")) {
        return e;
    }
    let mut out = Error::new(e.kind(), format!("'{name}': {}", e.message()));
    if let Some(p) = e.path() {
        out = out.at(Path::new(p));
    }
    out
}

/// Splits a path into its names ('/' separated; empty and '.' parts dropped).
pub fn split(path: &str) -> Vec<&str> {
    path.split('/').filter(|p| !p.is_empty() && *p != ".").collect()
}

/// Joins a group's absolute name and a relative path into an absolute name.
pub fn join(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = if path.starts_with('/') { Vec::new() } else { split(base) };
    parts.extend(split(path));
    format!("/{}", parts.join("/"))
}

impl H5File {
    /// Opens an HDF5 file for reading.
    pub fn open(path: &Path) -> Result<H5File> {
        let (file, len) = crate::npy::open_existing(path, false)?;
        let mut src =
            Source { file, len: len.into(), path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()), offset_size: 8, length_size: 8, base: 0 };
        let sb = superblock::read(&mut src).map_err(|e| e.at(path))?;
        let f = H5File {
            src,
            root: sb.root,
            superblock_version: sb.version,
            user_block: sb.base,
            chunk_cache: Mutex::new(HashMap::new()),
            chunks_read: AtomicU64::new(0),
            w: None,
        };
        // The root must be a readable group.
        f.object_at(sb.root, "/").and_then(|o| match o {
            Object::Group(_) => Ok(()),
            Object::Dataset(_) => Err(bad("the root object is not a group")),
        })?;
        Ok(f)
    }

    pub fn path(&self) -> &Path {
        self.src.path()
    }

    fn fail(&self, e: Error) -> Error {
        e.at(self.src.path())
    }

    /// The object at an absolute path (`/` is the root).
    pub fn get(&self, path: &str) -> Result<Object> {
        let name = join("/", path);
        if let Some(w) = &self.w {
            return write::get(self, w, &name).map_err(|e| self.fail(about(e, &name)));
        }
        let addr = self.resolve(&name, 0).map_err(|e| self.fail(e))?;
        self.object_at(addr, &name).map_err(|e| self.fail(about(e, &name)))
    }

    /// Whether an absolute path names an object (broken and external links: false).
    pub fn has(&self, path: &str) -> Result<bool> {
        let name = join("/", path);
        let found = match &self.w {
            Some(w) => write::locate(self, w, &name).map(drop),
            None => self.resolve(&name, 0).map(drop),
        };
        match found {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn resolve(&self, name: &str, depth: usize) -> Result<u64> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("'{name}': soft links chain more than {MAX_DEPTH} deep (a cycle?)")));
        }
        let mut addr = self.root;
        let parts = split(name);
        let mut walked = String::new();
        for part in parts {
            let header = object::read(&self.src, addr)?;
            let links = self.links_of(&header)?;
            let parent = if walked.is_empty() { "/".to_string() } else { walked.clone() };
            walked.push('/');
            walked.push_str(part);
            let link = links.into_iter().find(|(n, _)| n == part).map(|(_, l)| l);
            addr = match link {
                None => {
                    return Err(Error::new(ErrorKind::NotFound, format!("no object '{walked}': group '{parent}' has no member '{part}'")));
                }
                Some(Link::Hard(a)) => a,
                Some(Link::Soft(target)) => {
                    let t = join(&parent, &target);
                    self.resolve(&t, depth + 1).map_err(|e| {
                        if e.kind() == ErrorKind::NotFound {
                            Error::new(ErrorKind::NotFound, format!("'{walked}' is a soft link to '{target}', which does not exist"))
                        } else {
                            e
                        }
                    })?
                }
                Some(Link::External(file, obj)) => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("'{walked}' is an external link to '{obj}' in '{file}'; mmnpy does not follow external links"),
                    ));
                }
            };
        }
        Ok(addr)
    }

    /// The links of a group's header, sorted by name (h5py's order).
    fn links_of(&self, header: &ObjectHeader) -> Result<Vec<(String, Link)>> {
        let mut out = links::links(&self.src, header)?;
        out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        Ok(out)
    }

    fn object_at(&self, addr: u64, name: &str) -> Result<Object> {
        let header = object::read(&self.src, addr)?;
        if header.find(kind::LAYOUT).is_some() {
            return self.dataset(header, name).map(|d| Object::Dataset(Box::new(d)));
        }
        if header.find(kind::DATASPACE).is_some() {
            // A dataspace belongs to a dataset, which has a layout; HDF5 writes none elsewhere.
            return Err(bad(format!("'{name}' has a dataspace but no data layout: neither a group nor a dataset")));
        }
        if header.find(kind::DATATYPE).is_some() {
            return Err(Error::new(ErrorKind::UnsupportedDtype, format!("'{name}' is a named datatype, not a group or a dataset")));
        }
        Ok(Object::Group(Group { name: name.to_string(), header }))
    }

    fn dataset(&self, header: ObjectHeader, name: &str) -> Result<Dataset> {
        let src = &self.src;
        let msg = |k: u16, what: &str| header.find(k).ok_or_else(|| bad(format!("the dataset has no {what} message")));
        let m = msg(kind::DATATYPE, "datatype")?;
        if m.flags & 2 != 0 {
            return Err(Error::new(ErrorKind::UnsupportedDtype, "the dataset's datatype is a shared (committed) datatype, which mmnpy does not read"));
        }
        let (el, size) = types::datatype(&mut src.cur(&m.data, "datatype message"))?;
        let vlen_str = matches!(el, types::Element::VlenString { .. });
        let full = if vlen_str { Descr::Void(4 + src.offset_size as usize + 4) } else { el.descr("the dataset")? };
        if size != full.itemsize() {
            return Err(bad(format!("a {} element declared {size} bytes long", full.name().unwrap_or_default())));
        }
        let (dtype, byte_order, descr) = match full {
            Descr::Num { dtype, order } => (dtype, order, None),
            d => {
                let (t, o) = d.storage().unwrap_or((DType::UInt8, ByteOrder::NotApplicable));
                (t, o, Some(d))
            }
        };
        let space = types::dataspace(&mut src.cur(&msg(kind::DATASPACE, "dataspace")?.data, "dataspace message"))?;
        let layout = layout::layout(&mut src.cur(&msg(kind::LAYOUT, "data layout")?.data, "data layout message"), space.dims.len())?;
        if header.find(kind::EXTERNAL).is_some() {
            return Err(Error::new(ErrorKind::UnsupportedDtype, "the dataset's data live in external files, which mmnpy does not read"));
        }
        let filters = match header.find(kind::FILTERS) {
            Some(m) => layout::filters(&mut src.cur(&m.data, "filter pipeline message"))?,
            None => Vec::new(),
        };
        let fill = match (header.find(kind::FILL), header.find(kind::FILL_OLD)) {
            (Some(m), _) => layout::fill_value(&mut src.cur(&m.data, "fill value message"), false)?,
            (None, Some(m)) => layout::fill_value(&mut src.cur(&m.data, "fill value message"), true)?,
            _ => None,
        };
        let fill = fill.filter(|v| v.len() == size && v.iter().any(|&b| b != 0));
        if let Layout::Chunked { dims, .. } = &layout {
            let n = dims.iter().try_fold(size as u64, |a, &d| a.checked_mul(d));
            if n.is_none_or(|n| n > u32::MAX as u64) {
                return Err(bad(format!("a chunk of {dims:?} elements is larger than HDF5's 4 GiB chunk limit")));
            }
        }
        Ok(Dataset {
            name: name.to_string(),
            header,
            shape: space.dims,
            maxshape: space.max,
            dtype,
            byte_order,
            descr,
            vlen_str,
            layout,
            filters,
            fill,
            entries: None,
        })
    }

    /// The names of a group's members, in h5py's order.
    pub fn keys(&self, group: &Group) -> Result<Vec<String>> {
        Ok(self.links_of(&group.header).map_err(|e| self.fail(about(e, &group.name)))?.into_iter().map(|(n, _)| n).collect())
    }

    /// Every object below a group, each once (hard links to one object, cycles), named
    /// relative to it, in h5py's `visit` order (depth first, names in order).
    pub fn visit(&self, group: &Group) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        seen.insert(group.header.addr);
        self.visit_into(&group.header, "", &mut seen, &mut out, 0).map_err(|e| self.fail(about(e, &group.name)))?;
        Ok(out)
    }

    fn visit_into(&self, header: &ObjectHeader, prefix: &str, seen: &mut HashSet<u64>, out: &mut Vec<String>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH * 4 {
            return Err(bad("groups nest too deep"));
        }
        for (name, link) in self.links_of(header)? {
            let Link::Hard(addr) = link else { continue };
            let full = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if !seen.insert(addr) {
                continue;
            }
            if out.len() >= MAX_VISIT {
                return Err(bad(format!("more than {MAX_VISIT} objects below the group")));
            }
            out.push(full.clone());
            let h = object::read(&self.src, addr)?;
            if h.find(kind::LAYOUT).is_none() && h.find(kind::DATATYPE).is_none() {
                self.visit_into(&h, &full, seen, out, depth + 1)?;
            }
        }
        Ok(())
    }

    /// The attributes of an object, in name order (h5py's).
    pub fn attrs(&self, header: &ObjectHeader, name: &str) -> Result<Vec<Attr>> {
        let mut out = links::attributes(&self.src, header).map_err(|e| self.fail(about(e, name)))?;
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(out)
    }

    /// The chunks of a chunked dataset (cached per index address).
    fn chunk_entries(&self, ds: &Dataset) -> Result<Arc<Vec<ChunkEntry>>> {
        let Layout::Chunked { dims, index, .. } = &ds.layout else { return Ok(Arc::new(Vec::new())) };
        if let Some(e) = &ds.entries {
            return Ok(e.clone());
        }
        let key = ds.header.addr;
        if let Some(v) = self.chunk_cache.lock().map_err(|_| bad("poisoned cache"))?.get(&key) {
            return Ok(v.clone());
        }
        let entries = read::chunk_index(&self.src, ds, dims, index)?;
        let v = Arc::new(entries);
        self.chunk_cache.lock().map_err(|_| bad("poisoned cache"))?.insert(key, v.clone());
        Ok(v)
    }

    /// How many chunks [`H5File::read`] has read from the file and decoded since the file
    /// was opened: each chunk a read intersects counts once (chunks never written, read as
    /// the fill value, do not count).
    pub fn chunks_read(&self) -> u64 {
        self.chunks_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads a hyperslab of a dataset into memory (byte order kept).
    pub fn read(&self, ds: &Dataset, sel: &Selection) -> Result<crate::Array> {
        let _writes_wait = self.reading()?;
        if ds.vlen_str {
            let e = types::Element::VlenString { utf8: true }.descr("the dataset").map(drop).unwrap_err();
            return Err(self.fail(about(e, &ds.name)));
        }
        read::read(self, ds, sel).map_err(|e| self.fail(about(e, &ds.name)))
    }

    /// The strings of a hyperslab of a dataset of variable-length strings, in C order
    /// (h5py's `dset.asstr()[...]`; bytes that are not UTF-8 are refused, naming the index).
    pub fn read_strings(&self, ds: &Dataset, sel: &Selection) -> Result<Vec<String>> {
        let _writes_wait = self.reading()?;
        let run = || -> Result<Vec<String>> {
            if !ds.vlen_str {
                return Err(Error::new(ErrorKind::UnsupportedDtype, format!("the dataset holds {}, not variable-length strings: read() it", ds.dtype_name())));
            }
            let refs = read::read(self, ds, sel)?;
            let len = refs.mapping.len();
            let bytes = if len == 0 {
                &[][..]
            } else {
                // SAFETY: the array is fresh memory of `len` bytes that this function holds.
                unsafe { std::slice::from_raw_parts(refs.mapping.as_ptr(), len) }
            };
            let stride = ds.itemsize();
            let mut heap = heap::GlobalHeap::default();
            bytes
                .chunks_exact(stride)
                .enumerate()
                .map(|(i, e)| {
                    let raw = heap.vlen_bytes(&self.src, e)?;
                    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    String::from_utf8(raw[..end].to_vec()).map_err(|_| bad(format!("string {i} of the selection is not UTF-8")))
                })
                .collect()
        };
        run().map_err(|e| self.fail(about(e, &ds.name)))
    }

    /// Maps a contiguous, unfiltered dataset zero-copy (`'r'` or `'c'`).
    pub fn mmap(&self, ds: &Dataset, mode: crate::Mode) -> Result<crate::Array> {
        let _writes_wait = self.reading()?;
        if ds.vlen_str {
            return Err(self.fail(about(
                Error::new(
                    ErrorKind::NotMappable,
                    "cannot map a dataset of variable-length strings (its elements point into the global heap): use readStrings()",
                ),
                &ds.name,
            )));
        }
        read::mmap(self, ds, mode).map_err(|e| self.fail(about(e, &ds.name)))
    }

    /// Holds off writes while a read runs (a chunk written since the last commit may
    /// be rewritten in place).
    fn reading(&self) -> Result<Option<std::sync::RwLockReadGuard<'_, write::Model>>> {
        self.w.as_ref().map(|w| w.read().map_err(|_| self.fail(bad("a write failed midway (poisoned lock)")))).transpose()
    }

    /// The names of the members of the group at `path`, in h5py's order.
    pub fn keys_at(&self, path: &str) -> Result<Vec<String>> {
        self.list_group(path, write::keys, Self::keys)
    }

    /// Every object below the group at `path`, as [`H5File::visit`] lists them.
    pub fn visit_at(&self, path: &str) -> Result<Vec<String>> {
        self.list_group(path, write::visit, Self::visit)
    }

    /// A listing of the group at `path`: from the writer's model when the file is open for
    /// writing (`written`), else from the file (`read`).
    fn list_group(
        &self,
        path: &str,
        written: fn(&H5File, &RwLock<write::Model>, &str) -> Result<Vec<String>>,
        read: fn(&H5File, &Group) -> Result<Vec<String>>,
    ) -> Result<Vec<String>> {
        let name = join("/", path);
        if let Some(w) = &self.w {
            return written(self, w, &name).map_err(|e| self.fail(about(e, &name)));
        }
        match self.get(&name)? {
            Object::Group(g) => read(self, &g),
            Object::Dataset(_) => Err(self.fail(Error::new(ErrorKind::InvalidArgument, format!("'{name}' is a dataset, not a group")))),
        }
    }

    /// The attributes of the object at `path`, in name order.
    pub fn attrs_at(&self, path: &str) -> Result<Vec<Attr>> {
        let name = join("/", path);
        if let Some(w) = &self.w {
            return write::attrs(self, w, &name).map_err(|e| self.fail(about(e, &name)));
        }
        let header = match self.get(&name)? {
            Object::Group(g) => g.header,
            Object::Dataset(d) => d.header,
        };
        self.attrs(&header, &name)
    }

    /// The group or dataset header's object, as [`get`](H5File::get) returns it.
    pub fn root(&self) -> Result<Group> {
        match self.get("/")? {
            Object::Group(g) => Ok(g),
            Object::Dataset(_) => Err(self.fail(bad("the root object is not a group"))),
        }
    }
}
