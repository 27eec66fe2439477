//! Joining, NumPy's `concatenate` (and `stack`, which is `concatenate` of views with a new
//! length-1 axis, built by the caller): each source is assigned into its slab of the
//! destination along the axis, with `assign`'s casting, overlap handling and streaming
//! (`release`), so many files join into one `'w+'` file without any of them in memory.
//! The result type of sources without `out` is NumPy's `result_type` of the sequence.

use super::assign::assign;
use super::elementwise::{check_dest, promote, same_kind, Dest};
use super::source::Source;
use crate::dtype::DType;
use crate::error::{err, ErrorKind, Result};
use crate::view::Layout;

/// NumPy's type number of a dtype: the order in which `result_type` of a sequence picks
/// the dtype that leads the promotion.
fn type_num(d: DType) -> u8 {
    use DType::*;
    match d {
        Bool => 0,
        Int8 => 1,
        UInt8 => 2,
        Int16 => 3,
        UInt16 => 4,
        Int32 => 5,
        UInt32 => 6,
        Int64 => 7,
        UInt64 => 8,
        Float32 => 11,
        Float64 => 12,
        Complex64 => 14,
        Complex128 => 15,
        Float16 => 23,
    }
}

/// NumPy's `result_type(*dtypes)`: promotion is not associative (int8, uint8, float16 give
/// float16, not float32 as promoting pairwise from the left would), so, as NumPy does, the
/// dtype with the highest type number leads and every other one is promoted into it in turn.
pub fn result_type(dtypes: &[DType]) -> Option<DType> {
    let lead = (0..dtypes.len()).max_by_key(|&i| (type_num(dtypes[i]), std::cmp::Reverse(i)))?;
    Some(dtypes.iter().enumerate().filter(|&(i, _)| i != lead).fold(dtypes[lead], |r, (_, &d)| promote(r, d)))
}

/// The shape of `concatenate` of arrays of `shapes` along `axis`, with NumPy's errors.
pub fn concat_shape(shapes: &[&[usize]], axis: usize) -> Result<Vec<usize>> {
    let Some(first) = shapes.first() else {
        return err(ErrorKind::InvalidArgument, "need at least one array to concatenate");
    };
    let nd = first.len();
    if nd == 0 {
        return err(ErrorKind::InvalidArgument, "zero-dimensional arrays cannot be concatenated");
    }
    if axis >= nd {
        return err(ErrorKind::OutOfRange, format!("axis {axis} is out of bounds for array of dimension {nd}"));
    }
    let mut out = first.to_vec();
    for (i, s) in shapes.iter().enumerate().skip(1) {
        if s.len() != nd {
            return err(
                ErrorKind::InvalidArgument,
                format!(
                    "all the input arrays must have same number of dimensions, but the array at index 0 has {nd} dimension(s) and the array at index {i} has {} dimension(s)",
                    s.len()
                ),
            );
        }
        for d in 0..nd {
            if d != axis && s[d] != first[d] {
                return err(
                    ErrorKind::InvalidArgument,
                    format!(
                        "all the input array dimensions except for the concatenation axis must match exactly, but along dimension {d}, the array at index 0 has size {} and the array at index {i} has size {}",
                        first[d], s[d]
                    ),
                );
            }
        }
        out[axis] = out[axis].checked_add(s[axis]).ok_or_else(|| crate::error::Error::new(ErrorKind::BadShape, "the concatenated shape overflows"))?;
    }
    Ok(out)
}

/// `concatenate(srcs, axis, out=dst)`: sources cast into `dst` under NumPy's default
/// `'same_kind'` rule; with `dst.release` (or a source's) pages are released behind.
pub fn concatenate(srcs: &[Source], axis: usize, dst: &Dest) -> Result<()> {
    let shapes: Vec<&[usize]> = srcs.iter().map(|s| s.layout.shape.as_slice()).collect();
    let shape = concat_shape(&shapes, axis)?;
    check_dest(dst, &shape)?;
    for s in srcs {
        if !same_kind(s.dtype, dst.dtype) {
            return err(
                ErrorKind::InvalidArgument,
                format!("Cannot cast array data from dtype('{}') to dtype('{}') according to the rule 'same_kind'", s.dtype.name(), dst.dtype.name()),
            );
        }
    }
    let mut at = 0usize;
    for s in srcs {
        let n = s.layout.shape[axis];
        let mut shape = dst.layout.shape.clone();
        shape[axis] = n;
        // A slab starting at `at`; empty slabs (n == 0) are skipped, so the offset stays inside.
        if n > 0 && s.layout.size() > 0 {
            let off = dst.layout.offset as isize + at as isize * dst.layout.strides[axis];
            let slab = Layout { shape, strides: dst.layout.strides.clone(), offset: off as usize };
            assign(s, &Dest { layout: &slab, ..*dst })?;
        }
        at += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::ByteOrder;
    use crate::mapping::Mapping;
    use DType::*;

    #[test]
    fn result_type_of_a_sequence_is_numpys() {
        assert_eq!(result_type(&[Int8, UInt8, Float16]), Some(Float16));
        assert_eq!(result_type(&[Int8, UInt16, Float16]), Some(Float32));
        assert_eq!(result_type(&[Int8, UInt16, Complex64]), Some(Complex64));
        assert_eq!(result_type(&[Int8, UInt8]), Some(Int16));
        assert_eq!(result_type(&[]), None);
    }

    #[test]
    fn joins_along_an_axis_into_a_strided_destination_with_numpys_errors() {
        let a = Mapping::from_bytes(&[1i32, 2, 3, 4].iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let b = Mapping::from_bytes(&[5.0f64, 6.0].iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let (al, bl) = (Layout::contiguous(&[2, 2], 4, false), Layout::contiguous(&[2, 1], 8, false));
        let s = |m, l, d| Source { map: m, layout: l, dtype: d, order: ByteOrder::NATIVE, release: false };
        let o = Mapping::anonymous(6 * 8).unwrap();
        // out: a Fortran-order (2, 3) float64 array
        let ol = Layout::contiguous(&[2, 3], 8, true);
        let d = Dest { map: &o, layout: &ol, dtype: Float64, order: ByteOrder::NATIVE, release: false };
        concatenate(&[s(&a, &al, Int32), s(&b, &bl, Float64)], 1, &d).unwrap();
        let got: Vec<f64> = o.read_bytes(0, 48).unwrap().chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(got, [1.0, 3.0, 2.0, 4.0, 5.0, 6.0]);
        let e = concatenate(&[s(&a, &al, Int32), s(&b, &bl, Float64)], 0, &d).unwrap_err();
        assert!(e.to_string().contains("along dimension 1, the array at index 0 has size 2 and the array at index 1 has size 1"), "{e}");
        let oi = Mapping::anonymous(6 * 4).unwrap();
        let il = Layout::contiguous(&[2, 3], 4, false);
        let e =
            concatenate(&[s(&a, &al, Int32), s(&b, &bl, Float64)], 1, &Dest { map: &oi, layout: &il, dtype: Int32, order: ByteOrder::NATIVE, release: false })
                .unwrap_err();
        assert!(e.to_string().contains("rule 'same_kind'"), "{e}");
        assert_eq!(concat_shape(&[&[2, 2]], 2).unwrap_err().kind(), ErrorKind::OutOfRange);
    }
}
