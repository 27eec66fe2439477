//! Element types as kernels see them: loaded from raw (possibly unaligned,
//! possibly byte-swapped) memory, converted to accumulators.

/// An element type stored in an array.
pub trait Elem: Copy + Send + Sync + 'static {
    /// Reads one element at `p`, reversing its bytes when `swap`.
    ///
    /// # Safety
    /// `p` must point to `size_of::<Self>()` readable bytes.
    unsafe fn load(p: *const u8, swap: bool) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            #[inline(always)]
            unsafe fn load(p: *const u8, swap: bool) -> Self {
                // SAFETY: forwarded from the caller; read_unaligned allows any address.
                let v = unsafe { (p as *const $t).read_unaligned() };
                if swap { v.swap_bytes() } else { v }
            }
        }
    )*};
}
int_elem!(i8, u8, i16, u16, i32, u32, i64, u64);

impl Elem for f32 {
    #[inline(always)]
    unsafe fn load(p: *const u8, swap: bool) -> Self {
        // SAFETY: forwarded from the caller.
        f32::from_bits(unsafe { u32::load(p, swap) })
    }
}

impl Elem for f64 {
    #[inline(always)]
    unsafe fn load(p: *const u8, swap: bool) -> Self {
        // SAFETY: forwarded from the caller.
        f64::from_bits(unsafe { u64::load(p, swap) })
    }
}

/// IEEE half precision, kept as bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct F16(pub u16);

impl Elem for F16 {
    #[inline(always)]
    unsafe fn load(p: *const u8, swap: bool) -> Self {
        // SAFETY: forwarded from the caller.
        F16(unsafe { u16::load(p, swap) })
    }
}

impl F16 {
    pub fn to_f32(self) -> f32 {
        let h = self.0 as u32;
        let sign = (h & 0x8000) << 16;
        let exp = (h >> 10) & 0x1f;
        let frac = h & 0x3ff;
        let bits = match exp {
            0 if frac == 0 => sign,
            0 => {
                // subnormal: normalise
                let shift = frac.leading_zeros() - 21;
                let frac = (frac << shift) & 0x3ff;
                sign | ((127 - 15 + 1 - shift) << 23) | (frac << 13)
            }
            0x1f => sign | 0x7f80_0000 | (frac << 13),
            _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
        };
        f32::from_bits(bits)
    }

    /// Rounds an `f32` to half precision, to nearest even (as NumPy's `npy_float_to_half`).
    pub fn from_f32(f: f32) -> F16 {
        let x = f.to_bits();
        let sign = ((x >> 16) & 0x8000) as u16;
        let exp = (x >> 23) & 0xff;
        let frac = x & 0x7f_ffff;
        if exp == 0xff {
            return F16(sign | if frac != 0 { 0x7e00 } else { 0x7c00 });
        }
        let e = exp as i32 - 127 + 15;
        if e >= 0x1f {
            return F16(sign | 0x7c00);
        }
        if e <= 0 {
            if e < -10 {
                return F16(sign);
            }
            let m = frac | 0x80_0000;
            let shift = (14 - e) as u32;
            let half = 1u32 << (shift - 1);
            let mut r = m >> shift;
            let rem = m & ((1 << shift) - 1);
            if rem > half || (rem == half && r & 1 == 1) {
                r += 1;
            }
            return F16(sign | r as u16);
        }
        let mut r = ((e as u32) << 10) | (frac >> 13);
        let rem = frac & 0x1fff;
        if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
            r += 1; // may carry into the exponent, up to infinity: correct
        }
        F16(sign | r as u16)
    }
}

/// Bool elements (any non-zero byte is true).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bool(pub u8);

impl Elem for Bool {
    #[inline(always)]
    unsafe fn load(p: *const u8, _swap: bool) -> Self {
        // SAFETY: forwarded from the caller.
        Bool(unsafe { *p })
    }
}

/// A complex number (re, im).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct C<T>(pub T, pub T);

impl<T: Elem> Elem for C<T> {
    #[inline(always)]
    unsafe fn load(p: *const u8, swap: bool) -> Self {
        // SAFETY: forwarded from the caller: both parts lie in the element.
        unsafe { C(T::load(p, swap), T::load(p.add(std::mem::size_of::<T>()), swap)) }
    }
}

/// A value reductions accumulate in.
pub trait Acc: Copy + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
}

macro_rules! int_acc {
    ($($t:ty),*) => {$(
        // Integer sums and products wrap, as NumPy's.
        impl Acc for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline(always)]
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
    )*};
}
int_acc!(i64, u64);

macro_rules! float_acc {
    ($($t:ty),*) => {$(
        impl Acc for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn add(self, o: Self) -> Self { self + o }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self * o }
        }
        impl Acc for C<$t> {
            const ZERO: Self = C(0.0, 0.0);
            const ONE: Self = C(1.0, 0.0);
            #[inline(always)]
            fn add(self, o: Self) -> Self { C(self.0 + o.0, self.1 + o.1) }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0) }
        }
    )*};
}
float_acc!(f32, f64);

/// Conversion of an element into an accumulator (NumPy's casts).
pub trait To<A> {
    fn to(self) -> A;
}

macro_rules! to_real {
    ($($t:ty),*) => {$(
        impl To<i64> for $t { #[inline(always)] fn to(self) -> i64 { self as i64 } }
        impl To<u64> for $t { #[inline(always)] fn to(self) -> u64 { self as u64 } }
        impl To<f32> for $t { #[inline(always)] fn to(self) -> f32 { self as f32 } }
        impl To<f64> for $t { #[inline(always)] fn to(self) -> f64 { self as f64 } }
        impl To<C<f32>> for $t { #[inline(always)] fn to(self) -> C<f32> { C(self as f32, 0.0) } }
        impl To<C<f64>> for $t { #[inline(always)] fn to(self) -> C<f64> { C(self as f64, 0.0) } }
    )*};
}
to_real!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

macro_rules! via {
    ($t:ty, $conv:expr) => {
        impl To<i64> for $t {
            #[inline(always)]
            fn to(self) -> i64 {
                let f: fn($t) -> f64 = $conv;
                f(self) as i64
            }
        }
        impl To<u64> for $t {
            #[inline(always)]
            fn to(self) -> u64 {
                let f: fn($t) -> f64 = $conv;
                f(self) as u64
            }
        }
        impl To<f32> for $t {
            #[inline(always)]
            fn to(self) -> f32 {
                let f: fn($t) -> f64 = $conv;
                f(self) as f32
            }
        }
        impl To<f64> for $t {
            #[inline(always)]
            fn to(self) -> f64 {
                let f: fn($t) -> f64 = $conv;
                f(self)
            }
        }
        impl To<C<f32>> for $t {
            #[inline(always)]
            fn to(self) -> C<f32> {
                let f: fn($t) -> f64 = $conv;
                C(f(self) as f32, 0.0)
            }
        }
        impl To<C<f64>> for $t {
            #[inline(always)]
            fn to(self) -> C<f64> {
                let f: fn($t) -> f64 = $conv;
                C(f(self), 0.0)
            }
        }
    };
}
via!(F16, |h| h.to_f32() as f64);
via!(Bool, |b| if b.0 != 0 { 1.0 } else { 0.0 });

// Complex to real takes the real part (NumPy's discarding cast); reductions refuse
// such casts before converting anything (see `reduce::result_dtype`).
macro_rules! complex_to_real {
    ($($c:ty),*) => {$(
        impl To<i64> for C<$c> { #[inline(always)] fn to(self) -> i64 { self.0 as i64 } }
        impl To<u64> for C<$c> { #[inline(always)] fn to(self) -> u64 { self.0 as u64 } }
        impl To<f32> for C<$c> { #[inline(always)] fn to(self) -> f32 { self.0 as f32 } }
        impl To<f64> for C<$c> { #[inline(always)] fn to(self) -> f64 { self.0 as f64 } }
    )*};
}
complex_to_real!(f32, f64);

impl To<C<f32>> for C<f32> {
    #[inline(always)]
    fn to(self) -> C<f32> {
        self
    }
}
impl To<C<f64>> for C<f32> {
    #[inline(always)]
    fn to(self) -> C<f64> {
        C(self.0 as f64, self.1 as f64)
    }
}
impl To<C<f32>> for C<f64> {
    #[inline(always)]
    fn to(self) -> C<f32> {
        C(self.0 as f32, self.1 as f32)
    }
}
impl To<C<f64>> for C<f64> {
    #[inline(always)]
    fn to(self) -> C<f64> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_round_trips_every_finite_value() {
        for bits in 0u16..=0xffff {
            let h = F16(bits);
            let f = h.to_f32();
            if f.is_nan() {
                assert!(F16::from_f32(f).to_f32().is_nan());
            } else {
                assert_eq!(F16::from_f32(f).0, bits, "{bits:#x} -> {f}");
            }
        }
        assert_eq!(F16::from_f32(65520.0).0, 0x7c00);
        assert_eq!(F16::from_f32(65519.0).0, 0x7bff);
    }
}
