//! The globals a pickle may name, and what each builds. Nothing is imported or
//! called: each known `module.name` is a [`Global`] whose `REDUCE` / `NEWOBJ` /
//! `BUILD` this file implements on plain data. Every other global is refused
//! ([`ErrorKind::UnsafePickle`]) when the stream names it.
//!
//! | global | builds |
//! |---|---|
//! | `joblib.numpy_pickle.NumpyArrayWrapper` | `NEWOBJ` + `BUILD`: an array whose bytes follow in the file (`crate::joblib`) |
//! | `numpy.ndarray`, `numpy.memmap` | only as the class of a wrapper or of `_reconstruct` |
//! | `numpy.dtype` | `dtype(code, False, True)` + `BUILD` of NumPy's dtype state (records, datetimes, strings: [`build_dtype`]) |
//! | `numpy[._]core.multiarray.scalar` | a NumPy scalar from its dtype and bytes |
//! | `numpy[._]core.multiarray._reconstruct` | `ndarray` + `BUILD (1, shape, dtype, fortran, bytes)` |
//! | `numpy[._]core.numeric._frombuffer` | an `ndarray` pickled in-band with protocol 5 |
//! | `builtins` (`__builtin__`) `set`, `frozenset`, `complex`, `bytearray`, `bytes` | those values |
//! | `collections.OrderedDict` | a dict |
//! | `_codecs.encode(str, 'latin1')` | bytes (protocol 2's spelling of `bytes`) |

use super::{bad, Arena, Dtype, Node, Val, MAX_DTYPE_FIELDS};
use crate::descr::{self, Descr, Field, Record, MAX_FIELDS, MAX_RECORD_DEPTH};
use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, ErrorKind, Result};
use crate::header::Header;
use crate::npy;

/// A whitelisted global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Global {
    NumpyArrayWrapper,
    Ndarray,
    Memmap,
    DtypeClass,
    Scalar,
    Reconstruct,
    FromBuffer,
    Set,
    FrozenSet,
    Complex,
    ByteArray,
    Bytes,
    OrderedDict,
    CodecsEncode,
}

impl Global {
    /// Looks up `module.name`; anything unknown is refused, naming it.
    pub fn lookup(module: &str, name: &str, at: u64) -> Result<Global> {
        let numpy_core = |m: &str, sub: &str| m == format!("numpy.core.{sub}") || m == format!("numpy._core.{sub}");
        let builtin = module == "builtins" || module == "__builtin__";
        Ok(match (module, name) {
            ("joblib.numpy_pickle", "NumpyArrayWrapper") => Global::NumpyArrayWrapper,
            ("numpy", "ndarray") => Global::Ndarray,
            ("numpy", "memmap") => Global::Memmap,
            (m, "memmap") if numpy_core(m, "memmap") => Global::Memmap,
            ("numpy", "dtype") => Global::DtypeClass,
            (m, "scalar") if numpy_core(m, "multiarray") => Global::Scalar,
            (m, "_reconstruct") if numpy_core(m, "multiarray") => Global::Reconstruct,
            (m, "_frombuffer") if numpy_core(m, "numeric") => Global::FromBuffer,
            (_, "set") if builtin => Global::Set,
            (_, "frozenset") if builtin => Global::FrozenSet,
            (_, "complex") if builtin => Global::Complex,
            (_, "bytearray") if builtin => Global::ByteArray,
            (_, "bytes") if builtin => Global::Bytes,
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("_codecs", "encode") => Global::CodecsEncode,
            _ => return Err(refused(&format!("{module}.{name}"), at)),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Global::NumpyArrayWrapper => "joblib.numpy_pickle.NumpyArrayWrapper",
            Global::Ndarray => "numpy.ndarray",
            Global::Memmap => "numpy.memmap",
            Global::DtypeClass => "numpy.dtype",
            Global::Scalar => "numpy.core.multiarray.scalar",
            Global::Reconstruct => "numpy.core.multiarray._reconstruct",
            Global::FromBuffer => "numpy.core.numeric._frombuffer",
            Global::Set => "builtins.set",
            Global::FrozenSet => "builtins.frozenset",
            Global::Complex => "builtins.complex",
            Global::ByteArray => "builtins.bytearray",
            Global::Bytes => "builtins.bytes",
            Global::OrderedDict => "collections.OrderedDict",
            Global::CodecsEncode => "_codecs.encode",
        }
    }
}

/// The error for a global outside the whitelist.
pub fn refused(what: &str, at: u64) -> Error {
    Error::new(
        ErrorKind::UnsafePickle,
        format!(
            "the pickle names the global '{what}' (at byte {at}), which mmnpy does not load: unpickling it would import and run code; mmnpy builds only plain data, NumPy arrays, dtypes and scalars, and joblib's array wrapper"
        ),
    )
}

fn args_of(arena: &Arena, args: Val, g: Global, at: u64) -> Result<&[Val]> {
    match arena.node(args) {
        Some(Node::Tuple(t)) => Ok(t),
        _ => Err(bad(at, format!("the arguments of {} are {}, not a tuple", g.name(), arena.describe(args)))),
    }
}

fn number(arena: &Arena, v: Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(i as f64),
        Val::Float(f) => Some(f),
        Val::Bool(b) => Some(b as u8 as f64),
        _ => match arena.node(v) {
            Some(Node::BigInt(b)) => Some(big_to_f64(b)),
            _ => None,
        },
    }
}

fn big_to_f64(le: &[u8]) -> f64 {
    let neg = le.last().is_some_and(|b| b & 0x80 != 0);
    let mut x = 0f64;
    for &b in le.iter().rev() {
        x = x * 256.0 + (if neg { !b } else { b }) as f64;
    }
    if neg {
        -(x + 1.0)
    } else {
        x
    }
}

/// The items of a list, tuple, set or frozenset (what `set(iterable)` may take).
fn iterable(arena: &Arena, v: Val) -> Option<Vec<Val>> {
    match arena.node(v) {
        Some(Node::List(t)) | Some(Node::Tuple(t)) | Some(Node::Set(t)) | Some(Node::FrozenSet(t)) => Some(t.clone()),
        _ => None,
    }
}

fn latin1(s: &str, at: u64) -> Result<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).map_err(|_| bad(at, format!("a latin-1 encoded str holds the character U+{:04X}", c as u32)))).collect()
}

fn bytes_of(arena: &Arena, v: Val) -> Option<&[u8]> {
    match arena.node(v) {
        Some(Node::Bytes(b)) | Some(Node::ByteArray(b)) => Some(b),
        _ => None,
    }
}

/// `callable(*args)` (`REDUCE`).
pub fn reduce(arena: &mut Arena, callable: Val, args: Val, at: u64) -> Result<Val> {
    let g = match arena.node(callable) {
        Some(Node::Global(g)) => *g,
        _ => return Err(bad(at, format!("REDUCE calls {}, which is not a known global", arena.describe(callable)))),
    };
    let a = args_of(arena, args, g, at)?.to_vec();
    let wrong = |arena: &Arena| bad(at, format!("{} called with ({})", g.name(), a.iter().map(|v| arena.describe(*v)).collect::<Vec<_>>().join(", ")));
    match g {
        Global::DtypeClass => {
            let code = match a.first().and_then(|v| arena.str(*v)) {
                Some(c) if c.len() <= 64 => c.to_string(),
                _ => return Err(wrong(arena)),
            };
            arena.add(Node::Dtype(Dtype { code, endian: '=', unsupported: None, descr: None, subarray: Vec::new() }))
        }
        Global::Scalar => {
            let (Some(&d), Some(&data)) = (a.first(), a.get(1)) else { return Err(wrong(arena)) };
            let (dtype, order) = resolve_dtype(arena, d, at)?;
            let Some(bytes) = bytes_of(arena, data) else { return Err(wrong(arena)) };
            if bytes.len() != dtype.itemsize() {
                return Err(bad(at, format!("a {} scalar of {} bytes", dtype.name(), bytes.len())));
            }
            let bytes = bytes.to_vec();
            scalar(arena, dtype, order, &bytes)
        }
        Global::Complex => {
            let re = a.first().map(|v| number(arena, *v)).unwrap_or(Some(0.0));
            let im = a.get(1).map(|v| number(arena, *v)).unwrap_or(Some(0.0));
            match (re, im, a.len() <= 2) {
                (Some(re), Some(im), true) => arena.add(Node::Complex(re, im)),
                _ => Err(wrong(arena)),
            }
        }
        Global::Set | Global::FrozenSet => {
            let items = match a.first() {
                None => Vec::new(),
                Some(v) => iterable(arena, *v).ok_or_else(|| wrong(arena))?,
            };
            arena.add(if g == Global::Set { Node::Set(items) } else { Node::FrozenSet(items) })
        }
        Global::ByteArray | Global::Bytes => {
            let data = match (a.first(), a.get(1)) {
                (None, _) => Vec::new(),
                (Some(v), None) => bytes_of(arena, *v).ok_or_else(|| wrong(arena))?.to_vec(),
                (Some(s), Some(e)) => match (arena.str(*s), arena.str(*e)) {
                    (Some(s), Some("latin-1" | "latin1")) => latin1(s, at)?,
                    _ => return Err(wrong(arena)),
                },
            };
            arena.add(if g == Global::Bytes { Node::Bytes(data) } else { Node::ByteArray(data) })
        }
        Global::OrderedDict => {
            let mut items = Vec::new();
            if let Some(v) = a.first() {
                for pair in iterable(arena, *v).ok_or_else(|| wrong(arena))? {
                    match arena.items(pair) {
                        Some([k, v]) => items.push((*k, *v)),
                        _ => return Err(wrong(arena)),
                    }
                }
            }
            arena.add(Node::Dict(items))
        }
        Global::CodecsEncode => match (a.first().and_then(|v| arena.str(*v)), a.get(1).and_then(|v| arena.str(*v))) {
            (Some(s), Some("latin1" | "latin-1")) => {
                let b = latin1(s, at)?;
                arena.add(Node::Bytes(b))
            }
            _ => Err(wrong(arena)),
        },
        Global::Reconstruct => {
            let class = a.first().and_then(|v| arena.node(*v));
            if !matches!(class, Some(Node::Global(Global::Ndarray | Global::Memmap))) {
                return Err(wrong(arena));
            }
            arena.add(Node::Reconstruct)
        }
        Global::FromBuffer => {
            let (Some(&buf), Some(&d), Some(&shape), Some(&order)) = (a.first(), a.get(1), a.get(2), a.get(3)) else { return Err(wrong(arena)) };
            let fortran = match arena.str(order) {
                Some("C") => false,
                Some("F") => true,
                _ => return Err(wrong(arena)),
            };
            let shape = shape_of(arena, shape, at)?;
            let descr = array_descr(arena, d, at)?;
            let Some(bytes) = bytes_of(arena, buf) else { return Err(wrong(arena)) };
            let a = in_memory(bytes, descr, shape, fortran, at)?;
            arena.add_array(a)
        }
        Global::NumpyArrayWrapper | Global::Ndarray | Global::Memmap => {
            Err(bad(at, format!("REDUCE calls {}, which mmnpy builds only through NEWOBJ", g.name())))
        }
    }
}

/// `cls.__new__(cls, *args)` (`NEWOBJ`): only joblib's array wrapper.
pub fn newobj(arena: &mut Arena, class: Val, args: Val, at: u64) -> Result<Val> {
    match arena.node(class) {
        Some(Node::Global(Global::NumpyArrayWrapper)) if arena.items(args).is_some_and(|a| a.is_empty()) => arena.add(Node::Object(Global::NumpyArrayWrapper)),
        Some(Node::Global(Global::OrderedDict)) => arena.add(Node::Dict(Vec::new())),
        _ => Err(bad(at, format!("NEWOBJ of {} with {}", arena.describe(class), arena.describe(args)))),
    }
}

/// A shape tuple of non-negative ints.
pub fn shape_of(arena: &Arena, v: Val, at: u64) -> Result<Vec<usize>> {
    let items = match arena.node(v) {
        Some(Node::Tuple(t)) | Some(Node::List(t)) => t,
        _ => match v {
            // NumPy accepts an int for a 1-D shape.
            Val::Int(n) if n >= 0 => return Ok(vec![n as usize]),
            _ => return Err(bad(at, format!("a shape is {}, not a tuple of ints", arena.describe(v)))),
        },
    };
    if items.len() > 64 {
        return Err(bad(at, format!("a shape of {} dimensions (NumPy's limit is 64)", items.len())));
    }
    items
        .iter()
        .map(|d| match d {
            Val::Int(n) if *n >= 0 && (*n as u64) <= usize::MAX as u64 => Ok(*n as usize),
            Val::Int(n) => Err(Error::new(ErrorKind::BadShape, format!("malformed pickle at byte {at}: negative dimension {n} in a shape"))),
            _ => Err(bad(at, format!("a dimension of a shape is {}", arena.describe(*d)))),
        })
        .collect()
}

/// An in-memory array holding a copy of `bytes` (size checked against the shape).
pub fn in_memory(bytes: &[u8], descr: Descr, shape: Vec<usize>, fortran: bool, at: u64) -> Result<crate::npy::Array> {
    let h = Header::with_descr(descr, fortran, shape.iter().map(|&d| d as u64).collect());
    let need = h.nbytes()?;
    if need != bytes.len() as u64 {
        let name = h.full_descr().name().unwrap_or_default();
        return Err(bad(at, format!("an array of shape {shape:?} {name} needs {need} bytes, the pickle gives {}", bytes.len())));
    }
    npy::from_bytes_with(&h, Some(bytes))
}

/// `prod(shape) * itemsize`, overflow-checked.
pub fn nbytes(shape: &[usize], dtype: DType) -> Result<u64> {
    shape
        .iter()
        .try_fold(dtype.itemsize() as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| Error::new(ErrorKind::BadShape, format!("an array of shape {shape:?} {} overflows 64 bits", dtype.name())))
}

/// `BUILD` of a dtype: NumPy's `__setstate__` tuple
/// `(version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])`
/// (`arraydescr_setstate` in NumPy's `descriptor.c`). Nothing in it is evaluated: the
/// dtypes of fields and subarrays are dtype nodes built before, the rest plain values.
///
/// ```text
/// code   state                                                        dtype
/// 'f8'   (3, '<', None, None, None, -1, -1, 0)                        <f8
/// 'M8'   (4, '<', None, None, None, -1, -1, 0, (None, (b'ns', 1, 1, 1)))
///                                                                     <M8[ns] (NumPy 1: (b'ns', 1, 1, 1))
/// 'S5'   (3, '|', None, None, None, 5, 1, 0)                          |S5
/// 'U6'   (3, '>', None, None, None, 24, 4, 8)                         >U6
/// 'V12'  (3, '|', None, ('a', 'b'), {'a': (dtype('<i4'), 0),
///         'b': (dtype('<f8'), 4)}, 12, 1, 16)                          a record (offsets, itemsize)
/// 'V12'  (3, '|', (dtype('<f4'), (3,)), None, None, 12, 4, 0)         subarray ('<f4', (3,)): a field's type
/// ```
///
/// User metadata (a dict in the last item) is dropped: it does not change the data.
pub fn build_dtype(arena: &mut Arena, dtype: Val, state: Val, at: u64) -> Result<()> {
    let Some(items) = arena.items(state).map(|s| s.to_vec()) else {
        return Err(bad(at, format!("the state of a numpy.dtype is {}", arena.describe(state))));
    };
    if items.len() < 8 || items.len() > 9 {
        return Err(bad(at, format!("the state of a numpy.dtype has {} items (NumPy writes 8 or 9)", items.len())));
    }
    let endian = match arena.str(items[1]) {
        Some(e @ ("<" | ">" | "|" | "=")) => e.chars().next().unwrap_or('='),
        _ => return Err(bad(at, format!("the byte order of a numpy.dtype is {}", arena.describe(items[1])))),
    };
    let (Val::Ref(id), Some(Node::Dtype(d))) = (dtype, arena.node(dtype)) else { return Err(bad(at, "BUILD of a dtype that is not one")) };
    let code = d.code.clone();
    let (descr, subarray, unsupported) = match dtype_of_state(arena, &code, endian, &items, at)? {
        Ok((d, s)) => (Some(d), s, None),
        Err(why) => (None, Vec::new(), Some(why)),
    };
    if let Some(Node::Dtype(d)) = arena.nodes.get_mut(id as usize) {
        d.endian = endian;
        d.descr = descr;
        d.subarray = subarray;
        d.unsupported = unsupported;
    }
    Ok(())
}

/// A dtype and its subarray shape, or why mmnpy does not hold it (a phrase naming it).
type Built = std::result::Result<(Descr, Vec<usize>), String>;

/// An error from the dtype checks of [`crate::descr`], as one of a pickle's.
fn in_state(e: Error, at: u64) -> Error {
    match e.kind() {
        ErrorKind::BadHeader => bad(at, format!("a numpy.dtype state: {}", e.message())),
        k => Error::new(k, format!("a numpy.dtype state at byte {at} of the pickle: {}", e.message())),
    }
}

fn dtype_of_state(arena: &mut Arena, code: &str, endian: char, items: &[Val], at: u64) -> Result<Built> {
    let kind = code.chars().next().unwrap_or(' ');
    let elsize = match items[5] {
        Val::Int(n) if n >= -1 && n <= descr::MAX_ITEMSIZE as i64 => n,
        v => return Err(bad(at, format!("the itemsize in a numpy.dtype state is {}", describe_val(arena, v)))),
    };
    if kind == 'O' {
        return Ok(Err("the object dtype ('O'), which holds Python objects: mmnpy never unpickles them".into()));
    }
    let (descr, subarray) = if items[2] != Val::None {
        let Some(&[base, shape]) = arena.items(items[2]) else {
            return Err(bad(at, format!("the subarray of a numpy.dtype state is {}, not (dtype, shape)", arena.describe(items[2]))));
        };
        let (base, inner) = match dtype_node(arena, base, at)? {
            Ok(b) => b,
            Err(why) => return Ok(Err(format!("a subarray of {why}"))),
        };
        let dims: Vec<i128> = match (shape, arena.items(shape)) {
            (Val::Int(n), _) => vec![n as i128],
            (_, Some(t)) => t
                .iter()
                .map(|d| match d {
                    Val::Int(n) => Ok(*n as i128),
                    v => Err(bad(at, format!("a subarray dimension in a numpy.dtype state is {}", arena.describe(*v)))),
                })
                .collect::<Result<_>>()?,
            _ => return Err(bad(at, format!("the subarray shape of a numpy.dtype state is {}", arena.describe(shape)))),
        };
        let mut shape = descr::subarray_shape(&dims, "a subarray dtype").map_err(|e| in_state(e, at))?;
        shape.extend(inner);
        (base, shape)
    } else if items[3] != Val::None {
        match record_of_state(arena, items[3], items[4], elsize, at)? {
            Ok(r) => (Descr::Record(r), Vec::new()),
            Err(why) => return Ok(Err(why)),
        }
    } else if kind == 'M' || kind == 'm' {
        let meta = items.get(8).copied().unwrap_or(Val::None);
        let (unit, num, den) = match (datetime_meta(arena, meta), meta) {
            (Some(m), _) => m,
            (None, Val::None) => ("generic".to_string(), 1, 1),
            (None, _) => return Err(bad(at, format!("the datetime metadata of a numpy.dtype state is {}", arena.describe(meta)))),
        };
        let shown: String = unit.chars().take(16).collect();
        if den != 1 || !(1..=i32::MAX as i64).contains(&num) {
            return Err(bad(at, format!("a datetime dtype of unit {shown:?} with multiple {num}/{den}")));
        }
        let suffix = match (unit.as_str(), num) {
            ("generic", _) => String::new(),
            (u, 1) => format!("[{u}]"),
            (u, n) => format!("[{n}{u}]"),
        };
        match Descr::parse(&format!("{}{kind}8{suffix}", if endian == '|' { '=' } else { endian })) {
            Ok(d @ Descr::Time { .. }) => (d, Vec::new()),
            _ => return Err(bad(at, format!("a datetime dtype of unit {shown:?}, which NumPy does not have"))),
        }
    } else {
        match unbuilt(code, endian) {
            Ok(d) => d,
            Err(why) => return Ok(Err(why)),
        }
    };
    let size = descr::checked_span(&descr, &subarray, "a numpy.dtype").map_err(|e| in_state(e, at))?;
    if elsize >= 0 && elsize as usize != size {
        let name = descr.name().unwrap_or_default();
        return Err(bad(at, format!("a numpy.dtype state gives {name} (shape {subarray:?}) the itemsize {elsize}, but it takes {size} bytes")));
    }
    Ok(Ok((descr, subarray)))
}

fn describe_val(arena: &Arena, v: Val) -> String {
    match v {
        Val::Int(n) => n.to_string(),
        v => arena.describe(v),
    }
}

/// The dtype `numpy.dtype(code)` gives before any state: native byte order.
fn unbuilt(code: &str, endian: char) -> Built {
    let spec = format!("{endian}{code}");
    match Descr::parse(&spec) {
        Ok(Descr::Record(_)) | Err(_) => Err(format!("the dtype '{spec}', which mmnpy does not read")),
        Ok(d) => Ok((d, Vec::new())),
    }
}

/// The dtype a dtype node holds (built or not), or why mmnpy cannot hold it.
fn dtype_node(arena: &Arena, v: Val, at: u64) -> Result<Built> {
    let Some(Node::Dtype(d)) = arena.node(v) else {
        return Err(bad(at, format!("a dtype is {}", arena.describe(v))));
    };
    Ok(match (&d.unsupported, &d.descr) {
        (Some(why), _) => Err(why.clone()),
        (None, Some(descr)) => Ok((descr.clone(), d.subarray.clone())),
        (None, None) => unbuilt(&d.code, d.endian),
    })
}

/// The fields of a record from a dtype state's `names` and `fields`.
fn record_of_state(arena: &mut Arena, names: Val, fields: Val, elsize: i64, at: u64) -> Result<std::result::Result<Record, String>> {
    let Some(names) = arena.items(names).map(|n| n.to_vec()) else {
        return Err(bad(at, format!("the field names of a numpy.dtype state are {}, not a tuple", arena.describe(names))));
    };
    let Some(Node::Dict(entries)) = arena.node(fields) else {
        return Err(bad(at, format!("the fields of a numpy.dtype state are {}, not a dict", arena.describe(fields))));
    };
    let entries = entries.len();
    if elsize < 0 {
        return Err(bad(at, format!("a structured numpy.dtype state has the itemsize {elsize}")));
    }
    if names.len() > MAX_FIELDS {
        return Ok(Err(format!("a structured dtype of {} fields (mmnpy reads at most {MAX_FIELDS})", names.len())));
    }
    let (mut out, mut count, mut depth) = (Vec::with_capacity(names.len()), 0usize, 0usize);
    for &n in &names {
        let Some(name) = arena.str(n) else {
            return Err(bad(at, format!("a field name in a numpy.dtype state is {}, not a str", arena.describe(n))));
        };
        let shown: String = name.chars().take(40).collect();
        let Some(entry) = arena.get(fields, name) else {
            return Err(bad(at, format!("the field {shown:?} is named in a numpy.dtype state but not among its fields")));
        };
        let (ty, offset) = match arena.items(entry) {
            Some(&[ty, offset]) => (ty, offset),
            Some(&[_, _, title]) if title != Val::None => {
                return Ok(Err(format!("a structured dtype whose field {shown:?} has a title, which mmnpy does not read")))
            }
            Some(&[ty, offset, _]) => (ty, offset),
            _ => return Err(bad(at, format!("the field {shown:?} of a numpy.dtype state is {}, not (dtype, offset)", arena.describe(entry)))),
        };
        let offset = match offset {
            Val::Int(o) if o >= 0 && o <= descr::MAX_ITEMSIZE as i64 => o as usize,
            v => return Err(bad(at, format!("the field {shown:?} of a numpy.dtype state has the offset {}", describe_val(arena, v)))),
        };
        let (descr, shape) = match dtype_node(arena, ty, at)? {
            Ok(d) => d,
            Err(why) => return Ok(Err(format!("a structured dtype whose field {shown:?} is {why}"))),
        };
        count += 1 + descr.record().map_or(0, Record::count_fields);
        depth = depth.max(descr.depth());
        if count > MAX_FIELDS {
            return Ok(Err(format!("a structured dtype of more than {MAX_FIELDS} fields in all (mmnpy's limit)")));
        }
        if depth + 1 > MAX_RECORD_DEPTH {
            return Ok(Err(format!("records nested more than {MAX_RECORD_DEPTH} levels deep (mmnpy's limit)")));
        }
        out.push(Field { name: name.to_string(), descr, shape, offset });
    }
    if entries != names.len() {
        return Err(bad(at, format!("a numpy.dtype state names {} fields and describes {entries}", names.len())));
    }
    arena.dtype_fields += count;
    if arena.dtype_fields > MAX_DTYPE_FIELDS {
        return Err(bad(at, format!("the pickle's dtypes build more than {MAX_DTYPE_FIELDS} record fields (mmnpy's limit)")));
    }
    Record::new(out, elsize as usize).map(Ok).map_err(|e| in_state(e, at))
}

/// `(unit, num, den)` of datetime metadata: `(dict | None, (unit, num, den, events))`
/// (NumPy 2 and most of 1.x) or `(unit, num, den, events)`.
fn datetime_meta(arena: &Arena, meta: Val) -> Option<(String, i64, i64)> {
    let items = arena.items(meta)?;
    let unit_of = |v: Val| match arena.node(v) {
        Some(Node::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(Node::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let t = match items.first().and_then(|v| unit_of(*v)) {
        Some(_) => items,
        None => arena.items(*items.get(1)?)?,
    };
    let unit = unit_of(*t.first()?)?;
    let int = |i: usize| match t.get(i) {
        Some(Val::Int(n)) => Some(*n),
        None => Some(1),
        _ => None,
    };
    Some((unit, int(1)?, int(2)?))
}

/// The dtype of an array: a dtype node that is not a subarray, or the error naming
/// what mmnpy does not read.
pub fn array_descr(arena: &Arena, v: Val, at: u64) -> Result<Descr> {
    match dtype_node(arena, v, at)? {
        Ok((d, sub)) if sub.is_empty() => Ok(d),
        Ok((d, sub)) => {
            Err(bad(at, format!("an array's dtype is a subarray dtype ({}, {sub:?}), which NumPy never gives an array", d.name().unwrap_or_default())))
        }
        Err(why) => Err(Error::new(ErrorKind::UnsupportedDtype, format!("the pickle holds an array or scalar of {why}"))),
    }
}

/// The numeric element type and byte order of a scalar's dtype.
pub fn resolve_dtype(arena: &Arena, v: Val, at: u64) -> Result<(DType, ByteOrder)> {
    match array_descr(arena, v, at)? {
        Descr::Num { dtype, order } => Ok((dtype, order)),
        d => Err(Error::new(
            ErrorKind::UnsupportedDtype,
            format!("the pickle holds a NumPy scalar of {}, which mmnpy reads only as elements of arrays", d.name().unwrap_or_default()),
        )),
    }
}

/// A NumPy scalar's value from its bytes.
fn scalar(arena: &mut Arena, dtype: DType, order: ByteOrder, raw: &[u8]) -> Result<Val> {
    let mut b = raw.to_vec();
    if !order.is_native() {
        crate::view::swap_in_place(&mut b, dtype);
    }
    let n = |k: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..k].copy_from_slice(&b[..k]);
        a
    };
    let f32_at = |o: usize| f32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as f64;
    Ok(match dtype {
        DType::Bool => Val::Bool(b[0] != 0),
        DType::Int8 => Val::Int(b[0] as i8 as i64),
        DType::UInt8 => Val::Int(b[0] as i64),
        DType::Int16 => Val::Int(i16::from_ne_bytes([b[0], b[1]]) as i64),
        DType::UInt16 => Val::Int(u16::from_ne_bytes([b[0], b[1]]) as i64),
        DType::Int32 => Val::Int(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as i64),
        DType::UInt32 => Val::Int(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as i64),
        DType::Int64 => Val::Int(i64::from_ne_bytes(n(8))),
        DType::UInt64 => {
            let u = u64::from_ne_bytes(n(8));
            match i64::try_from(u) {
                Ok(i) => Val::Int(i),
                Err(_) => {
                    let mut le = u.to_le_bytes().to_vec();
                    le.push(0);
                    return arena.add(Node::BigInt(le));
                }
            }
        }
        DType::Float16 => Val::Float(crate::kernels::elem::F16(u16::from_ne_bytes([b[0], b[1]])).to_f32() as f64),
        DType::Float32 => Val::Float(f32_at(0)),
        DType::Float64 => Val::Float(f64::from_ne_bytes(n(8))),
        DType::Complex64 => return arena.add(Node::Complex(f32_at(0), f32_at(4))),
        DType::Complex128 => {
            let mut hi = [0u8; 8];
            hi.copy_from_slice(&b[8..16]);
            return arena.add(Node::Complex(f64::from_ne_bytes(n(8)), f64::from_ne_bytes(hi)));
        }
    })
}

/// `BUILD` of `_reconstruct`'s array: `(version, shape, dtype, is_fortran, data)`.
pub fn build_reconstructed(arena: &mut Arena, state: Val, at: u64) -> Result<Val> {
    let Some(items) = arena.items(state).map(|s| s.to_vec()) else {
        return Err(bad(at, format!("the state of an ndarray is {}", arena.describe(state))));
    };
    let [_, shape, dtype, fortran, data] = items[..] else {
        return Err(bad(at, format!("the state of an ndarray has {} items (NumPy writes 5)", items.len())));
    };
    let shape = shape_of(arena, shape, at)?;
    let descr = array_descr(arena, dtype, at)?;
    let fortran = match fortran {
        Val::Bool(b) => b,
        Val::Int(i) => i != 0,
        _ => return Err(bad(at, "the Fortran flag of an ndarray is not a bool")),
    };
    let mut bytes = match arena.node(data) {
        Some(Node::Bytes(b)) | Some(Node::ByteArray(b)) => b.clone(),
        Some(Node::Str(s)) => latin1(s, at)?,
        _ => return Err(bad(at, format!("the data of an ndarray is {}", arena.describe(data)))),
    };
    // NumPy's `__setstate__` turns an array in the other byte order to the machine's
    // (a record, whose own order is '|', keeps its fields' orders).
    let descr = if descr.order() != ByteOrder::NotApplicable && !descr.order().is_native() {
        descr.swap_in_place(&mut bytes);
        descr.with_order(ByteOrder::NATIVE)
    } else {
        descr
    };
    let a = in_memory(&bytes, descr, shape, fortran, at)?;
    arena.add_array(a)
}
