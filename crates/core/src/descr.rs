//! Dtype descriptors beyond the fourteen numeric ones: the dtypes ETL files carry
//! next to numbers. A [`Descr`] is what a `.npy` header's `'descr'` says.
//!
//! ```text
//! descr                          meaning                           itemsize
//! '<f8', '>i4', '|u1', ...       numeric (crate::dtype)            1..16
//! '<M8[ns]', '>m8[25us]', '<M8'  datetime64 / timedelta64: int64   8
//!                                ticks of `multiple` units; NaT is
//!                                i64::MIN; no unit = generic
//! '|S5'                          bytes, NUL-padded                 5
//! '<U6', '>U6'                   UTF-32 code units, NUL-padded     24
//! '|V8'                          raw bytes (padding, opaque data)  8
//! [('a', '<i4'), ('', '|V4'),    a record: fields in order, each   sum of the
//!  ('b', '<f8', (2, 3)),          at the end of the previous one;  entries
//!  ('s', [('q', '|u1')])]         ('', '|Vn') is padding; a third
//!                                 item is a subarray shape; a list
//!                                 as the type nests a record
//! {'names': [...], 'formats':    a record with explicit offsets    'itemsize'
//!  [...], 'offsets': [...],       and size (NumPy's dict form; its
//!  'itemsize': n}                 own .npy reader does not take it)
//! ```
//!
//! NumPy writes records with `dtype.descr` (`numpy/_core/_internal.py:_array_descr`):
//! one entry per field in order, `('', '|V<n>')` for every gap and for the tail, and
//! it refuses fields that overlap or are out of order; mmnpy writes exactly that.
//! Field names are written with Python's `repr` of a string.
//!
//! What mmnpy refuses, with [`ErrorKind::UnsupportedDtype`] for valid NumPy it does
//! not map and [`ErrorKind::BadHeader`] for nonsense: object dtypes (`|O`, a pickle),
//! field titles, dtype metadata, more than [`MAX_FIELDS`] fields in all, records
//! nested deeper than [`MAX_RECORD_DEPTH`], an itemsize over [`MAX_ITEMSIZE`] (NumPy's
//! own limit, a C int), duplicate or empty names, fields that overlap or reach past
//! the itemsize, zero-size `S0`/`U0`. Zero-size elements with a huge shape are
//! refused by the header ([`MAX_ZERO_SIZE_ELEMENTS`]).

use crate::dtype::{ByteOrder, DType};
use crate::error::{err, Error, ErrorKind, Result};
use crate::header::Value;

/// The most fields a dtype may have, counted over all nesting levels.
pub const MAX_FIELDS: usize = 4096;
/// The deepest nesting of records.
pub const MAX_RECORD_DEPTH: usize = 6;
/// The largest itemsize (NumPy stores it in a C int).
pub const MAX_ITEMSIZE: usize = i32::MAX as usize;
/// The most elements an array of zero-size elements may have: they take no bytes,
/// so the file size bounds nothing and a hostile shape would make every loop endless.
pub const MAX_ZERO_SIZE_ELEMENTS: u64 = 1 << 24;

/// The unit of a datetime64 / timedelta64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// No unit (`'<M8'`): only NaT and zero are meaningful.
    Generic,
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Milli,
    Micro,
    Nano,
    Pico,
    Femto,
    Atto,
}

const UNITS: [(TimeUnit, &str); 13] = [
    (TimeUnit::Year, "Y"),
    (TimeUnit::Month, "M"),
    (TimeUnit::Week, "W"),
    (TimeUnit::Day, "D"),
    (TimeUnit::Hour, "h"),
    (TimeUnit::Minute, "m"),
    (TimeUnit::Second, "s"),
    (TimeUnit::Milli, "ms"),
    (TimeUnit::Micro, "us"),
    (TimeUnit::Nano, "ns"),
    (TimeUnit::Pico, "ps"),
    (TimeUnit::Femto, "fs"),
    (TimeUnit::Atto, "as"),
];

impl TimeUnit {
    /// NumPy's symbol (`ns`); empty for generic.
    pub fn symbol(self) -> &'static str {
        UNITS.iter().find(|(u, _)| *u == self).map(|(_, s)| *s).unwrap_or("")
    }

    fn parse(s: &str) -> Option<TimeUnit> {
        if s == "μs" {
            return Some(TimeUnit::Micro);
        }
        UNITS.iter().find(|(_, sym)| *sym == s).map(|(u, _)| *u)
    }
}

/// A dtype as a `.npy` header or a user spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Descr {
    Num {
        dtype: DType,
        order: ByteOrder,
    },
    /// datetime64 (`delta` false) or timedelta64: int64 ticks of `multiple` `unit`s.
    Time {
        delta: bool,
        unit: TimeUnit,
        multiple: u32,
        order: ByteOrder,
    },
    /// `S<n>`: n bytes, trailing NULs not part of the value.
    Bytes(usize),
    /// `U<n>`: n UTF-32 code units in `order`, trailing NULs not part of the value.
    Str {
        chars: usize,
        order: ByteOrder,
    },
    /// `V<n>`: n opaque bytes.
    Void(usize),
    Record(Record),
}

/// A structured dtype: named fields at byte offsets inside `itemsize` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fields: Vec<Field>,
    pub itemsize: usize,
}

/// One field of a record: a name, a dtype, a subarray shape (empty for a scalar
/// field) and the byte offset inside the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub descr: Descr,
    pub shape: Vec<usize>,
    pub offset: usize,
}

impl Field {
    /// Bytes the field takes: its dtype's itemsize times the subarray's size.
    pub fn size(&self) -> usize {
        self.shape.iter().product::<usize>() * self.descr.itemsize()
    }
}

fn unsupported<T>(msg: impl Into<String>) -> Result<T> {
    err(ErrorKind::UnsupportedDtype, msg)
}

fn bad<T>(msg: impl Into<String>) -> Result<T> {
    err(ErrorKind::BadHeader, msg)
}

impl Descr {
    pub fn numeric(dtype: DType, order: ByteOrder) -> Descr {
        Descr::Num { dtype, order: dtype.order(order) }
    }

    pub fn itemsize(&self) -> usize {
        match self {
            Descr::Num { dtype, .. } => dtype.itemsize(),
            Descr::Time { .. } => 8,
            Descr::Bytes(n) | Descr::Void(n) => *n,
            Descr::Str { chars, .. } => chars * 4,
            Descr::Record(r) => r.itemsize,
        }
    }

    /// The numeric element the kernels see: the dtype itself, int64 ticks for
    /// datetimes, `None` for strings, void and records.
    pub fn storage(&self) -> Option<(DType, ByteOrder)> {
        match self {
            Descr::Num { dtype, order } => Some((*dtype, *order)),
            Descr::Time { order, .. } => Some((DType::Int64, *order)),
            _ => None,
        }
    }

    /// The byte order NumPy reports (`dtype.byteorder` as in `dtype.str`).
    pub fn order(&self) -> ByteOrder {
        match self {
            Descr::Num { order, .. } | Descr::Time { order, .. } | Descr::Str { order, .. } => *order,
            _ => ByteOrder::NotApplicable,
        }
    }

    /// The alignment of the element (NumPy's `dtype.alignment`).
    pub fn alignment(&self) -> usize {
        match self {
            Descr::Num { dtype, .. } => dtype.alignment(),
            Descr::Time { .. } => 8,
            Descr::Str { .. } => 4,
            Descr::Bytes(_) | Descr::Void(_) => 1,
            Descr::Record(r) => r.fields.iter().map(|f| f.descr.alignment()).max().unwrap_or(1),
        }
    }

    /// The name the JavaScript API reports: `float64`, `datetime64[ns]`,
    /// `timedelta64[2s]`, `bytes5`, `str6`, `void8`, or a record's NumPy spelling.
    pub fn name(&self) -> Result<String> {
        Ok(match self {
            Descr::Num { dtype, .. } => dtype.name().to_string(),
            Descr::Time { delta, unit, multiple, .. } => format!("{}{}", if *delta { "timedelta64" } else { "datetime64" }, unit_suffix(*unit, *multiple)),
            Descr::Bytes(n) => format!("bytes{n}"),
            Descr::Str { chars, .. } => format!("str{chars}"),
            Descr::Void(n) => format!("void{n}"),
            Descr::Record(_) => self.to_numpy()?,
        })
    }

    /// NumPy's `dtype.str` (`'<M8[ns]'`) or, for a record, the `repr` of its
    /// `dtype.descr` list, exactly as `np.save` writes it into the header (without
    /// the quotes of a string descr).
    pub fn to_numpy(&self) -> Result<String> {
        Ok(match self {
            Descr::Num { dtype, order } => dtype.descr(*order),
            Descr::Time { delta, unit, multiple, order } => format!("{}{}8{}", order.symbol(), if *delta { 'm' } else { 'M' }, unit_suffix(*unit, *multiple)),
            Descr::Bytes(n) => format!("|S{n}"),
            Descr::Str { chars, order } => format!("{}U{chars}", order.symbol()),
            Descr::Void(n) => format!("|V{n}"),
            Descr::Record(r) => r.to_numpy()?,
        })
    }

    /// The descr as a Python literal inside the header dict: quoted for a string.
    pub fn header_literal(&self) -> Result<String> {
        match self {
            Descr::Record(r) => r.to_numpy(),
            d => Ok(format!("'{}'", d.to_numpy()?)),
        }
    }

    /// Parses a dtype string as users and headers spell it: the numeric spellings of
    /// [`DType::parse`], `'<M8[ns]'`, `'m8[2s]'`, `'datetime64[ns]'`, `'timedelta64'`,
    /// `'|S5'`, `'S5'`, `'bytes5'`, `'<U6'`, `'str6'`, `'|V8'`, `'void8'`.
    pub fn parse(spec: &str) -> Result<Descr> {
        let unsupported_spec = || Error::new(ErrorKind::UnsupportedDtype, format!("unsupported dtype '{spec}'"));
        for (prefix, delta) in [("datetime64", false), ("timedelta64", true)] {
            if let Some(rest) = spec.strip_prefix(prefix) {
                let (unit, multiple) = parse_unit(rest).ok_or_else(unsupported_spec)?;
                return Ok(Descr::Time { delta, unit, multiple, order: ByteOrder::NATIVE });
            }
        }
        for (prefix, make) in [("bytes", 0), ("str", 1), ("void", 2)] {
            if let Some(n) = spec.strip_prefix(prefix).filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())) {
                let n = size_digits(n, spec)?;
                return Ok(match make {
                    0 => Descr::Bytes(n),
                    1 => Descr::Str { chars: n, order: ByteOrder::NATIVE },
                    _ => Descr::Void(n),
                });
            }
        }
        let (order, rest) = match spec.as_bytes().first() {
            Some(b'<') => (Some(ByteOrder::Little), &spec[1..]),
            Some(b'>') => (Some(ByteOrder::Big), &spec[1..]),
            Some(b'|') => (Some(ByteOrder::NotApplicable), &spec[1..]),
            Some(b'=') => (Some(ByteOrder::NATIVE), &spec[1..]),
            _ => (None, spec),
        };
        let multi = |o: Option<ByteOrder>| match o {
            None | Some(ByteOrder::NotApplicable) => ByteOrder::NATIVE,
            Some(o) => o,
        };
        if let Some(r) = rest.strip_prefix("M8").or_else(|| rest.strip_prefix("m8")) {
            let (unit, multiple) = parse_unit(r).ok_or_else(unsupported_spec)?;
            return Ok(Descr::Time { delta: rest.starts_with('m'), unit, multiple, order: multi(order) });
        }
        let mut chars = rest.chars();
        if let (Some(k @ ('S' | 'a' | 'U' | 'V')), digits) = (chars.next(), chars.as_str()) {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                let n = size_digits(digits, spec)?;
                return Ok(match k {
                    'U' => Descr::Str { chars: n, order: multi(order) },
                    'V' => Descr::Void(n),
                    _ => Descr::Bytes(n),
                });
            }
        }
        if rest == "O" || rest.starts_with("O8") || spec == "object" {
            return unsupported(format!("unsupported dtype '{spec}': object arrays are pickles, which mmnpy never evaluates"));
        }
        let (dtype, order) = DType::parse(spec)?;
        Ok(Descr::Num { dtype, order })
    }

    /// The same dtype in byte order `order` (NumPy's `newbyteorder`), through the
    /// fields and subarrays of a record; single-byte and text-less types keep theirs.
    pub fn with_order(&self, order: ByteOrder) -> Descr {
        match self {
            Descr::Num { dtype, .. } => Descr::numeric(*dtype, order),
            Descr::Time { delta, unit, multiple, .. } => Descr::Time { delta: *delta, unit: *unit, multiple: *multiple, order },
            Descr::Str { chars, .. } => Descr::Str { chars: *chars, order },
            Descr::Record(r) => Descr::Record(Record {
                fields: r.fields.iter().map(|f| Field { descr: f.descr.with_order(order), ..f.clone() }).collect(),
                itemsize: r.itemsize,
            }),
            d => d.clone(),
        }
    }

    /// Reverses the bytes of every multi-byte number in `bytes` (whole elements of
    /// this dtype), as NumPy's `byteswap()`: through record fields and subarrays.
    pub fn swap_in_place(&self, bytes: &mut [u8]) {
        let size = self.itemsize();
        match self {
            Descr::Num { dtype, .. } => crate::view::swap_in_place(bytes, *dtype),
            Descr::Time { .. } => bytes.chunks_exact_mut(8).for_each(|c| c.reverse()),
            Descr::Str { .. } => bytes.chunks_exact_mut(4).for_each(|c| c.reverse()),
            Descr::Record(r) if size > 0 => {
                for element in bytes.chunks_exact_mut(size) {
                    for f in &r.fields {
                        f.descr.swap_in_place(&mut element[f.offset..f.offset + f.size()]);
                    }
                }
            }
            _ => {}
        }
    }

    /// How deep records nest inside this dtype (0 for a scalar type).
    pub fn depth(&self) -> usize {
        match self {
            Descr::Record(r) => 1 + r.fields.iter().map(|f| f.descr.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Fields of a record, `None` otherwise.
    pub fn record(&self) -> Option<&Record> {
        match self {
            Descr::Record(r) => Some(r),
            _ => None,
        }
    }
}

fn unit_suffix(unit: TimeUnit, multiple: u32) -> String {
    match (unit, multiple) {
        (TimeUnit::Generic, _) => String::new(),
        (u, 1) => format!("[{}]", u.symbol()),
        (u, m) => format!("[{m}{}]", u.symbol()),
    }
}

/// `''` (generic), `'[ns]'`, `'[25us]'`.
fn parse_unit(s: &str) -> Option<(TimeUnit, u32)> {
    if s.is_empty() {
        return Some((TimeUnit::Generic, 1));
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let split = inner.find(|c: char| !c.is_ascii_digit()).unwrap_or(inner.len());
    let (digits, unit) = inner.split_at(split);
    let multiple = if digits.is_empty() {
        1
    } else {
        if digits.len() > 10 || digits.starts_with('0') {
            return None;
        }
        let m: u64 = digits.parse().ok()?;
        u32::try_from(m).ok().filter(|&m| m >= 1 && m <= i32::MAX as u32)?
    };
    Some((TimeUnit::parse(unit)?, multiple))
}

fn size_digits(digits: &str, spec: &str) -> Result<usize> {
    let n: usize = if digits.len() > 10 { usize::MAX } else { digits.parse().unwrap_or(usize::MAX) };
    if n == 0 {
        return unsupported(format!("unsupported dtype '{spec}': a zero-size string or void type"));
    }
    if n > MAX_ITEMSIZE / 4 {
        return bad(format!("dtype '{spec}' is too large (the itemsize limit is {MAX_ITEMSIZE} bytes)"));
    }
    Ok(n)
}

/// Python's `repr` of a str, as NumPy writes field names. Characters whose
/// printability mmnpy cannot decide like Python (non-Latin-1 symbols) are refused.
pub fn py_repr(s: &str) -> Result<String> {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        let u = c as u32;
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if u < 0x20 || (0x7f..=0xa0).contains(&u) || u == 0xad => out.push_str(&format!("\\x{u:02x}")),
            _ if u < 0x100 || c.is_alphanumeric() => out.push(c),
            _ => {
                return err(
                    ErrorKind::InvalidArgument,
                    format!("field name {s:?} has the character U+{u:04X}, which mmnpy cannot write the way NumPy's repr would"),
                )
            }
        }
    }
    out.push(quote);
    Ok(out)
}

fn shape_tuple(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

impl Record {
    /// Builds a record from fields with offsets, checking names, overlaps and bounds.
    pub fn new(fields: Vec<Field>, itemsize: usize) -> Result<Record> {
        if itemsize > MAX_ITEMSIZE {
            return bad(format!("record itemsize {itemsize} is too large (the limit is {MAX_ITEMSIZE})"));
        }
        let mut names = std::collections::HashSet::new();
        for f in &fields {
            if f.name.is_empty() {
                return bad("record has a field with an empty name");
            }
            if !names.insert(f.name.as_str()) {
                return bad(format!("record has two fields named {:?}", f.name));
            }
            let end = f.offset.checked_add(f.size()).filter(|&e| e <= itemsize);
            if end.is_none() {
                return bad(format!("field {:?} (offset {}, {} bytes) reaches past the record's itemsize {itemsize}", f.name, f.offset, f.size()));
            }
        }
        let mut spans: Vec<(usize, usize, &str)> = fields.iter().filter(|f| f.size() > 0).map(|f| (f.offset, f.offset + f.size(), f.name.as_str())).collect();
        spans.sort();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return bad(format!("fields {:?} and {:?} overlap (bytes {}..{} and {}..{})", w[0].2, w[1].2, w[0].0, w[0].1, w[1].0, w[1].1));
            }
        }
        Ok(Record { fields, itemsize })
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The `repr` of NumPy's `dtype.descr` list: fields in order, gaps as `('', '|Vn')`.
    pub fn to_numpy(&self) -> Result<String> {
        let mut parts = Vec::new();
        let mut offset = 0usize;
        for f in &self.fields {
            if f.offset > offset {
                parts.push(format!("('', '|V{}')", f.offset - offset));
                offset = f.offset;
            } else if f.offset < offset {
                return err(
                    ErrorKind::InvalidArgument,
                    format!("field {:?} is out of order (offset {} before {offset}): NumPy cannot write such a record to .npy either", f.name, f.offset),
                );
            }
            let ty = match &f.descr {
                Descr::Record(r) => r.to_numpy()?,
                d => format!("'{}'", d.to_numpy()?),
            };
            let name = py_repr(&f.name)?;
            parts.push(if f.shape.is_empty() { format!("({name}, {ty})") } else { format!("({name}, {ty}, {})", shape_tuple(&f.shape)) });
            offset += f.size();
        }
        if self.itemsize > offset {
            parts.push(format!("('', '|V{}')", self.itemsize - offset));
        }
        Ok(format!("[{}]", parts.join(", ")))
    }

    /// Number of fields over all nesting levels.
    pub fn count_fields(&self) -> usize {
        self.fields.iter().map(|f| 1 + f.descr.record().map_or(0, |r| r.count_fields())).sum()
    }
}

/// Counts fields and nesting while a descr is read, to enforce the limits.
#[derive(Default)]
pub(crate) struct Budget {
    fields: usize,
}

impl Budget {
    pub(crate) fn add_field(&mut self) -> Result<()> {
        self.fields += 1;
        if self.fields > MAX_FIELDS {
            return unsupported(format!("dtype has more than {MAX_FIELDS} fields"));
        }
        Ok(())
    }
}

/// The size of a subarray shape given by a header (an int or a tuple of ints).
pub(crate) fn subarray_shape(dims: &[i128], what: &str) -> Result<Vec<usize>> {
    if dims.len() > 32 {
        return bad(format!("{what} has a subarray of {} dimensions (NumPy allows at most 32)", dims.len()));
    }
    let mut out = Vec::with_capacity(dims.len());
    let mut size = 1usize;
    for &d in dims {
        if d < 0 {
            return bad(format!("{what} has a negative subarray dimension ({d})"));
        }
        let d = usize::try_from(d).ok().filter(|&d| d <= MAX_ITEMSIZE);
        size = match d.and_then(|d| size.checked_mul(d)) {
            Some(s) if s <= MAX_ITEMSIZE => s,
            _ => return bad(format!("{what} has a subarray too large (over {MAX_ITEMSIZE} elements)")),
        };
        out.push(d.unwrap_or(0));
    }
    Ok(out)
}

/// The itemsize of `count` elements, bounded like NumPy's.
pub(crate) fn checked_span(descr: &Descr, shape: &[usize], what: &str) -> Result<usize> {
    match shape.iter().product::<usize>().checked_mul(descr.itemsize()).filter(|&n| n <= MAX_ITEMSIZE) {
        Some(n) => Ok(n),
        None => bad(format!("{what} is too large (the itemsize limit is {MAX_ITEMSIZE} bytes)")),
    }
}

/// The `'descr'` value of a header: a string, NumPy's list form, or the dict form.
pub(crate) fn from_header(v: &Value) -> Result<Descr> {
    descr_value(v, 0, &mut Budget::default())
}

fn descr_value(v: &Value, depth: usize, budget: &mut Budget) -> Result<Descr> {
    match v {
        Value::Str(s) => Descr::parse(s).map_err(|e| match e.kind() {
            ErrorKind::InvalidArgument => Error::new(ErrorKind::UnsupportedDtype, "unsupported dtype ''"),
            _ => e,
        }),
        Value::List(items) => list_form(items, depth + 1, budget),
        Value::Dict(entries) => dict_form(entries, depth + 1, budget),
        Value::Tuple(_) => unsupported("unsupported dtype: a (type, shape) or (type, metadata) tuple as the whole descr (NumPy writes neither)"),
        other => bad(format!("'descr' in header is {}, not a dtype", other.describe())),
    }
}

fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_RECORD_DEPTH {
        return unsupported(format!("records nest more than {MAX_RECORD_DEPTH} levels deep"));
    }
    Ok(())
}

/// A subarray shape: an int or a tuple of ints.
fn shape_value(v: &Value, what: &str) -> Result<Vec<usize>> {
    let dims: Vec<i128> = match v {
        Value::Int(n) => vec![*n],
        Value::Tuple(items) => items
            .iter()
            .map(|d| match d {
                Value::Int(n) => Ok(*n),
                Value::HugeInt => bad(format!("{what} has a subarray dimension too large for 64 bits")),
                other => bad(format!("{what} has a subarray dimension that is {}, not an int", other.describe())),
            })
            .collect::<Result<_>>()?,
        Value::HugeInt => return bad(format!("{what} has a subarray dimension too large for 64 bits")),
        other => return bad(format!("{what} has a subarray shape that is {}, not a tuple of ints", other.describe())),
    };
    subarray_shape(&dims, what)
}

/// `[('name', type), ('name', type, shape), ...]`: fields packed one after another.
fn list_form(items: &[Value], depth: usize, budget: &mut Budget) -> Result<Descr> {
    check_depth(depth)?;
    let mut fields = Vec::new();
    let mut offset = 0usize;
    for (i, item) in items.iter().enumerate() {
        let Value::Tuple(parts) = item else {
            return bad(format!("record descr entry {i} is {}, not a (name, type) tuple", item.describe()));
        };
        let (name, ty, shape) = match parts.as_slice() {
            [n, t] => (n, t, None),
            [n, t, s] => (n, t, Some(s)),
            _ => return bad(format!("record descr entry {i} has {} items (expected (name, type) or (name, type, shape))", parts.len())),
        };
        let name = match name {
            Value::Str(s) => s.clone(),
            Value::Tuple(_) => return unsupported(format!("record field {i} has a title ((title, name) pairs are not supported)")),
            other => return bad(format!("record field {i} has a name that is {}, not a string", other.describe())),
        };
        let what = format!("field {:?}", name.chars().take(40).collect::<String>());
        budget.add_field()?;
        let descr = field_type(ty, depth, budget)?;
        let shape = match shape {
            Some(s) => shape_value(s, &what)?,
            None => vec![],
        };
        let size = checked_span(&descr, &shape, &what)?;
        // NumPy's reader skips ('', '|Vn') entries: they are padding.
        let is_pad = name.is_empty() && matches!(descr, Descr::Void(_));
        if !is_pad {
            fields.push(Field { name, descr, shape, offset });
        }
        offset = match offset.checked_add(size).filter(|&o| o <= MAX_ITEMSIZE) {
            Some(o) => o,
            None => return bad(format!("record is too large (the itemsize limit is {MAX_ITEMSIZE} bytes)")),
        };
    }
    Ok(Descr::Record(Record::new(fields, offset)?))
}

/// A field's type: a dtype string, a nested record (list or dict form), or
/// `(type, shape)` inside the dict form's `formats`.
fn field_type(v: &Value, depth: usize, budget: &mut Budget) -> Result<Descr> {
    match v {
        Value::Str(_) | Value::List(_) | Value::Dict(_) => descr_value(v, depth, budget),
        other => bad(format!("a record field's type is {}, not a dtype string or a list of fields", other.describe())),
    }
}

/// `{'names': [...], 'formats': [...], 'offsets': [...], 'itemsize': n}`.
fn dict_form(entries: &[(Value, Value)], depth: usize, budget: &mut Budget) -> Result<Descr> {
    check_depth(depth)?;
    let (mut names, mut formats, mut offsets, mut itemsize) = (None, None, None, None);
    for (k, v) in entries {
        let Value::Str(k) = k else {
            return bad(format!("record dict has a key that is {}, not a string", k.describe()));
        };
        let slot = match k.as_str() {
            "names" => &mut names,
            "formats" => &mut formats,
            "offsets" => &mut offsets,
            "itemsize" => &mut itemsize,
            "aligned" => continue,
            "titles" => match v {
                Value::None => continue,
                Value::List(t) | Value::Tuple(t) if t.iter().all(|t| *t == Value::None) => continue,
                _ => return unsupported("record fields with titles are not supported"),
            },
            other => return bad(format!("record dict has an unexpected key {:?}", other.chars().take(40).collect::<String>())),
        };
        if slot.is_some() {
            return bad(format!("record dict has a duplicate key '{k}'"));
        }
        *slot = Some(v);
    }
    let seq = |v: Option<&Value>, key: &str| -> Result<Vec<Value>> {
        match v {
            Some(Value::List(x)) | Some(Value::Tuple(x)) => Ok(x.clone()),
            Some(other) => bad(format!("record dict's '{key}' is {}, not a list", other.describe())),
            None => bad(format!("record dict has no '{key}'")),
        }
    };
    let names = seq(names, "names")?;
    let formats = seq(formats, "formats")?;
    if names.len() != formats.len() {
        return bad(format!("record dict has {} names and {} formats", names.len(), formats.len()));
    }
    let offsets = match offsets {
        None => None,
        o => Some(seq(o, "offsets")?),
    };
    if offsets.as_ref().is_some_and(|o| o.len() != names.len()) {
        return bad("record dict's 'offsets' and 'names' differ in length");
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut packed = 0usize;
    for (i, (name, fmt)) in names.iter().zip(&formats).enumerate() {
        let Value::Str(name) = name else {
            return bad(format!("record dict name {i} is {}, not a string", name.describe()));
        };
        let what = format!("field {:?}", name.chars().take(40).collect::<String>());
        budget.add_field()?;
        let (descr, shape) = match fmt {
            Value::Tuple(p) if p.len() == 2 => (field_type(&p[0], depth, budget)?, shape_value(&p[1], &what)?),
            f => (field_type(f, depth, budget)?, vec![]),
        };
        let size = checked_span(&descr, &shape, &what)?;
        let offset = match offsets.as_ref().map(|o| &o[i]) {
            None => packed,
            Some(Value::Int(n)) if (0..=MAX_ITEMSIZE as i128).contains(n) => *n as usize,
            Some(Value::Int(n)) => return bad(format!("{what} has offset {n}, outside 0..{MAX_ITEMSIZE}")),
            Some(other) => return bad(format!("{what} has an offset that is {}, not an int", other.describe())),
        };
        packed = offset.saturating_add(size).max(packed);
        fields.push(Field { name: name.clone(), descr, shape, offset });
    }
    let itemsize = match itemsize {
        None => packed,
        Some(Value::Int(n)) if (0..=MAX_ITEMSIZE as i128).contains(n) => *n as usize,
        Some(Value::Int(n)) => return bad(format!("record itemsize {n} is outside 0..{MAX_ITEMSIZE}")),
        Some(other) => return bad(format!("record dict's 'itemsize' is {}, not an int", other.describe())),
    };
    Ok(Descr::Record(Record::new(fields, itemsize)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_time_and_text() {
        let t = Descr::parse("<M8[ns]").unwrap();
        assert_eq!(t, Descr::Time { delta: false, unit: TimeUnit::Nano, multiple: 1, order: ByteOrder::Little });
        assert_eq!(t.to_numpy().unwrap(), "<M8[ns]");
        assert_eq!(t.name().unwrap(), "datetime64[ns]");
        let d = Descr::parse(">m8[25us]").unwrap();
        assert_eq!(d.to_numpy().unwrap(), ">m8[25us]");
        assert_eq!(d.name().unwrap(), "timedelta64[25us]");
        assert_eq!(Descr::parse("<M8").unwrap().to_numpy().unwrap(), "<M8");
        assert_eq!(Descr::parse("datetime64[D]").unwrap().to_numpy().unwrap(), format!("{}M8[D]", ByteOrder::NATIVE.symbol()));
        assert_eq!(Descr::parse("|S5").unwrap(), Descr::Bytes(5));
        assert_eq!(Descr::parse("bytes5").unwrap(), Descr::Bytes(5));
        assert_eq!(Descr::parse(">U6").unwrap(), Descr::Str { chars: 6, order: ByteOrder::Big });
        assert_eq!(Descr::parse(">U6").unwrap().itemsize(), 24);
        assert_eq!(Descr::parse("str6").unwrap().to_numpy().unwrap(), format!("{}U6", ByteOrder::NATIVE.symbol()));
        assert_eq!(Descr::parse("<f8").unwrap(), Descr::Num { dtype: DType::Float64, order: ByteOrder::Little });
        for s in ["<M8[xs]", "<M8[0s]", "<M8[ns", "|S0", "<U0", "|O", "<M8[99999999999s]"] {
            assert!(Descr::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn python_repr_of_names() {
        assert_eq!(py_repr("x").unwrap(), "'x'");
        assert_eq!(py_repr("it's").unwrap(), "\"it's\"");
        assert_eq!(py_repr("a'\"b").unwrap(), "'a\\'\"b'");
        assert_eq!(py_repr("é\n\\").unwrap(), "'é\\n\\\\'");
        assert_eq!(py_repr("中").unwrap(), "'中'");
        assert!(py_repr("\u{2028}").is_err());
    }

    #[test]
    fn record_checks() {
        let f = |name: &str, offset| Field { name: name.into(), descr: Descr::numeric(DType::Float64, ByteOrder::Little), shape: vec![], offset };
        assert!(Record::new(vec![f("a", 0), f("b", 8)], 16).is_ok());
        assert!(Record::new(vec![f("a", 0), f("a", 8)], 16).unwrap_err().to_string().contains("two fields"));
        assert!(Record::new(vec![f("a", 0), f("b", 4)], 16).unwrap_err().to_string().contains("overlap"));
        assert!(Record::new(vec![f("a", 0), f("b", 9)], 16).unwrap_err().to_string().contains("past"));
        let r = Record::new(vec![f("a", 4), f("b", 16)], 32).unwrap();
        assert_eq!(r.to_numpy().unwrap(), "[('', '|V4'), ('a', '<f8'), ('', '|V4'), ('b', '<f8'), ('', '|V8')]");
        let r = Record::new(vec![f("b", 8), f("a", 0)], 16).unwrap();
        assert!(r.to_numpy().is_err());
    }
}
