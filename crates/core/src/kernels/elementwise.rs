//! Elementwise kernels: `add`, `sub`, `mul`, `div` (with a scalar or a broadcast
//! array), `fill` and `astype`, from views to a destination view, in place on
//! mapped memory. Rows are processed in blocks through small buffers of the
//! computation type (as NumPy's buffered iterator does), so any dtype, byte
//! order and stride works without a temporary the size of the array.

use super::assign::assign_value;
use super::elem::{Bool, Elem, To, C, F16};
use super::nest::PAR_MIN;
use super::pool;
use super::simd;
use super::source::{Source, Value};
use crate::dtype::{ByteOrder, DType};
use crate::error::{err, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::view::Layout;

const BLOCK: usize = 1024;
/// Elements of a row one parallel work item covers (a multiple of `BLOCK`).
const SEGMENT: usize = 64 * BLOCK;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "subtract",
            BinOp::Mul => "multiply",
            BinOp::Div => "divide", // NumPy 2's name (true_divide is an alias)
        }
    }
}

/// A view results are stored into (the caller checked that it may be written).
pub type Dest<'a> = Source<'a>;

/// The second operand: a view broadcast to the output's shape (strides 0 on
/// broadcast axes), or a scalar.
#[derive(Debug, Clone, Copy)]
pub enum Operand<'a> {
    View(Source<'a>),
    Scalar(Value),
}

fn kind_rank(d: DType) -> u8 {
    match d.kind() {
        'b' => 0,
        'u' => 1,
        'i' => 2,
        'f' => 3,
        _ => 4,
    }
}

/// NumPy's `can_cast(from, to, 'same_kind')`.
pub fn same_kind(from: DType, to: DType) -> bool {
    kind_rank(to) >= kind_rank(from) && !(from.kind() == 'i' && to.kind() == 'u')
}

/// The smallest float that holds every value of an integer dtype (NumPy's promotion).
fn float_for_int(d: DType) -> DType {
    match d.itemsize() {
        1 => DType::Float16,
        2 => DType::Float32,
        _ => DType::Float64,
    }
}

fn int_of(size: usize, signed: bool) -> Option<DType> {
    Some(match (size, signed) {
        (1, true) => DType::Int8,
        (2, true) => DType::Int16,
        (4, true) => DType::Int32,
        (8, true) => DType::Int64,
        (1, false) => DType::UInt8,
        (2, false) => DType::UInt16,
        (4, false) => DType::UInt32,
        (8, false) => DType::UInt64,
        _ => return None,
    })
}

fn float_of(size: usize) -> DType {
    match size {
        2 => DType::Float16,
        4 => DType::Float32,
        _ => DType::Float64,
    }
}

/// `np.result_type` of two arrays.
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    let (ka, kb) = (a.kind(), b.kind());
    match (ka, kb) {
        ('b', _) => b,
        (_, 'b') => a,
        ('i' | 'u', 'i' | 'u') => {
            if ka == kb {
                return if a.itemsize() >= b.itemsize() { a } else { b };
            }
            let (s, u) = if ka == 'i' { (a, b) } else { (b, a) };
            int_of(s.itemsize().max(2 * u.itemsize()), true).unwrap_or(Float64)
        }
        ('f', 'i' | 'u') => float_of(a.itemsize().max(float_for_int(b).itemsize())),
        ('i' | 'u', 'f') => float_of(b.itemsize().max(float_for_int(a).itemsize())),
        ('f', 'f') => {
            if a.itemsize() >= b.itemsize() {
                a
            } else {
                b
            }
        }
        ('c', _) | (_, 'c') => {
            let part = |d: DType| match d.kind() {
                'c' => d.itemsize() / 2,
                'f' => d.itemsize(),
                _ => float_for_int(d).itemsize(),
            };
            if part(a).max(part(b)) > 4 {
                Complex128
            } else {
                Complex64
            }
        }
        _ => Float64,
    }
}

/// The second operand as far as type promotion cares: an array's dtype, or a scalar.
#[derive(Debug, Clone, Copy)]
pub enum Other {
    Array(DType),
    Scalar(Value),
}

/// The dtype of `a op b` (NumPy 2 rules: Python scalars are "weak").
pub fn result_dtype(op: BinOp, a: DType, b: Other) -> Result<DType> {
    let t = match b {
        Other::Array(d) => promote(a, d),
        Other::Scalar(v) => match (v, a.kind()) {
            (Value::Complex(..), 'c') => a,
            (Value::Complex(..), 'f') => promote(a, DType::Complex64),
            (Value::Complex(..), _) => DType::Complex128,
            (Value::Float(_), 'b' | 'i' | 'u') => DType::Float64,
            (Value::Int(_) | Value::UInt(_), 'b') => DType::Int64,
            _ => a,
        },
    };
    Ok(match (op, t.kind()) {
        (BinOp::Div, 'b' | 'i' | 'u') => DType::Float64,
        (BinOp::Sub, 'b') => return err(ErrorKind::InvalidArgument, "numpy boolean subtract is not supported; use logical_xor"),
        _ => t,
    })
}

/// The computation type of a dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum K {
    I,
    U,
    F32,
    F64,
    C32,
    C64,
}

pub(crate) fn compute_kind(d: DType) -> K {
    match d.kind() {
        'b' | 'i' => K::I,
        'u' => K::U,
        'f' if d.itemsize() <= 4 => K::F32,
        'f' => K::F64,
        'c' if d.itemsize() == 8 => K::C32,
        _ => K::C64,
    }
}

/// What a computation value can be stored as.
pub trait Store: Copy + Send + Sync + 'static {
    fn parts(self) -> (f64, f64, i64, u64);
    /// Real and imaginary parts rounded once to f32 (C's `(float)x`; no double rounding through f64).
    fn f32s(self) -> (f32, f32);
    /// The real part rounded once to half precision (bits), as NumPy's casts do.
    fn f16(self) -> u16;
    /// NumPy's truth value: non-zero (either part for complex; NaN is true).
    fn truthy(self) -> bool;
}
impl Store for i64 {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self as f64, 0.0, self, self as u64)
    }
    fn f32s(self) -> (f32, f32) {
        (self as f32, 0.0)
    }
    fn f16(self) -> u16 {
        F16::from_f32(self as f32).0
    }
    fn truthy(self) -> bool {
        self != 0
    }
}
impl Store for u64 {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self as f64, 0.0, self as i64, self)
    }
    fn f32s(self) -> (f32, f32) {
        (self as f32, 0.0)
    }
    fn f16(self) -> u16 {
        F16::from_f32(self as f32).0
    }
    fn truthy(self) -> bool {
        self != 0
    }
}
impl Store for f32 {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self as f64, 0.0, self as i64, self as u64)
    }
    fn f32s(self) -> (f32, f32) {
        (self, 0.0)
    }
    fn f16(self) -> u16 {
        F16::from_f32(self).0
    }
    fn truthy(self) -> bool {
        self != 0.0
    }
}
impl Store for f64 {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self, 0.0, self as i64, self as u64)
    }
    fn f32s(self) -> (f32, f32) {
        (self as f32, 0.0)
    }
    fn f16(self) -> u16 {
        f64_to_f16(self)
    }
    fn truthy(self) -> bool {
        self != 0.0
    }
}
impl Store for C<f32> {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self.0 as f64, self.1 as f64, self.0 as i64, self.0 as u64)
    }
    fn f32s(self) -> (f32, f32) {
        (self.0, self.1)
    }
    fn f16(self) -> u16 {
        F16::from_f32(self.0).0
    }
    fn truthy(self) -> bool {
        self.0 != 0.0 || self.1 != 0.0
    }
}
impl Store for C<f64> {
    fn parts(self) -> (f64, f64, i64, u64) {
        (self.0, self.1, self.0 as i64, self.0 as u64)
    }
    fn f32s(self) -> (f32, f32) {
        (self.0 as f32, self.1 as f32)
    }
    fn f16(self) -> u16 {
        f64_to_f16(self.0)
    }
    fn truthy(self) -> bool {
        self.0 != 0.0 || self.1 != 0.0
    }
}

/// A double rounded once to half precision (NumPy's `npy_double_to_half`): rounding to f32
/// first would round twice (1 + 2^-11 + 2^-40 would give 1, not 1 + 2^-10). Rounding to f32
/// *to odd* first keeps the result exact, f32 having more than 11 + 2 bits.
pub(crate) fn f64_to_f16(x: f64) -> u16 {
    let r = x as f32;
    if !x.is_finite() || r as f64 == x {
        return F16::from_f32(r).0;
    }
    let mut bits = r.to_bits();
    if (r as f64).abs() > x.abs() {
        bits -= 1; // towards zero (|r| > |x| >= 0, so r's magnitude is not 0)
    }
    F16::from_f32(f32::from_bits(bits | 1)).0
}

/// Arithmetic of a computation type.
pub trait Arith: Store + Default {
    fn bin(op: BinOp, a: Self, b: Self) -> Self;
    fn from_value(v: Value) -> Self;
}
macro_rules! arith_int {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)]
            fn bin(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                    // true division of integers computes in float64 (never reached).
                    BinOp::Div => if b == 0 { 0 } else { a.wrapping_div(b) },
                }
            }
            fn from_value(v: Value) -> Self {
                match v {
                    Value::Bool(b) => b as $t,
                    Value::Int(i) => i as $t,
                    Value::UInt(u) => u as $t,
                    Value::Float(f) => f as $t,
                    Value::Complex(r, _) => r as $t,
                }
            }
        }
    )*};
}
arith_int!(i64, u64);
macro_rules! arith_float {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)]
            fn bin(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                }
            }
            fn from_value(v: Value) -> Self {
                match v {
                    Value::Bool(b) => b as u8 as $t,
                    Value::Int(i) => i as $t,
                    Value::UInt(u) => u as $t,
                    Value::Float(f) => f as $t,
                    Value::Complex(r, _) => r as $t,
                }
            }
        }
        impl Arith for C<$t> {
            #[inline(always)]
            fn bin(op: BinOp, a: Self, b: Self) -> Self {
                match op {
                    BinOp::Add => C(a.0 + b.0, a.1 + b.1),
                    BinOp::Sub => C(a.0 - b.0, a.1 - b.1),
                    // Fused as NumPy's SIMD loops on CPUs with FMA (x86-64 with AVX2/AVX-512, ARM64):
                    // re = fma(ar, br, -(ai bi)), im = fma(ar, bi, ai br), bit for bit; and the same
                    // on every machine here (mul_add is exact even without the instruction).
                    BinOp::Mul => C(a.0.mul_add(b.0, -(a.1 * b.1)), a.0.mul_add(b.1, a.1 * b.0)),
                    // Smith's algorithm, exactly as NumPy's complex divide loop (no overflow of
                    // |b|^2; division by 0 gives NumPy's infinities and NaNs).
                    BinOp::Div => {
                        let (br_abs, bi_abs) = (b.0.abs(), b.1.abs());
                        if br_abs >= bi_abs {
                            if br_abs == 0.0 && bi_abs == 0.0 {
                                C(a.0 / br_abs, a.1 / br_abs)
                            } else {
                                let rat = b.1 / b.0;
                                let scl = 1.0 / (b.0 + b.1 * rat);
                                C((a.0 + a.1 * rat) * scl, (a.1 - a.0 * rat) * scl)
                            }
                        } else {
                            let rat = b.0 / b.1;
                            let scl = 1.0 / (b.1 + b.0 * rat);
                            C((a.0 * rat + a.1) * scl, (a.1 * rat - a.0) * scl)
                        }
                    }
                }
            }
            fn from_value(v: Value) -> Self {
                match v {
                    Value::Complex(r, i) => C(r as $t, i as $t),
                    other => C(<$t>::from_value(other), 0.0),
                }
            }
        }
    )*};
}
arith_float!(f32, f64);

/// Loads `n` elements of `dtype` at `p` (byte `stride`) into `out`.
///
/// # Safety
/// Every element must lie in mapped memory.
pub(crate) unsafe fn load_row<A>(dtype: DType, p: *const u8, stride: isize, swap: bool, out: &mut [A])
where
    Bool: To<A>,
    i8: To<A>,
    u8: To<A>,
    i16: To<A>,
    u16: To<A>,
    i32: To<A>,
    u32: To<A>,
    i64: To<A>,
    u64: To<A>,
    F16: To<A>,
    f32: To<A>,
    f64: To<A>,
    C<f32>: To<A>,
    C<f64>: To<A>,
{
    unsafe fn go<T: Elem + To<A>, A>(p: *const u8, stride: isize, swap: bool, out: &mut [A]) {
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: forwarded from `load_row`'s caller.
            *o = unsafe { T::load(p.offset(i as isize * stride), swap) }.to();
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe {
        match dtype {
            DType::Bool => go::<Bool, A>(p, stride, swap, out),
            DType::Int8 => go::<i8, A>(p, stride, swap, out),
            DType::UInt8 => go::<u8, A>(p, stride, swap, out),
            DType::Int16 => go::<i16, A>(p, stride, swap, out),
            DType::UInt16 => go::<u16, A>(p, stride, swap, out),
            DType::Int32 => go::<i32, A>(p, stride, swap, out),
            DType::UInt32 => go::<u32, A>(p, stride, swap, out),
            DType::Int64 => go::<i64, A>(p, stride, swap, out),
            DType::UInt64 => go::<u64, A>(p, stride, swap, out),
            DType::Float16 => go::<F16, A>(p, stride, swap, out),
            DType::Float32 => go::<f32, A>(p, stride, swap, out),
            DType::Float64 => go::<f64, A>(p, stride, swap, out),
            DType::Complex64 => go::<C<f32>, A>(p, stride, swap, out),
            DType::Complex128 => go::<C<f64>, A>(p, stride, swap, out),
        }
    }
}

/// A computation type elements can be loaded into (the six concrete ones), so generic
/// kernels need one bound instead of a conversion bound per element type.
pub trait Load: Arith {
    /// # Safety
    /// `out.len()` elements of `dtype` at `p` with byte `stride` must be readable.
    unsafe fn load(dtype: DType, p: *const u8, stride: isize, swap: bool, out: &mut [Self]);
}
macro_rules! load_impl {
    ($($t:ty),*) => {$(
        impl Load for $t {
            #[inline]
            unsafe fn load(dtype: DType, p: *const u8, stride: isize, swap: bool, out: &mut [Self]) {
                // SAFETY: forwarded from the caller.
                unsafe { load_row(dtype, p, stride, swap, out) }
            }
        }
    )*};
}
load_impl!(i64, u64, f32, f64, C<f32>, C<f64>);

/// Stores `vals` as `dtype` at `p` (byte `stride`).
///
/// # Safety
/// Every element must lie in writable mapped memory.
pub(crate) unsafe fn store_row<A: Store>(dtype: DType, p: *mut u8, stride: isize, swap: bool, vals: &[A]) {
    macro_rules! put {
        ($t:ty, $conv:expr) => {
            for (i, &v) in vals.iter().enumerate() {
                let (re, _im, int, uint) = v.parts();
                let x: $t = $conv(re, int, uint);
                let x = if swap { x.swap_bytes() } else { x };
                // SAFETY: forwarded from the caller.
                unsafe { (p.offset(i as isize * stride) as *mut $t).write_unaligned(x) };
            }
        };
    }
    match dtype {
        DType::Bool => {
            for (i, &v) in vals.iter().enumerate() {
                // SAFETY: forwarded from the caller.
                unsafe { p.offset(i as isize * stride).write(v.truthy() as u8) };
            }
        }
        DType::Int8 => put!(i8, |_r, i: i64, _u| i as i8),
        DType::UInt8 => put!(u8, |_r, _i, u: u64| u as u8),
        DType::Int16 => put!(i16, |_r, i: i64, _u| i as i16),
        DType::UInt16 => put!(u16, |_r, _i, u: u64| u as u16),
        DType::Int32 => put!(i32, |_r, i: i64, _u| i as i32),
        DType::UInt32 => put!(u32, |_r, _i, u: u64| u as u32),
        DType::Int64 => put!(i64, |_r, i: i64, _u| i),
        DType::UInt64 => put!(u64, |_r, _i, u: u64| u),
        DType::Float16 => {
            for (i, &v) in vals.iter().enumerate() {
                let x = if swap { v.f16().swap_bytes() } else { v.f16() };
                // SAFETY: forwarded from the caller.
                unsafe { (p.offset(i as isize * stride) as *mut u16).write_unaligned(x) };
            }
        }
        DType::Float32 => {
            for (i, &v) in vals.iter().enumerate() {
                let x = v.f32s().0.to_bits();
                let x = if swap { x.swap_bytes() } else { x };
                // SAFETY: forwarded from the caller.
                unsafe { (p.offset(i as isize * stride) as *mut u32).write_unaligned(x) };
            }
        }
        DType::Float64 => put!(u64, |re: f64, _i, _u| re.to_bits()),
        DType::Complex64 | DType::Complex128 => {
            let part = dtype.itemsize() / 2;
            for (i, &v) in vals.iter().enumerate() {
                let (re, im, _, _) = v.parts();
                // SAFETY: forwarded from the caller.
                unsafe {
                    let q = p.offset(i as isize * stride);
                    if part == 4 {
                        let (r32, i32_) = v.f32s();
                        let (a, b) = (r32.to_bits(), i32_.to_bits());
                        (q as *mut u32).write_unaligned(if swap { a.swap_bytes() } else { a });
                        (q.add(4) as *mut u32).write_unaligned(if swap { b.swap_bytes() } else { b });
                    } else {
                        let (a, b) = (re.to_bits(), im.to_bits());
                        (q as *mut u64).write_unaligned(if swap { a.swap_bytes() } else { a });
                        (q.add(8) as *mut u64).write_unaligned(if swap { b.swap_bytes() } else { b });
                    }
                }
            }
        }
    }
}

/// Faults in private copies of a copy-on-write destination in one go (see
/// `Mapping::prepare_write`).
pub(crate) fn prepare_write(out: &Dest) {
    let l = out.layout;
    if l.shape.contains(&0) {
        return;
    }
    let (mut lo, mut hi) = (l.offset as isize, l.offset as isize);
    for (&n, &st) in l.shape.iter().zip(&l.strides) {
        let e = (n as isize - 1) * st;
        if e < 0 {
            lo += e
        } else {
            hi += e
        }
    }
    out.map.prepare_write(lo.max(0) as usize, (hi - lo) as usize + out.dtype.itemsize());
}

/// Byte offsets of every innermost row of `shape` (C order) for each of several stride sets.
fn row_offsets(shape: &[usize], strides: &[&[isize]]) -> Vec<Vec<isize>> {
    let nd = shape.len();
    let outer = if nd == 0 { 1 } else { shape[..nd - 1].iter().product() };
    let mut out = vec![Vec::with_capacity(outer); strides.len()];
    let mut idx = vec![0usize; nd.saturating_sub(1)];
    for _ in 0..outer {
        for (o, s) in out.iter_mut().zip(strides) {
            o.push(idx.iter().zip(s.iter()).map(|(&i, &st)| i as isize * st).sum());
        }
        for a in (0..idx.len()).rev() {
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// Whether two views of the same mapping may touch the same bytes in a different order.
pub(crate) fn hazardous(a: &Source, d: &Dest) -> bool {
    if !std::ptr::eq(a.map, d.map) || (a.layout == d.layout && a.dtype.itemsize() == d.dtype.itemsize()) {
        return false;
    }
    let span = |l: &Layout, isz: usize| -> (isize, isize) {
        let mut lo = l.offset as isize;
        let mut hi = l.offset as isize;
        for (&n, &s) in l.shape.iter().zip(&l.strides) {
            if n == 0 {
                return (0, -1);
            }
            let e = (n as isize - 1) * s;
            if e < 0 {
                lo += e
            } else {
                hi += e
            }
        }
        (lo, hi + isz as isize)
    };
    let (a0, a1) = span(a.layout, a.dtype.itemsize());
    let (d0, d1) = span(d.layout, d.dtype.itemsize());
    a0 < d1 && d0 < a1
}

/// `out = a op b` over views of equal shape (b broadcast by the caller), computed
/// in `compute` and cast to `out`'s dtype ('same_kind').
pub fn binary(op: BinOp, a: &Source, b: &Operand, out: &Dest, compute: DType) -> Result<()> {
    if let Operand::Scalar(v) = b {
        // NumPy converts a Python scalar to the loop's dtype first: 0.1 with a float16 array is
        // float16(0.1), an int with a float32 array goes through a double. The converted value
        // is then a one-element array broadcast everywhere.
        let one = Mapping::anonymous(compute.itemsize())?;
        let scalar_layout = Layout { shape: vec![], strides: vec![], offset: 0 };
        fill(&Dest { map: &one, layout: &scalar_layout, dtype: compute, order: ByteOrder::NATIVE, release: false }, *v)?;
        let spread = Layout { shape: a.layout.shape.clone(), strides: vec![0; a.layout.shape.len()], offset: 0 };
        return binary(op, a, &Operand::View(Source { map: &one, layout: &spread, dtype: compute, order: ByteOrder::NATIVE, release: false }), out, compute);
    }
    check_dest(out, &a.layout.shape)?;
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    if let Operand::View(s) = b {
        if s.layout.shape != a.layout.shape {
            return err(ErrorKind::InvalidArgument, "operands could not be broadcast together");
        }
        s.layout.check(s.dtype.itemsize(), s.map.len())?;
    }
    if !same_kind(compute, out.dtype) {
        return err(
            ErrorKind::InvalidArgument,
            format!("Cannot cast ufunc '{}' output from dtype('{}') to dtype('{}') with casting rule 'same_kind'", op.name(), compute.name(), out.dtype.name()),
        );
    }
    // Overlap in a different order: compute into memory first, then copy (NumPy does too).
    let risky = hazardous(a, out) || matches!(b, Operand::View(s) if hazardous(s, out));
    if risky {
        let tmp_layout = Layout::contiguous(&a.layout.shape, out.dtype.itemsize(), false);
        let tmp = Mapping::anonymous(a.layout.size() * out.dtype.itemsize())?;
        let t = Dest { map: &tmp, layout: &tmp_layout, dtype: out.dtype, order: ByteOrder::NATIVE, release: false };
        binary(op, a, b, &t, compute)?;
        let src = Source { map: &tmp, layout: &tmp_layout, dtype: out.dtype, order: ByteOrder::NATIVE, release: false };
        return cast_copy(&src, out);
    }
    // NumPy's loop produces `compute` values, then casts them to `out`: an int8 sum stored into
    // int16 wraps at int8, a float16 sum into float32 is rounded to float16 first.
    // (int64, uint64, float32, float64 and complex values are computed in their own type: no rounding.)
    let narrow = matches!(compute, DType::Bool | DType::Int8 | DType::UInt8 | DType::Int16 | DType::UInt16 | DType::Int32 | DType::UInt32 | DType::Float16);
    let round = if out.dtype != compute && narrow { Some(compute) } else { None };
    prepare_write(out);
    pool::install_if(a.layout.size() >= PAR_MIN, || match compute_kind(compute) {
        K::I => run_binary::<i64>(op, a, b, out, round),
        K::U => run_binary::<u64>(op, a, b, out, round),
        K::F32 => run_binary::<f32>(op, a, b, out, round),
        K::F64 => run_binary::<f64>(op, a, b, out, round),
        K::C32 => run_binary::<C<f32>>(op, a, b, out, round),
        K::C64 => run_binary::<C<f64>>(op, a, b, out, round),
    });
    Ok(())
}

pub(crate) fn check_dest(out: &Dest, shape: &[usize]) -> Result<()> {
    if out.layout.shape != shape {
        return err(ErrorKind::InvalidArgument, format!("output shape {:?} does not match the result shape {:?}", out.layout.shape, shape));
    }
    out.layout.check(out.dtype.itemsize(), out.map.len())
}

pub(crate) fn swap_of(d: DType, o: ByteOrder) -> bool {
    !d.order(o).is_native()
}

/// `round`: the dtype results are rounded to (stored and reloaded) before `out`'s cast.
fn run_binary<A: Load>(op: BinOp, a: &Source, b: &Operand, out: &Dest, round: Option<DType>) {
    let shape = &a.layout.shape;
    let nd = shape.len();
    let len = if nd == 0 { 1 } else { shape[nd - 1] };
    if a.layout.size() == 0 {
        return;
    }
    let inner = |l: &Layout| if nd == 0 { 0 } else { l.strides[nd - 1] };
    let bl = match b {
        Operand::View(s) => Some(*s),
        Operand::Scalar(_) => None,
    };
    let (aswap, oswap) = (swap_of(a.dtype, a.order), swap_of(out.dtype, out.order));
    let own = native_dtype::<A>().filter(|_| super::fast_paths());
    if round.is_none() && !pool::on_pool() && own.is_some_and(|d| d == a.dtype && d == out.dtype && !aswap && !oswap) {
        // Small calls (not on the pool) whose operands are all C-contiguous in the
        // computation type itself: one run over the whole memory, without the row tables
        // below (their allocations were a fifth of a call on 1,000 elements).
        let isz = size_of::<A>();
        let b_flat = match bl {
            Some(s) if Some(s.dtype) == own && !swap_of(s.dtype, s.order) && s.layout.is_c_contiguous(isz) => {
                Some((s.map.as_ptr() as usize + s.layout.offset, 1))
            }
            _ => None,
        };
        if let (Some((bp, step)), true, true) = (b_flat, a.layout.is_c_contiguous(isz), out.layout.is_c_contiguous(isz)) {
            let (ap, op_) = (a.map.as_ptr() as usize + a.layout.offset, out.map.as_ptr() as usize + out.layout.offset);
            // SAFETY: every layout was checked against its mapping, and a C-contiguous view of
            // `size` elements covers exactly `size` elements from its offset.
            unsafe { direct_any(op, ap as *const A, bp as *const A, step, op_ as *mut A, a.layout.size()) };
            return;
        }
    }
    let no_strides: Vec<isize> = vec![0; nd];
    let offs = row_offsets(shape, &[&a.layout.strides, bl.map(|s| &s.layout.strides[..]).unwrap_or(&no_strides), &out.layout.strides]);
    let scalar = match b {
        Operand::Scalar(v) => A::from_value(*v),
        _ => A::default(),
    };
    let abase = a.map.as_ptr() as usize + a.layout.offset;
    let obase = out.map.as_ptr() as usize + out.layout.offset;
    let bbase = bl.map(|s| s.map.as_ptr() as usize + s.layout.offset).unwrap_or(0);
    // Work items are (row, segment): long rows (a 1-D array is one row) are split so
    // that every thread gets a share; each segment is a whole number of blocks.
    let segs = len.div_ceil(SEGMENT).max(1);
    // The common case, every operand native, in the computation type itself, contiguous
    // along rows (`b` possibly broadcast): straight over memory, no buffers.
    let contiguous = |d: DType, swap: bool, stride: isize| Some(d) == own && !swap && stride == d.itemsize() as isize;
    let b_step = match bl {
        Some(s) if Some(s.dtype) == own && !swap_of(s.dtype, s.order) && inner(s.layout) == 0 => Some(0),
        Some(s) if contiguous(s.dtype, swap_of(s.dtype, s.order), inner(s.layout)) => Some(1),
        _ => None,
    };
    if let (None, true, true, Some(b_step)) = (round, contiguous(a.dtype, aswap, inner(a.layout)), contiguous(out.dtype, oswap, inner(out.layout)), b_step) {
        pool::for_each(
            offs[0].len() * segs,
            || (),
            |_, item| {
                let (r, seg) = (item / segs, item % segs);
                let lo = seg * SEGMENT;
                let n = len.min(lo + SEGMENT) - lo;
                let at = |base: usize, off: isize, step: usize| (base as isize + off) as *mut A as usize + lo * step * size_of::<A>();
                // SAFETY: every layout was checked against its mapping; the segment's elements lie
                // in each operand's row (b's step is 0 when broadcast along the row).
                unsafe {
                    direct_any(
                        op,
                        at(abase, offs[0][r], 1) as *const A,
                        at(bbase, offs[1][r], b_step) as *const A,
                        b_step,
                        at(obase, offs[2][r], 1) as *mut A,
                        n,
                    )
                };
            },
        );
        return;
    }
    // Buffers once per rayon job, not per row (rows may be short and many).
    let init = || (vec![A::default(); BLOCK], vec![scalar; BLOCK], vec![0u8; if round.is_some() { BLOCK * 16 } else { 0 }]);
    pool::for_each(offs[0].len() * segs, init, |(xa, xb, rb), item| {
        let (r, seg) = (item / segs, item % segs);
        let mut lo = seg * SEGMENT;
        let end = len.min(lo + SEGMENT);
        while lo < end {
            let n = BLOCK.min(end - lo);
            // SAFETY: every layout was checked against its mapping; rows and blocks stay inside.
            unsafe {
                A::load(a.dtype, (abase as isize + offs[0][r] + lo as isize * inner(a.layout)) as *const u8, inner(a.layout), aswap, &mut xa[..n]);
                if let Some(s) = bl {
                    A::load(
                        s.dtype,
                        (bbase as isize + offs[1][r] + lo as isize * inner(s.layout)) as *const u8,
                        inner(s.layout),
                        swap_of(s.dtype, s.order),
                        &mut xb[..n],
                    );
                }
                for i in 0..n {
                    xa[i] = A::bin(op, xa[i], xb[i]);
                }
                if let Some(d) = round {
                    let isz = d.itemsize() as isize;
                    store_row(d, rb.as_mut_ptr(), isz, false, &xa[..n]);
                    A::load(d, rb.as_ptr(), isz, false, &mut xa[..n]);
                }
                store_row(out.dtype, (obase as isize + offs[2][r] + lo as isize * inner(out.layout)) as *mut u8, inner(out.layout), oswap, &xa[..n]);
            }
            lo += n;
        }
    });
}

/// The dtype whose elements are stored as `A` itself (computation types that are storage
/// types too).
fn native_dtype<A: 'static>() -> Option<DType> {
    let t = std::any::TypeId::of::<A>();
    [
        (std::any::TypeId::of::<f64>(), DType::Float64),
        (std::any::TypeId::of::<f32>(), DType::Float32),
        (std::any::TypeId::of::<i64>(), DType::Int64),
        (std::any::TypeId::of::<u64>(), DType::UInt64),
    ]
    .into_iter()
    .find(|&(id, _)| id == t)
    .map(|(_, d)| d)
}

/// `o[i] = a[i] op b[i * b_step]` for `i < n` (`b_step` 0 or 1), one loop per operation
/// and step so that each vectorizes; the same operation per element as the buffered path.
///
/// # Safety
/// `n` elements at `a` and `o` (one at `b` when `b_step` is 0) must be readable, and
/// writable at `o`; `o` may be `a` or `b` (same positions), never partly overlap them.
#[inline(always)]
unsafe fn direct<A: Arith>(op: BinOp, a: *const A, b: *const A, b_step: usize, o: *mut A, n: usize) {
    macro_rules! go {
        ($op:expr) => {
            if b_step == 0 {
                // SAFETY (all three blocks): forwarded from the caller.
                let y = unsafe { b.read_unaligned() };
                for i in 0..n {
                    unsafe { o.add(i).write_unaligned(A::bin($op, a.add(i).read_unaligned(), y)) };
                }
            } else {
                for i in 0..n {
                    unsafe { o.add(i).write_unaligned(A::bin($op, a.add(i).read_unaligned(), b.add(i).read_unaligned())) };
                }
            }
        };
    }
    match op {
        BinOp::Add => go!(BinOp::Add),
        BinOp::Sub => go!(BinOp::Sub),
        BinOp::Mul => go!(BinOp::Mul),
        BinOp::Div => go!(BinOp::Div),
    }
}

simd::dispatch!(
    /// [`direct`] over float64, compiled per instruction set. Safety: as [`direct`] (the
    /// caller of [`direct_any`] guarantees it).
    fn direct_f64(op: BinOp, a: *const f64, b: *const f64, b_step: usize, o: *mut f64, n: usize) -> (),
    // SAFETY: forwarded from the caller of `direct_any`.
    unsafe { direct(op, a, b, b_step, o, n) }
);

simd::dispatch!(
    /// [`direct`] over float32, compiled per instruction set (see [`direct_f64`]).
    fn direct_f32(op: BinOp, a: *const f32, b: *const f32, b_step: usize, o: *mut f32, n: usize) -> (),
    // SAFETY: forwarded from the caller of `direct_any`.
    unsafe { direct(op, a, b, b_step, o, n) }
);

/// [`direct`], float64 and float32 through their copies for this CPU's instruction set (1,000
/// float64 additions: SSE2's two lanes were a fifth of a small `add` call).
///
/// # Safety
/// As [`direct`].
#[inline(always)]
unsafe fn direct_any<A: Arith + 'static>(op: BinOp, a: *const A, b: *const A, b_step: usize, o: *mut A, n: usize) {
    use std::any::TypeId;
    if TypeId::of::<A>() == TypeId::of::<f64>() {
        direct_f64(op, a as *const f64, b as *const f64, b_step, o as *mut f64, n)
    } else if TypeId::of::<A>() == TypeId::of::<f32>() {
        direct_f32(op, a as *const f32, b as *const f32, b_step, o as *mut f32, n)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { direct(op, a, b, b_step, o, n) }
    }
}

/// `out = a op b` over three runs of `n` elements of one native float64 or float32 `dtype`,
/// which is also the computation's: a small call over whole C-contiguous arrays, without
/// layouts. False (nothing done) for any other dtype, or with the fast paths off
/// (`MMNPY_KERNEL_PATHS=generic`): the caller takes the general path.
///
/// # Safety
/// `a` and `b` hold `n` readable elements, `out` `n` writable ones; `out` is `a`, `b`, or apart
/// from both (never a partial overlap).
pub unsafe fn binary_runs(op: BinOp, dtype: DType, a: *const u8, b: *const u8, out: *mut u8, n: usize) -> bool {
    if !super::fast_paths() {
        return false;
    }
    // SAFETY (both): forwarded from the caller; `direct` reads and writes unaligned.
    match dtype {
        DType::Float64 => unsafe { direct_any(op, a as *const f64, b as *const f64, 1, out as *mut f64, n) },
        DType::Float32 => unsafe { direct_any(op, a as *const f32, b as *const f32, 1, out as *mut f32, n) },
        _ => return false,
    }
    true
}

/// `out[...] = a` with a cast (`astype`, copies between views).
pub fn cast_copy(a: &Source, out: &Dest) -> Result<()> {
    // a - 0 in a computation type exact for both dtypes is a plain cast (a + 0 would turn -0.0
    // into +0.0).
    let zero = Operand::Scalar(Value::Int(0));
    check_dest(out, &a.layout.shape)?;
    a.layout.check(a.dtype.itemsize(), a.map.len())?;
    if hazardous(a, out) {
        // Overlap in a different order: copy the source aside first.
        let tmp_layout = Layout::contiguous(&a.layout.shape, a.dtype.itemsize(), false);
        let tmp = Mapping::anonymous(a.layout.size() * a.dtype.itemsize())?;
        cast_copy(a, &Dest { map: &tmp, layout: &tmp_layout, dtype: a.dtype, order: a.order, release: false })?;
        return cast_copy(&Source { map: &tmp, layout: &tmp_layout, dtype: a.dtype, order: a.order, release: false }, out);
    }
    prepare_write(out);
    pool::install_if(a.layout.size() >= PAR_MIN, || match compute_kind(cast_kind(a.dtype, out.dtype)) {
        K::I => run_binary::<i64>(BinOp::Sub, a, &zero, out, None),
        K::U => run_binary::<u64>(BinOp::Sub, a, &zero, out, None),
        K::F32 => run_binary::<f32>(BinOp::Sub, a, &zero, out, None),
        K::F64 => run_binary::<f64>(BinOp::Sub, a, &zero, out, None),
        K::C32 => run_binary::<C<f32>>(BinOp::Sub, a, &zero, out, None),
        K::C64 => run_binary::<C<f64>>(BinOp::Sub, a, &zero, out, None),
    });
    Ok(())
}

/// The computation type of a cast from `from` to `to`: exact for `from`, so the only rounding
/// is the store into `to` (int64 -> float32 through float64 would round twice).
pub(crate) fn cast_kind(from: DType, to: DType) -> DType {
    use DType::*;
    match (from.kind(), to.kind()) {
        ('c', _) => Complex128,
        ('f', _) => Float64,
        ('u', _) | ('b', 'u') => UInt64,
        _ => Int64,
    }
}

/// `out[...] = value`: NumPy's setitem of a Python scalar (see [`assign_value`]).
pub fn fill(out: &Dest, value: Value) -> Result<()> {
    assign_value(out, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_matches_numpy() {
        use DType::*;
        let cases = [
            (Int8, Int8, Int8),
            (UInt8, Int8, Int16),
            (Int64, UInt64, Float64),
            (Float16, Int16, Float32),
            (Float32, Int32, Float64),
            (UInt8, Float16, Float16),
            (Complex64, Float64, Complex128),
            (Bool, Int8, Int8),
            (UInt16, Int16, Int32),
        ];
        for (a, b, r) in cases {
            assert_eq!(promote(a, b), r, "{a:?} {b:?}");
        }
        assert!(same_kind(UInt64, Int64) && !same_kind(Int64, UInt8) && same_kind(Float64, Float32) && !same_kind(Float64, Int64));
    }

    #[test]
    fn half_rounds_once_from_double() {
        assert_eq!(f64_to_f16(1.0 + 2f64.powi(-11) + 2f64.powi(-40)), 0x3c01); // through f32: 0x3c00
        assert_eq!(f64_to_f16(1.0 + 2f64.powi(-11)), 0x3c00); // a tie: to even
        assert_eq!(f64_to_f16(2f64.powi(-25) + 2f64.powi(-60)), 0x0001);
        assert_eq!(f64_to_f16(2f64.powi(-25)), 0x0000);
        assert_eq!(f64_to_f16(65520.0), 0x7c00);
        assert_eq!(f64_to_f16(-65519.99), 0xfbff);
        assert_eq!(f64_to_f16(1e300), 0x7c00);
        assert_eq!(f64_to_f16(-1e-300), 0x8000);
    }

    #[test]
    fn subtract_in_place_and_broadcast() {
        let vals: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let m = Mapping::from_bytes(&vals).unwrap();
        let l = Layout::contiguous(&[2, 3], 8, false);
        let row: Vec<u8> = [1.0f64, 2.0, 3.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let r = Mapping::from_bytes(&row).unwrap();
        let rl = Layout { shape: vec![2, 3], strides: vec![0, 8], offset: 0 };
        let a = Source { map: &m, layout: &l, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        let b = Operand::View(Source { map: &r, layout: &rl, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false });
        let out = Dest { map: &m, layout: &l, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        binary(BinOp::Sub, &a, &b, &out, DType::Float64).unwrap();
        let got: Vec<f64> = m.read_bytes(0, 48).unwrap().chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(got, vec![0.0, 0.0, 0.0, 3.0, 3.0, 3.0]);
        // Reversed view into itself: overlap handled through a temporary.
        let rev = Layout { shape: vec![6], strides: vec![-8], offset: 40 };
        let fwd = Layout::contiguous(&[6], 8, false);
        let a = Source { map: &m, layout: &rev, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
        cast_copy(&a, &Dest { map: &m, layout: &fwd, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false }).unwrap();
        let got: Vec<f64> = m.read_bytes(0, 48).unwrap().chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(got, vec![3.0, 3.0, 3.0, 0.0, 0.0, 0.0]);
        // same_kind refuses float into int.
        let im = Mapping::anonymous(48).unwrap();
        let il = Layout::contiguous(&[6], 8, false);
        let e = binary(
            BinOp::Add,
            &a,
            &Operand::Scalar(Value::Int(1)),
            &Dest { map: &im, layout: &il, dtype: DType::Int64, order: ByteOrder::NATIVE, release: false },
            DType::Float64,
        );
        assert!(e.unwrap_err().to_string().contains("same_kind"));
    }
}
