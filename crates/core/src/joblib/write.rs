//! `joblib.dump`: the pickle ([`Writer`]) and the arrays' bytes, written in stream
//! order into a temporary file renamed over the target by [`Dumper::finish`].

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::compress::ZlibWriter;
use crate::descr::Descr;
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::npy::Replacement;
use crate::pickle::{Event, Writer};
use crate::view::Layout;

/// Where array data start: a multiple of this, declared in each wrapper.
pub const ALIGN: u64 = 64;
/// Pickle bytes buffered before they are written out.
const FLUSH_AT: usize = 1 << 20;

enum Sink {
    Plain(BufWriter<File>),
    Zlib(ZlibWriter<BufWriter<File>>),
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(bytes).map_err(|e| Error::io("cannot write", &e)),
            Sink::Zlib(z) => z.write(bytes),
        }
    }

    /// Writes bytes of a mapping (see [`Mapping::write_range`]).
    fn write_mapped(&mut self, map: &Mapping, source: Option<&Path>, offset: usize, len: usize) -> Result<()> {
        match self {
            Sink::Plain(w) => map.write_range(w, source, offset, len),
            Sink::Zlib(z) => {
                map.check_range(offset, len)?;
                // SAFETY: the range is inside the mapping (checked above), which the
                // caller keeps mapped for the call.
                z.write(unsafe { std::slice::from_raw_parts(map.as_ptr().add(offset), len) })
            }
        }
    }

    fn finish(self) -> Result<()> {
        let mut w = match self {
            Sink::Plain(w) => w,
            Sink::Zlib(z) => z.finish()?,
        };
        w.flush().map_err(|e| Error::io("cannot write", &e))
    }
}

fn open_sink(sink: &mut Option<Sink>) -> Result<&mut Sink> {
    sink.as_mut().ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the file is already finished"))
}

/// Writes to the sink and counts the bytes of the stream.
fn put(sink: &mut Option<Sink>, pos: &mut u64, bytes: &[u8]) -> Result<()> {
    open_sink(sink)?.write(bytes)?;
    *pos += bytes.len() as u64;
    Ok(())
}

/// A joblib file being written: values as [`Event`]s and arrays in the order they
/// appear. Dropped unfinished, it removes its temporary file; the target is untouched.
pub struct Dumper {
    replacement: Option<Replacement>,
    sink: Option<Sink>,
    pickle: Writer,
    /// Bytes of the (uncompressed) stream written to the sink so far.
    pos: u64,
    compressed: bool,
    path: PathBuf,
}

impl Dumper {
    /// `compress`: a zlib level 1..=9 (joblib's `compress=level`), `None` or 0 for none.
    /// `durable`: sync the file and its folder before the rename (see `Replacement`).
    pub fn create(path: &Path, compress: Option<u32>, durable: bool) -> Result<Dumper> {
        let level = match compress {
            None | Some(0) => None,
            Some(l @ 1..=9) => Some(l),
            Some(l) => return Err(Error::new(ErrorKind::InvalidArgument, format!("compression level must be 0 to 9, got {l}")).at(path)),
        };
        let r = Replacement::create(path)?.durable(durable);
        let file = r.file.try_clone().map_err(|e| Error::io("cannot duplicate the file handle of", &e).at(path))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let sink = match level {
            None => Sink::Plain(out),
            Some(l) => Sink::Zlib(ZlibWriter::new(out, l).map_err(|e| e.at(path))?),
        };
        Ok(Dumper { replacement: Some(r), sink: Some(sink), pickle: Writer::new(), pos: 0, compressed: level.is_some(), path: path.to_path_buf() })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        put(&mut self.sink, &mut self.pos, bytes).map_err(|e| e.at(&self.path))
    }

    fn flush_pickle(&mut self) -> Result<()> {
        let bytes = self.pickle.take();
        self.write(&bytes)
    }

    /// Writes the next steps of the value.
    pub fn events(&mut self, events: &[Event]) -> Result<()> {
        for e in events {
            self.pickle.event(e).map_err(|e| e.at(&self.path))?;
            if self.pickle.pending() >= FLUSH_AT {
                self.flush_pickle()?;
            }
        }
        Ok(())
    }

    /// Writes the array a view of `map` holds, as the next value: C order, or Fortran
    /// order when the view is Fortran- and not C-contiguous (joblib's rule), byte order
    /// kept. The bytes are written straight from the mapping (a mapped array is never
    /// copied whole into memory), or copied file to file from `source`, the file `map`
    /// maps (see [`Mapping::write_range`]).
    pub fn array(&mut self, map: &Mapping, source: Option<&Path>, layout: &Layout, descr: &Descr) -> Result<()> {
        let itemsize = descr.itemsize();
        layout.check(itemsize, map.len()).map_err(|e| e.at(&self.path))?;
        let fortran = layout.is_f_contiguous(itemsize) && !layout.is_c_contiguous(itemsize);
        self.wrapper(descr, &layout.shape, fortran)?;
        let (sink, pos, path) = (&mut self.sink, &mut self.pos, &self.path);
        let mut emit = |off: usize, len: usize| {
            open_sink(sink)?.write_mapped(map, source, off, len).map_err(|e| e.at(path))?;
            *pos += len as u64;
            Ok(())
        };
        if fortran {
            if layout.size() > 0 {
                emit(layout.offset, layout.size() * itemsize)?;
            }
        } else {
            layout.for_each_run(itemsize, emit)?;
        }
        self.pickle.end_value();
        Ok(())
    }

    /// Writes an array given as its bytes (in `byte_order`, C order unless `fortran`).
    pub fn array_bytes(&mut self, bytes: &[u8], dtype: DType, byte_order: ByteOrder, shape: &[usize], fortran: bool) -> Result<()> {
        let need = crate::pickle::globals::nbytes(shape, dtype)?;
        if need != bytes.len() as u64 {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("{} bytes given for an array of {need} bytes", bytes.len())).at(&self.path));
        }
        self.wrapper(&Descr::numeric(dtype, byte_order), shape, fortran)?;
        self.write(bytes)?;
        self.pickle.end_value();
        Ok(())
    }

    /// The wrapper object, then the pad; the caller writes the data and ends the value.
    fn wrapper(&mut self, descr: &Descr, shape: &[usize], fortran: bool) -> Result<()> {
        let p = &mut self.pickle;
        p.begin_value().map_err(|e| e.at(&self.path))?;
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper");
        p.op(b')');
        p.op(0x81); // NEWOBJ
        p.op(b'}');
        p.op(b'(');
        p.str("subclass");
        p.global("numpy", "ndarray");
        p.str("shape");
        p.op(b'(');
        for &d in shape {
            p.int(d as i64);
        }
        p.op(b't');
        p.str("order");
        p.str(if fortran { "F" } else { "C" });
        p.str("dtype");
        pickle_dtype(p, descr, &[]);
        p.str("allow_mmap");
        p.bool(!self.compressed);
        p.str("numpy_array_alignment_bytes");
        p.int(ALIGN as i64);
        p.op(b'u');
        p.op(b'b');
        self.flush_pickle()?;
        // joblib's pad: one length byte, then that many 0xFF, to the next multiple of
        // ALIGN (a whole ALIGN when already aligned, as joblib writes it).
        let pad = ALIGN - (self.pos + 1) % ALIGN;
        let mut head = vec![0xffu8; 1 + pad as usize];
        head[0] = pad as u8;
        self.write(&head)
    }

    /// Ends the pickle, syncs when durable, and renames the file into place.
    pub fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        let result = (|| {
            self.pickle.finish()?;
            self.flush_pickle()?;
            let sink = self.sink.take().ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "the file is already finished"))?;
            sink.finish()
        })();
        let r = self.replacement.take().expect("replacement lives until finish");
        r.commit(result).map(drop).map_err(|e| e.at(&path))
    }
}

impl Drop for Dumper {
    fn drop(&mut self) {
        self.sink.take();
        if let Some(r) = self.replacement.take() {
            let _ = r.commit(Err(Error::new(ErrorKind::Io, "abandoned")));
        }
    }
}

/// NumPy's `dtype.flags` bits the state carries: `NPY_NEEDS_INIT` (text), and
/// `NPY_NEEDS_PYAPI` (every record) with its fields' bits.
fn dtype_flags(d: &Descr) -> i64 {
    match d {
        Descr::Str { .. } => 0x08,
        Descr::Record(r) => r.fields.iter().fold(0x10, |acc, f| acc | dtype_flags(&f.descr)),
        _ => 0,
    }
}

/// A dtype as NumPy pickles it: `numpy.dtype(code, False, True)` then `BUILD` of its
/// state `(version, byte order, subarray, names, fields, elsize, alignment, flags[,
/// metadata])` (see [`crate::pickle::globals::build_dtype`]). A record's fields are
/// `{name: (dtype, offset)}`; a field with a shape is a subarray dtype. Records are
/// written unaligned (alignment 1): offsets and itemsize are explicit, so the layout
/// is the same. Recursion is bounded by `MAX_RECORD_DEPTH`.
fn pickle_dtype(p: &mut Writer, d: &Descr, subarray: &[usize]) {
    let size = subarray.iter().product::<usize>() * d.itemsize();
    let code = match (d, subarray.is_empty()) {
        (_, false) | (Descr::Record(_), true) | (Descr::Void(_), true) => format!("V{size}"),
        (Descr::Num { dtype, .. }, true) => format!("{}{}", dtype.kind(), dtype.itemsize()),
        (Descr::Time { delta, .. }, true) => (if *delta { "m8" } else { "M8" }).to_string(),
        (Descr::Bytes(n), true) => format!("S{n}"),
        (Descr::Str { chars, .. }, true) => format!("U{chars}"),
    };
    p.global("numpy", "dtype");
    p.str(&code);
    p.bool(false);
    p.bool(true);
    p.op(0x87); // TUPLE3
    p.op(b'R');
    p.op(b'(');
    p.int(if matches!(d, Descr::Time { .. }) && subarray.is_empty() { 4 } else { 3 });
    p.str(&(if subarray.is_empty() { d.order() } else { ByteOrder::NotApplicable }).symbol().to_string());
    if subarray.is_empty() {
        p.none();
    } else {
        pickle_dtype(p, d, &[]);
        p.op(b'(');
        for &n in subarray {
            p.int(n as i64);
        }
        p.op(b't');
        p.op(0x86); // TUPLE2
    }
    match (d, subarray.is_empty()) {
        (Descr::Record(r), true) => {
            p.op(b'(');
            for f in &r.fields {
                p.str(&f.name);
            }
            p.op(b't');
            p.op(b'}');
            p.op(b'(');
            for f in &r.fields {
                p.str(&f.name);
                pickle_dtype(p, &f.descr, &f.shape);
                p.int(f.offset as i64);
                p.op(0x86); // TUPLE2
            }
            p.op(b'u');
        }
        _ => {
            p.none();
            p.none();
        }
    }
    let (elsize, alignment) = match (d, subarray.is_empty()) {
        (Descr::Record(_), false) => (size as i64, 1),
        (_, false) => (size as i64, d.alignment() as i64),
        (Descr::Num { .. } | Descr::Time { .. }, true) => (-1, -1),
        (Descr::Str { .. }, true) => (size as i64, 4),
        (_, true) => (size as i64, 1),
    };
    p.int(elsize);
    p.int(alignment);
    p.int(dtype_flags(d));
    if let (Descr::Time { unit, multiple, .. }, true) = (d, subarray.is_empty()) {
        // (metadata, (unit, num, den, events)), as NumPy 2 writes it.
        p.none();
        p.op(b'(');
        p.bytes(if *unit == crate::descr::TimeUnit::Generic { b"generic" } else { unit.symbol().as_bytes() });
        p.int(*multiple as i64);
        p.int(1);
        p.int(1);
        p.op(b't');
        p.op(0x86); // TUPLE2
    }
    p.op(b't');
    p.op(b'b');
}
