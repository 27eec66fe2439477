//! The two types every kernel shares: [`Source`], the elements of one view of a mapping
//! (what a kernel reads), and [`Value`], one element as a result (what a reduction returns
//! and `fill` writes).

use crate::dtype::{ByteOrder, DType};
use crate::mapping::Mapping;
use crate::view::Layout;

/// A reduced value, in the result dtype's own terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// float16, float32 and float64 results (exactly representable in f64).
    Float(f64),
    Complex(f64, f64),
}

/// The elements of one view of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub map: &'a Mapping,
    pub layout: &'a Layout,
    pub dtype: DType,
    pub order: ByteOrder,
    /// Streaming mode: release the pages of finished pieces from this process as the
    /// kernel moves on (see `reduce::pieces::Release`), so a pass keeps a bounded RSS.
    pub release: bool,
}

impl Source<'_> {
    pub(crate) fn swap(&self) -> bool {
        !self.dtype.order(self.order).is_native()
    }
    pub(crate) fn aligned(&self) -> bool {
        let al = self.dtype.alignment();
        (self.map.as_ptr() as usize + self.layout.offset).is_multiple_of(al) && self.layout.strides.iter().all(|s| s.unsigned_abs().is_multiple_of(al))
    }
}
