//! Buffers a kernel keeps per thread between calls (json's document vectors, timeseries'
//! per-point buffers): above glibc's initial mmap threshold, a fresh allocation is fresh pages
//! and a minor fault per page on every call under hybridbench's default allocator state.

use std::cell::Cell;
use std::thread::LocalKey;

/// Run `f` with this thread's value of `kept`. It is taken out for the call and put back
/// after (also when `f` returns an error), so a nested call would get an empty one rather
/// than a borrow error, and a panic in `f` only drops it.
pub(crate) fn with_kept<T: Default, R>(
    kept: &'static LocalKey<Cell<T>>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut value = kept.take();
    let result = f(&mut value);
    kept.set(value);
    result
}
