//! External ArrayBuffers over mapped memory, and the bookkeeping that lets
//! `close()` detach every one of them before the memory is unmapped.
//!
//! Each buffer holds an `Arc<Holder>`, not the mapping itself: `close()` empties
//! the holder (unmapping at once unless Rust work still runs on it), while a
//! buffer that outlives its `NdArray` without `close()` keeps the mapping alive
//! through the holder until the garbage collector finalizes the buffer.

use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex, OnceLock};

use mmnpy_core::{Error, ErrorKind, Mapping};
use napi::sys;

use crate::convert::{js_error, JsResult};

/// Shares one mapping between an array, its buffers and running tasks.
#[derive(Debug, Default)]
pub struct Holder {
    mapping: Mutex<Option<Arc<Mapping>>>,
}

impl Holder {
    pub fn new(mapping: Arc<Mapping>) -> Arc<Holder> {
        Arc::new(Holder { mapping: Mutex::new(Some(mapping)) })
    }

    /// The mapping, or `ERR_MMNPY_CLOSED`.
    pub fn get(&self) -> mmnpy_core::Result<Arc<Mapping>> {
        self.lock().clone().ok_or_else(|| Error::new(ErrorKind::Closed, "the array is closed"))
    }

    /// Drops this holder's reference: the memory is unmapped unless a running
    /// task holds another.
    pub fn close(&self) {
        let taken = self.lock().take();
        drop(taken);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Mapping>>> {
        // A panic while holding the lock cannot leave the Option inconsistent.
        self.mapping.lock().unwrap_or_else(|p| p.into_inner())
    }
}

unsafe extern "C" fn finalize_window(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Box<Arc<Holder>>` leaked in `external_window`, and
    // Node calls the finalizer exactly once.
    drop(unsafe { Box::from_raw(hint.cast::<Arc<Holder>>()) });
}

fn status_error(what: &str, status: i32) -> napi::Error<String> {
    js_error(Error::new(ErrorKind::Io, format!("{what} failed (napi status {status})")))
}

/// Whether this runtime accepts external ArrayBuffers (Electron's memory cage
/// does not). `MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS=1` pretends it does not, for tests.
pub fn external_buffers_allowed(env: sys::napi_env) -> bool {
    static ALLOWED: OnceLock<bool> = OnceLock::new();
    *ALLOWED.get_or_init(|| {
        if std::env::var_os("MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS").is_some_and(|v| v == "1") {
            return false;
        }
        static PROBE: [u8; 16] = [0; 16];
        let mut value = ptr::null_mut();
        // SAFETY: the probe buffer is static, zero-length use is never made of it,
        // and no finalizer is needed for static memory.
        let status = unsafe { sys::napi_create_external_arraybuffer(env, PROBE.as_ptr() as *mut c_void, 0, None, ptr::null_mut(), &mut value) };
        status != sys::Status::napi_no_external_buffers_allowed
    })
}

/// An ArrayBuffer over `len` bytes at `ptr` inside `holder`'s mapping: a copy when
/// `must_copy` (read-only memory, which a JavaScript write would fault on), else
/// external (zero-copy) when the runtime allows it, else a copy when `allow_copy`,
/// else `ERR_MMNPY_NO_EXTERNAL_BUFFERS`.
///
/// # Safety
/// `ptr..ptr+len` must lie inside the mapping `holder` currently holds.
pub unsafe fn external_window(
    env: sys::napi_env,
    holder: &Arc<Holder>,
    ptr: *mut u8,
    len: usize,
    allow_copy: bool,
    must_copy: bool,
) -> JsResult<sys::napi_value> {
    let mut value = ptr::null_mut();
    if !must_copy && external_buffers_allowed(env) {
        let hint = Box::into_raw(Box::new(holder.clone()));
        // SAFETY: the memory stays mapped while `hint` (an Arc on the holder) lives,
        // or until close() detaches this buffer before unmapping.
        let status = unsafe { sys::napi_create_external_arraybuffer(env, ptr.cast(), len, Some(finalize_window), hint.cast(), &mut value) };
        if status == sys::Status::napi_ok {
            return Ok(value);
        }
        // Node runs the finalizer itself on some failures (ERR_BUFFER_TOO_LARGE on
        // Node 20), so `hint` is not ours to free any more: leaking an Arc is the
        // price of never freeing it twice.
        return Err(status_error("creating an external ArrayBuffer", status));
    }
    if !allow_copy && !must_copy {
        return Err(js_error(Error::new(
            ErrorKind::NoExternalBuffers,
            "this runtime refuses external ArrayBuffers (e.g. Electron), so mapped memory cannot be shared with JavaScript without copying; pass { allowCopy: true } to work on copies",
        )));
    }
    let mut data = ptr::null_mut();
    // SAFETY: plain napi allocation; the copy reads the mapped range the caller vouches for.
    unsafe {
        let status = sys::napi_create_arraybuffer(env, len, &mut data, &mut value);
        if status != sys::Status::napi_ok {
            return Err(status_error("allocating an ArrayBuffer", status));
        }
        if len > 0 {
            ptr::copy_nonoverlapping(ptr, data.cast::<u8>(), len);
        }
    }
    Ok(value)
}

/// Weak references to every buffer handed out, so `close()` can detach them.
#[derive(Default)]
pub struct Tracker {
    refs: Vec<sys::napi_ref>,
    sweep_at: usize,
}

impl Tracker {
    pub fn track(&mut self, env: sys::napi_env, value: sys::napi_value) -> JsResult<()> {
        let mut r = ptr::null_mut();
        // SAFETY: `value` is a live ArrayBuffer handle of this env; a reference with
        // count 0 is weak and does not keep it alive.
        let status = unsafe { sys::napi_create_reference(env, value, 0, &mut r) };
        if status != sys::Status::napi_ok {
            return Err(status_error("tracking an ArrayBuffer", status));
        }
        self.refs.push(r);
        if self.refs.len() > self.sweep_at.max(64) {
            self.sweep(env);
            self.sweep_at = self.refs.len() * 2;
        }
        Ok(())
    }

    /// Forgets buffers the garbage collector has already taken.
    fn sweep(&mut self, env: sys::napi_env) {
        self.refs.retain(|&r| {
            // SAFETY: `r` is a reference this tracker created and has not deleted.
            let alive = !unsafe { deref(env, r) }.is_null();
            if !alive {
                unsafe { sys::napi_delete_reference(env, r) };
            }
            alive
        });
    }

    /// Detaches every live buffer (their length becomes 0) and forgets them all.
    pub fn detach_all(&mut self, env: sys::napi_env) {
        for r in self.refs.drain(..) {
            // SAFETY: `r` is live; detaching an external ArrayBuffer is always allowed
            // and makes every view over it report length 0.
            unsafe {
                let v = deref(env, r);
                if !v.is_null() {
                    sys::napi_detach_arraybuffer(env, v);
                }
                sys::napi_delete_reference(env, r);
            }
        }
    }

    /// Deletes the references without detaching (the array is being collected;
    /// the buffers keep the mapping alive themselves).
    pub fn release(&mut self, env: sys::napi_env) {
        for r in self.refs.drain(..) {
            // SAFETY: `r` was created by this tracker and not yet deleted.
            unsafe { sys::napi_delete_reference(env, r) };
        }
    }
}

/// The value behind a weak reference, or null once collected.
unsafe fn deref(env: sys::napi_env, r: sys::napi_ref) -> sys::napi_value {
    let mut v = ptr::null_mut();
    // SAFETY: forwarded from the caller: `r` is a live reference of `env`.
    let status = unsafe { sys::napi_get_reference_value(env, r, &mut v) };
    if status == sys::Status::napi_ok {
        v
    } else {
        ptr::null_mut()
    }
}

/// Detaches one ArrayBuffer (used for buffers the JS layer derived itself).
pub fn detach(env: sys::napi_env, value: sys::napi_value) {
    // SAFETY: napi checks that `value` is a detachable ArrayBuffer and returns an
    // error status otherwise, which is ignored: the goal is only "not readable".
    unsafe { sys::napi_detach_arraybuffer(env, value) };
}
