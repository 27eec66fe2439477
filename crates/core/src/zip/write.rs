//! Writing zip archives: members one after the other, each local header patched
//! with its CRC and sizes once its data is written, then the central directory and
//! the end records (ZIP64 when counts, sizes or offsets need it). See the module
//! doc of [`crate::zip`] for the layout.

use std::collections::HashSet;
use std::fs::File;

use super::*;
use crate::error::{Error, ErrorKind, Result};
use crate::kernels::deflate::{self, Crc32, CHUNK};
use crate::kernels::pool;

/// How a member is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Uncompressed; its data start at a multiple of [`STORED_ALIGN`] bytes.
    Stored,
    /// Deflated at a level 1..=9, in parallel chunks.
    Deflated(u32),
}

/// Stored members' data start at a multiple of this many bytes in the archive.
pub const STORED_ALIGN: u64 = 64;
const BUF: usize = 1 << 20;
const UNIX_REGULAR_644: u32 = 0o100644 << 16;

/// Writes a zip archive into a file (from its start).
pub struct ZipWriter {
    file: File,
    buf: Vec<u8>,
    /// Position after the buffered bytes.
    pos: u64,
    central: Vec<u8>,
    count: u64,
    names: HashSet<String>,
    dos_time: u16,
    dos_date: u16,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("cannot write", &e)
}

/// MS-DOS time and date (UTC) of now; 1980-01-01 when the clock is before that.
fn dos_now() -> (u16, u16) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(1980..=2107).contains(&y) {
        return (0, (1 << 5) | 1);
    }
    let time = (((rem / 3600) << 11) | (((rem % 3600) / 60) << 5) | ((rem % 60) / 2)) as u16;
    let date = (((y - 1980) << 9) | (m << 5) | d) as u16;
    (time, date)
}

impl ZipWriter {
    /// A writer into `file`, which should be empty.
    pub fn new(file: File) -> ZipWriter {
        let (dos_time, dos_date) = dos_now();
        ZipWriter { file, buf: Vec::with_capacity(BUF), pos: 0, central: Vec::new(), count: 0, names: HashSet::new(), dos_time, dos_date }
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        if self.buf.len() + bytes.len() > BUF {
            self.flush()?;
        }
        if bytes.len() >= BUF {
            write_at(&self.file, self.pos, bytes).map_err(write_err)?;
        } else {
            self.buf.extend_from_slice(bytes);
        }
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let start = self.pos - self.buf.len() as u64;
        write_at(&self.file, start, &self.buf).map_err(write_err)?;
        self.buf.clear();
        Ok(())
    }

    /// Overwrites bytes already emitted.
    fn patch(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        let buf_start = self.pos - self.buf.len() as u64;
        if offset >= buf_start {
            let at = (offset - buf_start) as usize;
            self.buf[at..at + bytes.len()].copy_from_slice(bytes);
        } else {
            if offset + bytes.len() as u64 > buf_start {
                self.flush()?;
            }
            write_at(&self.file, offset, bytes).map_err(write_err)?;
        }
        Ok(())
    }

    /// Adds member `name` of `size` uncompressed bytes; `produce` passes them, in
    /// order, to the sink it is given (in pieces of any size).
    pub fn add(&mut self, name: &str, size: u64, method: Method, produce: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>) -> Result<()> {
        if name.is_empty() || name.len() > u16::MAX as usize || name.contains('\0') {
            return Err(invalid(format!("a member name must have 1 to 65535 bytes and no NUL, got '{}'", name.replace('\0', "\\0"))));
        }
        if !self.names.insert(name.to_string()) {
            return Err(invalid(format!("two members are named '{name}'")));
        }
        let (method_id, level) = match method {
            Method::Stored => (0u16, 0),
            Method::Deflated(l) if (1..=9).contains(&l) => (8, l),
            Method::Deflated(l) => return Err(invalid(format!("compression level must be 1 to 9, got {l}"))),
        };
        // Deflate can grow incompressible data slightly (5 bytes per stored block and
        // per chunk): decide ZIP64 on a bound the compressed size cannot exceed.
        let bound = if method_id == 0 { size } else { size.saturating_add(size / 1000).saturating_add(1 << 16) };
        let zip64 = bound >= u32::MAX as u64;
        let flags = if name.is_ascii() { 0 } else { FLAG_UTF8 };
        let needed: u16 = if zip64 { 45 } else { 20 };
        let header_offset = self.pos;
        let nlen = name.len();
        let mut extra = Vec::new();
        if zip64 {
            extra.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            extra.extend_from_slice(&16u16.to_le_bytes());
            extra.extend_from_slice(&[0u8; 16]);
        }
        if method_id == 0 {
            let before = header_offset + (LOCAL_LEN + nlen + extra.len() + 6) as u64;
            let pad = ((STORED_ALIGN - before % STORED_ALIGN) % STORED_ALIGN) as usize;
            extra.extend_from_slice(&ALIGN_EXTRA.to_le_bytes());
            extra.extend_from_slice(&((2 + pad) as u16).to_le_bytes());
            extra.extend_from_slice(&(STORED_ALIGN as u16).to_le_bytes());
            extra.extend(std::iter::repeat_n(0u8, pad));
        }
        let mut h = Vec::with_capacity(LOCAL_LEN + nlen + extra.len());
        h.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        h.extend_from_slice(&needed.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&method_id.to_le_bytes());
        h.extend_from_slice(&self.dos_time.to_le_bytes());
        h.extend_from_slice(&self.dos_date.to_le_bytes());
        h.extend_from_slice(&[0u8; 4]); // CRC, patched
        let placeholder = if zip64 { u32::MAX } else { 0 };
        h.extend_from_slice(&placeholder.to_le_bytes());
        h.extend_from_slice(&placeholder.to_le_bytes());
        h.extend_from_slice(&(nlen as u16).to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h.extend_from_slice(&extra);
        self.emit(&h)?;
        let data_start = self.pos;

        let crc = if method_id == 0 { self.stored_data(size, produce)? } else { self.deflated_data(size, level, produce)? };
        let csize = self.pos - data_start;
        if !zip64 && csize >= u32::MAX as u64 {
            return Err(Error::new(ErrorKind::Io, format!("member '{name}' compressed to {csize} bytes, past its header's 32-bit field")));
        }
        self.patch(header_offset + 14, &crc.to_le_bytes())?;
        if zip64 {
            let mut v = size.to_le_bytes().to_vec();
            v.extend_from_slice(&csize.to_le_bytes());
            self.patch(header_offset + (LOCAL_LEN + nlen + 4) as u64, &v)?;
        } else {
            let mut v = (csize as u32).to_le_bytes().to_vec();
            v.extend_from_slice(&(size as u32).to_le_bytes());
            self.patch(header_offset + 18, &v)?;
        }
        self.central_record(name, needed, flags, method_id, crc, csize, size, header_offset);
        self.count += 1;
        Ok(())
    }

    fn stored_data(&mut self, size: u64, produce: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>) -> Result<u32> {
        let mut crc = Crc32::new();
        let mut fed = 0u64;
        produce(&mut |bytes: &[u8]| {
            fed += bytes.len() as u64;
            if fed > size {
                return Err(invalid(format!("member data exceed the {size} bytes announced")));
            }
            crc.update(bytes);
            self.emit(bytes)
        })?;
        if fed != size {
            return Err(invalid(format!("member data hold {fed} bytes, {size} were announced")));
        }
        Ok(crc.value())
    }

    /// Deflates in batches of chunks, each batch compressed in parallel.
    fn deflated_data(&mut self, size: u64, level: u32, produce: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>) -> Result<u32> {
        let batch_cap = CHUNK * (4 * pool::threads()).max(4);
        let mut batch: Vec<u8> = Vec::with_capacity((size.min(batch_cap as u64)) as usize);
        let mut crc = Crc32::new();
        let mut fed = 0u64;
        let mut ended = false;
        // The end of the previous batch: the next batch's first chunk is primed with it.
        let mut tail: Vec<u8> = Vec::new();
        let mut compress = |w: &mut ZipWriter, batch: &mut Vec<u8>, last: bool| -> Result<()> {
            let chunks: Vec<&[u8]> = if batch.is_empty() { vec![&[][..]] } else { batch.chunks(CHUNK).collect() };
            for c in deflate::deflate_chunks(&tail, &chunks, level, last) {
                crc.combine(&c.crc);
                w.emit(&c.bytes)?;
            }
            tail.clear();
            tail.extend_from_slice(&batch[batch.len().saturating_sub(deflate::WINDOW)..]);
            batch.clear();
            Ok(())
        };
        produce(&mut |mut bytes: &[u8]| {
            while !bytes.is_empty() {
                let take = bytes.len().min(batch_cap - batch.len());
                fed += take as u64;
                if fed > size {
                    return Err(invalid(format!("member data exceed the {size} bytes announced")));
                }
                batch.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if batch.len() == batch_cap || fed == size {
                    ended = fed == size;
                    compress(self, &mut batch, ended)?;
                }
            }
            Ok(())
        })?;
        if fed != size {
            return Err(invalid(format!("member data hold {fed} bytes, {size} were announced")));
        }
        if !ended {
            compress(self, &mut batch, true)?;
        }
        Ok(crc.value())
    }

    #[allow(clippy::too_many_arguments)]
    fn central_record(&mut self, name: &str, needed: u16, flags: u16, method: u16, crc: u32, csize: u64, usize_: u64, offset: u64) {
        let big = |v: u64| v >= u32::MAX as u64;
        let mut z = Vec::new();
        for v in [usize_, csize, offset] {
            if big(v) {
                z.extend_from_slice(&v.to_le_bytes());
            }
        }
        let mut extra = Vec::new();
        if !z.is_empty() {
            extra.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            extra.extend_from_slice(&(z.len() as u16).to_le_bytes());
            extra.extend_from_slice(&z);
        }
        let needed = if z.is_empty() { needed } else { 45 };
        let c = &mut self.central;
        c.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
        c.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes()); // made by: Unix, spec 4.5
        c.extend_from_slice(&needed.to_le_bytes());
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&self.dos_time.to_le_bytes());
        c.extend_from_slice(&self.dos_date.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        let clamp = |v: u64| if big(v) { u32::MAX } else { v as u32 };
        c.extend_from_slice(&clamp(csize).to_le_bytes());
        c.extend_from_slice(&clamp(usize_).to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes()); // comment
        c.extend_from_slice(&0u16.to_le_bytes()); // disk
        c.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        c.extend_from_slice(&UNIX_REGULAR_644.to_le_bytes());
        c.extend_from_slice(&clamp(offset).to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        c.extend_from_slice(&extra);
    }

    /// Writes the central directory and the end records; returns the file.
    pub fn finish(mut self) -> Result<File> {
        let cd_offset = self.pos;
        let central = std::mem::take(&mut self.central);
        self.emit(&central)?;
        let cd_size = central.len() as u64;
        let zip64 = self.count >= u16::MAX as u64 || cd_offset >= u32::MAX as u64 || cd_size >= u32::MAX as u64;
        let mut e = Vec::new();
        if zip64 {
            let rec = self.pos;
            e.extend_from_slice(&ZIP64_EOCD_SIG.to_le_bytes());
            e.extend_from_slice(&44u64.to_le_bytes());
            e.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
            e.extend_from_slice(&45u16.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&self.count.to_le_bytes());
            e.extend_from_slice(&self.count.to_le_bytes());
            e.extend_from_slice(&cd_size.to_le_bytes());
            e.extend_from_slice(&cd_offset.to_le_bytes());
            e.extend_from_slice(&ZIP64_LOCATOR_SIG.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&rec.to_le_bytes());
            e.extend_from_slice(&1u32.to_le_bytes());
        }
        let n16 = self.count.min(u16::MAX as u64) as u16;
        e.extend_from_slice(&EOCD_SIG.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(&n16.to_le_bytes());
        e.extend_from_slice(&n16.to_le_bytes());
        e.extend_from_slice(&(cd_size.min(u32::MAX as u64) as u32).to_le_bytes());
        e.extend_from_slice(&(cd_offset.min(u32::MAX as u64) as u32).to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        self.emit(&e)?;
        self.flush()?;
        Ok(self.file)
    }
}
