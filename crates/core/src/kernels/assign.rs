//! Assignment into a view, NumPy's `dst[...] = src` (setitem): the source broadcast to
//! the destination's shape by the caller (strides 0), converted with NumPy's unsafe cast
//! (setitem's: a float into an integer view truncates toward zero; NaN and values out of
//! the integer's range, undefined in C and platform-dependent in NumPy, saturate here,
//! NaN giving 0), any dtype and byte order, strided and negative-step views.
//!
//! The same dtype is a byte copy (a `memmove` per row when both rows are contiguous, with
//! the bytes reversed where the byte orders differ); other dtypes convert through the
//! exact computation type of `elementwise::cast_kind`, a block at a time. A source that
//! overlaps the destination in another order is copied aside first (NumPy does the same).
//! In streaming mode (`release`) the pages of both views are released behind the walk, so
//! a destination larger than RAM fills with a bounded resident set.

use super::elem::C;
use super::elementwise::{cast_kind, check_dest, compute_kind, hazardous, prepare_write, store_row, swap_of, Dest, Load, K};
use super::nest::{walk, Nest, Operand, Piece, Released};
use super::source::{Source, Value};
use crate::dtype::{ByteOrder, DType};
use crate::error::Result;
use crate::mapping::Mapping;
use crate::view::Layout;

/// Elements converted per block (the buffers of the computation type).
const BLOCK: usize = 1024;

/// `dst[...] = src`; `src` has `dst`'s shape (broadcast axes with stride 0).
pub fn assign(src: &Source, dst: &Dest) -> Result<()> {
    check_dest(dst, &src.layout.shape)?;
    src.layout.check(src.dtype.itemsize(), src.map.len())?;
    if dst.layout.size() == 0 {
        return Ok(());
    }
    if hazardous(src, dst) {
        // Copy the source aside, in its own (un-broadcast) shape, then assign from the copy.
        let shape: Vec<usize> = src.layout.shape.iter().zip(&src.layout.strides).map(|(&n, &s)| if s == 0 { 1 } else { n }).collect();
        let mut tmp_layout = Layout::contiguous(&shape, src.dtype.itemsize(), false);
        let tmp = Mapping::anonymous(tmp_layout.size() * src.dtype.itemsize())?;
        let narrow = Layout { shape: shape.clone(), strides: src.layout.strides.clone(), offset: src.layout.offset };
        assign(&Source { layout: &narrow, ..*src }, &Dest { map: &tmp, layout: &tmp_layout, dtype: src.dtype, order: src.order, release: false })?;
        for (s, &n) in tmp_layout.strides.iter_mut().zip(&shape) {
            if n == 1 {
                *s = 0;
            }
        }
        tmp_layout.shape = src.layout.shape.clone();
        return assign(&Source { map: &tmp, layout: &tmp_layout, dtype: src.dtype, order: src.order, release: false }, dst);
    }
    prepare_write(dst);
    let ops = [
        Operand { base: dst.map.as_ptr() as isize + dst.layout.offset as isize, strides: &dst.layout.strides },
        Operand { base: src.map.as_ptr() as isize + src.layout.offset as isize, strides: &src.layout.strides },
    ];
    let nest = Nest::new(&dst.layout.shape, &ops);
    let mut release = Vec::new();
    if dst.release {
        release.push(Released { map: dst.map, op: 0, itemsize: dst.dtype.itemsize() });
    }
    if src.release {
        release.push(Released { map: src.map, op: 1, itemsize: src.dtype.itemsize() });
    }
    let (ds, ss) = (nest.inner[0], nest.inner[1]);
    let (dswap, sswap) = (swap_of(dst.dtype, dst.order), swap_of(src.dtype, src.order));
    if src.dtype == dst.dtype {
        let isz = dst.dtype.itemsize();
        let part = if dst.dtype.kind() == 'c' { isz / 2 } else { isz };
        let flip = dswap != sswap && part > 1;
        walk(
            &nest,
            &release,
            || (),
            // SAFETY: both layouts were checked against their mappings; pieces stay inside them,
            // and the destination is writable (the caller checked its mode).
            |_, p| unsafe { copy_piece(p.addrs[0] as *mut u8, ds, p.addrs[1] as *const u8, ss, p.n, isz, part, flip) },
        );
        return Ok(());
    }
    macro_rules! convert {
        ($a:ty) => {
            walk(
                &nest,
                &release,
                || vec![<$a>::default(); BLOCK],
                // SAFETY: as above.
                |buf, p: Piece| unsafe { convert_piece::<$a>(src.dtype, dst.dtype, p, ss, ds, sswap, dswap, buf) },
            )
        };
    }
    match compute_kind(cast_kind(src.dtype, dst.dtype)) {
        K::I => convert!(i64),
        K::U => convert!(u64),
        K::F32 => convert!(f32),
        K::F64 => convert!(f64),
        K::C32 => convert!(C<f32>),
        K::C64 => convert!(C<f64>),
    }
    Ok(())
}

/// `dst[...] = value` (NumPy's setitem of a Python scalar already converted by the
/// caller: an int goes into float dtypes through a double).
pub fn assign_value(dst: &Dest, value: Value) -> Result<()> {
    let value = match (value, dst.dtype.kind()) {
        (Value::Int(i), 'f' | 'c') => Value::Float(i as f64),
        (Value::UInt(u), 'f' | 'c') => Value::Float(u as f64),
        (v, _) => v,
    };
    let (dtype, bytes): (DType, Vec<u8>) = match value {
        Value::Bool(b) => (DType::Bool, vec![b as u8]),
        Value::Int(i) => (DType::Int64, i.to_ne_bytes().to_vec()),
        Value::UInt(u) => (DType::UInt64, u.to_ne_bytes().to_vec()),
        Value::Float(f) => (DType::Float64, f.to_ne_bytes().to_vec()),
        Value::Complex(r, i) => (DType::Complex128, [r.to_ne_bytes(), i.to_ne_bytes()].concat()),
    };
    let one = Mapping::from_bytes(&bytes)?;
    let spread = Layout { shape: dst.layout.shape.clone(), strides: vec![0; dst.layout.shape.len()], offset: 0 };
    assign(&Source { map: &one, layout: &spread, dtype, order: ByteOrder::NATIVE, release: false }, dst)
}

/// Moves `n` elements from `s` (`sd` in byte order `so`, byte stride `ss`) to `d` (`dd` in
/// `dor`, stride `ds`), converting as `assign` does: a byte copy for the same dtype, else
/// through the exact computation type of the cast. For kernels that gather elements.
///
/// # Safety
/// As [`copy_piece`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn move_run(sd: DType, so: ByteOrder, s: *const u8, ss: isize, dd: DType, dor: ByteOrder, d: *mut u8, ds: isize, n: usize) {
    let (sswap, dswap) = (swap_of(sd, so), swap_of(dd, dor));
    if sd == dd {
        let isz = dd.itemsize();
        let part = if dd.kind() == 'c' { isz / 2 } else { isz };
        // SAFETY: forwarded from the caller.
        unsafe { copy_piece(d, ds, s, ss, n, isz, part, sswap != dswap && part > 1) };
        return;
    }
    macro_rules! convert {
        ($a:ty) => {{
            let mut buf = [<$a>::default(); 256];
            let mut lo = 0;
            while lo < n {
                let k = buf.len().min(n - lo);
                // SAFETY: forwarded from the caller.
                unsafe {
                    <$a>::load(sd, s.offset(lo as isize * ss), ss, sswap, &mut buf[..k]);
                    store_row(dd, d.offset(lo as isize * ds), ds, dswap, &buf[..k]);
                }
                lo += k;
            }
        }};
    }
    match compute_kind(cast_kind(sd, dd)) {
        K::I => convert!(i64),
        K::U => convert!(u64),
        K::F32 => convert!(f32),
        K::F64 => convert!(f64),
        K::C32 => convert!(C<f32>),
        K::C64 => convert!(C<f64>),
    }
}

/// Copies `n` elements of `isz` bytes, reversing each `part`-byte part when `flip`.
///
/// # Safety
/// Every element at `d + i * ds` must be writable and at `s + i * ss` readable.
#[allow(clippy::too_many_arguments)]
unsafe fn copy_piece(d: *mut u8, ds: isize, s: *const u8, ss: isize, n: usize, isz: usize, part: usize, flip: bool) {
    let isz_i = isz as isize;
    // SAFETY (all blocks): forwarded from the caller.
    unsafe {
        if !flip && ds == isz_i && ss == isz_i {
            // memmove: a view assigned to itself is the same bytes.
            std::ptr::copy(s, d, n * isz);
            return;
        }
        macro_rules! each {
            ($t:ty, $f:expr) => {{
                let f: fn($t) -> $t = $f;
                for i in 0..n as isize {
                    let v = (s.offset(i * ss) as *const $t).read_unaligned();
                    (d.offset(i * ds) as *mut $t).write_unaligned(f(v));
                }
            }};
        }
        match (isz, part, flip) {
            (1, _, _) => each!(u8, |v| v),
            (2, _, false) => each!(u16, |v| v),
            (4, _, false) => each!(u32, |v| v),
            (8, _, false) => each!(u64, |v| v),
            (16, _, false) => each!(u128, |v| v),
            (2, _, true) => each!(u16, u16::swap_bytes),
            (4, _, true) => each!(u32, u32::swap_bytes),
            (8, 8, true) => each!(u64, u64::swap_bytes),
            // complex64: each float32 part reversed in place.
            (8, _, true) => each!(u64, |v| {
                let [a, b] = [(v as u32).swap_bytes() as u64, ((v >> 32) as u32).swap_bytes() as u64];
                a | (b << 32)
            }),
            _ => each!(u128, |v| {
                let [a, b] = [(v as u64).swap_bytes() as u128, ((v >> 64) as u64).swap_bytes() as u128];
                a | (b << 64)
            }),
        }
    }
}

/// Converts one piece from `sd` to `dd` through the computation type `A`.
///
/// # Safety
/// As [`copy_piece`].
#[allow(clippy::too_many_arguments)]
unsafe fn convert_piece<A: Load>(sd: DType, dd: DType, p: Piece, ss: isize, ds: isize, sswap: bool, dswap: bool, buf: &mut [A]) {
    let mut lo = 0;
    while lo < p.n {
        let k = BLOCK.min(p.n - lo);
        // SAFETY: forwarded from the caller.
        unsafe {
            A::load(sd, (p.addrs[1] + lo as isize * ss) as *const u8, ss, sswap, &mut buf[..k]);
            store_row(dd, (p.addrs[0] + lo as isize * ds) as *mut u8, ds, dswap, &buf[..k]);
        }
        lo += k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(m: &Mapping, n: usize) -> Vec<f64> {
        m.read_bytes(0, n * 8).unwrap().chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn column_assignment_broadcast_and_overlap() {
        let m = Mapping::anonymous(6 * 8).unwrap();
        let whole = Layout::contiguous(&[2, 3], 8, false);
        fn d<'a>(m: &'a Mapping, l: &'a Layout) -> Dest<'a> {
            Dest { map: m, layout: l, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false }
        }
        // f[:, 1] = [7, 8] from int32 (converted)
        let n: Vec<u8> = [7i32, 8].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let nm = Mapping::from_bytes(&n).unwrap();
        let col = Layout { shape: vec![2], strides: vec![24], offset: 8 };
        let nl = Layout::contiguous(&[2], 4, false);
        assign(&Source { map: &nm, layout: &nl, dtype: DType::Int32, order: ByteOrder::NATIVE, release: false }, &d(&m, &col)).unwrap();
        assert_eq!(f64s(&m, 6), [0.0, 7.0, 0.0, 0.0, 8.0, 0.0]);
        // a[...] = 2.5 (a scalar, broadcast)
        assign_value(&d(&m, &whole), Value::Float(2.5)).unwrap();
        assert_eq!(f64s(&m, 6), [2.5; 6]);
        // a[0, :] = a[1, ::-1] after writing row 1, through the overlap path
        let row1: Vec<u8> = [1.0f64, 2.0, 3.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        m.write_bytes(24, &row1).unwrap();
        let src = Layout { shape: vec![3], strides: vec![-8], offset: 40 };
        let row0 = Layout::contiguous(&[3], 8, false);
        assign(&Source { map: &m, layout: &src, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false }, &d(&m, &row0)).unwrap();
        assert_eq!(f64s(&m, 6), [3.0, 2.0, 1.0, 1.0, 2.0, 3.0]);
        // a[:] = a[::-1] (whole array reversed into itself)
        let rev = Layout { shape: vec![6], strides: vec![-8], offset: 40 };
        let flat = Layout::contiguous(&[6], 8, false);
        assign(&Source { map: &m, layout: &rev, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false }, &d(&m, &flat)).unwrap();
        assert_eq!(f64s(&m, 6), [3.0, 2.0, 1.0, 1.0, 2.0, 3.0]);
        // float into int truncates toward zero, byte-swapped destination
        let im = Mapping::anonymous(16).unwrap();
        let il = Layout::contiguous(&[2], 8, false);
        let fl = Layout { shape: vec![2], strides: vec![8], offset: 0 };
        let fm = Mapping::from_bytes(&[(-2.7f64).to_ne_bytes(), 3.9f64.to_ne_bytes()].concat()).unwrap();
        let swapped = if ByteOrder::NATIVE == ByteOrder::Little { ByteOrder::Big } else { ByteOrder::Little };
        assign(
            &Source { map: &fm, layout: &fl, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false },
            &Dest { map: &im, layout: &il, dtype: DType::Int64, order: swapped, release: false },
        )
        .unwrap();
        let got: Vec<i64> = im.read_bytes(0, 16).unwrap().chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap()).swap_bytes()).collect();
        assert_eq!(got, [-2, 3]);
    }
}
