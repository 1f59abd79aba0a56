//! The vectors of a call's [`Document`](super::Document), kept per thread between calls.
//!
//! Sized from the body (`Document::new`), at 1 MB they are some hundreds of KB each: above
//! glibc's initial mmap threshold (128 KiB), so a process whose heap has not raised it
//! (hybridbench's default `glibc` allocator state) got them from a fresh `mmap` every call
//! and took a minor page fault per 4 KiB page it touched. Kept here with their capacity, a
//! thread pays for them once (as `timeseries/scratch.rs` does). What a thread keeps is what
//! its largest body needed (about 1.5 bytes of capacity a byte of body, touched as used; the
//! 64 MiB payload limit bounds it).

use std::cell::Cell;

use super::document::Buffers;

thread_local! {
    static SCRATCH: Cell<Option<Buffers>> = const { Cell::new(None) };
}

/// Run `f` with this thread's buffers. They are taken out for the call and put back after
/// (also when `f` returns an error), so a nested call would get empty ones rather than a
/// borrow error, and a panic in `f` only drops them.
pub(super) fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    let mut buffers = SCRATCH.take().unwrap_or_default();
    let result = f(&mut buffers);
    SCRATCH.set(Some(buffers));
    result
}
