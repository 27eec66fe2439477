//! Kernels on memory JavaScript passes for one call: the small-call path, with no
//! `NativeArray` in the call.
//!
//! A call on a small array is mostly fixed cost. Measured on loops of calls on 1,000
//! float64 (`perf record`): unwrapping one `NativeArray` argument (type tag, borrow
//! bookkeeping) costs ~0.3 µs; converting an operation or dtype name ~0.1 µs; a new
//! result array (a napi class instance with a finalizer, over allocator memory that
//! the garbage collector frees in batches, so the allocator trims and faults it in
//! again) ~10 µs. Here an array is its memory, an ArrayBuffer JavaScript passes (a
//! storage's window over all of its memory, or the plain ArrayBuffer of a small result
//! `lib/storage.ts` allocates itself), its dtype a small integer (the index in
//! [`ALL_DTYPES`], `DTYPES` in `lib/dtype.ts`), and results are written into memory
//! JavaScript allocated. The kernels are the same as on every other path. The JS
//! layer passes native byte order only, and writable memory for outputs.

use mmnpy_core::dtype::ALL_DTYPES;
use mmnpy_core::kernels::elementwise::{self, BinOp, Dest, Operand};
use mmnpy_core::kernels::reduce::{self, Op, Source};
use mmnpy_core::view::Layout;
use mmnpy_core::{ByteOrder, DType, Mapping};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::compute::{ScalarRet, ViewArg};
use crate::convert::{invalid, OrJs};

/// An ArrayBuffer's memory, read as an argument of a synchronous call.
pub struct Mem {
    ptr: *mut u8,
    len: usize,
}

impl TypeName for Mem {
    fn type_name() -> &'static str {
        "ArrayBuffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for Mem {}

impl FromNapiValue for Mem {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // A Uint8Array over the array's bytes (a small result's piece of a shared slab, see
        // `Storage.small`), or a whole ArrayBuffer.
        let (mut ty, mut n, mut data, mut offset) = (0, 0usize, std::ptr::null_mut(), 0usize);
        // SAFETY: napi fills the out-parameters, or fails for a value that is no typed array.
        let status = unsafe { sys::napi_get_typedarray_info(env, value, &mut ty, &mut n, &mut data, std::ptr::null_mut(), &mut offset) };
        if status == sys::Status::napi_ok {
            if ty != sys::TypedarrayType::uint8_array {
                return Err(napi::Error::new(napi::Status::InvalidArg, "array memory must be a Uint8Array or an ArrayBuffer".to_string()));
            }
            return Ok(Mem { ptr: data as *mut u8, len: n });
        }
        let (mut data, mut len) = (std::ptr::null_mut(), 0usize);
        // SAFETY: napi fills the out-parameters, or fails for a value that is no ArrayBuffer.
        let status = unsafe { sys::napi_get_arraybuffer_info(env, value, &mut data, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(napi::Status::InvalidArg, "array memory must be a Uint8Array or an ArrayBuffer".to_string()));
        }
        Ok(Mem { ptr: data as *mut u8, len })
    }
}

impl Mem {
    /// The memory as a mapping for the kernels.
    ///
    /// # Safety
    /// Only while the call that received the ArrayBuffer runs: no JavaScript runs
    /// meanwhile, so the buffer can be neither collected nor detached.
    unsafe fn map(&self) -> Mapping {
        // SAFETY: `ptr..ptr + len` is the ArrayBuffer's memory (napi), alive per the caller.
        unsafe { Mapping::borrowed(self.ptr, self.len) }
    }
}

fn dtype(code: u32) -> Result<DType, String> {
    ALL_DTYPES.get(code as usize).copied().ok_or_else(|| invalid(format!("unknown dtype code {code}")))
}

fn code(d: DType) -> u32 {
    ALL_DTYPES.iter().position(|&x| x == d).unwrap_or(0) as u32
}

/// Reductions by code: the order of `REDUCE_OPS` in `lib/ndarray.ts`.
fn op(code: u32, ddof: f64) -> Result<Op, String> {
    if !ddof.is_finite() {
        return Err(invalid(format!("ddof must be a finite number, got {ddof}")));
    }
    Ok(match code {
        0 => Op::Sum,
        1 => Op::Prod,
        2 => Op::Mean,
        3 => Op::Var { ddof, mean: None },
        4 => Op::Std { ddof, mean: None },
        5 => Op::Min,
        6 => Op::Max,
        7 => Op::ArgMin,
        8 => Op::ArgMax,
        other => return Err(invalid(format!("unknown reduction code {other}"))),
    })
}

fn source<'a>(map: &'a Mapping, layout: &'a Layout, dtype: DType) -> Source<'a> {
    Source { map, layout, dtype, order: ByteOrder::NATIVE, release: false }
}

/// A reduction of all elements of a view of `mem` (`reduceAll` without `dtype`, `mean`
/// or `release`).
#[napi(ts_return_type = "number | boolean | bigint | Complex")]
pub fn reduce_mem(op: u32, mem: Mem, view: ViewArg, dtype: u32, ddof: f64) -> Result<ScalarRet, String> {
    let (op, dtype) = (self::op(op, ddof)?, self::dtype(dtype)?);
    // SAFETY: `mem` is an argument of this synchronous call.
    let map = unsafe { mem.map() };
    Ok(ScalarRet(reduce::reduce_all(&source(&map, &view.layout, dtype), op, None).or_js()?))
}

/// The dtype code of a reduction's result (no `dtype` requested).
#[napi]
pub fn reduce_result_dtype(op: u32, dtype: u32) -> Result<u32, String> {
    Ok(code(reduce::result_dtype(self::op(op, 0.0)?, self::dtype(dtype)?, None).or_js()?))
}

/// A reduction along `axis` of a view of `mem`, written into `out` (the C-order result,
/// of `reduceResultDtype`).
#[napi]
pub fn reduce_axis_mem(op: u32, mem: Mem, view: ViewArg, dtype: u32, axis: u32, ddof: f64, out: Mem) -> Result<(), String> {
    let (op, dtype) = (self::op(op, ddof)?, self::dtype(dtype)?);
    // SAFETY: `mem` is an argument of this synchronous call.
    let map = unsafe { mem.map() };
    let r = reduce::reduce_axis(&source(&map, &view.layout, dtype), op, axis as usize, None, None).or_js()?;
    if r.bytes.len() != out.len {
        return Err(invalid(format!("the result has {} bytes, its memory {}", r.bytes.len(), out.len)));
    }
    if out.len > 0 {
        // SAFETY: `out` is `out.len` bytes of an ArrayBuffer argument of this call; `copy`
        // allows overlap, and `r.bytes` is the kernel's own vector anyway.
        unsafe { std::ptr::copy(r.bytes.as_ptr(), out.ptr, out.len) };
    }
    Ok(())
}

/// Elementwise `out = a op b` on views of memories (already broadcast to `out`'s shape).
/// `codes` packs the operation (bits 0-2: add, sub, mul, div) and the dtype codes of `a`,
/// `b`, `out` and the computation (5 bits each from bit 3): one argument instead of five,
/// as each argument costs a napi call.
#[napi]
pub fn binary_mem(codes: u32, a: Mem, av: ViewArg, b: Mem, bv: ViewArg, out: Mem, ov: ViewArg) -> Result<(), String> {
    let (op, dts) = binary_codes(codes)?;
    binary_layouts(op, dts, [&a, &b, &out], [&av.layout, &bv.layout, &ov.layout])
}

/// [`binary_mem`] where each of `a`, `b` and `out` is its whole memory, C-contiguous from its
/// start, all of one shape (the JS layer checks it): no views to pass or read. The element
/// counts the memories' lengths give must agree.
#[napi]
pub fn binary_flat(codes: u32, a: Mem, b: Mem, out: Mem) -> Result<(), String> {
    let (op, dts) = binary_codes(codes)?;
    let [ad, bd, od, compute] = dts;
    let n = a.len / ad.itemsize();
    if !a.len.is_multiple_of(ad.itemsize()) || b.len != n * bd.itemsize() || out.len != n * od.itemsize() {
        return Err(invalid(format!("memories of {}, {} and {} bytes hold different element counts", a.len, b.len, out.len)));
    }
    let ovl = |x: &Mem, y: &Mem| x.ptr != y.ptr && (x.ptr as usize) < y.ptr as usize + y.len && (y.ptr as usize) < x.ptr as usize + x.len;
    if ad == compute && bd == compute && od == compute && !ovl(&out, &a) && !ovl(&out, &b) {
        // SAFETY: each memory holds n elements (checked above) of an ArrayBuffer argument of
        // this synchronous call, `out` writable (the JS layer passes writable outputs only),
        // and `out` is `a`, `b`, or apart from both (checked).
        if unsafe { elementwise::binary_runs(op, compute, a.ptr, b.ptr, out.ptr, n) } {
            return Ok(());
        }
    }
    let line = |d: DType| Layout::contiguous(&[n], d.itemsize(), false);
    binary_layouts(op, dts, [&a, &b, &out], [&line(ad), &line(bd), &line(od)])
}

/// The operation and the four dtype codes of a `codes` argument (see [`binary_mem`]).
fn binary_codes(codes: u32) -> Result<(BinOp, [DType; 4]), String> {
    let op = match codes & 7 {
        0 => BinOp::Add,
        1 => BinOp::Sub,
        2 => BinOp::Mul,
        3 => BinOp::Div,
        other => return Err(invalid(format!("unknown operation code {other}"))),
    };
    let field = |k: u32| dtype((codes >> (3 + 5 * k)) & 31);
    Ok((op, [field(0)?, field(1)?, field(2)?, field(3)?]))
}

/// `out = a op b` over layouts of three memories (dtypes `a`, `b`, `out`, computation).
fn binary_layouts(op: BinOp, [ad, bd, od, compute]: [DType; 4], [a, b, out]: [&Mem; 3], [al, bl, ol]: [&Layout; 3]) -> Result<(), String> {
    // One mapping per distinct memory: the kernels see an operand that is also the output
    // (`a.add(b, { out: a })`) as the same mapping and order the work accordingly. Distinct
    // memories never overlap (distinct storages, or disjoint pieces of one slab).
    let same = |x: &Mem, y: &Mem| -> Result<bool, String> {
        match (x.ptr == y.ptr, x.len == y.len) {
            (true, true) => Ok(true),
            (true, false) if x.len > 0 && y.len > 0 => Err(invalid("two memories start at one address with different lengths")),
            _ => Ok(false),
        }
    };
    // SAFETY (all three): arguments of this synchronous call.
    let ma = unsafe { a.map() };
    let b_own = if same(b, a)? { None } else { Some(unsafe { b.map() }) };
    let mb = b_own.as_ref().unwrap_or(&ma);
    let (o_to_a, o_to_b) = (same(out, a)?, same(out, b)?);
    let o_own = if o_to_a || o_to_b { None } else { Some(unsafe { out.map() }) };
    let mo = if o_to_a { &ma } else { o_own.as_ref().unwrap_or(mb) };
    let dest = Dest { map: mo, layout: ol, dtype: od, order: ByteOrder::NATIVE, release: false };
    elementwise::binary(op, &source(&ma, al, ad), &Operand::View(source(mb, bl, bd)), &dest, compute).or_js()
}
