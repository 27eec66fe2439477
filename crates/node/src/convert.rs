//! Arguments from JavaScript to core types, and core errors to JavaScript errors.

use mmnpy_core::{ByteOrder, DType, Error, ErrorKind, Mode, NewArray};

/// The error every binding returns: its `code` is the stable `ERR_MMNPY_...`.
pub type JsResult<T> = napi::Result<T, String>;

pub fn js_error(e: Error) -> napi::Error<String> {
    let mut reason = e.to_string();
    if let Some(os) = e.os_code() {
        reason = format!("{reason} [{os}]");
    }
    napi::Error::new(e.code().to_string(), reason)
}

pub fn invalid(message: impl Into<String>) -> napi::Error<String> {
    js_error(Error::new(ErrorKind::InvalidArgument, message))
}

/// A binding error raised where napi wants a plain `napi::Error` (a `Task`'s `resolve`):
/// the stable code stays at the front of the message, as `task_error` puts it.
pub fn resolve_error(e: napi::Error<String>) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{}: {}", e.status, e.reason))
}

pub trait OrJs<T> {
    fn or_js(self) -> JsResult<T>;
}

impl<T> OrJs<T> for mmnpy_core::Result<T> {
    fn or_js(self) -> JsResult<T> {
        self.map_err(js_error)
    }
}

/// A non-negative integral JavaScript number as `usize`.
pub fn index(n: f64, what: &str) -> JsResult<usize> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as usize)
    } else {
        Err(invalid(format!("{what} must be a non-negative integer, got {n}")))
    }
}

/// A signed integral JavaScript number as `isize`.
pub fn signed(n: f64, what: &str) -> JsResult<isize> {
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
        Ok(n as isize)
    } else {
        Err(invalid(format!("{what} must be an integer, got {n}")))
    }
}

pub fn shape(dims: &[f64]) -> JsResult<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    shape_into(dims, &mut out)?;
    Ok(out)
}

/// [`shape`] into `out` (cleared first), reusing its memory.
pub fn shape_into(dims: &[f64], out: &mut Vec<usize>) -> JsResult<()> {
    if dims.len() > 64 {
        return Err(invalid(format!("shape has {} dimensions (at most 64)", dims.len())));
    }
    out.clear();
    for &d in dims {
        out.push(index(d, "each dimension of shape")?);
    }
    Ok(())
}

pub fn dtype(spec: &str) -> JsResult<(DType, ByteOrder)> {
    DType::parse(spec).or_js()
}

pub fn mode(spec: &str) -> JsResult<Mode> {
    Mode::parse(spec).or_js()
}

pub fn version(v: Option<Vec<u32>>) -> JsResult<Option<(u8, u8)>> {
    match v.as_deref() {
        None => Ok(None),
        Some([1, 0]) => Ok(Some((1, 0))),
        Some([2, 0]) => Ok(Some((2, 0))),
        Some([3, 0]) => Ok(Some((3, 0))),
        Some(other) => Err(invalid(format!("version must be [1, 0], [2, 0] or [3, 0], got {other:?}"))),
    }
}

pub fn new_array(dtype_spec: &str, dims: &[f64], fortran: bool) -> JsResult<NewArray> {
    let (dtype, byte_order) = dtype(dtype_spec)?;
    Ok(NewArray { dtype, byte_order, shape: shape(dims)?, fortran_order: fortran })
}
