//! The per-point buffers of a call, kept per thread between calls.
//!
//! At 100k points they are 400 KB (each point's group) and 800 KB (the p95's kept values):
//! above glibc's initial mmap threshold (128 KiB), so a process whose heap has not raised it
//! (hybridbench's default `glibc` allocator state) got them from a fresh `mmap` every call and
//! took a minor page fault per 4 KiB page it touched, ~300 per call. Kept here with their
//! capacity, a thread pays for them once. What a thread keeps is what its largest batch
//! needed (12 bytes a point, and 8 for each latency the p95 kept, ~14% of them on the default
//! batch, all of them at worst; the 64 MiB payload limit bounds it).

use std::cell::Cell;

/// The buffers; each user clears what it takes and never relies on the contents.
#[derive(Default)]
pub struct Scratch {
    /// the group id of every point
    pub group_of_point: Vec<u32>,
    /// room for the p95's kept order keys (`tail::by_bars`)
    pub kept: Vec<i64>,
    /// the same keys gathered group by group (`tail::by_group`)
    pub grouped: Vec<i64>,
}

thread_local! {
    static SCRATCH: Cell<Scratch> = const {
        Cell::new(Scratch {
            group_of_point: Vec::new(),
            kept: Vec::new(),
            grouped: Vec::new(),
        })
    };
}

/// Run `f` with this thread's buffers ([`with_kept`](crate::kept::with_kept)).
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    crate::kept::with_kept(&SCRATCH, f)
}
