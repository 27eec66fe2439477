//! Element types: the fourteen numeric dtypes mmnpy maps, their byte orders,
//! and the NumPy spellings accepted for them.
//!
//! A dtype descriptor in a `.npy` header is NumPy's `dtype.str`: a byte-order
//! character (`<` little, `>` big, `|` not applicable) followed by a kind
//! character and the item size in bytes (`<f8`, `>i4`, `|u1`, `<c16`).

use crate::error::{err, ErrorKind, Result};

/// The element type, independent of byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
}

/// The byte order of multi-byte elements as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
    /// Single-byte elements: byte order does not apply (`|`).
    NotApplicable,
}

impl ByteOrder {
    /// The byte order of this machine.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") { ByteOrder::Big } else { ByteOrder::Little };

    pub fn symbol(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }

    /// Whether values in this order can be read directly on this machine.
    pub fn is_native(self) -> bool {
        self == ByteOrder::NotApplicable || self == ByteOrder::NATIVE
    }
}

pub const ALL_DTYPES: [DType; 14] = [
    DType::Bool,
    DType::Int8,
    DType::UInt8,
    DType::Int16,
    DType::UInt16,
    DType::Int32,
    DType::UInt32,
    DType::Int64,
    DType::UInt64,
    DType::Float16,
    DType::Float32,
    DType::Float64,
    DType::Complex64,
    DType::Complex128,
];

impl DType {
    /// The canonical name used by the JavaScript API (`'float64'`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::UInt8 => "uint8",
            DType::Int16 => "int16",
            DType::UInt16 => "uint16",
            DType::Int32 => "int32",
            DType::UInt32 => "uint32",
            DType::Int64 => "int64",
            DType::UInt64 => "uint64",
            DType::Float16 => "float16",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Complex64 => "complex64",
            DType::Complex128 => "complex128",
        }
    }

    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::Int8 | DType::UInt8 => 1,
            DType::Int16 | DType::UInt16 | DType::Float16 => 2,
            DType::Int32 | DType::UInt32 | DType::Float32 => 4,
            DType::Int64 | DType::UInt64 | DType::Float64 | DType::Complex64 => 8,
            DType::Complex128 => 16,
        }
    }

    /// NumPy's kind character (`b`, `i`, `u`, `f`, `c`).
    pub fn kind(self) -> char {
        match self {
            DType::Bool => 'b',
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => 'i',
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => 'u',
            DType::Float16 | DType::Float32 | DType::Float64 => 'f',
            DType::Complex64 | DType::Complex128 => 'c',
        }
    }

    /// The alignment NumPy requires for `flags.aligned` (complex: that of its parts).
    pub fn alignment(self) -> usize {
        match self {
            DType::Complex64 => 4,
            DType::Complex128 => 8,
            d => d.itemsize(),
        }
    }

    /// The byte order a new array of this dtype gets when none is asked for.
    pub fn default_order(self) -> ByteOrder {
        if self.itemsize() == 1 {
            ByteOrder::NotApplicable
        } else {
            ByteOrder::NATIVE
        }
    }

    /// Normalises a requested byte order: single-byte types have none.
    pub fn order(self, requested: ByteOrder) -> ByteOrder {
        if self.itemsize() == 1 {
            ByteOrder::NotApplicable
        } else if requested == ByteOrder::NotApplicable {
            ByteOrder::NATIVE
        } else {
            requested
        }
    }

    /// NumPy's `dtype.str` for this dtype in the given byte order (`<f8`).
    pub fn descr(self, order: ByteOrder) -> String {
        format!("{}{}{}", self.order(order).symbol(), self.kind(), self.itemsize())
    }

    fn from_kind_size(kind: char, size: usize) -> Option<DType> {
        Some(match (kind, size) {
            ('b', 1) | ('?', 1) => DType::Bool,
            ('i', 1) => DType::Int8,
            ('u', 1) => DType::UInt8,
            ('i', 2) => DType::Int16,
            ('u', 2) => DType::UInt16,
            ('i', 4) => DType::Int32,
            ('u', 4) => DType::UInt32,
            ('i', 8) => DType::Int64,
            ('u', 8) => DType::UInt64,
            ('f', 2) => DType::Float16,
            ('f', 4) => DType::Float32,
            ('f', 8) => DType::Float64,
            ('c', 8) => DType::Complex64,
            ('c', 16) => DType::Complex128,
            _ => return None,
        })
    }

    /// Parses a dtype as users and `.npy` headers spell it: canonical names
    /// (`float64`), NumPy type strings with or without a byte-order character
    /// (`<f8`, `>i4`, `|u1`, `=f8`, `f4`, `b1`, `c16`) and NumPy's one-letter
    /// codes (`d`, `f`, `e`, `?`, `q`, ...). Returns the dtype and the byte order
    /// it asks for (native when unspecified).
    pub fn parse(spec: &str) -> Result<(DType, ByteOrder)> {
        if let Some(d) = ALL_DTYPES.iter().find(|d| d.name() == spec) {
            return Ok((*d, d.default_order()));
        }
        let aliases: &[(&str, DType)] = &[
            ("bool_", DType::Bool),
            ("half", DType::Float16),
            ("single", DType::Float32),
            ("double", DType::Float64),
            ("float", DType::Float64),
            ("int", DType::Int64),
            ("uint", DType::UInt64),
            ("complex", DType::Complex128),
            ("csingle", DType::Complex64),
            ("cdouble", DType::Complex128),
        ];
        if let Some((_, d)) = aliases.iter().find(|(n, _)| *n == spec) {
            return Ok((*d, d.default_order()));
        }
        let unsupported = || err(ErrorKind::UnsupportedDtype, format!("unsupported dtype '{spec}'"));
        let mut chars = spec.chars();
        let (order, rest) = match chars.next() {
            Some('<') => (ByteOrder::Little, chars.as_str()),
            Some('>') => (ByteOrder::Big, chars.as_str()),
            Some('|') => (ByteOrder::NotApplicable, chars.as_str()),
            Some('=') => (ByteOrder::NATIVE, chars.as_str()),
            Some(_) => (ByteOrder::NATIVE, spec),
            None => return err(ErrorKind::InvalidArgument, "empty dtype"),
        };
        let dtype = match rest.len() {
            0 => return unsupported(),
            1 => match rest {
                "?" => DType::Bool,
                "b" => DType::Int8,
                "B" => DType::UInt8,
                "h" => DType::Int16,
                "H" => DType::UInt16,
                "i" => DType::Int32,
                "I" => DType::UInt32,
                "l" | "q" => DType::Int64,
                "L" | "Q" => DType::UInt64,
                "e" => DType::Float16,
                "f" => DType::Float32,
                "d" => DType::Float64,
                "F" => DType::Complex64,
                "D" => DType::Complex128,
                _ => return unsupported(),
            },
            _ => {
                let kind = rest.chars().next().unwrap_or(' ');
                let digits = &rest[kind.len_utf8()..];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
                    return unsupported();
                }
                let size: usize = digits.parse().map_err(|_| crate::Error::new(ErrorKind::UnsupportedDtype, format!("unsupported dtype '{spec}'")))?;
                match DType::from_kind_size(kind, size) {
                    Some(d) => d,
                    None => return unsupported(),
                }
            }
        };
        Ok((dtype, dtype.order(order)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_round_trips_for_every_dtype_and_order() {
        for d in ALL_DTYPES {
            for o in [ByteOrder::Little, ByteOrder::Big] {
                let s = d.descr(o);
                let (d2, o2) = DType::parse(&s).unwrap();
                assert_eq!((d2, o2), (d, d.order(o)), "{s}");
            }
            assert_eq!(DType::parse(d.name()).unwrap().0, d);
        }
    }

    #[test]
    fn numpy_spellings() {
        assert_eq!(DType::parse("f4").unwrap(), (DType::Float32, ByteOrder::NATIVE));
        assert_eq!(DType::parse("=f8").unwrap(), (DType::Float64, ByteOrder::NATIVE));
        assert_eq!(DType::parse(">i4").unwrap(), (DType::Int32, ByteOrder::Big));
        assert_eq!(DType::parse("<i1").unwrap(), (DType::Int8, ByteOrder::NotApplicable));
        assert_eq!(DType::parse("b1").unwrap().0, DType::Bool);
        assert_eq!(DType::parse("c16").unwrap().0, DType::Complex128);
        assert_eq!(DType::parse("?").unwrap().0, DType::Bool);
        assert_eq!(DType::descr(DType::Bool, ByteOrder::Little), "|b1");
    }

    #[test]
    fn unsupported_dtypes_name_the_descr() {
        for s in ["<U10", "|S5", "<M8[ns]", "|O", "|V8", "<q9", "xyz", "<f3", "<f99999999999"] {
            let e = DType::parse(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UnsupportedDtype, "{s}");
            assert!(e.to_string().contains(s), "{e}");
        }
    }
}
