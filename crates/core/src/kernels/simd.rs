//! The instruction set the hot loops run with, chosen at run time: the prebuilt
//! binaries target baseline x86-64 (SSE2), and the same Rust loops compiled for AVX2 or
//! AVX-512 run two to three times faster where the CPU has them (`MMNPY_SIMD=base`
//! forces the baseline, e.g. to compare). The loops are the same source for every level
//! (`#[inline(always)]` bodies with a fixed number of lanes), so the order of operations,
//! and every result, is the same on every level (the lane counts are chosen for all
//! levels at once).

/// An instruction-set level of x86-64 (other architectures run `Base`: NEON is aarch64's
/// baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Base,
    Avx2,
    Avx512,
}

/// The best level this CPU runs (read once per process).
pub fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| if std::env::var_os("MMNPY_SIMD").is_some_and(|v| v == "base") { Level::Base } else { detect() })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Level {
    if is_x86_feature_detected!("avx512f") {
        Level::Avx512
    } else if is_x86_feature_detected!("avx2") {
        Level::Avx2
    } else {
        Level::Base
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Level {
    Level::Base
}

/// Defines `$name(args) -> ret` that runs `$body` (an expression over the args that
/// calls `#[inline(always)]` code) compiled for the best [`level`] of this CPU: the body
/// is compiled once per level, the same source each time.
macro_rules! dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),*) -> $r:ty, $body:expr) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) -> $r {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($a: $t),*) -> $r {
                    $body
                }
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($a: $t),*) -> $r {
                    $body
                }
                match $crate::kernels::simd::level() {
                    // SAFETY: `level()` found the features these were compiled for.
                    $crate::kernels::simd::Level::Avx512 => return unsafe { avx512($($a),*) },
                    // SAFETY: as above.
                    $crate::kernels::simd::Level::Avx2 => return unsafe { avx2($($a),*) },
                    $crate::kernels::simd::Level::Base => {}
                }
            }
            $body
        }
    };
}
pub(crate) use dispatch;

/// [`dispatch!`] for loops LLVM vectorizes worse with AVX-512 enabled than with AVX2 alone
/// (integer min/max lanes: AVX-512 scalarized them, 9-21 GB/s in L1 against 84-118 with
/// AVX2): the body compiled for AVX2, run wherever the CPU has it (every AVX-512 CPU does).
macro_rules! dispatch_avx2 {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),*) -> $r:ty, $body:expr) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) -> $r {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($a: $t),*) -> $r {
                    $body
                }
                if $crate::kernels::simd::level() != $crate::kernels::simd::Level::Base {
                    // SAFETY: `level()` found AVX2 (AVX-512 CPUs have it too).
                    return unsafe { avx2($($a),*) };
                }
            }
            $body
        }
    };
}
pub(crate) use dispatch_avx2;

/// Bytes ahead of a stream from memory that its loop asks for ([`prefetch_ahead`]). The
/// hardware prefetcher stops at each 4 KiB page, and a mapped file's pages are 4 KiB: asking
/// a page ahead starts the next page's translation and first lines early. One thread summing
/// a mapped file read 10.4-10.8 GB/s without it and 13.8-14.0 GB/s with it, NumPy 9.9-11.1
/// (BENCHMARKS.md, fifth session); NumPy's own pairwise sum prefetches 512 B ahead.
pub(crate) const AHEAD: usize = 4096;

/// Asks for the cache line [`AHEAD`] bytes past `p` (a hint: never faults, whatever the address).
#[inline(always)]
pub(crate) fn prefetch_ahead(p: *const u8) {
    prefetch_line(p.wrapping_add(AHEAD));
}

/// Asks for the cache line at `p` (a hint: never faults, whatever the address).
#[inline(always)]
pub(crate) fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints: it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
