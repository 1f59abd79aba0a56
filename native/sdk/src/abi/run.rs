//! `hb_run` (workload by name, output always handed over) and `hb_run_into` (workload by id,
//! small outputs copied into the caller's buffer: the per-call fast path).

use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::timing::Stopwatch;
use super::{code_of, panic_error, HbBuffer, HB_INTERNAL, HB_OK};
use crate::error::{check_payload_size, KernelError, Result};
use crate::kernel::{Kernel, KernelTable};

/// A null pointer where the ABI needs one (reported as an internal error).
const NULL_ARGUMENT: &str = "hb_run: null pointer argument";

/// Borrow `len` bytes at `ptr`, which may be null when `len` is 0.
///
/// # Safety
/// A non-null `ptr` is readable for `len` bytes and unchanged for `'a`.
unsafe fn borrow<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    match (ptr.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(KernelError::internal(NULL_ARGUMENT)),
        // SAFETY: per this function's contract.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(ptr, len) }),
    }
}

/// Run the kernel under the stopwatch (which records errors' time too).
fn timed_call(kernel: &Kernel, data: &[u8]) -> Result<Vec<u8>> {
    let watch = Stopwatch::start();
    let result = (kernel.run)(data);
    watch.stop();
    result
}

/// The output of `hb_run_into`: in the caller's buffer, or handed over.
enum Output {
    InDst(usize),
    Owned(Vec<u8>),
}

/// `hb_run_into` on safe types: the kernel's [`IntoFn`](crate::IntoFn) first if it has one,
/// else (or when it declines) its `run`, whose output is copied into `dst` if it fits. The
/// stopwatch covers the kernel functions only, not the copy.
fn dispatch_into(kernel: &Kernel, data: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Output> {
    check_payload_size(kernel.name, data.len())?;
    if let Some(into) = kernel.run_into {
        let watch = Stopwatch::start();
        let written = into(data, dst);
        watch.stop();
        match written? {
            Some(n) if n <= dst.len() => return Ok(Output::InDst(n)),
            Some(n) => {
                return Err(KernelError::internal(format!(
                    "{}: run_into reported {n} bytes written into a buffer of {}",
                    kernel.name,
                    dst.len()
                )))
            }
            None => {}
        }
    }
    let output = timed_call(kernel, data)?;
    match crate::copy_into(dst, &output) {
        Some(n) => {
            // copied: its allocation stays with this thread, as `hb_buffer_free` keeps one
            crate::output::recycle(output);
            Ok(Output::InDst(n))
        }
        None => Ok(Output::Owned(output)),
    }
}

/// Run a workload by name.
///
/// `workload` is `wl_len` bytes of UTF-8 (no NUL needed), `input` is `len` bytes (may be null
/// when `len` is 0). On return `*out` and `*err` are always overwritten: on success ([`HB_OK`])
/// `out` holds the response and `err` is empty; otherwise `out` is empty and `err` holds the
/// message. Both must be released with `hb_buffer_free` (releasing an empty one is a no-op).
///
/// # Safety
/// `workload` and `input` must be readable for their lengths and stay unchanged during the
/// call; `out` and `err` must point to writable [`HbBuffer`]s.
pub unsafe fn run(
    table: &KernelTable,
    workload: *const c_char,
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
        if workload.is_null() {
            return Err(KernelError::internal(NULL_ARGUMENT));
        }
        // SAFETY: readable for the given lengths per the contract.
        let (name, data) = unsafe { (borrow(workload.cast(), wl_len)?, borrow(input, len)?) };
        let kernel = table.get(name).ok_or_else(|| table.unknown_name(name))?;
        check_payload_size(kernel.name, data.len())?;
        timed_call(kernel, data)
    }));
    let (code, buffer, target) = match result.unwrap_or_else(|p| Err(panic_error(&*p))) {
        Ok(output) => (HB_OK, output, out),
        Err(e) => (code_of(e.kind), e.message.into_bytes(), err),
    };
    // SAFETY: `target` is `out` or `err`, checked non-null above.
    unsafe { target.write(HbBuffer::from_vec(buffer)) };
    code
}

/// Run a workload by id (its position in `hb_workloads()`), with a caller buffer for small
/// outputs: the fast path of the Python binding (no name to look up, one struct, no free call
/// and one copy for outputs that fit).
///
/// On success ([`HB_OK`]), if the output is at most `dst_cap` bytes it is in `dst`, `out.ptr` is
/// null and `out.len` is its length; otherwise `out` holds it as with [`run`]. So the output is
/// in `dst` exactly when `out.len <= dst_cap`. On failure `out` holds the UTF-8 message; an id
/// out of range is `HB_UNSUPPORTED`. `out` must be released with `hb_buffer_free` (a no-op
/// when its `ptr` is null).
///
/// # Safety
/// `input` must be readable for `len` bytes (may be null when `len` is 0) and stay unchanged
/// during the call; `dst` must be writable for `dst_cap` bytes (may be null when `dst_cap` is
/// 0) and must not overlap `input`; `out` must point to a writable [`HbBuffer`].
pub unsafe fn run_into(
    table: &KernelTable,
    workload_id: u32,
    input: *const u8,
    len: usize,
    dst: *mut c_char,
    dst_cap: usize,
    out: *mut HbBuffer,
) -> i32 {
    if out.is_null() {
        return HB_INTERNAL;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: readable for `len` bytes per the contract.
        let data = unsafe { borrow(input, len)? };
        let dst: &mut [MaybeUninit<u8>] = match (dst.is_null(), dst_cap) {
            (_, 0) => &mut [],
            (true, _) => return Err(KernelError::internal(NULL_ARGUMENT)),
            // SAFETY: writable for `dst_cap` bytes and disjoint from `input` per the contract;
            // `MaybeUninit` because the caller's bytes may be uninitialised.
            (false, _) => unsafe { std::slice::from_raw_parts_mut(dst.cast(), dst_cap) },
        };
        let kernel = table
            .by_id(workload_id)
            .ok_or_else(|| table.unknown_id(workload_id))?;
        dispatch_into(kernel, data, dst)
    }));
    let (code, buffer) = match result.unwrap_or_else(|p| Err(panic_error(&*p))) {
        Ok(Output::InDst(n)) => (HB_OK, HbBuffer::in_dst(n)),
        Ok(Output::Owned(output)) => (HB_OK, HbBuffer::from_vec(output)),
        Err(e) => (code_of(e.kind), HbBuffer::from_vec(e.message.into_bytes())),
    };
    // SAFETY: checked non-null above; the caller guarantees it is writable.
    unsafe { out.write(buffer) };
    code
}
