//! NumPy's three-argument `where(cond, x, y)`: an element of `x` where `cond` is true (NumPy's
//! truth: non-zero, NaN true, -0.0 false), else of `y`, over views of one shape (broadcast by
//! the caller) walked together by [`super::nest`], so it runs on all cores and small arrays on
//! the calling thread. The values are computed in `promote(x, y)` and stored as `out`'s dtype;
//! when `x`, `y` and `out` share dtype and byte order the elements are copied as bytes.

use super::assign::assign;
use super::elem::C;
use super::elementwise::{check_dest, compute_kind, hazardous, prepare_write, promote, store_row, swap_of, Dest, Load, K};
use super::nest::{walk, Nest, Operand};
use super::select::{base, Mask, BLOCK};
use super::source::Source;
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::view::Layout;

/// NumPy's `where(cond, x, y)` into `out`: `x` where `cond` is true, else `y` (all of `out`'s
/// shape, broadcast by the caller), computed in `promote(x, y)` and stored as `out`'s dtype.
pub fn select(cond: &Source, x: &Source, y: &Source, out: &Dest) -> Result<()> {
    let shape = &out.layout.shape;
    check_dest(out, shape)?;
    for s in [cond, x, y] {
        if &s.layout.shape != shape {
            return err(ErrorKind::InvalidArgument, "operands could not be broadcast together");
        }
        s.layout.check(s.dtype.itemsize(), s.map.len())?;
    }
    if [cond, x, y].iter().any(|s| hazardous(s, out)) {
        let tl = Layout::contiguous(shape, out.dtype.itemsize(), false);
        let tmp = Mapping::anonymous(tl.size() * out.dtype.itemsize())?;
        let t = Dest { map: &tmp, layout: &tl, dtype: out.dtype, order: out.order, release: false };
        select(cond, x, y, &t)?;
        return assign(&Source { map: &tmp, layout: &tl, dtype: out.dtype, order: out.order, release: false }, out);
    }
    prepare_write(out);
    let ops: Vec<Operand> = [out, cond, x, y].iter().map(|s| Operand { base: base(s), strides: &s.layout.strides }).collect();
    let nest = Nest::new(shape, &ops);
    let st = [nest.inner[0], nest.inner[1], nest.inner[2], nest.inner[3]];
    let cm = Mask { dtype: cond.dtype, swap: swap_of(cond.dtype, cond.order), stride: st[1] };
    let same = x.dtype == out.dtype
        && y.dtype == out.dtype
        && swap_of(x.dtype, x.order) == swap_of(out.dtype, out.order)
        && swap_of(y.dtype, y.order) == swap_of(out.dtype, out.order);
    if same {
        let isz = out.dtype.itemsize();
        walk(
            &nest,
            &[],
            || (),
            |_, p| {
                // SAFETY: layouts were checked against their mappings; `out` is writable.
                unsafe {
                    cm.blocks(p.addrs[1], p.n, |lo, t| {
                        for (i, &keep) in t.iter().enumerate() {
                            let i = (lo + i) as isize;
                            let s = if keep != 0 { p.addrs[2] + i * st[2] } else { p.addrs[3] + i * st[3] };
                            std::ptr::copy_nonoverlapping(s as *const u8, (p.addrs[0] + i * st[0]) as *mut u8, isz);
                        }
                    })
                }
            },
        );
        return Ok(());
    }
    fn go<A: Load>(nest: &Nest, st: [isize; 4], cm: Mask, x: &Source, y: &Source, out: &Dest) {
        let (xs, ys, os) = (swap_of(x.dtype, x.order), swap_of(y.dtype, y.order), swap_of(out.dtype, out.order));
        walk(
            nest,
            &[],
            || (vec![A::default(); BLOCK], vec![A::default(); BLOCK]),
            |(xa, ya), p| {
                // SAFETY: layouts were checked against their mappings; `out` is writable.
                unsafe {
                    cm.blocks(p.addrs[1], p.n, |lo, t| {
                        let k = t.len();
                        let at = |op: usize| p.addrs[op] + lo as isize * st[op];
                        A::load(x.dtype, at(2) as *const u8, st[2], xs, &mut xa[..k]);
                        A::load(y.dtype, at(3) as *const u8, st[3], ys, &mut ya[..k]);
                        for i in 0..k {
                            if t[i] == 0 {
                                xa[i] = ya[i];
                            }
                        }
                        store_row(out.dtype, at(0) as *mut u8, st[0], os, &xa[..k]);
                    })
                }
            },
        );
    }
    match compute_kind(promote(x.dtype, y.dtype)) {
        K::I => go::<i64>(&nest, st, cm, x, y, out),
        K::U => go::<u64>(&nest, st, cm, x, y, out),
        K::F32 => go::<f32>(&nest, st, cm, x, y, out),
        K::F64 => go::<f64>(&nest, st, cm, x, y, out),
        K::C32 => go::<C<f32>>(&nest, st, cm, x, y, out),
        K::C64 => go::<C<f64>>(&nest, st, cm, x, y, out),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::{ByteOrder, DType};

    fn src<'a>(m: &'a Mapping, l: &'a Layout, d: DType) -> Source<'a> {
        Source { map: m, layout: l, dtype: d, order: ByteOrder::NATIVE, release: false }
    }

    #[test]
    fn where_selects_and_promotes() {
        let c = Mapping::from_bytes(&[1, 0, 1]).unwrap();
        let cl = Layout::contiguous(&[3], 1, false);
        let x = Mapping::from_bytes(&[1i8, 2, 3].iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<_>>()).unwrap();
        let xl = Layout::contiguous(&[3], 1, false);
        let y = Mapping::from_bytes(&2.5f32.to_ne_bytes()).unwrap();
        let yl = Layout { shape: vec![3], strides: vec![0], offset: 0 };
        let o = Mapping::anonymous(12).unwrap();
        let ol = Layout::contiguous(&[3], 4, false);
        let out = Dest { map: &o, layout: &ol, dtype: DType::Float32, order: ByteOrder::NATIVE, release: false };
        select(&src(&c, &cl, DType::Bool), &src(&x, &xl, DType::Int8), &src(&y, &yl, DType::Float32), &out).unwrap();
        let got: Vec<f32> = o.read_bytes(0, 12).unwrap().chunks(4).map(|b| f32::from_ne_bytes(b.try_into().unwrap())).collect();
        assert_eq!(got, [1.0, 2.5, 3.0]);
    }
}
