//! Fuzzing the C ABI exports of the built-in library (`hb_run`, `hb_run_into`, proptest):
//! any name or id, any bytes, any buffer size (zero, small, null when zero) gives a status
//! 0..=3 with consistent buffers, and `hb_run_into` agrees with `hb_run`. A panic crossing an
//! `extern "C"` function aborts the process, so any panic fails this test loudly.
//!
//! `PROPTEST_CASES=N cargo test --release --test fuzz_abi` for a long run.

use std::ffi::CStr;

use hybridbench_kernels::hb_c_abi::{hb_buffer_free, hb_run, hb_run_into, hb_workloads};
use hybridbench_sdk::abi::{HbBuffer, HB_INTERNAL, HB_OK};
use hybridbench_testgen as generate;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

fn names() -> Vec<String> {
    // SAFETY: a static NUL-terminated string.
    let listing = unsafe { CStr::from_ptr(hb_workloads()) };
    listing
        .to_str()
        .unwrap()
        .split('\n')
        .map(str::to_owned)
        .collect()
}

/// Take a buffer's bytes and free it.
fn take(buffer: &mut HbBuffer) -> Vec<u8> {
    let bytes = if buffer.ptr.is_null() {
        Vec::new()
    } else {
        // SAFETY: a buffer the library filled.
        unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.len) }.to_vec()
    };
    // SAFETY: filled by the library (or empty); freed once, then empty.
    unsafe { hb_buffer_free(buffer) };
    bytes
}

/// `hb_run`: the status and the output or the message, checked for consistency.
fn run_by_name(name: &[u8], input: &[u8]) -> Result<(i32, Vec<u8>), TestCaseError> {
    let (mut out, mut err) = (HbBuffer::EMPTY, HbBuffer::EMPTY);
    // SAFETY: valid pointers and lengths.
    let code = unsafe {
        hb_run(
            name.as_ptr().cast(),
            name.len(),
            input.as_ptr(),
            input.len(),
            &mut out,
            &mut err,
        )
    };
    prop_assert!((HB_OK..=HB_INTERNAL).contains(&code), "status {}", code);
    let (output, message) = (take(&mut out), take(&mut err));
    if code == HB_OK {
        prop_assert!(message.is_empty(), "a message with status 0");
        Ok((code, output))
    } else {
        prop_assert!(output.is_empty(), "an output with status {}", code);
        prop_assert!(!message.is_empty(), "no message with status {}", code);
        prop_assert!(
            std::str::from_utf8(&message).is_ok(),
            "the message is not UTF-8"
        );
        Ok((code, message))
    }
}

/// `hb_run_into`: the status and the output (from `dst` or handed over) or the message.
fn run_by_id(
    id: u32,
    input: &[u8],
    cap: usize,
    null_dst: bool,
) -> Result<(i32, Vec<u8>), TestCaseError> {
    let mut dst = vec![0u8; cap];
    let dst_ptr = if null_dst && cap == 0 {
        std::ptr::null_mut()
    } else {
        dst.as_mut_ptr().cast()
    };
    let mut out = HbBuffer::EMPTY;
    // SAFETY: valid pointers and lengths; dst is null only with a capacity of 0.
    let code = unsafe { hb_run_into(id, input.as_ptr(), input.len(), dst_ptr, cap, &mut out) };
    prop_assert!((HB_OK..=HB_INTERNAL).contains(&code), "status {}", code);
    if code == HB_OK && out.ptr.is_null() {
        prop_assert!(
            out.len <= cap,
            "{} bytes reported in a buffer of {}",
            out.len,
            cap
        );
        return Ok((code, dst[..out.len].to_vec()));
    }
    if code == HB_OK {
        prop_assert!(
            out.len > cap,
            "a handed-over output of {} fit in {}",
            out.len,
            cap
        );
    } else {
        prop_assert!(
            !out.ptr.is_null() && out.len > 0,
            "no message with status {}",
            code
        );
    }
    Ok((code, take(&mut out)))
}

fn name_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(names()).prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..2048),
        1 => generate::json_document(),
        1 => generate::timeseries_batch(),
    ]
}

fn capacity() -> impl Strategy<Value = usize> {
    prop_oneof![Just(0usize), 1usize..64, 64usize..(1 << 16)]
}

proptest! {
    #![proptest_config(generate::config(256))]

    #[test]
    fn hb_run_any_name_any_bytes(name in name_bytes(), input in input()) {
        run_by_name(&name, &input)?;
    }

    #[test]
    fn hb_run_into_agrees_with_hb_run(
        id in prop_oneof![3 => 0u32..6, 1 => any::<u32>()],
        input in input(),
        cap in capacity(),
        null_dst in any::<bool>(),
    ) {
        let (code, bytes) = run_by_id(id, &input, cap, null_dst)?;
        let known = names();
        match known.get(id as usize) {
            Some(name) => {
                let (by_name, by_name_bytes) = run_by_name(name.as_bytes(), &input)?;
                prop_assert_eq!(code, by_name);
                if code == HB_OK {
                    prop_assert!(bytes == by_name_bytes, "hb_run_into and hb_run differ");
                }
            }
            None => prop_assert_eq!(code, hybridbench_sdk::abi::HB_UNSUPPORTED),
        }
    }
}
