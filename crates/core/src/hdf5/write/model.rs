//! The writer's picture of the file: the objects it created or changed, kept in memory
//! over the stored file, and how paths resolve through both.
//!
//! A node is a group or dataset the writer holds: one it created, or a stored object
//! it loaded because it (or something below it) changes. A group node's links point at
//! nodes or still at stored object headers; objects nobody touched stay where they are
//! and are never rewritten. A node is clean while the header at `at` in the file says
//! what the node says (a stored object just loaded, or one written by the last commit);
//! changing it, or anything below it, makes it and its ancestors dirty, and the next
//! commit writes them anew.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::super::btree1::ChunkEntry;
use super::super::io::bad;
use super::super::layout::{ChunkIndex, Layout};
use super::super::links::{self, Link};
use super::super::object::{self, kind, Message, ObjectHeader};
use super::super::{about, attrs, dense, join, read, split, Dataset, H5File, Object, MAX_DEPTH};
use crate::error::{Error, ErrorKind, Result};

/// A chunk of a chunked dataset: where it is, how big, and whether it was written
/// since the last commit (then it may be rewritten in place; a committed one never is).
#[derive(Debug, Clone)]
pub struct Slot {
    pub addr: u64,
    pub size: u64,
    /// Bytes reserved at `addr` (>= size).
    pub cap: u64,
    pub mask: u32,
    pub fresh: bool,
}

#[derive(Debug, Clone)]
pub enum WLink {
    /// A link as stored (a hard link to an object header not loaded).
    Stored(Link),
    Node(usize),
}

#[derive(Debug)]
pub struct DNode {
    pub ds: Dataset,
    /// Chunked: the chunks by offset.
    pub chunks: BTreeMap<Vec<u64>, Slot>,
    /// The chunk entries as reads see them, rebuilt after changes.
    pub snapshot: Option<Arc<Vec<ChunkEntry>>>,
    /// The layout message as stored, while nothing changed it.
    pub layout_raw: Option<Vec<u8>>,
    /// The chunk index must be written anew at the next commit.
    pub index_dirty: bool,
}

#[derive(Debug)]
pub enum Kind {
    Group(BTreeMap<String, WLink>),
    Dataset(Box<DNode>),
}

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    /// Attribute messages, by name.
    pub attrs: BTreeMap<String, Vec<u8>>,
    /// Messages kept as they are (datatype, fill value, filters, times, ...).
    pub keep: Vec<Message>,
    /// Where the header saying what this node says is (`None`: dirty).
    pub at: Option<u64>,
    pub parent: Option<usize>,
    /// Absolute name (the path it was reached by).
    pub name: String,
}

/// Where a path leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Loc {
    Node(usize),
    Stored(u64),
}

/// Messages a writer regenerates (or drops) instead of keeping.
fn regenerated(k: u16) -> bool {
    matches!(
        k,
        kind::NIL
            | kind::CONTINUATION
            | kind::SYMBOL_TABLE
            | kind::LINK
            | kind::LINK_INFO
            | kind::GROUP_INFO
            | kind::ATTRIBUTE
            | kind::ATTRIBUTE_INFO
            | kind::REFCOUNT
            | kind::DATASPACE
            | kind::LAYOUT
    )
}

pub fn not_found(walked: &str, parent: &str, part: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("no object '{walked}': group '{parent}' has no member '{part}'"))
}

#[derive(Debug, Default)]
pub struct Nodes {
    pub list: Vec<Node>,
    pub by_addr: HashMap<u64, usize>,
}

impl Nodes {
    pub fn group_links(&self, id: usize) -> Result<&BTreeMap<String, WLink>> {
        match &self.list[id].kind {
            Kind::Group(l) => Ok(l),
            Kind::Dataset(_) => Err(Error::new(ErrorKind::InvalidArgument, format!("'{}' is a dataset, not a group", self.list[id].name))),
        }
    }

    pub fn dnode(&mut self, id: usize) -> Result<&mut DNode> {
        let name = self.list[id].name.clone();
        match &mut self.list[id].kind {
            Kind::Dataset(d) => Ok(d),
            Kind::Group(_) => Err(Error::new(ErrorKind::InvalidArgument, format!("'{name}' is a group, not a dataset"))),
        }
    }

    /// Marks a node and its ancestors dirty.
    pub fn touch(&mut self, mut id: usize) {
        loop {
            self.list[id].at = None;
            match self.list[id].parent {
                Some(p) => id = p,
                None => return,
            }
        }
    }

    /// Loads the stored object at `addr` as a node (once; its links and attributes read).
    pub fn load(&mut self, f: &H5File, addr: u64, parent: Option<usize>, name: &str) -> Result<usize> {
        if let Some(&id) = self.by_addr.get(&addr) {
            return Ok(id);
        }
        let header = object::read(&f.src, addr)?;
        if header.refcount > 1 && parent.is_some() {
            return Err(Error::new(
                ErrorKind::UnsupportedMode,
                format!("'{name}' has {} hard links; mmnpy does not change objects reachable by several names", header.refcount),
            ));
        }
        let mut attrs = BTreeMap::new();
        for m in header.all(kind::ATTRIBUTE) {
            let a = attrs::parse(&f.src, &m.data)?;
            attrs.insert(a.name, m.data.clone());
        }
        if let Some(m) = header.find(kind::ATTRIBUTE_INFO) {
            let mut c = f.src.cur(&m.data, "attribute info message");
            c.u8()?;
            let flags = c.u8()?;
            if flags & 1 != 0 {
                c.u16()?;
            }
            if let (Some(heap), Some(names)) = (c.addr()?, c.addr()?) {
                for record in dense::records(&f.src, heap, names, dense::ATTRIBUTES)? {
                    let a = attrs::parse(&f.src, &record)?;
                    attrs.insert(a.name, record);
                }
            }
        }
        let keep: Vec<Message> = header.messages.iter().filter(|m| !regenerated(m.kind)).cloned().collect();
        let kind = if header.find(kind::LAYOUT).is_some() {
            Kind::Dataset(Box::new(load_dataset(f, header, name)?))
        } else if header.find(kind::DATATYPE).is_some() && header.find(kind::DATASPACE).is_none() {
            return Err(Error::new(ErrorKind::UnsupportedDtype, format!("'{name}' is a named datatype, which mmnpy does not change")));
        } else {
            let mut l = BTreeMap::new();
            for (n, link) in links::links(&f.src, &header)? {
                l.insert(n, WLink::Stored(link));
            }
            Kind::Group(l)
        };
        let id = self.list.len();
        self.list.push(Node { kind, attrs, keep, at: Some(addr), parent, name: name.to_string() });
        self.by_addr.insert(addr, id);
        Ok(id)
    }

    /// The node at an absolute path, loading stored objects along it.
    pub fn node_at(&mut self, f: &H5File, name: &str, depth: usize) -> Result<usize> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("'{name}': soft links chain more than {MAX_DEPTH} deep (a cycle?)")));
        }
        let mut cur = 0usize;
        let mut walked = String::new();
        for part in split(name) {
            let parent = if walked.is_empty() { "/".to_string() } else { walked.clone() };
            walked.push('/');
            walked.push_str(part);
            let link = self.group_links(cur)?.get(part).cloned().ok_or_else(|| not_found(&walked, &parent, part))?;
            cur = match link {
                WLink::Node(id) => id,
                WLink::Stored(Link::Hard(addr)) => {
                    let id = self.load(f, addr, Some(cur), &walked)?;
                    if let Kind::Group(l) = &mut self.list[cur].kind {
                        l.insert(part.to_string(), WLink::Node(id));
                    }
                    id
                }
                WLink::Stored(Link::Soft(target)) => self.node_at(f, &join(&parent, &target), depth + 1)?,
                WLink::Stored(Link::External(file, obj)) => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("'{walked}' is an external link to '{obj}' in '{file}'; mmnpy does not follow external links"),
                    ));
                }
            };
        }
        Ok(cur)
    }

    /// Where an absolute path leads, without loading anything.
    pub fn locate(&self, f: &H5File, name: &str, depth: usize) -> Result<Loc> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("'{name}': soft links chain more than {MAX_DEPTH} deep (a cycle?)")));
        }
        let mut cur = Loc::Node(0);
        let mut walked = String::new();
        for part in split(name) {
            let parent = if walked.is_empty() { "/".to_string() } else { walked.clone() };
            walked.push('/');
            walked.push_str(part);
            let link = match cur {
                Loc::Node(id) => match &self.list[id].kind {
                    Kind::Group(l) => l.get(part).cloned(),
                    Kind::Dataset(_) => return Err(Error::new(ErrorKind::NotFound, format!("no object '{walked}': '{parent}' is a dataset, not a group"))),
                },
                Loc::Stored(addr) => {
                    let header = object::read(&f.src, addr)?;
                    if header.find(kind::LAYOUT).is_some() {
                        return Err(Error::new(ErrorKind::NotFound, format!("no object '{walked}': '{parent}' is a dataset, not a group")));
                    }
                    f.links_of(&header)?.into_iter().find(|(n, _)| n == part).map(|(_, l)| WLink::Stored(l))
                }
            };
            cur = match link.ok_or_else(|| not_found(&walked, &parent, part))? {
                WLink::Node(id) => Loc::Node(id),
                WLink::Stored(Link::Hard(a)) => self.by_addr.get(&a).map_or(Loc::Stored(a), |&id| Loc::Node(id)),
                WLink::Stored(Link::Soft(target)) => {
                    let t = join(&parent, &target);
                    self.locate(f, &t, depth + 1).map_err(|e| {
                        if e.kind() == ErrorKind::NotFound {
                            Error::new(ErrorKind::NotFound, format!("'{walked}' is a soft link to '{target}', which does not exist"))
                        } else {
                            e
                        }
                    })?
                }
                WLink::Stored(Link::External(file, obj)) => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("'{walked}' is an external link to '{obj}' in '{file}'; mmnpy does not follow external links"),
                    ));
                }
            };
        }
        Ok(cur)
    }

    /// The object at a location, as [`H5File::get`] returns it.
    pub fn object(&mut self, f: &H5File, loc: Loc, name: &str) -> Result<Object> {
        match loc {
            Loc::Stored(addr) => f.object_at(addr, name),
            Loc::Node(id) => {
                let node = &mut self.list[id];
                match &mut node.kind {
                    Kind::Group(_) => Ok(Object::Group(super::super::Group { name: name.to_string(), header: synthetic(node.at, &node.keep) })),
                    Kind::Dataset(d) => {
                        let mut ds = d.ds.clone();
                        ds.name = name.to_string();
                        if matches!(ds.layout, Layout::Chunked { .. }) {
                            ds.entries = Some(d.entries());
                        }
                        Ok(Object::Dataset(Box::new(ds)))
                    }
                }
            }
        }
    }

    /// Member names of the group at a location, in h5py's order.
    pub fn keys(&self, f: &H5File, loc: Loc) -> Result<Vec<(String, Option<Loc>)>> {
        match loc {
            Loc::Node(id) => Ok(self
                .group_links(id)?
                .iter()
                .map(|(n, l)| {
                    let at = match l {
                        WLink::Node(c) => Some(Loc::Node(*c)),
                        WLink::Stored(Link::Hard(a)) => Some(self.by_addr.get(a).map_or(Loc::Stored(*a), |&c| Loc::Node(c))),
                        WLink::Stored(_) => None,
                    };
                    (n.clone(), at)
                })
                .collect()),
            Loc::Stored(addr) => {
                let header = object::read(&f.src, addr)?;
                Ok(f.links_of(&header)?
                    .into_iter()
                    .map(|(n, l)| {
                        let at = match l {
                            Link::Hard(a) => Some(self.by_addr.get(&a).map_or(Loc::Stored(a), |&c| Loc::Node(c))),
                            _ => None,
                        };
                        (n, at)
                    })
                    .collect())
            }
        }
    }

    /// Whether a location is a group.
    pub fn is_group(&self, f: &H5File, loc: Loc) -> Result<bool> {
        Ok(match loc {
            Loc::Node(id) => matches!(self.list[id].kind, Kind::Group(_)),
            Loc::Stored(addr) => {
                let h = object::read(&f.src, addr)?;
                h.find(kind::LAYOUT).is_none() && h.find(kind::DATATYPE).is_none()
            }
        })
    }

    /// Every object below a group, as [`H5File::visit`] lists them.
    pub fn visit(&self, f: &H5File, loc: Loc) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        seen.insert(loc);
        self.visit_into(f, loc, "", &mut seen, &mut out, 0)?;
        Ok(out)
    }

    fn visit_into(&self, f: &H5File, loc: Loc, prefix: &str, seen: &mut std::collections::HashSet<Loc>, out: &mut Vec<String>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH * 4 {
            return Err(bad("groups nest too deep"));
        }
        for (name, at) in self.keys(f, loc)? {
            let Some(at) = at else { continue };
            let full = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if !seen.insert(at) {
                continue;
            }
            if out.len() >= super::super::MAX_VISIT {
                return Err(bad("too many objects below the group"));
            }
            out.push(full.clone());
            if self.is_group(f, at)? {
                self.visit_into(f, at, &full, seen, out, depth + 1)?;
            }
        }
        Ok(())
    }

    /// The attributes at a location, parsed, in name order.
    pub fn attrs(&self, f: &H5File, loc: Loc, name: &str) -> Result<Vec<attrs::Attr>> {
        match loc {
            Loc::Stored(addr) => {
                let header = object::read(&f.src, addr)?;
                f.attrs(&header, name)
            }
            Loc::Node(id) => self.list[id].attrs.values().map(|raw| attrs::parse(&f.src, raw)).collect::<Result<Vec<_>>>().map_err(|e| about(e, name)),
        }
    }
}

/// A header standing for a node's (its kept messages; not a stored header).
fn synthetic(at: Option<u64>, keep: &[Message]) -> ObjectHeader {
    ObjectHeader { addr: at.unwrap_or(u64::MAX), messages: keep.to_vec(), refcount: 1 }
}

impl DNode {
    /// The chunk entries as reads see them.
    pub fn entries(&mut self) -> Arc<Vec<ChunkEntry>> {
        if let Some(s) = &self.snapshot {
            return s.clone();
        }
        let v: Vec<ChunkEntry> = self.chunks.iter().map(|(o, s)| ChunkEntry { offset: o.clone(), size: s.size, mask: s.mask, addr: s.addr }).collect();
        let v = Arc::new(v);
        self.snapshot = Some(v.clone());
        v
    }

    /// Forgets the stored layout message and snapshot after a change of the storage.
    pub fn changed(&mut self) {
        self.snapshot = None;
        self.layout_raw = None;
    }
}

fn load_dataset(f: &H5File, header: ObjectHeader, name: &str) -> Result<DNode> {
    let layout_raw = header.find(kind::LAYOUT).map(|m| m.data.clone());
    let ds = f.dataset(header, name)?;
    let mut chunks = BTreeMap::new();
    if let Layout::Chunked { dims, index, edge_unfiltered } = &ds.layout {
        if *edge_unfiltered && !ds.filters.is_empty() {
            return Err(Error::new(
                ErrorKind::UnsupportedMode,
                format!("'{name}' stores its partial edge chunks unfiltered (an HDF5 1.10 option), which mmnpy does not change"),
            ));
        }
        let entries = match index {
            ChunkIndex::BTree1(None) => Vec::new(),
            _ => read::chunk_index(&f.src, &ds, dims, index)?,
        };
        for e in entries {
            chunks.insert(e.offset.clone(), Slot { addr: e.addr, size: e.size, cap: e.size, mask: e.mask, fresh: false });
        }
    }
    Ok(DNode { ds, chunks, snapshot: None, layout_raw, index_dirty: false })
}
