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
