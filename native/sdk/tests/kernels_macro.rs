//! `kernels!` as a kernel crate uses it: the table it defines and the C exports it expands
//! (called here as Rust functions; `tests/test_native_header.py` calls them from C).

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr;

use hybridbench_sdk::abi::{HbBuffer, HB_INTERNAL, HB_OK, HB_UNSUPPORTED};
use hybridbench_sdk::{copy_into, KernelError, Result};

fn reverse(input: &[u8]) -> Result<Vec<u8>> {
    Ok(input.iter().rev().copied().collect())
}
fn echo(input: &[u8]) -> Result<Vec<u8>> {
    Ok(input.to_vec())
}
fn echo_into(input: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
    Ok(copy_into(dst, input))
}
fn refuse(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::unsupported("refuse: never"))
}
fn boom(_: &[u8]) -> Result<Vec<u8>> {
    panic!("kaboom through the macro")
}

hybridbench_sdk::kernels! {
    Kernel::new("reverse", reverse),
    Kernel::new("echo", echo).inline().into_fn(echo_into),
    Kernel::new("refuse", refuse),
    Kernel::new("panic", boom),
}

use hb_c_abi::*;

fn c_str(p: *const std::ffi::c_char) -> &'static str {
    // SAFETY: the exports return static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

#[test]
fn the_table_is_named_after_the_crate() {
    assert_eq!(KERNELS.library(), "hybridbench-sdk");
    assert_eq!(KERNELS.version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(
        KERNELS.names().collect::<Vec<_>>(),
        ["reverse", "echo", "refuse", "panic"]
    );
    assert!(KERNELS.kernels()[1].inline && KERNELS.kernels()[1].run_into.is_some());
    assert!(!KERNELS.kernels()[0].inline && KERNELS.kernels()[0].run_into.is_none());
}

#[test]
fn exports_describe_the_library() {
    assert_eq!(hb_abi_version(), 2);
    assert_eq!(c_str(hb_library_name()), "hybridbench-sdk");
    assert_eq!(c_str(hb_version()), env!("CARGO_PKG_VERSION"));
    assert_eq!(c_str(hb_workloads()), "reverse\necho\nrefuse\npanic");
    assert_eq!(hb_max_payload(), 64 << 20);
}

fn run_by_name(name: &str, input: &[u8]) -> (i32, Vec<u8>) {
    let (mut out, mut err) = (HbBuffer::EMPTY, HbBuffer::EMPTY);
    // SAFETY: valid pointers and lengths; buffers freed below.
    unsafe {
        let code = hb_run(
            name.as_ptr().cast(),
            name.len(),
            input.as_ptr(),
            input.len(),
            &mut out,
            &mut err,
        );
        let b = if code == HB_OK { &out } else { &err };
        let bytes = if b.ptr.is_null() {
            vec![]
        } else {
            std::slice::from_raw_parts(b.ptr, b.len).to_vec()
        };
        hb_buffer_free(&mut out);
        hb_buffer_free(&mut err);
        (code, bytes)
    }
}

fn run_by_id(id: u32, input: &[u8], cap: usize) -> (i32, Vec<u8>) {
    let mut dst = vec![0u8; cap];
    let mut out = HbBuffer::EMPTY;
    // SAFETY: valid pointers and lengths; the buffer is freed below.
    unsafe {
        let code = hb_run_into(
            id,
            input.as_ptr(),
            input.len(),
            dst.as_mut_ptr().cast(),
            cap,
            &mut out,
        );
        let bytes = if code == HB_OK && out.len <= cap {
            dst[..out.len].to_vec()
        } else {
            std::slice::from_raw_parts(out.ptr, out.len).to_vec()
        };
        hb_buffer_free(&mut out);
        (code, bytes)
    }
}

#[test]
fn exports_run_the_registered_kernels() {
    assert_eq!(run_by_name("reverse", b"abc"), (HB_OK, b"cba".to_vec()));
    assert_eq!(run_by_id(0, b"abc", 2), (HB_OK, b"cba".to_vec()));
    assert_eq!(run_by_id(1, b"abc", 8), (HB_OK, b"abc".to_vec()));
    let (code, msg) = run_by_name("refuse", b"");
    assert_eq!((code, msg), (HB_UNSUPPORTED, b"refuse: never".to_vec()));
    let (code, msg) = run_by_id(4, b"", 8);
    assert_eq!(code, HB_UNSUPPORTED);
    assert!(msg.starts_with(b"unknown workload id 4; known: 0 (reverse), 1 (echo)"));
}

#[test]
fn a_panicking_kernel_is_an_internal_error_through_both_exports() {
    let (code, msg) = run_by_name("panic", b"");
    assert_eq!(code, HB_INTERNAL);
    assert!(String::from_utf8(msg)
        .unwrap()
        .contains("kaboom through the macro"));
    let (code, msg) = run_by_id(3, b"", 64);
    assert_eq!(code, HB_INTERNAL);
    assert!(String::from_utf8(msg)
        .unwrap()
        .contains("kaboom through the macro"));
}

#[test]
fn timing_through_the_exports() {
    std::thread::spawn(|| {
        assert_eq!(hb_last_kernel_ns(), 0);
        hb_set_kernel_timing(1);
        run_by_id(0, &[1; 4096], 8192);
        hb_set_kernel_timing(0);
        assert!(hb_last_kernel_ns() > 0);
    })
    .join()
    .unwrap();
    // SAFETY: null is a no-op.
    unsafe { hb_buffer_free(ptr::null_mut()) };
}
