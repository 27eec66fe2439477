//! Reading zip archives: the central directory parsed and cross-checked at open
//! (see the module doc of [`crate::zip`] for the layout and the checks), members
//! read through a [`MemberReader`] that never yields more than their declared size.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Error, ErrorKind, Result};
use crate::kernels::deflate::{Crc32, Inflater};

/// One member, as its central directory header (and local header) describe it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Offset of the local header.
    pub header_offset: u64,
    /// Offset of the first byte of the (compressed) data.
    pub data_offset: u64,
}

impl Entry {
    pub fn is_stored(&self) -> bool {
        self.method == 0
    }

    /// Refuses what mmnpy cannot read: encryption, methods other than stored and deflate.
    pub fn check_readable(&self) -> Result<()> {
        if self.flags & FLAG_ENCRYPTED != 0 {
            return Err(unsupported(format!("member '{}' is encrypted; mmnpy does not decrypt zip members", self.name)));
        }
        match self.method {
            0 | 8 => Ok(()),
            m => Err(unsupported(format!(
                "member '{}' uses compression method {m}{}; mmnpy reads stored (0) and deflate (8) members",
                self.name,
                method_name(m).map(|n| format!(" ({n})")).unwrap_or_default()
            ))),
        }
    }
}

fn method_name(m: u16) -> Option<&'static str> {
    Some(match m {
        1 => "shrink",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "lzma",
        93 => "zstandard",
        95 => "xz",
        99 => "AES encryption",
        _ => return None,
    })
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadZip, message)
}

fn unsupported(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnsupportedZip, message)
}

fn io(doing: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::new(ErrorKind::BadZip, format!("{doing}: the file ends first"))
        } else {
            Error::io(doing, &e)
        }
    }
}

/// An open zip archive: its file (kept open until dropped) and its members.
#[derive(Debug)]
pub struct Archive {
    file: File,
    path: PathBuf,
    len: u64,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

/// Where the central directory is, from the end records.
struct End {
    entries: u64,
    size: u64,
    offset: u64,
    /// Where the central directory must end: the start of the end records.
    limit: u64,
}

impl Archive {
    /// Opens and checks an archive. Errors name the file.
    pub fn open(path: &Path) -> Result<Archive> {
        let (file, len) = crate::npy::open_existing(path, false)?;
        Archive::from_file(file, path, len).map_err(|e| e.at(path))
    }

    fn from_file(file: File, path: &Path, len: u64) -> Result<Archive> {
        let end = find_end(&file, len)?;
        let entries = read_central(&file, &end)?;
        let mut index = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if index.insert(e.name.clone(), i).is_some() {
                return Err(bad(format!("two members are named '{}'", e.name)));
            }
        }
        let mut a = Archive { file, path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()), len, entries, index };
        a.check_local_headers(end.offset)?;
        Ok(a)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The members, in central directory order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.index.get(name).map(|&i| &self.entries[i])
    }

    /// Reads `buf.len()` bytes at `offset` of the archive.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        read_at(&self.file, offset, buf).map_err(io("cannot read the archive"))
    }

    /// Reads each local header, checks it against the central one, sets the data
    /// offsets, and checks that no two members overlap.
    fn check_local_headers(&mut self, cd_offset: u64) -> Result<()> {
        let mut ranges = Vec::with_capacity(self.entries.len());
        for k in 0..self.entries.len() {
            let (data_offset, end) = self.check_local(k, cd_offset)?;
            self.entries[k].data_offset = data_offset;
            ranges.push((self.entries[k].header_offset, end, k));
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            let ((s0, e0, a), (s1, e1, b)) = (w[0], w[1]);
            if e0 > s1 {
                return Err(bad(format!("members '{}' (bytes {s0}..{e0}) and '{}' (bytes {s1}..{e1}) overlap", self.entries[a].name, self.entries[b].name)));
            }
        }
        Ok(())
    }

    /// Checks member `k`'s local header; returns its data offset and where the
    /// member (with its data descriptor) ends.
    fn check_local(&self, k: usize, cd_offset: u64) -> Result<(u64, u64)> {
        let e = &self.entries[k];
        let name = &e.name;
        let past = |what: &str| bad(format!("the {what} of member '{name}' reaches past the start of the central directory (offset {cd_offset})"));
        if e.header_offset.checked_add(LOCAL_LEN as u64).is_none_or(|x| x > cd_offset) {
            return Err(past("local header"));
        }
        // One read for the fixed part, the name and a typical extra field.
        let guess = (LOCAL_LEN + e.name.len() + 96).min((cd_offset - e.header_offset) as usize);
        let mut buf = vec![0u8; guess];
        self.read_at(e.header_offset, &mut buf)?;
        if u32_at(&buf, 0) != LOCAL_SIG {
            return Err(bad(format!("no local header at offset {} where the central directory puts member '{name}'", e.header_offset)));
        }
        let (flags, method) = (u16_at(&buf, 6), u16_at(&buf, 8));
        let (crc, csize, usize_) = (u32_at(&buf, 14), u32_at(&buf, 18), u32_at(&buf, 22));
        let (nlen, xlen) = (u16_at(&buf, 26) as usize, u16_at(&buf, 28) as usize);
        let var_end = e.header_offset + (LOCAL_LEN + nlen + xlen) as u64;
        if var_end > cd_offset {
            return Err(past("local header"));
        }
        if buf.len() < LOCAL_LEN + nlen + xlen {
            buf.resize(LOCAL_LEN + nlen + xlen, 0);
            self.read_at(e.header_offset, &mut buf)?;
        }
        let local_name = &buf[LOCAL_LEN..LOCAL_LEN + nlen];
        if decode_name(local_name, flags).ok().as_deref() != Some(name.as_str()) {
            return Err(bad(format!("the local header of member '{name}' names it '{}'", String::from_utf8_lossy(local_name))));
        }
        let disagree = |what: &str, local: u64, central: u64| {
            bad(format!("the local header of member '{name}' disagrees with the central directory: {what} {local} there, {central} in the central directory"))
        };
        if method != e.method {
            return Err(disagree("compression method", method as u64, e.method as u64));
        }
        let mask = FLAG_ENCRYPTED | FLAG_DESCRIPTOR;
        if flags & mask != e.flags & mask {
            return Err(disagree("flags", flags as u64, e.flags as u64));
        }
        let extra = &buf[LOCAL_LEN + nlen..LOCAL_LEN + nlen + xlen];
        let z = find_extra(extra, ZIP64_EXTRA, name)?;
        let data_offset = var_end;
        let mut end = data_offset.checked_add(e.compressed_size).ok_or_else(|| past("data"))?;
        if end > cd_offset {
            return Err(past("data"));
        }
        if flags & FLAG_DESCRIPTOR == 0 {
            // The local ZIP64 field holds both sizes when either is 0xFFFFFFFF.
            let (lu, lc) = match z {
                Some(z) if csize == u32::MAX || usize_ == u32::MAX => {
                    let mut vals = zip64_values(z, [usize_ == u32::MAX, csize == u32::MAX, false], name)?;
                    (vals.next_or(usize_ as u64), vals.next_or(csize as u64))
                }
                _ => (usize_ as u64, csize as u64),
            };
            if lc != e.compressed_size {
                return Err(disagree("compressed size", lc, e.compressed_size));
            }
            if lu != e.uncompressed_size {
                return Err(disagree("uncompressed size", lu, e.uncompressed_size));
            }
            if crc != e.crc32 {
                return Err(disagree("CRC-32", crc as u64, e.crc32 as u64));
            }
        } else {
            // Sizes and CRC follow the data; 8-byte sizes when the member is ZIP64.
            let wide = z.is_some() || e.compressed_size >= u32::MAX as u64 || e.uncompressed_size >= u32::MAX as u64;
            let mut d = [0u8; 24];
            let avail = (cd_offset - end).min(24) as usize;
            self.read_at(end, &mut d[..avail])?;
            let with_sig = avail >= 4 && u32_at(&d, 0) == DESCRIPTOR_SIG && e.crc32 != DESCRIPTOR_SIG;
            let at = if with_sig { 4 } else { 0 };
            let len = at + if wide { 20 } else { 12 };
            if len > avail {
                return Err(bad(format!("the data descriptor of member '{name}' reaches past the start of the central directory")));
            }
            let (dcrc, dc, du) = if wide {
                (u32_at(&d, at), u64_at(&d, at + 4), u64_at(&d, at + 12))
            } else {
                (u32_at(&d, at), u32_at(&d, at + 4) as u64, u32_at(&d, at + 8) as u64)
            };
            if dc != e.compressed_size {
                return Err(disagree("compressed size (data descriptor)", dc, e.compressed_size));
            }
            if du != e.uncompressed_size {
                return Err(disagree("uncompressed size (data descriptor)", du, e.uncompressed_size));
            }
            if dcrc != e.crc32 {
                return Err(disagree("CRC-32 (data descriptor)", dcrc as u64, e.crc32 as u64));
            }
            end += len as u64;
        }
        if e.method == 0 && e.compressed_size != e.uncompressed_size {
            return Err(bad(format!("stored member '{name}' has compressed size {} and uncompressed size {}", e.compressed_size, e.uncompressed_size)));
        }
        Ok((data_offset, end))
    }

    /// A reader of member `entry`'s uncompressed bytes.
    pub fn reader<'a>(&'a self, entry: &'a Entry) -> Result<MemberReader<'a>> {
        entry.check_readable()?;
        Ok(MemberReader {
            archive: self,
            entry,
            inflater: if entry.is_stored() { None } else { Some(Inflater::new()) },
            input: Vec::new(),
            in_pos: 0,
            next_in: entry.data_offset,
            in_left: entry.compressed_size,
            produced: 0,
            crc: Crc32::new(),
            ended: false,
        })
    }
}

/// Values of a ZIP64 extra field, in order.
struct Zip64Values(Vec<u64>, usize);

impl Zip64Values {
    fn next_or(&mut self, default: u64) -> u64 {
        match self.0.get(self.1) {
            Some(&v) => {
                self.1 += 1;
                v
            }
            None => default,
        }
    }
}

/// Reads the 8-byte values of a ZIP64 field for the `needed` header fields
/// (uncompressed size, compressed size, offset).
fn zip64_values(z: &[u8], needed: [bool; 3], name: &str) -> Result<Zip64Values> {
    let count = needed.iter().filter(|&&n| n).count();
    if z.len() < count * 8 {
        return Err(bad(format!("the ZIP64 extra field of member '{name}' holds {} bytes, {} are needed", z.len(), count * 8)));
    }
    Ok(Zip64Values((0..count).map(|i| u64_at(z, i * 8)).collect(), 0))
}

/// The data of the extra field `id`, after checking the extra block's structure.
fn find_extra<'b>(extra: &'b [u8], id: u16, name: &str) -> Result<Option<&'b [u8]>> {
    let mut p = 0;
    let mut found = None;
    while p + 4 <= extra.len() {
        let (fid, size) = (u16_at(extra, p), u16_at(extra, p + 2) as usize);
        if p + 4 + size > extra.len() {
            return Err(bad(format!("the extra field of member '{name}' is corrupt: a {size}-byte field at {p} reaches past its end")));
        }
        if fid == id && found.is_none() {
            found = Some(&extra[p + 4..p + 4 + size]);
        }
        p += 4 + size;
    }
    // Up to 3 bytes of trailing padding occur in the wild (old zipalign); anything
    // else was caught above.
    Ok(found)
}

const CP437_HIGH: &str =
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// A member name: UTF-8 with flag bit 11, code page 437 otherwise (as Python's
/// `zipfile` decodes them). NUL is refused (Python cuts the name there).
fn decode_name(raw: &[u8], flags: u16) -> Result<String> {
    if raw.contains(&0) {
        return Err(bad(format!("a member name contains a NUL byte: '{}'", String::from_utf8_lossy(raw).replace('\0', "\\0"))));
    }
    if flags & FLAG_UTF8 != 0 {
        return String::from_utf8(raw.to_vec()).map_err(|_| bad(format!("member name '{}' is flagged UTF-8 but is not", String::from_utf8_lossy(raw))));
    }
    if raw.is_ascii() {
        // ASCII reads the same in CP437 and UTF-8.
        return Ok(String::from_utf8_lossy(raw).into_owned());
    }
    let high: Vec<char> = CP437_HIGH.chars().collect();
    Ok(raw.iter().map(|&b| if b < 0x80 { b as char } else { high[(b - 0x80) as usize] }).collect())
}

fn find_end(file: &File, len: u64) -> Result<End> {
    if len < EOCD_LEN as u64 {
        return Err(bad(format!("not a zip archive: {len} bytes is shorter than an end of central directory record")));
    }
    let tail_len = len.min((EOCD_LEN + 0xFFFF) as u64) as usize;
    let tail_start = len - tail_len as u64;
    let mut tail = vec![0u8; tail_len];
    read_at(file, tail_start, &mut tail).map_err(io("cannot read the end of the archive"))?;
    let i = (0..=tail_len - EOCD_LEN)
        .rev()
        .find(|&i| u32_at(&tail, i) == EOCD_SIG && i + EOCD_LEN + u16_at(&tail, i + 20) as usize <= tail_len)
        .ok_or_else(|| bad("not a zip archive, or a truncated one: no end of central directory record"))?;
    let eocd_pos = tail_start + i as u64;
    let r = &tail[i..];
    let (disk, cd_disk, n_disk, n_total) = (u16_at(r, 4), u16_at(r, 6), u16_at(r, 8), u16_at(r, 10));
    let (size32, off32) = (u32_at(r, 12), u32_at(r, 16));
    let mut end = End { entries: n_total as u64, size: size32 as u64, offset: off32 as u64, limit: eocd_pos };
    let mut loc = [0u8; ZIP64_LOCATOR_LEN];
    let has_locator = eocd_pos >= ZIP64_LOCATOR_LEN as u64 && {
        read_at(file, eocd_pos - ZIP64_LOCATOR_LEN as u64, &mut loc).map_err(io("cannot read the archive"))?;
        u32_at(&loc, 0) == ZIP64_LOCATOR_SIG
    };
    if has_locator {
        let (rec_disk, rec_off, disks) = (u32_at(&loc, 4), u64_at(&loc, 8), u32_at(&loc, 16));
        if rec_disk != 0 || disks > 1 {
            return Err(unsupported(format!("the archive spans {disks} disks; mmnpy reads single-file archives")));
        }
        let limit = eocd_pos - ZIP64_LOCATOR_LEN as u64;
        if rec_off.checked_add(ZIP64_EOCD_LEN as u64).is_none_or(|x| x > limit) {
            return Err(bad(format!("the ZIP64 end of central directory record at offset {rec_off} lies outside the archive")));
        }
        let mut z = [0u8; ZIP64_EOCD_LEN];
        read_at(file, rec_off, &mut z).map_err(io("cannot read the archive"))?;
        if u32_at(&z, 0) != ZIP64_EOCD_SIG {
            return Err(bad(format!("no ZIP64 end of central directory record at offset {rec_off}, where the locator points")));
        }
        let rest = u64_at(&z, 4);
        if rest < 44 || rec_off.checked_add(12).and_then(|x| x.checked_add(rest)).is_none_or(|x| x > limit) {
            return Err(bad(format!("the ZIP64 end of central directory record declares an impossible size {rest}")));
        }
        if u32_at(&z, 16) != 0 || u32_at(&z, 20) != 0 || u64_at(&z, 24) != u64_at(&z, 32) {
            return Err(unsupported("the archive spans several disks; mmnpy reads single-file archives"));
        }
        end = End { entries: u64_at(&z, 32), size: u64_at(&z, 40), offset: u64_at(&z, 48), limit: rec_off };
    } else if disk != 0 || cd_disk != 0 || n_disk != n_total {
        return Err(unsupported("the archive spans several disks; mmnpy reads single-file archives"));
    }
    if end.offset.checked_add(end.size).is_none_or(|x| x > end.limit) {
        return Err(bad(format!(
            "the central directory (offset {}, {} bytes) reaches past its end records at offset {}: the archive is truncated or corrupt",
            end.offset, end.size, end.limit
        )));
    }
    if end.entries.checked_mul(CENTRAL_LEN as u64).is_none_or(|x| x > end.size) {
        return Err(bad(format!("a central directory of {} bytes cannot hold the {} entries the end record announces", end.size, end.entries)));
    }
    Ok(end)
}

fn read_central(file: &File, end: &End) -> Result<Vec<Entry>> {
    // Bounded by the file length (checked in find_end).
    let mut cd = vec![0u8; end.size as usize];
    read_at(file, end.offset, &mut cd).map_err(io("cannot read the central directory"))?;
    let n = end.entries as usize;
    let mut entries = Vec::with_capacity(n);
    let mut p = 0usize;
    for k in 0..n {
        if p + CENTRAL_LEN > cd.len() || u32_at(&cd, p) != CENTRAL_SIG {
            return Err(bad(format!("the central directory is corrupt or truncated: entry {} of {n} is missing at offset {}", k + 1, end.offset + p as u64)));
        }
        let h = &cd[p..];
        let (flags, method, crc) = (u16_at(h, 8), u16_at(h, 10), u32_at(h, 16));
        let (c32, u32_, nlen, xlen, klen) = (u32_at(h, 20), u32_at(h, 24), u16_at(h, 28) as usize, u16_at(h, 30) as usize, u16_at(h, 32) as usize);
        let (disk16, off32) = (u16_at(h, 34), u32_at(h, 42));
        let total = CENTRAL_LEN + nlen + xlen + klen;
        if p + total > cd.len() {
            return Err(bad(format!("the central directory is truncated: entry {} of {n} reaches past its end", k + 1)));
        }
        let name = decode_name(&h[CENTRAL_LEN..CENTRAL_LEN + nlen], flags)?;
        let extra = &h[CENTRAL_LEN + nlen..CENTRAL_LEN + nlen + xlen];
        let needed = [u32_ == u32::MAX, c32 == u32::MAX, off32 == u32::MAX];
        let (mut usz, mut csz, mut off) = (u32_ as u64, c32 as u64, off32 as u64);
        let mut disk = disk16 as u32;
        if needed.iter().any(|&x| x) || disk16 == u16::MAX {
            let z = find_extra(extra, ZIP64_EXTRA, &name)?
                .ok_or_else(|| bad(format!("member '{name}' has 32-bit fields set to 0xFFFFFFFF but no ZIP64 extra field")))?;
            let mut v = zip64_values(z, needed, &name)?;
            usz = if needed[0] { v.next_or(usz) } else { usz };
            csz = if needed[1] { v.next_or(csz) } else { csz };
            off = if needed[2] { v.next_or(off) } else { off };
            if disk16 == u16::MAX {
                let at = needed.iter().filter(|&&x| x).count() * 8;
                disk = if z.len() >= at + 4 { u32_at(z, at) } else { 0 };
            }
        } else {
            find_extra(extra, ZIP64_EXTRA, &name)?;
        }
        if disk != 0 {
            return Err(unsupported(format!("member '{name}' starts on disk {disk}; mmnpy reads single-file archives")));
        }
        entries.push(Entry { name, method, flags, crc32: crc, compressed_size: csz, uncompressed_size: usz, header_offset: off, data_offset: 0 });
        p += total;
    }
    Ok(entries)
}

const INPUT_BUF: usize = 256 << 10;
const CRC_SPAN: usize = 256 << 10;

/// Reads a member's uncompressed bytes, in order, never more than its declared
/// uncompressed size; [`finish`](MemberReader::finish) checks the end and the CRC.
pub struct MemberReader<'a> {
    archive: &'a Archive,
    entry: &'a Entry,
    inflater: Option<Inflater>,
    input: Vec<u8>,
    in_pos: usize,
    /// Offset in the archive of the next compressed byte not yet buffered.
    next_in: u64,
    in_left: u64,
    produced: u64,
    crc: Crc32,
    ended: bool,
}

impl MemberReader<'_> {
    /// Bytes of the member not read yet.
    pub fn remaining(&self) -> u64 {
        self.entry.uncompressed_size - self.produced
    }

    /// Offset in the archive of the next byte of a stored member.
    pub fn stored_position(&self) -> Option<u64> {
        self.inflater.is_none().then_some(self.entry.data_offset + self.produced)
    }

    /// Fills `dst` with the member's next bytes.
    pub fn read_exact(&mut self, dst: &mut [u8]) -> Result<()> {
        let name = &self.entry.name;
        if dst.len() as u64 > self.remaining() {
            return Err(bad(format!(
                "member '{name}' holds {} bytes, {} more were needed",
                self.entry.uncompressed_size,
                self.produced + dst.len() as u64 - self.entry.uncompressed_size
            )));
        }
        match &mut self.inflater {
            None => {
                // Piece by piece, so the CRC reads bytes still in the cache.
                for piece in dst.chunks_mut(CRC_SPAN) {
                    self.archive.read_at(self.entry.data_offset + self.produced, piece)?;
                    self.crc.update(piece);
                    self.produced += piece.len() as u64;
                }
                Ok(())
            }
            Some(_) => {
                let mut done = 0;
                while done < dst.len() {
                    // Bounded output per call, so the CRC reads bytes still in the cache.
                    let end = dst.len().min(done + CRC_SPAN);
                    let step = self.inflate(&mut dst[done..end])?;
                    if step == 0 {
                        return Err(bad(format!(
                            "the deflate stream of member '{name}' ends after {} bytes; its headers declare {}",
                            self.produced + done as u64,
                            self.entry.uncompressed_size
                        )));
                    }
                    self.crc.update(&dst[done..done + step]);
                    done += step;
                }
                self.produced += done as u64;
                Ok(())
            }
        }
    }

    /// One inflate call into `out`; returns the bytes produced (0 once the stream ended).
    fn inflate(&mut self, out: &mut [u8]) -> Result<usize> {
        let name = &self.entry.name;
        loop {
            if self.ended {
                return Ok(0);
            }
            if self.in_pos == self.input.len() && self.in_left > 0 {
                let n = self.in_left.min(INPUT_BUF as u64) as usize;
                self.input.resize(n, 0);
                self.archive.read_at(self.next_in, &mut self.input)?;
                self.next_in += n as u64;
                self.in_left -= n as u64;
                self.in_pos = 0;
            }
            let inflater = self.inflater.as_mut().expect("deflated member");
            let step = inflater.inflate(&self.input[self.in_pos..], out).map_err(|e| bad(format!("member '{name}': {}", e.message())))?;
            self.in_pos += step.consumed;
            self.ended = step.ended;
            if step.produced > 0 || step.ended {
                return Ok(step.produced);
            }
            if self.in_pos == self.input.len() && self.in_left == 0 {
                return Err(bad(format!(
                    "the deflate stream of member '{name}' is truncated: its {} compressed bytes end mid-stream",
                    self.entry.compressed_size
                )));
            }
            if step.consumed == 0 && out.is_empty() {
                return Ok(0);
            }
        }
    }

    /// After the last byte: checks that the stream ends there (a member that would
    /// inflate further is refused: zip bombs stop at the declared size) and that the
    /// CRC matches the headers'.
    pub fn finish(mut self) -> Result<()> {
        let name = self.entry.name.clone();
        if self.remaining() != 0 {
            return Err(bad(format!("member '{name}': {} bytes left unread", self.remaining())));
        }
        if self.inflater.is_some() {
            let mut probe = [0u8; 1];
            while !self.ended {
                if self.inflate(&mut probe)? > 0 {
                    return Err(bad(format!("member '{name}' inflates past the {} bytes its headers declare", self.entry.uncompressed_size)));
                }
            }
        }
        let crc = self.crc.value();
        if crc != self.entry.crc32 {
            return Err(Error::new(
                ErrorKind::Checksum,
                format!("CRC-32 mismatch in member '{name}': the data gives {crc:08x}, its headers say {:08x}", self.entry.crc32),
            ));
        }
        Ok(())
    }
}
