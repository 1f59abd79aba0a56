//! C ABI over `hybridbench-kernels`, loaded into Python by cffi (`backends/ffi`).
//!
//! The contract is `include/hybridbench.h` (hand-written; `tests/abi.rs` and the Python test
//! `tests/test_native_header.py` check that it matches these definitions):
//!
//! * input is borrowed (pointer + length), never copied by the boundary;
//! * output and error messages are Rust-allocated [`HbBuffer`]s that the caller releases with
//!   [`hb_buffer_free`];
//! * status codes: 0 ok, 1 invalid input, 2 unsupported/unknown workload, 3 internal error or
//!   panic; on failure `err` holds a UTF-8 message and `out` is empty;
//! * no panic crosses the boundary (`catch_unwind` on every exported function);
//! * every function is thread-safe: kernels share no state.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use hybridbench_kernels::{ErrorKind, KernelError};

pub const HB_OK: i32 = 0;
pub const HB_INVALID_INPUT: i32 = 1;
pub const HB_UNSUPPORTED: i32 = 2;
pub const HB_INTERNAL: i32 = 3;
/// Workload ids of [`hb_run_into`] (the names of [`hb_run`] as small integers).
pub const HB_WORKLOAD_ECHO: u32 = 0;
pub const HB_WORKLOAD_JSON: u32 = 1;
pub const HB_WORKLOAD_IMAGE: u32 = 2;
pub const HB_WORKLOAD_TIMESERIES: u32 = 3;
/// A null pointer where the ABI needs one (reported as an internal error).
const NULL_ARGUMENT: &str = "hb_run: null pointer argument";

/// A byte buffer allocated by Rust: `ptr` (null when empty), `len` bytes used, `cap` bytes
/// allocated. Release it with [`hb_buffer_free`], exactly once.
#[repr(C)]
#[derive(Debug)]
pub struct HbBuffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl HbBuffer {
    const EMPTY: HbBuffer = HbBuffer {
        ptr: ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    fn from_vec(v: Vec<u8>) -> Self {
        if v.capacity() == 0 {
            return Self::EMPTY;
        }
        let mut v = std::mem::ManuallyDrop::new(v);
        HbBuffer {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }
}

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version as a NUL-terminated static string, e.g. `"0.1.0"`; never freed.
#[no_mangle]
pub extern "C" fn hb_version() -> *const std::ffi::c_char {
    VERSION.as_ptr().cast()
}

/// The largest input any workload accepts, in bytes (64 MiB).
#[no_mangle]
pub extern "C" fn hb_max_payload() -> usize {
    hybridbench_kernels::MAX_PAYLOAD_BYTES
}

fn code_of(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidInput => HB_INVALID_INPUT,
        ErrorKind::Unsupported => HB_UNSUPPORTED,
        ErrorKind::Internal => HB_INTERNAL,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("internal error: the Rust kernel panicked: {what}")
}

/// Run a workload.
///
/// `workload` is `wl_len` bytes of UTF-8 (no NUL needed), `input` is `len` bytes (may be null
/// when `len` is 0). On return `*out` and `*err` are always overwritten: on success (0) `out`
/// holds the response and `err` is empty; otherwise `out` is empty and `err` holds the message.
/// Both must be released with [`hb_buffer_free`] (releasing an empty one is a no-op).
///
/// # Safety
/// `workload` and `input` must be readable for their lengths and stay unchanged during the
/// call; `out` and `err` must point to writable `HbBuffer`s.
#[no_mangle]
pub unsafe extern "C" fn hb_run(
    workload: *const std::ffi::c_char,
    wl_len: usize,
    input: *const u8,
    len: usize,
    out: *mut HbBuffer,
    err: *mut HbBuffer,
) -> i32 {
    if out.is_null() || err.is_null() {
        return HB_INTERNAL;
    }
    // SAFETY: checked non-null above; the caller guarantees they are writable.
    unsafe {
        out.write(HbBuffer::EMPTY);
        err.write(HbBuffer::EMPTY);
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        if workload.is_null() || (input.is_null() && len != 0) {
            return Err(KernelError::internal(NULL_ARGUMENT));
        }
        // SAFETY: non-null (or empty) and readable for the given lengths per the contract.
        let name = unsafe { std::slice::from_raw_parts(workload.cast::<u8>(), wl_len) };
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(input, len) }
        };
        let name = std::str::from_utf8(name)
            .map_err(|_| KernelError::unsupported("workload name is not valid UTF-8"))?;
        hybridbench_kernels::run(name, data)
    }));
    let (code, buffer, target) = match result {
        Ok(Ok(output)) => (HB_OK, output, out),
        Ok(Err(e)) => (code_of(e.kind), e.message.into_bytes(), err),
        Err(panic) => (HB_INTERNAL, panic_message(&*panic).into_bytes(), err),
    };
    // SAFETY: `target` is `out` or `err`, checked non-null above.
    unsafe { target.write(HbBuffer::from_vec(buffer)) };
    code
}

fn run_id(workload: u32, data: &[u8]) -> hybridbench_kernels::Result<Vec<u8>> {
    use hybridbench_kernels::{echo, image, json, timeseries};
    match workload {
        HB_WORKLOAD_ECHO => echo::run(data),
        HB_WORKLOAD_JSON => json::run(data),
        HB_WORKLOAD_IMAGE => image::run(data),
        HB_WORKLOAD_TIMESERIES => timeseries::run(data),
        other => Err(KernelError::unsupported(format!(
            "unknown workload id {other}; known: 0 (echo), 1 (json), 2 (image), 3 (timeseries)"
        ))),
    }
}

/// Run a workload given by id (`HB_WORKLOAD_*`), with a caller buffer for small outputs: the
/// fast path of the Python binding (no name to look up, one struct, no free call and one copy
/// for outputs that fit).
///
/// On success (0), if the output is at most `dst_cap` bytes it is copied to `dst`, `out.ptr` is
/// null and `out.len` is its length; otherwise `out` holds it as with [`hb_run`]. So the output
/// is in `dst` exactly when `out.len <= dst_cap`. On failure `out` holds the UTF-8 message.
/// `out` must be released with [`hb_buffer_free`] (a no-op when its `ptr` is null).
///
/// # Safety
/// `input` must be readable for `len` bytes (may be null when `len` is 0) and stay unchanged
/// during the call; `dst` must be writable for `dst_cap` bytes (may be null when `dst_cap` is
/// 0) and must not overlap `input`; `out` must point to a writable `HbBuffer`.
#[no_mangle]
pub unsafe extern "C" fn hb_run_into(
    workload: u32,
    input: *const u8,
    len: usize,
    dst: *mut std::ffi::c_char,
    dst_cap: usize,
    out: *mut HbBuffer,
) -> i32 {
    if out.is_null() {
        return HB_INTERNAL;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        if (input.is_null() && len != 0) || (dst.is_null() && dst_cap != 0) {
            return Err(KernelError::internal(NULL_ARGUMENT));
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(input, len) }
        };
        if workload == HB_WORKLOAD_ECHO && len <= dst_cap {
            // echo's output is its input: copy it straight into `dst`, no allocation
            hybridbench_kernels::check_payload_size("echo", len)?;
            if len != 0 {
                // SAFETY: `dst` is writable for `dst_cap >= len` bytes, disjoint from `input`.
                unsafe { ptr::copy_nonoverlapping(data.as_ptr(), dst.cast::<u8>(), len) };
            }
            return Ok(None);
        }
        run_id(workload, data).map(Some)
    }));
    let (code, buffer) = match result {
        Ok(Ok(None)) => {
            // SAFETY: checked non-null above; the caller guarantees it is writable.
            unsafe {
                out.write(HbBuffer {
                    ptr: ptr::null_mut(),
                    len,
                    cap: 0,
                })
            };
            return HB_OK;
        }
        Ok(Ok(Some(output))) => {
            if output.len() <= dst_cap {
                // SAFETY: `dst` is writable for `dst_cap >= output.len()` bytes (non-null when
                // `dst_cap` is not 0) and does not overlap the freshly allocated output.
                unsafe {
                    if !output.is_empty() {
                        ptr::copy_nonoverlapping(output.as_ptr(), dst.cast::<u8>(), output.len());
                    }
                    out.write(HbBuffer {
                        ptr: ptr::null_mut(),
                        len: output.len(),
                        cap: 0,
                    });
                }
                return HB_OK;
            }
            (HB_OK, output)
        }
        Ok(Err(e)) => (code_of(e.kind), e.message.into_bytes()),
        Err(panic) => (HB_INTERNAL, panic_message(&*panic).into_bytes()),
    };
    // SAFETY: checked non-null above; the caller guarantees it is writable.
    unsafe { out.write(HbBuffer::from_vec(buffer)) };
    code
}

/// Release a buffer filled by [`hb_run`] and reset it to empty. A null `buf` or an empty buffer
/// is a no-op, so calling it twice on the same struct is harmless.
///
/// # Safety
/// `buf` is null or points to an `HbBuffer` last written by this library and not modified.
#[no_mangle]
pub unsafe extern "C" fn hb_buffer_free(buf: *mut HbBuffer) {
    if buf.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract, the fields are those of a Vec leaked by `from_vec`.
        unsafe {
            let b = &mut *buf;
            if !b.ptr.is_null() && b.cap != 0 {
                drop(Vec::from_raw_parts(b.ptr, b.len, b.cap));
            }
            *b = HbBuffer::EMPTY;
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(workload: &str, input: &[u8]) -> (i32, Vec<u8>, String) {
        let mut out = HbBuffer::EMPTY;
        let mut err = HbBuffer::EMPTY;
        let code = unsafe {
            hb_run(
                workload.as_ptr().cast(),
                workload.len(),
                input.as_ptr(),
                input.len(),
                &mut out,
                &mut err,
            )
        };
        let copy = |b: &HbBuffer| {
            if b.ptr.is_null() {
                Vec::new()
            } else {
                unsafe { std::slice::from_raw_parts(b.ptr, b.len) }.to_vec()
            }
        };
        let (o, e) = (copy(&out), String::from_utf8(copy(&err)).unwrap());
        unsafe {
            hb_buffer_free(&mut out);
            hb_buffer_free(&mut err);
            hb_buffer_free(&mut out); // idempotent
        }
        assert!(out.ptr.is_null() && err.ptr.is_null());
        (code, o, e)
    }

    #[test]
    fn codes_and_messages() {
        assert_eq!(
            call("echo", b"abc"),
            (HB_OK, b"abc".to_vec(), String::new())
        );
        assert_eq!(call("echo", b""), (HB_OK, Vec::new(), String::new()));
        let (code, out, msg) = call("json", b"{");
        assert_eq!((code, out.len()), (HB_INVALID_INPUT, 0));
        assert!(msg.starts_with("json: malformed JSON"), "{msg}");
        let (code, _, msg) = call("nope", b"");
        assert_eq!(code, HB_UNSUPPORTED);
        assert!(msg.contains("unknown workload"));
    }

    #[test]
    fn null_pointers_are_errors_not_crashes() {
        let mut out = HbBuffer::EMPTY;
        let mut err = HbBuffer::EMPTY;
        unsafe {
            assert_eq!(
                hb_run(c"echo".as_ptr(), 4, ptr::null(), 0, &mut out, &mut err),
                HB_OK
            );
            assert_eq!(
                hb_run(c"echo".as_ptr(), 4, ptr::null(), 5, &mut out, &mut err),
                HB_INTERNAL
            );
            hb_buffer_free(&mut err);
            assert_eq!(
                hb_run(ptr::null(), 0, ptr::null(), 0, ptr::null_mut(), &mut err),
                HB_INTERNAL
            );
            hb_buffer_free(ptr::null_mut());
        }
    }

    fn call_into(workload: u32, input: &[u8], cap: usize) -> (i32, Vec<u8>, bool) {
        let mut dst = vec![0u8; cap];
        let mut out = HbBuffer::EMPTY;
        let code = unsafe {
            hb_run_into(
                workload,
                input.as_ptr(),
                input.len(),
                dst.as_mut_ptr().cast(),
                cap,
                &mut out,
            )
        };
        let in_dst = code == HB_OK && out.len <= cap;
        let bytes = if in_dst {
            assert!(out.ptr.is_null());
            dst[..out.len].to_vec()
        } else {
            unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec()
        };
        unsafe { hb_buffer_free(&mut out) };
        assert!(out.ptr.is_null() && out.len == 0);
        (code, bytes, in_dst)
    }

    #[test]
    fn run_into_small_large_and_errors() {
        assert_eq!(
            call_into(HB_WORKLOAD_ECHO, b"abc", 8),
            (HB_OK, b"abc".to_vec(), true)
        );
        assert_eq!(
            call_into(HB_WORKLOAD_ECHO, b"", 0),
            (HB_OK, Vec::new(), true)
        );
        let big = vec![7u8; 100];
        assert_eq!(
            call_into(HB_WORKLOAD_ECHO, &big, 99),
            (HB_OK, big.clone(), false)
        );
        assert_eq!(call_into(HB_WORKLOAD_ECHO, &big, 100), (HB_OK, big, true));
        let (code, msg, in_dst) = call_into(HB_WORKLOAD_JSON, b"{", 4096);
        assert_eq!(code, HB_INVALID_INPUT);
        assert!(!in_dst && msg.starts_with(b"json: malformed JSON"));
        let (code, msg, _) = call_into(9, b"", 16);
        assert_eq!(code, HB_UNSUPPORTED);
        assert!(String::from_utf8(msg)
            .unwrap()
            .contains("unknown workload id 9"));
        for (id, name) in [
            (HB_WORKLOAD_ECHO, "echo"),
            (HB_WORKLOAD_JSON, "json"),
            (HB_WORKLOAD_IMAGE, "image"),
            (HB_WORKLOAD_TIMESERIES, "timeseries"),
        ] {
            assert_eq!(call_into(id, b"", 64).0, call(name, b"").0, "{name}");
        }
        let mut out = HbBuffer::EMPTY;
        unsafe {
            assert_eq!(
                hb_run_into(0, ptr::null(), 3, ptr::null_mut(), 0, &mut out),
                HB_INTERNAL
            );
            hb_buffer_free(&mut out);
            assert_eq!(
                hb_run_into(0, ptr::null(), 0, ptr::null_mut(), 0, ptr::null_mut()),
                HB_INTERNAL
            );
        }
    }

    #[test]
    fn version_is_a_c_string() {
        let v = unsafe { std::ffi::CStr::from_ptr(hb_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(hb_max_payload(), 64 * 1024 * 1024);
    }

    #[test]
    fn panics_become_internal_errors() {
        let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert!(panic_message(&*payload).contains("boom"));
    }
}
