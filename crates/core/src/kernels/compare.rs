//! Comparisons and truth tests, NumPy's rules: `equal`, `not_equal`, `less`, `less_equal`,
//! `greater`, `greater_equal` (two views broadcast by the caller) and `isnan`, `isfinite`
//! into a destination (`bool`, or any dtype: 0/1); `any`/`all` of a whole view or along an
//! axis; `array_equal`; `isclose`/`allclose` (in `close.rs`).
//!
//! Which arithmetic compares two dtypes is NumPy's: integers and bools of any signedness
//! and width compare exactly (NumPy 2 has exact loops for int64 with uint64; every other
//! integer pair is exact in its common type); anything with a float or complex compares
//! in `promote(a, b)` (so int64 with float64 compares in float64, as NumPy does: 2^53 + 1
//! equals 2.0^53 there). Complex numbers order lexicographically with NumPy's NaN rules
//! (`CLT`, `CLE` of `loops.c.src`). Scalars are one-element views of the dtype NumPy's weak
//! promotion gives them (the caller's choice).

use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering as Mem};

use super::elem::C;
use super::elementwise::{check_dest, compute_kind, hazardous, prepare_write, promote, store_row, swap_of, Dest, Load, K};
use super::nest::{walk, Nest, Operand, Piece};
use super::source::Source;
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::npy::{self, Array, NewArray};
use crate::view::Layout;

/// Elements handled per block (the buffers of the computation type).
const BLOCK: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn of(self, o: Option<Ordering>) -> bool {
        match self {
            CmpOp::Eq => o == Some(Ordering::Equal),
            CmpOp::Ne => o != Some(Ordering::Equal),
            CmpOp::Lt => o == Some(Ordering::Less),
            CmpOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
            CmpOp::Gt => o == Some(Ordering::Greater),
            CmpOp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        }
    }
}

/// Calls `$f::<A>(args)` with the computation type of `$d`.
macro_rules! dispatch_one {
    ($d:expr, $f:ident, $($args:expr),*) => {
        match compute_kind($d) {
            K::I => $f::<i64>($($args),*),
            K::U => $f::<u64>($($args),*),
            K::F32 => $f::<f32>($($args),*),
            K::F64 => $f::<f64>($($args),*),
            K::C32 => $f::<C<f32>>($($args),*),
            K::C64 => $f::<C<f64>>($($args),*),
        }
    };
}

/// A computation value comparisons and truth tests work on.
pub(crate) trait Compared: Load {
    fn compare(op: CmpOp, a: Self, b: Self) -> bool;
    fn is_nan(self) -> bool;
    fn is_finite(self) -> bool;
}

macro_rules! compared_int {
    ($($t:ty),*) => {$(
        impl Compared for $t {
            #[inline(always)]
            fn compare(op: CmpOp, a: Self, b: Self) -> bool {
                op.of(Some(a.cmp(&b)))
            }
            fn is_nan(self) -> bool {
                false
            }
            fn is_finite(self) -> bool {
                true
            }
        }
    )*};
}
compared_int!(i64, u64);

macro_rules! compared_float {
    ($($t:ty),*) => {$(
        impl Compared for $t {
            #[inline(always)]
            fn compare(op: CmpOp, a: Self, b: Self) -> bool {
                op.of(a.partial_cmp(&b))
            }
            fn is_nan(self) -> bool {
                self.is_nan()
            }
            fn is_finite(self) -> bool {
                self.is_finite()
            }
        }
        impl Compared for C<$t> {
            /// NumPy's `CEQ`, `CNE`, `CLT`, `CLE` (`GT`, `GE` swap the operands).
            #[inline(always)]
            fn compare(op: CmpOp, a: Self, b: Self) -> bool {
                let lt = |x: C<$t>, y: C<$t>| (x.0 < y.0 && !x.1.is_nan() && !y.1.is_nan()) || (x.0 == y.0 && x.1 < y.1);
                let le = |x: C<$t>, y: C<$t>| (x.0 < y.0 && !x.1.is_nan() && !y.1.is_nan()) || (x.0 == y.0 && x.1 <= y.1);
                match op {
                    CmpOp::Eq => a.0 == b.0 && a.1 == b.1,
                    CmpOp::Ne => a.0 != b.0 || a.1 != b.1,
                    CmpOp::Lt => lt(a, b),
                    CmpOp::Le => le(a, b),
                    CmpOp::Gt => lt(b, a),
                    CmpOp::Ge => le(b, a),
                }
            }
            fn is_nan(self) -> bool {
                self.0.is_nan() || self.1.is_nan()
            }
            fn is_finite(self) -> bool {
                self.0.is_finite() && self.1.is_finite()
            }
        }
    )*};
}
compared_float!(f32, f64);

/// An integer widened without loss, for exact comparisons across signedness.
trait Wide: Load {
    fn wide(self) -> i128;
}
impl Wide for i64 {
    fn wide(self) -> i128 {
        self as i128
    }
}
impl Wide for u64 {
    fn wide(self) -> i128 {
        self as i128
    }
}

/// Where elements of one operand are, for loading blocks.
#[derive(Clone, Copy)]
pub(crate) struct In {
    dtype: DType,
    stride: isize,
    swap: bool,
}

impl In {
    /// # Safety
    /// Elements `lo..lo + out.len()` of the piece's operand `op` must be readable.
    unsafe fn load<A: Load>(&self, p: &Piece, op: usize, lo: usize, out: &mut [A]) {
        // SAFETY: forwarded from the caller.
        unsafe { A::load(self.dtype, (p.addrs[op] + lo as isize * self.stride) as *const u8, self.stride, self.swap, out) }
    }
}

/// Where results go: bytes 0/1 for a bool destination, else stored as `dtype` (0/1).
#[derive(Clone, Copy)]
pub(crate) struct Out {
    dtype: DType,
    stride: isize,
    swap: bool,
}

impl Out {
    /// # Safety
    /// Elements `lo..lo + vals.len()` of the piece's operand 0 must be writable.
    unsafe fn store(&self, p: &Piece, lo: usize, vals: &[bool], ints: &mut [i64]) {
        let base = (p.addrs[0] + lo as isize * self.stride) as *mut u8;
        // SAFETY: forwarded from the caller.
        unsafe {
            if self.dtype == DType::Bool {
                for (i, &v) in vals.iter().enumerate() {
                    base.offset(i as isize * self.stride).write(v as u8);
                }
            } else {
                for (x, &v) in ints.iter_mut().zip(vals) {
                    *x = v as i64;
                }
                store_row(self.dtype, base, self.stride, self.swap, &ints[..vals.len()]);
            }
        }
    }
}

/// The computation of a comparison between dtypes `a` and `b`.
enum Mode {
    /// Exact integers; whether each side is unsigned.
    Int(bool, bool),
    Real(K),
}

fn mode(a: DType, b: DType) -> Mode {
    let int = |d: DType| matches!(d.kind(), 'b' | 'i' | 'u');
    if int(a) && int(b) {
        Mode::Int(a.kind() == 'u', b.kind() == 'u')
    } else {
        Mode::Real(compute_kind(promote(a, b)))
    }
}

fn input(s: &Source, stride: isize) -> In {
    In { dtype: s.dtype, stride, swap: swap_of(s.dtype, s.order) }
}

/// Runs `f` over the walk of `out`, `a`, `b` if given, with overlap handled (results computed
/// aside, then copied) and `out` checked.
pub(crate) fn elementwise(a: &Source, b: Option<&Source>, out: &Dest, run: impl Fn(&Nest, In, Option<In>, Out)) -> Result<()> {
    check_dest(out, &a.layout.shape)?;
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    if let Some(b) = b {
        if b.layout.shape != a.layout.shape {
            return err(ErrorKind::InvalidArgument, "operands could not be broadcast together");
        }
        b.layout.check(b.dtype.itemsize(), b.map.len())?;
    }
    if hazardous(a, out) || b.is_some_and(|b| hazardous(b, out)) {
        let tl = Layout::contiguous(&out.layout.shape, out.dtype.itemsize(), false);
        let tmp = Mapping::anonymous(tl.size() * out.dtype.itemsize())?;
        let t = Dest { map: &tmp, layout: &tl, dtype: out.dtype, order: ByteOrder::NATIVE, release: false };
        elementwise(a, b, &t, run)?;
        return super::assign::assign(&Source { map: &tmp, layout: &tl, dtype: out.dtype, order: ByteOrder::NATIVE, release: false }, out);
    }
    prepare_write(out);
    let base = |s: &Source| s.map.as_ptr() as isize + s.layout.offset as isize;
    let mut ops = vec![Operand { base: base(out), strides: &out.layout.strides }, Operand { base: base(a), strides: &a.layout.strides }];
    if let Some(b) = b {
        ops.push(Operand { base: base(b), strides: &b.layout.strides });
    }
    let nest = Nest::new(&out.layout.shape, &ops);
    let o = Out { dtype: out.dtype, stride: nest.inner[0], swap: swap_of(out.dtype, out.order) };
    run(&nest, input(a, nest.inner[1]), b.map(|b| input(b, nest.inner[2])), o);
    Ok(())
}

/// Walks pieces comparing blocks loaded as `A` and `B` with `f`.
pub(crate) fn compare_walk<A: Load, B: Load>(nest: &Nest, a: In, b: In, o: Out, f: impl Fn(A, B) -> bool + Sync + Send) {
    let init = || (vec![A::default(); BLOCK], vec![B::default(); BLOCK], vec![false; BLOCK], vec![0i64; BLOCK]);
    walk(nest, &[], init, |(xa, xb, r, ints), p| {
        let mut lo = 0;
        while lo < p.n {
            let k = BLOCK.min(p.n - lo);
            // SAFETY: layouts were checked against their mappings; the destination is writable.
            unsafe {
                a.load(&p, 1, lo, &mut xa[..k]);
                b.load(&p, 2, lo, &mut xb[..k]);
                for i in 0..k {
                    r[i] = f(xa[i], xb[i]);
                }
                o.store(&p, lo, &r[..k], ints);
            }
            lo += k;
        }
    });
}

/// `out = a op b` (`b` broadcast to `a`'s shape by the caller).
pub fn compare(op: CmpOp, a: &Source, b: &Source, out: &Dest) -> Result<()> {
    elementwise(a, Some(b), out, |nest, ia, ib, o| {
        let ib = ib.expect("two operands");
        fn exact<A: Wide, B: Wide>(op: CmpOp, nest: &Nest, ia: In, ib: In, o: Out) {
            compare_walk::<A, B>(nest, ia, ib, o, |x, y| op.of(Some(x.wide().cmp(&y.wide()))));
        }
        fn same<A: Compared>(op: CmpOp, nest: &Nest, ia: In, ib: In, o: Out) {
            compare_walk::<A, A>(nest, ia, ib, o, |x, y| A::compare(op, x, y));
        }
        match mode(a.dtype, b.dtype) {
            Mode::Int(false, false) => exact::<i64, i64>(op, nest, ia, ib, o),
            Mode::Int(false, true) => exact::<i64, u64>(op, nest, ia, ib, o),
            Mode::Int(true, false) => exact::<u64, i64>(op, nest, ia, ib, o),
            Mode::Int(true, true) => exact::<u64, u64>(op, nest, ia, ib, o),
            Mode::Real(K::F32) => same::<f32>(op, nest, ia, ib, o),
            Mode::Real(K::F64) => same::<f64>(op, nest, ia, ib, o),
            Mode::Real(K::C32) => same::<C<f32>>(op, nest, ia, ib, o),
            Mode::Real(K::C64) => same::<C<f64>>(op, nest, ia, ib, o),
            Mode::Real(K::I | K::U) => unreachable!("integers compare exactly"),
        }
    })
}

/// A unary truth test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    IsNan,
    IsFinite,
}

/// `out = isnan(a)` or `isfinite(a)`.
pub fn test(t: Test, a: &Source, out: &Dest) -> Result<()> {
    elementwise(a, None, out, |nest, ia, _, o| {
        fn go<A: Compared>(t: Test, nest: &Nest, ia: In, o: Out) {
            let init = || (vec![A::default(); BLOCK], vec![false; BLOCK], vec![0i64; BLOCK]);
            walk(nest, &[], init, |(xa, r, ints), p| {
                let mut lo = 0;
                while lo < p.n {
                    let k = BLOCK.min(p.n - lo);
                    // SAFETY: as in `compare_walk`.
                    unsafe {
                        ia.load(&p, 1, lo, &mut xa[..k]);
                        for i in 0..k {
                            r[i] = if t == Test::IsNan { xa[i].is_nan() } else { xa[i].is_finite() };
                        }
                        o.store(&p, lo, &r[..k], ints);
                    }
                    lo += k;
                }
            });
        }
        dispatch_one!(a.dtype, go, t, nest, ia, o)
    })
}

/// `a.any()` / `a.all()` of the whole view (stops early once decided).
pub fn any_all(a: &Source, all: bool) -> Result<bool> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    let base = a.map.as_ptr() as isize + a.layout.offset as isize;
    let nest = Nest::new(&a.layout.shape, &[Operand { base, strides: &a.layout.strides }]);
    let decided = AtomicBool::new(false);
    let ia = In { dtype: a.dtype, stride: nest.inner[0], swap: swap_of(a.dtype, a.order) };
    fn go<A: Load>(nest: &Nest, ia: In, all: bool, decided: &AtomicBool) {
        walk(
            nest,
            &[],
            || vec![A::default(); BLOCK],
            |xa, p| {
                let mut lo = 0;
                while lo < p.n && !decided.load(Mem::Relaxed) {
                    let k = BLOCK.min(p.n - lo);
                    // SAFETY: the layout was checked against its mapping.
                    unsafe { A::load(ia.dtype, (p.addrs[0] + lo as isize * ia.stride) as *const u8, ia.stride, ia.swap, &mut xa[..k]) };
                    // any: a true element decides; all: a false one.
                    if xa[..k].iter().any(|x| x.truthy() != all) {
                        decided.store(true, Mem::Relaxed);
                    }
                    lo += k;
                }
            },
        );
    }
    dispatch_one!(a.dtype, go, &nest, ia, all, &decided);
    Ok(decided.load(Mem::Relaxed) != all)
}

/// `a.any(axis)` / `a.all(axis)`: a new bool array of `a`'s shape without `axis`.
pub fn any_all_axis(a: &Source, axis: usize, all: bool) -> Result<Array> {
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    let nd = a.layout.shape.len();
    if axis >= nd {
        return err(ErrorKind::OutOfRange, format!("axis {axis} is out of bounds for array of dimension {nd}"));
    }
    let mut shape = a.layout.shape.clone();
    shape.remove(axis);
    let r = npy::zeros(&NewArray { dtype: DType::Bool, byte_order: ByteOrder::NATIVE, shape: shape.clone(), fortran_order: false })?;
    if all {
        // SAFETY: a fresh in-memory array nothing else references.
        unsafe { std::ptr::write_bytes(r.mapping.as_ptr(), 1, r.mapping.len()) };
    }
    // The result viewed with `a`'s shape: stride 0 along `axis`.
    let rl = Layout::contiguous(&shape, 1, false);
    let mut rs = rl.strides.clone();
    rs.insert(axis, 0);
    let obase = r.mapping.as_ptr() as isize;
    let base = a.map.as_ptr() as isize + a.layout.offset as isize;
    let nest = Nest::new(&a.layout.shape, &[Operand { base: obase, strides: &rs }, Operand { base, strides: &a.layout.strides }]);
    let ia = In { dtype: a.dtype, stride: nest.inner[1], swap: swap_of(a.dtype, a.order) };
    let ostride = nest.inner[0];
    fn go<A: Load>(nest: &Nest, ia: In, ostride: isize, all: bool) {
        walk(
            nest,
            &[],
            || vec![A::default(); BLOCK],
            |xa, p| {
                let mut lo = 0;
                while lo < p.n {
                    let k = BLOCK.min(p.n - lo);
                    // SAFETY: the layout was checked; the result is ours. Pieces of one reduced row may
                    // run on several threads: they only ever store the deciding value, atomically.
                    unsafe {
                        ia.load(&p, 1, lo, &mut xa[..k]);
                        for (i, x) in xa[..k].iter().enumerate() {
                            if x.truthy() != all {
                                let at = (p.addrs[0] + (lo + i) as isize * ostride) as *mut u8;
                                AtomicU8::from_ptr(at).store(!all as u8, Mem::Relaxed);
                                if ostride == 0 {
                                    break;
                                }
                            }
                        }
                    }
                    lo += k;
                }
            },
        );
    }
    dispatch_one!(a.dtype, go, &nest, ia, ostride, all);
    Ok(r)
}

/// Whether `same(a[i], b[i])` holds for every element of two views of one shape (stops at
/// the first that does not), the elements loaded as `A` and `B`.
pub(crate) fn all_pairs<A: Load, B: Load>(a: &Source, b: &Source, same: impl Fn(A, B) -> bool + Sync + Send) -> Result<bool> {
    if a.layout.shape != b.layout.shape {
        return err(ErrorKind::InvalidArgument, "operands could not be broadcast together");
    }
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    b.layout.check(b.dtype.itemsize(), b.map.len())?;
    let base = |s: &Source| s.map.as_ptr() as isize + s.layout.offset as isize;
    let nest = Nest::new(&a.layout.shape, &[Operand { base: base(a), strides: &a.layout.strides }, Operand { base: base(b), strides: &b.layout.strides }]);
    let (ia, ib) = (input(a, nest.inner[0]), input(b, nest.inner[1]));
    let differ = AtomicBool::new(false);
    walk(
        &nest,
        &[],
        || (vec![A::default(); BLOCK], vec![B::default(); BLOCK]),
        |(xa, xb), p| {
            let mut lo = 0;
            while lo < p.n && !differ.load(Mem::Relaxed) {
                let k = BLOCK.min(p.n - lo);
                // SAFETY: both layouts were checked against their mappings.
                unsafe {
                    ia.load(&p, 0, lo, &mut xa[..k]);
                    ib.load(&p, 1, lo, &mut xb[..k]);
                }
                if (0..k).any(|i| !same(xa[i], xb[i])) {
                    differ.store(true, Mem::Relaxed);
                }
                lo += k;
            }
        },
    );
    Ok(!differ.load(Mem::Relaxed))
}

/// NumPy's `array_equal(a, b, equal_nan)`: false for other shapes; NaN in both at the same
/// place counts as equal with `equal_nan` (a complex number is NaN when either part is).
pub fn array_equal(a: &Source, b: &Source, equal_nan: bool) -> Result<bool> {
    if a.layout.shape != b.layout.shape {
        return Ok(false);
    }
    fn exact<A: Wide, B: Wide>(a: &Source, b: &Source) -> Result<bool> {
        all_pairs::<A, B>(a, b, |x, y| x.wide() == y.wide())
    }
    fn real<A: Compared>(a: &Source, b: &Source, equal_nan: bool) -> Result<bool> {
        all_pairs::<A, A>(a, b, |x, y| A::compare(CmpOp::Eq, x, y) || (equal_nan && x.is_nan() && y.is_nan()))
    }
    match mode(a.dtype, b.dtype) {
        Mode::Int(false, false) => exact::<i64, i64>(a, b),
        Mode::Int(false, true) => exact::<i64, u64>(a, b),
        Mode::Int(true, false) => exact::<u64, i64>(a, b),
        Mode::Int(true, true) => exact::<u64, u64>(a, b),
        Mode::Real(K::F32) => real::<f32>(a, b, equal_nan),
        Mode::Real(K::F64) => real::<f64>(a, b, equal_nan),
        Mode::Real(K::C32) => real::<C<f32>>(a, b, equal_nan),
        Mode::Real(K::C64) => real::<C<f64>>(a, b, equal_nan),
        Mode::Real(K::I | K::U) => unreachable!("integers compare exactly"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(bytes: &[u8]) -> Mapping {
        Mapping::from_bytes(bytes).unwrap()
    }

    #[test]
    fn int64_with_uint64_exactly_and_complex_order() {
        let a = view(&[(-1i64).to_ne_bytes(), (5i64).to_ne_bytes()].concat());
        let b = view(&[u64::MAX.to_ne_bytes(), 5u64.to_ne_bytes()].concat());
        let l = Layout::contiguous(&[2], 8, false);
        let out = Mapping::anonymous(2).unwrap();
        let ol = Layout::contiguous(&[2], 1, false);
        let src = |m, d| Source { map: m, layout: &l, dtype: d, order: ByteOrder::NATIVE, release: false };
        let dst = Dest { map: &out, layout: &ol, dtype: DType::Bool, order: ByteOrder::NATIVE, release: false };
        compare(CmpOp::Lt, &src(&a, DType::Int64), &src(&b, DType::UInt64), &dst).unwrap();
        assert_eq!(out.read_bytes(0, 2).unwrap(), [1, 0]);
        compare(CmpOp::Eq, &src(&a, DType::Int64), &src(&b, DType::UInt64), &dst).unwrap();
        assert_eq!(out.read_bytes(0, 2).unwrap(), [0, 1]);
        assert!(!array_equal(&src(&a, DType::Int64), &src(&b, DType::UInt64), false).unwrap());
        assert!(any_all(&src(&a, DType::Int64), true).unwrap());
        let z = view(&[0u8; 16]);
        assert!(!any_all(&src(&z, DType::Float64), false).unwrap());
        assert!(C::<f64>::compare(CmpOp::Lt, C(1.0, 2.0), C(1.0, 3.0)) && !C::<f64>::compare(CmpOp::Lt, C(0.0, f64::NAN), C(1.0, 0.0)));
    }
}
