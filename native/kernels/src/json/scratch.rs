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
    static SCRATCH: Cell<Buffers> = Cell::new(Buffers::default());
}

/// Run `f` with this thread's buffers ([`with_kept`](crate::kept::with_kept)).
pub(super) fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    crate::kept::with_kept(&SCRATCH, f)
}
