//! Committing: the dirty nodes' chunk indexes and headers appended, children first, then
//! the superblock (the module doc of `write` says why in that order).

use std::collections::BTreeMap;
use std::fs::File;

use super::super::io::{bad, Source};
use super::super::layout::{ChunkIndex, Layout};
use super::super::links::Link;
use super::super::object::kind;
use super::super::{about, H5File};
use super::encode::{self, Buf, Msg};
use super::model::{self, Kind, WLink};
use super::{invalid, Alloc, Model};
use crate::error::Result;

impl Model {
    /// Writes every dirty node and then the superblock (see the module doc).
    pub(super) fn commit(&mut self, f: &H5File) -> Result<()> {
        let root = self.emit(f, 0)?;
        let eof = self.alloc.end;
        self.alloc.extend_file(&f.src)?;
        // A new file is synced by its replacement; one changed in place, here.
        let sync = self.durable && self.pending.is_none();
        if self.committed != Some((root, eof)) {
            if sync {
                f.src.sync()?;
            }
            let sb = encode::superblock(f.src.base, self.extension, eof, root);
            f.src.write_at(f.src.base, &sb)?;
            self.committed = Some((root, eof));
        }
        if sync {
            f.src.sync()?;
        }
        self.heap = None;
        for n in &mut self.nodes.list {
            if let Kind::Dataset(d) = &mut n.kind {
                for s in d.chunks.values_mut() {
                    s.fresh = false;
                }
            }
        }
        if let Some(p) = self.pending.take() {
            let file: File = if self.exclusive { p.commit_new()? } else { p.commit(Ok(()))? };
            drop(file);
        }
        Ok(())
    }

    /// Writes a node's header (its dirty descendants' first); its address.
    fn emit(&mut self, f: &H5File, id: usize) -> Result<u64> {
        if let Some(a) = self.nodes.list[id].at {
            return Ok(a);
        }
        let children: Vec<usize> = match &self.nodes.list[id].kind {
            Kind::Group(l) => l.values().filter_map(|w| if let WLink::Node(c) = w { Some(*c) } else { None }).collect(),
            Kind::Dataset(_) => Vec::new(),
        };
        for c in children {
            self.emit(f, c)?;
        }
        let Model { nodes, alloc, .. } = self;
        let at_of = |c: usize| nodes.list[c].at.unwrap_or(encode::UNDEF);
        let mut msgs = Vec::new();
        let node = &nodes.list[id];
        match &node.kind {
            Kind::Group(l) => {
                if l.len() > u16::MAX as usize {
                    return Err(invalid(format!("'{}' holds {} members; mmnpy writes groups of at most 65535", node.name, l.len())));
                }
                msgs.push(Msg { kind: kind::LINK_INFO, flags: 0, data: encode::link_info() });
                msgs.push(Msg { kind: kind::GROUP_INFO, flags: 0, data: encode::group_info(l.len()) });
                for (name, w) in l {
                    let link = match w {
                        WLink::Node(c) => Link::Hard(at_of(*c)),
                        WLink::Stored(s) => s.clone(),
                    };
                    msgs.push(Msg { kind: kind::LINK, flags: 0, data: encode::link(name, &link) });
                }
            }
            Kind::Dataset(_) => {}
        }
        let node = &mut nodes.list[id];
        if let Kind::Dataset(d) = &mut node.kind {
            let rewrite_index = match &d.ds.layout {
                Layout::Chunked { index, .. } => d.index_dirty || (d.layout_raw.is_none() && !matches!(index, ChunkIndex::BTree1(_))),
                _ => false,
            };
            if rewrite_index {
                let Layout::Chunked { dims, .. } = &d.ds.layout else { return Err(bad("not chunked")) };
                let root = write_btree(&f.src, alloc, dims, &d.chunks)?;
                d.ds.layout = Layout::Chunked { dims: dims.clone(), index: ChunkIndex::BTree1(Some(root)), edge_unfiltered: false };
                d.index_dirty = false;
                d.layout_raw = None;
            }
            msgs.push(Msg { kind: kind::DATASPACE, flags: 0, data: encode::dataspace(&d.ds.shape, Some(&d.ds.maxshape)) });
        }
        for m in &node.keep {
            msgs.push(Msg { kind: m.kind, flags: m.flags, data: m.data.clone() });
        }
        if let Kind::Dataset(d) = &node.kind {
            let itemsize = d.ds.itemsize();
            let layout = match (&d.layout_raw, &d.ds.layout) {
                (Some(raw), _) => raw.clone(),
                (None, Layout::Compact(bytes)) if bytes.len() <= u16::MAX as usize => encode::layout_compact(bytes),
                (None, Layout::Compact(bytes)) => return Err(bad(format!("compact data of {} bytes; a layout message holds at most 65535", bytes.len()))),
                (None, Layout::Contiguous { addr, size }) => encode::layout_contiguous(*addr, *size),
                (None, Layout::Chunked { dims, index: ChunkIndex::BTree1(a), .. }) => encode::layout_chunked(*a, dims, itemsize),
                (None, Layout::Chunked { .. }) => return Err(bad("a chunk index left unconverted")),
            };
            msgs.push(Msg { kind: kind::LAYOUT, flags: 0, data: layout });
        }
        let n_attrs = node.attrs.len();
        if n_attrs > u16::MAX as usize {
            return Err(invalid(format!("'{}' has {n_attrs} attributes; mmnpy writes at most 65535", node.name)));
        }
        for raw in node.attrs.values() {
            msgs.push(Msg { kind: kind::ATTRIBUTE, flags: 0, data: raw.clone() });
        }
        let phase = (n_attrs > encode::MAX_COMPACT).then_some((n_attrs as u16, encode::MIN_DENSE));
        let bytes = encode::object_header(&msgs, phase).map_err(|e| about(e, &node.name))?;
        let addr = alloc.take(bytes.len() as u64, 8)?;
        f.src.write_at(f.src.base + addr, &bytes)?;
        node.at = Some(addr);
        nodes.by_addr.insert(addr, id);
        Ok(addr)
    }
}

/// Writes a chunk B-tree (version 1) over the chunks, leaves first; the root's address.
fn write_btree(src: &Source, alloc: &mut Alloc, dims: &[u64], chunks: &BTreeMap<Vec<u64>, model::Slot>) -> Result<u64> {
    let rank = dims.len();
    let node_len = encode::btree_node_len(rank);
    let key = |size: u64, mask: u32, off: &[u64]| {
        let mut b = Buf::default();
        encode::btree_key(&mut b, size as u32, mask, off);
        b.0
    };
    let zero = key(0, 0, &vec![0; rank]);
    // (left key, right key, child address)
    type Item = (Vec<u8>, Vec<u8>, u64);
    let mut items: Vec<Item> = chunks
        .iter()
        .map(|(o, s)| {
            // A hostile file's chunk dims can put a chunk's end past 2^64 (fuzzing found it).
            let end: Option<Vec<u64>> = o.iter().zip(dims).map(|(a, b)| a.checked_add(*b)).collect();
            let end = end.ok_or_else(|| bad("a chunk's offset plus the chunk dims overflows 64 bits"))?;
            Ok((key(s.size, s.mask, o), key(0, 0, &end), s.addr))
        })
        .collect::<Result<_>>()?;
    let mut level = 0u8;
    loop {
        let groups: Vec<&[Item]> = if items.is_empty() { vec![&[][..]] } else { items.chunks(2 * encode::BTREE_K).collect() };
        let addrs: Vec<u64> = groups.iter().map(|_| alloc.take(node_len, 8)).collect::<Result<_>>()?;
        let mut next = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            let siblings = (i.checked_sub(1).map(|j| addrs[j]), addrs.get(i + 1).copied());
            let children: Vec<(Vec<u8>, u64)> = g.iter().map(|(l, _, a)| (l.clone(), *a)).collect();
            let first = g.first().map_or_else(|| zero.clone(), |x| x.0.clone());
            let last = g.last().map_or_else(|| zero.clone(), |x| x.1.clone());
            src.write_at(src.base + addrs[i], &encode::btree_node(rank, level, siblings, &children, &last))?;
            next.push((first, last, addrs[i]));
        }
        if next.len() == 1 {
            return Ok(next[0].2);
        }
        items = next;
        level += 1;
    }
}
