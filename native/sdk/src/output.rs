//! A spare output buffer per thread, for kernels whose outputs are large.
//!
//! The C ABI hands a kernel's output `Vec` over to the caller (`hb_run`, and `hb_run_into` when
//! it does not fit `dst`), who releases it with `hb_buffer_free`. Above glibc's initial mmap
//! threshold (128 KiB, which hybridbench's default `glibc` allocator state keeps) that is a
//! fresh `mmap` and a minor page fault per 4 KiB page written on every call (256 for the json
//! kernel's 1 MB output). So `hb_buffer_free` keeps the allocation it releases as its thread's
//! spare, and a kernel that asks [`output_buffer`] for its output gets the spare back: a
//! thread pays for the pages once. The C ABI does not change (the caller still frees every
//! buffer; the library decides what freeing does).
//!
//! Only threads that have asked for an output buffer keep a spare (kernels that do not use it
//! retain nothing), and only the largest allocation freed since it was last taken: a thread
//! holds at most one output of the largest size it produced (the 64 MiB payload limit bounds
//! the kernels' outputs). Outputs that leave through the gRPC server are freed by the
//! server's encoder and are not kept.

use std::cell::Cell;

thread_local! {
    /// `None`: this thread never asked for an output buffer, keep nothing.
    static SPARE: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
}

/// An empty `Vec` with room for at least `capacity` bytes, for a kernel to build its output
/// in: this thread's spare (the last output the C ABI released on it) when it is large enough.
pub fn output_buffer(capacity: usize) -> Vec<u8> {
    let spare = SPARE
        .with(|s| s.replace(Some(Vec::new())))
        .unwrap_or_default();
    if spare.capacity() >= capacity {
        let mut v = spare;
        v.clear();
        v
    } else {
        // a fresh allocation rather than `reserve`, which would copy the old one's bytes
        Vec::with_capacity(capacity)
    }
}

/// Release `v`, keeping its allocation as this thread's spare if the thread uses one and it
/// is larger than the spare it has.
pub(crate) fn recycle(v: Vec<u8>) {
    // `try_with`: during the thread's exit the slot may be gone; `v` is then just dropped
    let _ = SPARE.try_with(|s| {
        if let Some(kept) = s.take() {
            s.set(Some(if v.capacity() > kept.capacity() {
                v
            } else {
                kept
            }));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_output_is_reused_by_the_next() {
        std::thread::spawn(|| {
            // a thread that never asked keeps nothing
            recycle(Vec::with_capacity(1 << 20));
            assert_eq!(output_buffer(0).capacity(), 0);
            let mut out = output_buffer(1 << 20);
            out.extend_from_slice(b"abc");
            let ptr = out.as_ptr();
            recycle(out);
            recycle(Vec::with_capacity(16)); // smaller: dropped, the larger is kept
            let again = output_buffer(1000);
            assert_eq!((again.as_ptr(), again.len()), (ptr, 0));
            assert!(output_buffer(10).capacity() < 1000, "taken, not shared");
            // too small for the request: a fresh one
            recycle(Vec::with_capacity(64));
            assert!(output_buffer(1 << 16).capacity() >= 1 << 16);
        })
        .join()
        .unwrap();
    }

    fn twice(input: &[u8]) -> crate::Result<Vec<u8>> {
        let mut out = output_buffer(2 * input.len());
        out.extend_from_slice(input);
        out.extend_from_slice(input);
        Ok(out)
    }

    static TABLE: crate::KernelTable =
        crate::KernelTable::new(c"t", c"0", &[crate::Kernel::new("twice", twice)]);

    #[test]
    fn hb_buffer_free_gives_the_output_back_to_the_kernel() {
        use crate::abi::{buffer_free, run, run_into, HbBuffer};
        std::thread::spawn(|| {
            let input = [7u8; 1000];
            let (mut out, mut err) = (HbBuffer::EMPTY, HbBuffer::EMPTY);
            // SAFETY (of each call): valid pointers and lengths.
            let twice = |out: &mut HbBuffer, err: &mut HbBuffer| unsafe {
                run(&TABLE, c"twice".as_ptr(), 5, input.as_ptr(), 1000, out, err);
            };
            let mut small = [0u8; 4096];
            // SAFETY: valid pointers and lengths; every buffer is freed once.
            unsafe {
                twice(&mut out, &mut err);
                let first = out.ptr;
                buffer_free(&mut out);
                twice(&mut out, &mut err);
                assert_eq!((out.ptr, out.len), (first, 2000));
                buffer_free(&mut out);
                // copied into `dst`: kept too
                let dst = small.as_mut_ptr().cast();
                run_into(&TABLE, 0, input.as_ptr(), 1000, dst, 4096, &mut out);
                assert!(out.ptr.is_null() && out.len == 2000 && small[1999] == 7);
                twice(&mut out, &mut err);
                assert_eq!(out.ptr, first);
                buffer_free(&mut out);
            }
        })
        .join()
        .unwrap();
    }
}
