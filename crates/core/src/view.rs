//! Strided views: a shape, byte strides (may be negative) and the byte offset of
//! the first element, over a [`Mapping`]. Every layout that comes from outside
//! (JavaScript) is checked against the mapping before any byte is read.

use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;

/// Where the elements of a view live inside a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    /// Bytes between neighbours along each axis, like NumPy's `strides`.
    pub strides: Vec<isize>,
    /// Byte offset of element `[0, 0, ...]` from the start of the mapping.
    pub offset: usize,
}

impl Layout {
    /// The C-order (or Fortran-order) layout of a whole array.
    pub fn contiguous(shape: &[usize], itemsize: usize, fortran: bool) -> Layout {
        let mut strides = vec![0isize; shape.len()];
        let mut acc = itemsize as isize;
        let axes: Box<dyn Iterator<Item = usize>> = if fortran { Box::new(0..shape.len()) } else { Box::new((0..shape.len()).rev()) };
        for i in axes {
            strides[i] = acc;
            acc = acc.saturating_mul(shape[i].max(1) as isize);
        }
        Layout { shape: shape.to_vec(), strides, offset: 0 }
    }

    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Checks that every element of the view lies inside `len` bytes, with
    /// overflow-checked arithmetic. Zero-size views touch nothing.
    pub fn check(&self, itemsize: usize, len: usize) -> Result<()> {
        if self.shape.len() != self.strides.len() {
            return err(ErrorKind::InvalidArgument, "shape and strides differ in length");
        }
        if self.shape.contains(&0) {
            return Ok(());
        }
        let (mut lo, mut hi) = (self.offset as i128, self.offset as i128);
        for (&n, &s) in self.shape.iter().zip(&self.strides) {
            let span = (n as i128 - 1) * s as i128;
            if span < 0 {
                lo += span;
            } else {
                hi += span;
            }
        }
        if lo < 0 || hi + itemsize as i128 > len as i128 {
            return err(ErrorKind::OutOfRange, format!("view reaches bytes {lo}..{} outside the {len}-byte mapping", hi + itemsize as i128));
        }
        Ok(())
    }

    fn is_contiguous_in(&self, itemsize: usize, axes: impl Iterator<Item = usize>) -> bool {
        if self.shape.contains(&0) {
            return true;
        }
        let mut expected = itemsize as isize;
        for i in axes {
            if self.shape[i] != 1 {
                if self.strides[i] != expected {
                    return false;
                }
                expected *= self.shape[i] as isize;
            }
        }
        true
    }

    /// NumPy's `flags.c_contiguous` (axes of length 1 are ignored).
    pub fn is_c_contiguous(&self, itemsize: usize) -> bool {
        self.is_contiguous_in(itemsize, (0..self.shape.len()).rev())
    }

    /// NumPy's `flags.f_contiguous`.
    pub fn is_f_contiguous(&self, itemsize: usize) -> bool {
        self.is_contiguous_in(itemsize, 0..self.shape.len())
    }

    /// Calls `f(byte_offset, bytes)` for each run of contiguous bytes, visiting the
    /// elements in C (row-major) order. Runs are whole innermost rows when those
    /// are contiguous, single elements otherwise.
    pub fn for_each_run(&self, itemsize: usize, mut f: impl FnMut(usize, usize) -> Result<()>) -> Result<()> {
        let size = self.size();
        if size == 0 {
            return Ok(());
        }
        if self.is_c_contiguous(itemsize) {
            return f(self.offset, size * itemsize);
        }
        let nd = self.shape.len();
        let inner = nd - 1;
        let (run_len, run_count) = if self.strides[inner] == itemsize as isize { (self.shape[inner] * itemsize, 1) } else { (itemsize, self.shape[inner]) };
        let mut index = vec![0usize; nd];
        loop {
            let base = self.offset as isize + index[..inner].iter().zip(&self.strides).map(|(&i, &s)| i as isize * s).sum::<isize>();
            for k in 0..run_count {
                f((base + k as isize * self.strides[inner]) as usize, run_len)?;
            }
            // Advance the outer index (all axes but the innermost), C order.
            let mut axis = inner;
            loop {
                if axis == 0 {
                    return Ok(());
                }
                axis -= 1;
                index[axis] += 1;
                if index[axis] < self.shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
    }
}

/// Reverses the bytes of each `itemsize`-byte element (complex: each part).
pub fn swap_in_place(bytes: &mut [u8], dtype: DType) {
    let part = if dtype.kind() == 'c' { dtype.itemsize() / 2 } else { dtype.itemsize() };
    if part > 1 {
        bytes.chunks_exact_mut(part).for_each(|c| c.reverse());
    }
}

/// Copies the raw bytes of a view's elements (of any dtype) into a new C-order buffer.
pub fn gather_bytes(map: &Mapping, layout: &Layout, itemsize: usize) -> Result<Vec<u8>> {
    layout.check(itemsize, map.len())?;
    let mut out = Vec::with_capacity(layout.size() * itemsize);
    layout.for_each_run(itemsize, |off, len| {
        // SAFETY: `check` proved every element of the layout lies inside the mapping.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(map.as_ptr().add(off), len) });
        Ok(())
    })?;
    Ok(out)
}

/// Copies the elements of a view into a new C-order buffer, converting them to
/// `target` byte order when it differs from `source`.
pub fn gather(map: &Mapping, layout: &Layout, dtype: DType, source: ByteOrder, target: ByteOrder) -> Result<Vec<u8>> {
    let itemsize = dtype.itemsize();
    layout.check(itemsize, map.len())?;
    let mut out = Vec::with_capacity(layout.size() * itemsize);
    layout.for_each_run(itemsize, |off, len| {
        // SAFETY: `check` proved every element of the layout lies inside the mapping.
        unsafe {
            let src = std::slice::from_raw_parts(map.as_ptr().add(off), len);
            out.extend_from_slice(src);
        }
        Ok(())
    })?;
    if dtype.order(source) != dtype.order(target) {
        swap_in_place(&mut out, dtype);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity_like_numpy() {
        let c = Layout::contiguous(&[3, 4], 8, false);
        assert_eq!(c.strides, vec![32, 8]);
        assert!(c.is_c_contiguous(8) && !c.is_f_contiguous(8));
        let f = Layout::contiguous(&[3, 4], 8, true);
        assert_eq!(f.strides, vec![8, 24]);
        assert!(f.is_f_contiguous(8) && !f.is_c_contiguous(8));
        let v = Layout::contiguous(&[5], 4, false);
        assert!(v.is_c_contiguous(4) && v.is_f_contiguous(4));
    }

    #[test]
    fn check_catches_out_of_bounds_and_negative_strides() {
        let l = Layout { shape: vec![4], strides: vec![-8], offset: 24 };
        assert!(l.check(8, 32).is_ok());
        let l = Layout { shape: vec![4], strides: vec![-8], offset: 16 };
        assert!(l.check(8, 32).is_err());
        let l = Layout { shape: vec![usize::MAX / 2, 3], strides: vec![isize::MAX, 8], offset: 0 };
        assert!(l.check(8, 1 << 20).is_err());
    }

    #[test]
    fn gather_transposed_and_reversed() {
        let src: Vec<u8> = (0u8..12).collect();
        let map = Mapping::from_bytes(&src).unwrap();
        // 3x4 uint8 transposed: shape (4, 3), strides (1, 4)
        let t = Layout { shape: vec![4, 3], strides: vec![1, 4], offset: 0 };
        let out = gather(&map, &t, DType::UInt8, ByteOrder::NotApplicable, ByteOrder::NotApplicable).unwrap();
        assert_eq!(out, vec![0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
        let r = Layout { shape: vec![6], strides: vec![-2], offset: 10 };
        let out = gather(&map, &r, DType::Int16, ByteOrder::Little, ByteOrder::Big).unwrap();
        assert_eq!(out, vec![11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    }
}
