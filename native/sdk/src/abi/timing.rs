//! Kernel timing of the C ABI: off by default, so that the hot path reads no clock; when on
//! (process-wide), each call records the nanoseconds spent inside the kernel function in a
//! thread-local, which the caller reads right after the call on the same thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::guard;

static ENABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static LAST_NS: Cell<u64> = const { Cell::new(0) };
}

/// `hb_set_kernel_timing`: turn timing on (non-zero) or off (0) for every thread.
pub fn set_kernel_timing(enabled: i32) {
    guard((), || ENABLED.store(enabled != 0, Ordering::Relaxed))
}

/// `hb_last_kernel_ns`: the kernel time of this thread's last timed call (0 before any).
pub fn last_kernel_ns() -> u64 {
    guard(0, || LAST_NS.with(Cell::get))
}

/// A stopwatch that only reads the clock when timing is on.
pub(super) struct Stopwatch(Option<Instant>);

impl Stopwatch {
    pub(super) fn start() -> Self {
        // Relaxed: a call racing with the switch may or may not be timed; either is fine.
        Self(ENABLED.load(Ordering::Relaxed).then(Instant::now))
    }

    /// Record the time since `start` (if timing was on then) as this thread's last call.
    pub(super) fn stop(self) {
        if let Some(start) = self.0 {
            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            LAST_NS.with(|last| last.set(ns));
        }
    }
}
