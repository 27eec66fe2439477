//! The `.npy` file format (NumPy's `numpy/lib/format.py`), read and written here.
//!
//! ```text
//! offset  size   content
//! 0       6      magic: b"\x93NUMPY"
//! 6       1      major version: 1, 2 or 3
//! 7       1      minor version: 0
//! 8       2|4    HEADER_LEN, little-endian: u16 in version 1.0, u32 in 2.0 and 3.0
//! 10|12   H      header: a Python literal dict, latin-1 (1.0, 2.0) or UTF-8 (3.0),
//!                padded with spaces and ended by '\n' so that the data starts at a
//!                multiple of 64 bytes
//! ...            data: prod(shape) elements of `descr`, C order unless fortran_order
//! ```
//!
//! The dict has exactly three keys: `'descr'` (a dtype string such as `'<f8'`,
//! `'<M8[ns]'`, `'|S5'`, or a list of fields for records: see [`crate::descr`]), `'fortran_order'`
//! (`True` or `False`) and `'shape'` (a tuple of non-negative ints). NumPy writes
//! them sorted, each followed by `", "`, then `}`:
//!
//! ```text
//! {'descr': '<f8', 'fortran_order': False, 'shape': (3,), }
//! ```
//!
//! then `21 - len(repr(n))` spaces of growth padding, where `n` is the length of
//! the axis along which the array may grow (`shape[0]`, or `shape[-1]` in Fortran
//! order; no padding for 0-d arrays), then spaces and `'\n'` so that
//! `magic + version + HEADER_LEN + header` is a multiple of 64 bytes (a full 64
//! when it already is). NumPy writes version 1.0 unless the header is longer than
//! 65535 bytes (then 2.0) or is not latin-1 (then 3.0).
//!
//! NumPy reads the dict with `ast.literal_eval`. mmnpy never evaluates it: a
//! strict tokenizer accepts only string, int, float, bool and `None` literals,
//! tuples, lists and dicts, with a size limit ([`MAX_HEADER_LEN`]) and a nesting
//! limit ([`MAX_DEPTH`]); anything else is [`ErrorKind::BadHeader`]. Strings
//! take Python's escapes `\\ \' \" \n \r \t \xNN \uNNNN \UNNNNNNNN` (field
//! names are written with `repr`).

use crate::descr::{self, Descr, MAX_ZERO_SIZE_ELEMENTS};
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, Error, ErrorKind, Result};

pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Data starts at a multiple of this many bytes.
pub const ARRAY_ALIGN: usize = 64;
/// The longest header accepted, in bytes. Supported dtypes need a few hundred.
pub const MAX_HEADER_LEN: usize = 100_000;
/// The deepest nesting of tuples, lists and dicts accepted in a header.
pub const MAX_DEPTH: usize = 16;
/// NumPy's `GROWTH_AXIS_MAX_DIGITS`.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// Bytes of magic + version + the longest length field: enough to read the preamble.
pub const PREAMBLE_MAX: usize = 12;

/// What a `.npy` header says about the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The numeric element the kernels see: the dtype itself, int64 ticks for
    /// datetimes, `uint8` (`|`) for strings, void and records (see `descr`).
    pub dtype: DType,
    pub byte_order: ByteOrder,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// The full dtype when it is not one of the fourteen numeric ones.
    pub descr: Option<Descr>,
}

/// The magic, the version and the header length: what the first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preamble {
    pub version: (u8, u8),
    /// Bytes taken by magic + version + length field.
    pub len: usize,
    pub header_len: usize,
}

impl Preamble {
    /// Offset of the first data byte.
    pub fn data_offset(&self) -> usize {
        self.len + self.header_len
    }
}

/// Reads the preamble from the first bytes of a file (`bytes` may be shorter than
/// [`PREAMBLE_MAX`] when the file is).
pub fn parse_preamble(bytes: &[u8]) -> Result<Preamble> {
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] || bytes.len() < MAGIC.len() {
        return err(ErrorKind::BadMagic, "not a .npy file: bad magic string (expected \\x93NUMPY)");
    }
    if bytes.len() < 8 {
        return err(ErrorKind::Truncated, "file is too short: it ends inside the version bytes");
    }
    let version = (bytes[6], bytes[7]);
    let field = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => return err(ErrorKind::BadVersion, format!("unsupported .npy format version {major}.{minor} (mmnpy reads 1.0, 2.0 and 3.0)")),
    };
    if bytes.len() < 8 + field {
        return err(ErrorKind::Truncated, "file is too short: it ends inside the header length field");
    }
    let header_len =
        if field == 2 { u16::from_le_bytes([bytes[8], bytes[9]]) as usize } else { u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize };
    if header_len > MAX_HEADER_LEN {
        return err(ErrorKind::BadHeader, format!("header is too long ({header_len} bytes; the limit is {MAX_HEADER_LEN})"));
    }
    Ok(Preamble { version, len: 8 + field, header_len })
}

/// Parses the header text (the bytes after the preamble, `preamble.header_len` long).
pub fn parse_header(version: (u8, u8), bytes: &[u8]) -> Result<Header> {
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return err(ErrorKind::BadHeader, format!("header contains a NUL byte at offset {pos}"));
    }
    let text: String = if version.0 >= 3 {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(e) => return err(ErrorKind::BadHeader, format!("header is not valid UTF-8 (byte {})", e.valid_up_to())),
        }
    } else {
        bytes.iter().map(|&b| b as char).collect() // latin-1
    };
    let value = Parser::new(&text).parse_document()?;
    interpret(value)
}

/// A dtype written as a Python literal, NumPy's list or dict form
/// (`"[('id', '<i4'), ('x', '<f8')]"`), or a dtype string: read like a header's
/// `'descr'`, with the same limits.
pub fn parse_descr_literal(text: &str) -> Result<Descr> {
    let t = text.trim();
    if !t.starts_with('[') && !t.starts_with('{') {
        return Descr::parse(t);
    }
    let mut p = Parser::new(t);
    let v = p.parse_value(0)?;
    p.skip_ws();
    if p.pos != t.len() {
        return bad(format!("unexpected text after the dtype: {}", p.near()));
    }
    descr::from_header(&v)
}

/// A Python literal, as far as headers may contain one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i128),
    /// An integer literal beyond 128 bits: kept only to say so.
    HugeInt,
    Float(f64),
    Bool(bool),
    None,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

impl Value {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) | Value::HugeInt => "an int",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a bool",
            Value::None => "None",
            Value::Tuple(_) => "a tuple",
            Value::List(_) => "a list",
            Value::Dict(_) => "a dict",
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

fn bad<T>(msg: impl Into<String>) -> Result<T> {
    err(ErrorKind::BadHeader, msg)
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser { src, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn parse_document(&mut self) -> Result<Value> {
        self.skip_ws();
        if self.peek() != Some('{') {
            return bad(format!("header is not a dict literal: it starts with {}", self.near()));
        }
        let v = self.parse_value(0)?;
        self.skip_ws();
        if self.pos != self.src.len() {
            return bad(format!("unexpected trailing text after the header dict: {}", self.near()));
        }
        Ok(v)
    }

    /// A short quotation of the text at the cursor, for messages.
    fn near(&self) -> String {
        let rest = &self.src[self.pos..];
        if rest.is_empty() {
            return "the end of the header".into();
        }
        let snippet: String = rest.chars().take(24).collect();
        format!("{snippet:?}")
    }

    fn expect(&mut self, c: char) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            bad(format!("expected '{c}' in header, found {}", self.near()))
        }
    }

    fn parse_value(&mut self, depth: usize) -> Result<Value> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return bad("header ends where a value was expected");
        };
        match c {
            '{' | '(' | '[' => {
                if depth >= MAX_DEPTH {
                    return bad(format!("header nests too deeply (more than {MAX_DEPTH} levels)"));
                }
                self.pos += 1;
                match c {
                    '{' => self.parse_dict(depth + 1),
                    '(' => {
                        let (items, trailing) = self.parse_seq(')', depth + 1)?;
                        // `(x)` is a parenthesised value, `(x,)` a tuple.
                        if items.len() == 1 && !trailing {
                            Ok(items.into_iter().next().unwrap_or(Value::None))
                        } else {
                            Ok(Value::Tuple(items))
                        }
                    }
                    _ => Ok(Value::List(self.parse_seq(']', depth + 1)?.0)),
                }
            }
            '\'' | '"' => self.parse_string(),
            '-' | '+' | '0'..='9' | '.' => self.parse_number(),
            c if c.is_alphabetic() || c == '_' => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        self.pos += c.len_utf8();
                    } else {
                        break;
                    }
                }
                let word = &self.src[start..self.pos];
                match word {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::None),
                    _ => bad(format!(
                        "header is not a literal: it contains the name '{}' (headers are parsed, never evaluated)",
                        word.chars().take(40).collect::<String>()
                    )),
                }
            }
            _ => bad(format!("unexpected character in header: {}", self.near())),
        }
    }

    /// Items up to `close`; returns whether a trailing comma preceded it.
    fn parse_seq(&mut self, close: char, depth: usize) -> Result<(Vec<Value>, bool)> {
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, trailing));
            }
            let what = if close == ')' { "tuple" } else { "list" };
            if let Some(c @ (')' | ']' | '}')) = self.peek() {
                return bad(format!("unbalanced brackets in header: '{c}' inside a {what}"));
            }
            if !items.is_empty() && !trailing {
                return bad(format!("expected ',' or '{close}' to continue the {what} in header, found {}", self.near()));
            }
            items.push(self.parse_value(depth)?);
            self.skip_ws();
            trailing = if self.peek() == Some(',') {
                self.pos += 1;
                true
            } else {
                false
            };
        }
    }

    fn parse_dict(&mut self, depth: usize) -> Result<Value> {
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(Value::Dict(entries));
            }
            let key = self.parse_value(depth)?;
            self.expect(':')?;
            let value = self.parse_value(depth)?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => return bad(format!("expected ',' or '}}' in header dict, found {}", self.near())),
            }
        }
    }

    fn parse_string(&mut self) -> Result<Value> {
        let quote = self.peek().unwrap_or('\'');
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return bad("unterminated string in header");
            };
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Ok(Value::Str(out)),
                '\n' => return bad("unterminated string in header (newline inside a string)"),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return bad("unterminated string in header");
                    };
                    self.pos += e.len_utf8();
                    out.push(match e {
                        '\\' => '\\',
                        '\'' => '\'',
                        '"' => '"',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'x' | 'u' | 'U' => self.parse_hex_escape(match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        })?,
                        _ => return bad(format!("unsupported escape '\\{e}' in header string")),
                    });
                }
                c => out.push(c),
            }
        }
    }

    /// The code point of `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN` (the digits follow the cursor).
    fn parse_hex_escape(&mut self, digits: usize) -> Result<char> {
        let hex = self.src[self.pos..].get(..digits).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return bad(format!("malformed escape in header string: {}", self.near()));
        };
        self.pos += digits;
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) => Ok(c),
            None => bad(format!("escape \\U{hex} in header string is not a Unicode code point")),
        }
    }

    fn parse_number(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut negative = false;
        if let Some(s @ ('-' | '+')) = self.peek() {
            negative = s == '-';
            self.pos += 1;
        }
        let digits_start = self.pos;
        let mut is_float = false;
        while let Some(c) = self.peek() {
            match c {
                '0'..='9' => {}
                '.' | 'e' | 'E' => is_float = true,
                '-' | '+' if is_float && matches!(self.src.as_bytes()[self.pos - 1], b'e' | b'E') => {}
                _ => break,
            }
            self.pos += 1;
        }
        let text = &self.src[digits_start..self.pos];
        if text.is_empty() {
            return bad(format!("malformed number in header: {}", quote(&self.src[start..])));
        }
        if is_float {
            return match text.parse::<f64>() {
                Ok(f) => Ok(Value::Float(if negative { -f } else { f })),
                Err(_) => bad(format!("malformed number in header: {}", quote(&self.src[start..self.pos]))),
            };
        }
        // Python 2 wrote long integers with an `L` suffix: `(3L,)`.
        if self.peek() == Some('L') {
            self.pos += 1;
        }
        if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
            return bad(format!("malformed number in header: {} (leading zero)", quote(text)));
        }
        let mut v: i128 = 0;
        for b in text.bytes() {
            match v.checked_mul(10).and_then(|v| v.checked_add((b - b'0') as i128)) {
                Some(n) => v = n,
                None => return Ok(Value::HugeInt),
            }
        }
        Ok(Value::Int(if negative { -v } else { v }))
    }
}

fn quote(s: &str) -> String {
    format!("{:?}", s.chars().take(24).collect::<String>())
}

fn interpret(value: Value) -> Result<Header> {
    let Value::Dict(entries) = value else {
        return bad("header is not a dict literal");
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        let Value::Str(key) = key else {
            return bad(format!("header dict has a key that is {}, not a string", key.describe()));
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => {
                return bad(format!(
                    "header has an unexpected key '{}' (expected exactly 'descr', 'fortran_order', 'shape')",
                    other.chars().take(40).collect::<String>()
                ))
            }
        };
        if slot.is_some() {
            return bad(format!("header has a duplicate key '{key}'"));
        }
        *slot = Some(value);
    }
    let missing = |k: &str| bad(format!("header is missing the key '{k}'"));
    let Some(descr) = descr else {
        return missing("descr");
    };
    let Some(fortran) = fortran else {
        return missing("fortran_order");
    };
    let Some(shape) = shape else {
        return missing("shape");
    };

    let descr = descr::from_header(&descr)?;
    let fortran_order = match fortran {
        Value::Bool(b) => b,
        other => return bad(format!("'fortran_order' in header is {}, not True or False", other.describe())),
    };
    let Value::Tuple(dims) = shape else {
        return bad(format!("'shape' in header is {}, not a tuple of ints", shape.describe()));
    };
    let mut out = Vec::with_capacity(dims.len());
    for d in dims {
        match d {
            Value::Int(n) if n < 0 => return bad(format!("'shape' in header has a negative dimension ({n})")),
            Value::Int(n) if n > i64::MAX as i128 => return err(ErrorKind::BadShape, format!("shape dimension {n} is too large (over 2^63 - 1)")),
            Value::Int(n) => out.push(n as u64),
            Value::HugeInt => return err(ErrorKind::BadShape, "shape has a dimension too large for 64 bits"),
            Value::Float(f) => return bad(format!("'shape' in header has a fractional dimension ({f:?}), not an int")),
            other => return bad(format!("'shape' in header has a dimension that is {}, not an int", other.describe())),
        }
    }
    if out.len() > 64 {
        return err(ErrorKind::BadShape, format!("shape has {} dimensions (NumPy allows at most 64)", out.len()));
    }
    let h = Header::with_descr(descr, fortran_order, out);
    h.nbytes()?;
    Ok(h)
}

/// Number of elements of a shape, overflow-checked.
pub fn checked_size(shape: &[u64]) -> Result<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::new(ErrorKind::BadShape, format!("shape {} is too large: its number of elements overflows 64 bits", shape_repr(shape))))
}

impl Header {
    /// A header for any dtype: numeric ones keep `descr` empty, the others set
    /// `dtype`/`byte_order` to their storage.
    pub fn with_descr(descr: Descr, fortran_order: bool, shape: Vec<u64>) -> Header {
        match descr {
            Descr::Num { dtype, order } => Header { dtype, byte_order: dtype.order(order), fortran_order, shape, descr: None },
            d => {
                let (dtype, byte_order) = d.storage().unwrap_or((DType::UInt8, ByteOrder::NotApplicable));
                Header { dtype, byte_order, fortran_order, shape, descr: Some(d) }
            }
        }
    }

    /// The full dtype, numeric or not.
    pub fn full_descr(&self) -> Descr {
        self.descr.clone().unwrap_or(Descr::numeric(self.dtype, self.byte_order))
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        self.descr.as_ref().map_or(self.dtype.itemsize(), |d| d.itemsize())
    }

    pub fn size(&self) -> Result<u64> {
        checked_size(&self.shape)
    }

    /// Bytes of data the header describes, overflow-checked (and below 2^63).
    /// Zero-size elements are refused beyond [`MAX_ZERO_SIZE_ELEMENTS`].
    pub fn nbytes(&self) -> Result<u64> {
        let size = self.size()?;
        let what = || self.descr.as_ref().map_or_else(|| self.dtype.name().to_string(), |d| d.to_numpy().unwrap_or_else(|_| "a record".into()));
        if self.itemsize() == 0 && size > MAX_ZERO_SIZE_ELEMENTS {
            return err(
                ErrorKind::BadShape,
                format!(
                    "shape {} of the zero-size dtype {} has {size} elements (mmnpy allows at most {MAX_ZERO_SIZE_ELEMENTS} elements that take no bytes)",
                    shape_repr(&self.shape),
                    what()
                ),
            );
        }
        let n = size.checked_mul(self.itemsize() as u64).filter(|&n| n <= i64::MAX as u64);
        n.ok_or_else(|| {
            Error::new(ErrorKind::BadShape, format!("shape {} of {} is too large: its size in bytes overflows 64 bits", shape_repr(&self.shape), what()))
        })
    }

    /// The dict text exactly as NumPy writes it, growth padding included.
    fn dict_text(&self) -> Result<String> {
        let descr = match &self.descr {
            Some(d) => d.header_literal()?,
            None => format!("'{}'", self.dtype.descr(self.byte_order)),
        };
        let mut s =
            format!("{{'descr': {descr}, 'fortran_order': {}, 'shape': {}, }}", if self.fortran_order { "True" } else { "False" }, shape_repr(&self.shape));
        if !self.shape.is_empty() {
            let axis = if self.fortran_order { self.shape[self.shape.len() - 1] } else { self.shape[0] };
            let digits = axis.to_string().len();
            s.extend(std::iter::repeat_n(' ', GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
        }
        Ok(s)
    }

    /// The whole preamble + header, as NumPy's `write_array_header` produces it.
    /// `version` `None` picks the version the way NumPy does.
    pub fn to_bytes(&self, version: Option<(u8, u8)>) -> Result<Vec<u8>> {
        let text = self.dict_text()?;
        // Latin-1 for 1.0 and 2.0; NumPy moves to 3.0 (UTF-8) when that cannot encode it.
        let latin1: Option<Vec<u8>> = text.chars().map(|c| u8::try_from(c as u32).ok()).collect();
        let version = match version {
            Some(v) => v,
            None if latin1.is_none() => (3, 0),
            None if text.len() + 1 + 10 + ARRAY_ALIGN <= u16::MAX as usize => (1, 0),
            None => (2, 0),
        };
        let text = match (version.0, latin1) {
            (3, _) => text.into_bytes(),
            (_, Some(bytes)) => bytes,
            (a, None) => {
                return err(ErrorKind::InvalidArgument, format!("the header has characters Latin-1 cannot encode: .npy version {a}.0 cannot hold it (use 3.0)"))
            }
        };
        let field = match version {
            (1, 0) => 2,
            (2, 0) | (3, 0) => 4,
            (a, b) => return err(ErrorKind::InvalidArgument, format!("cannot write .npy format version {a}.{b} (use 1.0, 2.0 or 3.0)")),
        };
        let hlen = text.len() + 1;
        let pad = ARRAY_ALIGN - (MAGIC.len() + 2 + field + hlen) % ARRAY_ALIGN;
        let total = hlen + pad;
        if field == 2 && total > u16::MAX as usize {
            return err(ErrorKind::InvalidArgument, format!("header of {total} bytes is too long for version 1.0"));
        }
        let mut out = Vec::with_capacity(MAGIC.len() + 2 + field + total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version.0, version.1]);
        if field == 2 {
            out.extend_from_slice(&(total as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(total as u32).to_le_bytes());
        }
        out.extend_from_slice(&text);
        out.extend(std::iter::repeat_n(b' ', pad));
        out.push(b'\n');
        Ok(out)
    }
}

/// Python's `repr` of a shape tuple: `()`, `(3,)`, `(3, 4)`.
pub fn shape_repr(shape: &[u64]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(dtype: DType, order: ByteOrder, fortran: bool, shape: &[u64]) -> Header {
        Header { dtype, byte_order: dtype.order(order), fortran_order: fortran, shape: shape.to_vec(), descr: None }
    }

    #[test]
    fn numpy_layout_of_arange3() {
        let bytes = hdr(DType::Float64, ByteOrder::Little, false, &[3]).to_bytes(None).unwrap();
        assert_eq!(bytes.len(), 128);
        let text = std::str::from_utf8(&bytes[10..]).unwrap();
        assert!(text.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"));
        assert!(text.ends_with(" \n"));
        assert_eq!(&bytes[8..10], &118u16.to_le_bytes());
    }

    #[test]
    fn round_trip_every_version() {
        for v in [(1, 0), (2, 0), (3, 0)] {
            let h = hdr(DType::Complex64, ByteOrder::Big, true, &[2, 0, 7]);
            let bytes = h.to_bytes(Some(v)).unwrap();
            assert_eq!(bytes.len() % ARRAY_ALIGN, 0);
            let p = parse_preamble(&bytes).unwrap();
            assert_eq!(p.data_offset(), bytes.len());
            assert_eq!(parse_header(v, &bytes[p.len..]).unwrap(), h);
        }
    }

    fn parse_text(s: &str) -> Result<Header> {
        parse_header((1, 0), s.as_bytes())
    }

    #[test]
    fn accepts_numpy_variants() {
        let h = parse_text("{'descr':'<i8','shape':(2L, 3),'fortran_order':True}\n").unwrap();
        assert_eq!(h.shape, vec![2, 3]);
        assert!(h.fortran_order);
        assert_eq!(parse_text("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": ()}").unwrap().shape, Vec::<u64>::new());
    }

    #[test]
    fn rejects_hostile_headers_with_clear_messages() {
        let cases: &[(&str, ErrorKind, &str)] = &[
            ("[1, 2]", ErrorKind::BadHeader, "dict"),
            ("{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': (1,)}", ErrorKind::BadHeader, "__import__"),
            ("{'descr': '<f8', 'fortran_order': False}", ErrorKind::BadHeader, "missing"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", ErrorKind::BadHeader, "unexpected key"),
            ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", ErrorKind::BadHeader, "duplicate"),
            ("{'descr': '<f8', 'fortran_order': 1, 'shape': (1,)}", ErrorKind::BadHeader, "fortran_order"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", ErrorKind::BadHeader, "tuple"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", ErrorKind::BadHeader, "negative"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,)}", ErrorKind::BadHeader, "fractional"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (True,)}", ErrorKind::BadHeader, "bool"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}", ErrorKind::BadShape, "too large"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776)}", ErrorKind::BadShape, "overflow"),
            ("{'descr': '<U0', 'fortran_order': False, 'shape': (1,)}", ErrorKind::UnsupportedDtype, "<U0"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", ErrorKind::UnsupportedDtype, "pickle"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} junk", ErrorKind::BadHeader, "after"),
            ("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", ErrorKind::BadHeader, "expected"),
            ("{'descr': f'<f8', 'fortran_order': False, 'shape': (1,)}", ErrorKind::BadHeader, "name"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", ErrorKind::BadHeader, "expected"),
        ];
        for (text, kind, word) in cases {
            let e = parse_text(text).unwrap_err();
            assert_eq!(e.kind(), *kind, "{text}: {e}");
            assert!(e.to_string().contains(word), "{text}: {e} should mention {word}");
        }
        let deep = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {}1{}}}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_text(&deep).unwrap_err().to_string().contains("nests too deeply"));
        let e = parse_header((1, 0), b"{'descr': '<f8\0', 'fortran_order': False, 'shape': (1,)}").unwrap_err();
        assert!(e.to_string().contains("NUL"));
        let e = parse_header((3, 0), b"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), '\xff': 1}").unwrap_err();
        assert!(e.to_string().contains("UTF-8"));
    }

    #[test]
    fn preamble_errors() {
        assert_eq!(parse_preamble(b"").unwrap_err().kind(), ErrorKind::BadMagic);
        assert_eq!(parse_preamble(b"PK\x03\x04").unwrap_err().kind(), ErrorKind::BadMagic);
        assert_eq!(parse_preamble(b"\x93NUMPY\x04\x00\x10\x00").unwrap_err().kind(), ErrorKind::BadVersion);
        assert_eq!(parse_preamble(b"\x93NUMPY\x01\x00\x10").unwrap_err().kind(), ErrorKind::Truncated);
        assert_eq!(parse_preamble(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f").unwrap_err().kind(), ErrorKind::BadHeader);
    }
}
