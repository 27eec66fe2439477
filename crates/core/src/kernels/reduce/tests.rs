//! Unit tests of the reductions: the trees against NumPy's, the vectorized extremes
//! against plain loops, NumPy's rules for empty, NaN and integer input.

use super::extreme::{block_extreme_f32, block_extreme_f64, fast_arg_extreme_f32, fast_arg_extreme_f64, fast_extreme_f64, IntLanes, ARG_BLOCK};
use super::order::PAR_MIN;
use super::pairwise::{pairwise_flat, pairwise_n, pairwise_native, run_sum_f32, run_sum_f64};
use super::*;
use crate::dtype::{ByteOrder, DType};
use crate::mapping::Mapping;
use crate::view::Layout;

/// Marsaglia's xorshift64 from `seed`: the tests' reproducible stream of bits.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

#[test]
fn block_extremes_on_this_cpus_instruction_set_match_a_plain_loop() {
    // Every length around the lane counts, a NaN anywhere (or none), ties and infinities.
    let mut next = xorshift(0x9E3779B97F4A7C15u64);
    for n in (1..80).chain([255, 256, 257, 2047, 2048, 2049]) {
        for nan_at in [None, Some(0), Some(n / 2), Some(n - 1)] {
            let mut xs: Vec<f64> = (0..n).map(|_| (next() % 2001) as f64 - 1000.0).collect();
            if n > 3 {
                xs[1] = f64::INFINITY;
                xs[2] = f64::NEG_INFINITY;
            }
            if let Some(i) = nan_at {
                xs[i] = f64::NAN;
            }
            let fs: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            for max in [false, true] {
                let better = |x: f64, b: f64| if max { x > b } else { x < b };
                let want = xs.iter().copied().filter(|x| !x.is_nan()).reduce(|b, x| if better(x, b) { x } else { b });
                let (v, nan) = block_extreme_f64(&xs, max);
                assert_eq!(nan, nan_at.is_some(), "f64 n {n} nan {nan_at:?}");
                if !nan {
                    assert_eq!(Some(v), want, "f64 n {n} max {max}");
                }
                let (v, nan) = block_extreme_f32(&fs, max);
                assert_eq!(nan, nan_at.is_some(), "f32 n {n} nan {nan_at:?}");
                if !nan {
                    assert_eq!(Some(v as f64), want, "f32 n {n} max {max}");
                }
            }
        }
    }
}

#[test]
fn integer_block_extremes_on_this_cpus_instruction_set_match_a_plain_loop() {
    let mut next = xorshift(0x2545_F491_4F6C_DD1Du64);
    for n in (1..70).chain([255, 256, 257, 4099]) {
        let xs: Vec<u64> = (0..n).map(|_| next()).collect();
        let i64s: Vec<i64> = xs.iter().map(|&x| x as i64).collect();
        let i32s: Vec<i32> = xs.iter().map(|&x| (x >> 7) as i32).collect();
        let u32s: Vec<u32> = xs.iter().map(|&x| (x >> 3) as u32).collect();
        for max in [false, true] {
            assert_eq!(u64::block(&xs, max), if max { *xs.iter().max().unwrap() } else { *xs.iter().min().unwrap() }, "u64 n {n}");
            assert_eq!(i64::block(&i64s, max), if max { *i64s.iter().max().unwrap() } else { *i64s.iter().min().unwrap() }, "i64 n {n}");
            assert_eq!(i32::block(&i32s, max), if max { *i32s.iter().max().unwrap() } else { *i32s.iter().min().unwrap() }, "i32 n {n}");
            assert_eq!(u32::block(&u32s, max), if max { *u32s.iter().max().unwrap() } else { *u32s.iter().min().unwrap() }, "u32 n {n}");
        }
    }
}

fn src_f64(values: &[f64]) -> (Mapping, Layout) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    (Mapping::from_bytes(&bytes).unwrap(), Layout::contiguous(&[values.len()], 8, false))
}

/// NumPy's argmin/argmax, written out plainly: the first NaN, else the first strictly better.
fn arg_reference(a: &[f64], max: bool) -> usize {
    let mut at = 0;
    for (i, &x) in a.iter().enumerate() {
        if x.is_nan() {
            return i;
        }
        if if max { x > a[at] } else { x < a[at] } {
            at = i;
        }
    }
    at
}

#[test]
fn vectorized_argmin_argmax_find_numpys_index() {
    // A small generator: values from a few levels, so ties are common.
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15u64);
    for &n in &[1usize, 15, 16, 17, ARG_BLOCK - 1, ARG_BLOCK + 1, 3 * ARG_BLOCK + 5, PAR_MIN + 3, 2 * PAR_MIN + ARG_BLOCK] {
        for case in 0..6 {
            let mut a: Vec<f64> = (0..n).map(|_| [(-3.0), -0.0, 0.0, 1.5, 2.0][(next() % 5) as usize]).collect();
            match case {
                1 => a[(next() as usize) % n] = f64::NAN,
                2 => {
                    a[n - 1] = f64::NAN;
                    a[(next() as usize) % n] = f64::NAN;
                }
                3 => a.iter_mut().for_each(|x| *x = if next().is_multiple_of(2) { 0.0 } else { -0.0 }),
                4 => a[n - 1] = 7.0,
                5 => a[0] = -9.0,
                _ => {}
            }
            let (map, layout) = src_f64(&a);
            let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
            for max in [false, true] {
                let got = fast_arg_extreme_f64(&src, map.as_ptr() as *const f64, n, max);
                assert_eq!(got, arg_reference(&a, max), "n {n} case {case} max {max}");
                let ext = fast_extreme_f64(&src, map.as_ptr() as *const f64, n, max);
                let want = a[arg_reference(&a, max)];
                assert!(ext == want || (ext.is_nan() && want.is_nan()), "extreme n {n} case {case} max {max}: {ext} vs {want}");
                let bytes: Vec<u8> = a.iter().flat_map(|&v| (v as f32).to_ne_bytes()).collect();
                let m32 = Mapping::from_bytes(&bytes).unwrap();
                let l32 = Layout::contiguous(&[n], 4, false);
                let s32 = Source { map: &m32, layout: &l32, dtype: DType::Float32, order: ByteOrder::NATIVE, release: false };
                assert_eq!(fast_arg_extreme_f32(&s32, m32.as_ptr() as *const f32, n, max), arg_reference(&a, max), "f32 n {n} case {case}");
            }
        }
    }
}

/// NumPy's pairwise tree, written out plainly, as the reference.
fn reference(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |r, &x| r + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let end = n - n % 8;
        for i in (8..end).step_by(8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &a[end..] {
            res += x;
        }
        res
    } else {
        let n2 = n / 2 - (n / 2) % 8;
        reference(&a[..n2]) + reference(&a[n2..])
    }
}

#[test]
fn parallel_pairwise_equals_the_sequential_tree() {
    let mut x = 0.1f64;
    let values: Vec<f64> = (0..300_001)
        .map(|i| {
            x = (x * 1103.0 + 0.37).fract();
            (x - 0.5) * 10f64.powi(i % 9)
        })
        .collect();
    let (map, layout) = src_f64(&values);
    let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
    assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0 + reference(&values)));
}

#[test]
fn dispatched_sums_follow_numpys_tree_on_this_cpus_instruction_set() {
    // Values over many magnitudes: any other order of additions gives another sum.
    let mut x = 0.3f64;
    let values: Vec<f64> = (0..70_000)
        .map(|i| {
            x = (x * 997.0 + 0.61).fract();
            (x - 0.5) * 10f64.powi(i % 13)
        })
        .collect();
    let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let reference32 = |a: &[f32]| pairwise_n::<f32, _, 8, 128>(0, a.len(), &|i| a[i], None, false);
    let lengths = (0..600).chain([1000, 1023, 4097, 32768, 65535, 65536, 70_000]);
    for n in lengths {
        for lo in [0, 1, 3] {
            let Some(a) = values.get(lo..lo + n) else { continue };
            let a32 = &narrow[lo..lo + n];
            for stream in [false, true] {
                assert_eq!(run_sum_f64(a, stream).to_bits(), reference(a).to_bits(), "float64, {n} elements from {lo}");
                assert_eq!(run_sum_f32(a32, stream).to_bits(), reference32(a32).to_bits(), "float32, {n} elements from {lo}");
            }
            let top = pairwise_native::<f64>(a.as_ptr() as *const u8, n, None, n > 1000).unwrap();
            let none = |_: usize, _: usize| {};
            let no_line = |_: usize| {};
            for get in [pairwise_flat::<f64, _, 1, _, _>, pairwise_flat::<f64, _, 2, _, _>, pairwise_flat::<f64, _, 4, _, _>] {
                assert_eq!(get(n, &|i| a[i], &none, &no_line).to_bits(), reference(a).to_bits(), "float64 flat tree, {n} elements");
            }
            assert_eq!(top.to_bits(), reference(a).to_bits(), "float64 tree top, {n} elements");
            // The generic tree (var's squared deviations, other dtypes) one leaf after the other.
            let streamed = pairwise_n::<f32, _, 8, 128>(0, n, &|i| a32[i], None, true);
            assert_eq!(streamed.to_bits(), reference32(a32).to_bits(), "float32 generic tree streamed, {n} elements");
        }
    }
}

#[test]
fn numpy_rules_for_empty_nan_and_ints() {
    let (map, layout) = src_f64(&[]);
    let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
    assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::Float(0.0));
    assert!(matches!(reduce_all(&src, Op::Mean, None).unwrap(), Value::Float(f) if f.is_nan()));
    assert!(reduce_all(&src, Op::Max, None).unwrap_err().to_string().contains("zero-size"));
    let (map, layout) = src_f64(&[1.0, f64::NAN, 3.0, f64::NAN]);
    let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
    assert!(matches!(reduce_all(&src, Op::Max, None).unwrap(), Value::Float(f) if f.is_nan()));
    assert_eq!(reduce_all(&src, Op::ArgMin, None).unwrap(), Value::Int(1));
    let bytes = [250u8, 10, 7];
    let map = Mapping::from_bytes(&bytes).unwrap();
    let layout = Layout::contiguous(&[3], 1, false);
    let src = Source { map: &map, layout: &layout, dtype: DType::UInt8, order: ByteOrder::NotApplicable, release: false };
    assert_eq!(reduce_all(&src, Op::Sum, None).unwrap(), Value::UInt(267));
    assert_eq!(reduce_all(&src, Op::Sum, Some(DType::UInt8)).unwrap(), Value::UInt(11));
    assert_eq!(reduce_all(&src, Op::Mean, None).unwrap(), Value::Float(89.0));
    assert!(reduce_all(&src, Op::Sum, Some(DType::Bool)).is_err());
}

#[test]
fn axis_reductions_of_a_matrix() {
    let values: Vec<f64> = (0..12).map(|v| v as f64).collect();
    let (map, _) = src_f64(&values);
    let layout = Layout::contiguous(&[3, 4], 8, false);
    let src = Source { map: &map, layout: &layout, dtype: DType::Float64, order: ByteOrder::NATIVE, release: false };
    let r = reduce_axis(&src, Op::Sum, 0, None, None).unwrap();
    let got: Vec<f64> = r.bytes.chunks(8).map(|c| f64::from_ne_bytes(c.try_into().unwrap())).collect();
    assert_eq!((r.shape, got), (vec![4], vec![12.0, 15.0, 18.0, 21.0]));
    let r = reduce_axis(&src, Op::ArgMax, 1, None, None).unwrap();
    let got: Vec<i64> = r.bytes.chunks(8).map(|c| i64::from_ne_bytes(c.try_into().unwrap())).collect();
    assert_eq!(got, vec![3, 3, 3]);
}

/// `sum({ axis: 0 })` of float64 and float32 matrices, whose rows go four at a time through the
/// fold compiled for this CPU (lines asked for ahead, past a row's end into the row four
/// further on): bit for bit NumPy's row-by-row order, for row counts that are and are not
/// multiples of four, widths that end mid-line, and views starting inside a row.
#[test]
fn axis_zero_sums_add_rows_in_numpys_order() {
    let mut bits = xorshift(0x2545_f491_4f6c_dd1du64);
    let mut next = move || {
        let seed = bits();
        // Spread magnitudes so that the order of additions shows in the last bits.
        ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi((seed % 13) as i32 - 6)
    };
    for &(rows, cols, skip) in &[(1usize, 5usize, 0usize), (4, 17, 0), (7, 33, 3), (13, 1000, 1), (64, 1537, 0), (257, 2050, 5), (1030, 129, 2)] {
        let all = skip + rows * cols;
        let values: Vec<f64> = (0..all).map(|_| next()).collect();
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        // The view's axis-0 sum of `bytes` (elements of `dtype`) against `want`.
        let check = |bytes: Vec<u8>, dtype: DType, want: Vec<u8>| {
            let isz = dtype.itemsize();
            let map = Mapping::from_bytes(&bytes).unwrap();
            let layout = Layout { shape: vec![rows, cols], strides: vec![(cols * isz) as isize, isz as isize], offset: skip * isz };
            let src = Source { map: &map, layout: &layout, dtype, order: ByteOrder::NATIVE, release: false };
            assert_eq!(reduce_axis(&src, Op::Sum, 0, None, None).unwrap().bytes, want, "{} {rows} x {cols} from {skip}", dtype.name());
        };
        let at = |i: usize, j: usize| skip + i * cols + j;
        check(
            values.iter().flat_map(|v| v.to_ne_bytes()).collect(),
            DType::Float64,
            (0..cols).flat_map(|j| (0..rows).fold(0.0f64, |a, i| a + values[at(i, j)]).to_ne_bytes()).collect(),
        );
        check(
            narrow.iter().flat_map(|v| v.to_ne_bytes()).collect(),
            DType::Float32,
            (0..cols).flat_map(|j| (0..rows).fold(0.0f32, |a, i| a + narrow[at(i, j)]).to_ne_bytes()).collect(),
        );
    }
}
