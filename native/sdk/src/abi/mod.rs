//! The C ABI (`include/hybridbench.h`) as ordinary Rust functions over a [`KernelTable`].
//!
//! [`kernels!`](crate::kernels) expands the `#[no_mangle] extern "C"` exports in the kernel
//! crate (so that its `cdylib` exports them), each a one-line call to a function here; the
//! logic is tested here, once, with test tables.
//!
//! * input is borrowed (pointer + length), never copied by the boundary;
//! * output and error messages are Rust-allocated [`HbBuffer`]s that the caller releases with
//!   `hb_buffer_free`;
//! * status codes: [`HB_OK`], [`HB_INVALID_INPUT`], [`HB_UNSUPPORTED`] (unknown workload too),
//!   [`HB_INTERNAL`] (including a caught panic); on failure the message is UTF-8 text;
//! * no panic crosses the boundary: every function runs under `catch_unwind`;
//! * every function is thread-safe (kernels share no state; timing is per thread).

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::error::{panic_text, ErrorKind, KernelError};
use crate::kernel::KernelTable;

mod run;
mod timing;

pub use run::{run, run_into};
pub use timing::{last_kernel_ns, set_kernel_timing};

pub const HB_OK: i32 = 0;
pub const HB_INVALID_INPUT: i32 = 1;
pub const HB_UNSUPPORTED: i32 = 2;
pub const HB_INTERNAL: i32 = 3;
/// Bumped when a function of the header changes meaning or signature.
pub const HB_ABI_VERSION: u32 = 2;

/// A byte buffer allocated by Rust: `ptr` (null when empty), `len` bytes used, `cap` bytes
/// allocated. Release it with [`buffer_free`], exactly once.
#[repr(C)]
#[derive(Debug)]
pub struct HbBuffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl HbBuffer {
    pub const EMPTY: HbBuffer = HbBuffer {
        ptr: ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    /// Hand a `Vec` over to the caller (undone by [`buffer_free`]).
    pub(crate) fn from_vec(v: Vec<u8>) -> Self {
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

    /// An output of `len` bytes that was written to the caller's `dst`: nothing to free.
    pub(crate) fn in_dst(len: usize) -> Self {
        HbBuffer {
            ptr: ptr::null_mut(),
            len,
            cap: 0,
        }
    }
}

/// Run `f`, turning a panic into `fallback`: for the exports that cannot fail, so that even a
/// bug there cannot unwind into C.
fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The status code of an error kind.
pub fn code_of(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidInput => HB_INVALID_INPUT,
        ErrorKind::Unsupported => HB_UNSUPPORTED,
        ErrorKind::Internal => HB_INTERNAL,
    }
}

/// The error a caught panic becomes; the message quotes the panic's text.
pub(crate) fn panic_error(payload: &(dyn std::any::Any + Send)) -> KernelError {
    KernelError::internal(format!(
        "internal error: the Rust kernel panicked: {}",
        panic_text(payload)
    ))
}

/// `hb_abi_version`: [`HB_ABI_VERSION`].
pub fn abi_version() -> u32 {
    HB_ABI_VERSION
}

/// `hb_version`: the kernel crate's version, a static NUL-terminated string.
pub fn version(table: &KernelTable) -> *const c_char {
    guard(ptr::null(), || table.version_c().as_ptr())
}

/// `hb_library_name`: the kernel crate's package name, a static NUL-terminated string.
pub fn library_name(table: &KernelTable) -> *const c_char {
    guard(ptr::null(), || table.library_c().as_ptr())
}

/// `hb_max_payload`: the largest input any workload accepts (64 MiB).
pub fn max_payload() -> usize {
    crate::MAX_PAYLOAD_BYTES
}

/// `hb_workloads`: the names joined by `'\n'`, NUL-terminated, valid as long as the (static)
/// table; the position of a name is its id for [`run_into`].
pub fn workloads(table: &'static KernelTable) -> *const c_char {
    guard(c"".as_ptr(), || table.listing().as_ptr())
}

/// `hb_buffer_free`: release a buffer filled by this library and reset it to empty. A null
/// `buf` or an empty buffer is a no-op, so calling it twice on the same struct is harmless.
///
/// # Safety
/// `buf` is null or points to an [`HbBuffer`] last written by this library and not modified.
pub unsafe fn buffer_free(buf: *mut HbBuffer) {
    if buf.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: per the contract, the fields are those of a Vec leaked by `from_vec` (or
        // `cap == 0`: nothing to release).
        unsafe {
            let b = &mut *buf;
            if !b.ptr.is_null() && b.cap != 0 {
                // kept as this thread's spare output if a kernel here asks for one
                crate::output::recycle(Vec::from_raw_parts(b.ptr, b.len, b.cap));
            }
            *b = HbBuffer::EMPTY;
        }
    })
}

#[cfg(test)]
mod tests;
