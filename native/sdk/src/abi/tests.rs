//! The ABI functions over a test table with kernels that succeed, fail and panic.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr;

use super::*;
use crate::{copy_into, Kernel, Result};

fn echo(input: &[u8]) -> Result<Vec<u8>> {
    Ok(input.to_vec())
}
fn echo_into(input: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
    Ok(copy_into(dst, input))
}
fn upper(input: &[u8]) -> Result<Vec<u8>> {
    std::thread::sleep(std::time::Duration::from_micros(50)); // something to time
    Ok(input.to_ascii_uppercase())
}
fn invalid(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::invalid("invalid: bad input"))
}
fn unsupported(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::unsupported("unsupported: not here"))
}
fn boom(_: &[u8]) -> Result<Vec<u8>> {
    panic!("kaboom in the kernel")
}
fn boom_into(_: &[u8], _: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
    panic!("kaboom in run_into")
}
fn liar_into(_: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
    Ok(Some(dst.len() + 1))
}

static TABLE: KernelTable = KernelTable::new(
    c"test-kernels",
    c"9.8.7",
    &[
        Kernel::new("echo", echo).inline().into_fn(echo_into),
        Kernel::new("upper", upper),
        Kernel::new("invalid", invalid),
        Kernel::new("unsupported", unsupported),
        Kernel::new("panic", boom),
        Kernel::new("panic_into", echo).into_fn(boom_into),
        Kernel::new("liar", echo).into_fn(liar_into),
    ],
);

fn bytes_of(b: &HbBuffer) -> Vec<u8> {
    if b.ptr.is_null() {
        Vec::new()
    } else {
        // SAFETY: a buffer written by the library.
        unsafe { std::slice::from_raw_parts(b.ptr, b.len) }.to_vec()
    }
}

/// hb_run: (code, output, error message); frees both buffers (twice: idempotent).
fn call(workload: &str, input: &[u8]) -> (i32, Vec<u8>, String) {
    let (mut out, mut err) = (HbBuffer::EMPTY, HbBuffer::EMPTY);
    // SAFETY: valid pointers and lengths.
    let code = unsafe {
        run(
            &TABLE,
            workload.as_ptr().cast(),
            workload.len(),
            input.as_ptr(),
            input.len(),
            &mut out,
            &mut err,
        )
    };
    let (o, e) = (bytes_of(&out), String::from_utf8(bytes_of(&err)).unwrap());
    // SAFETY: buffers written by `run`.
    unsafe {
        buffer_free(&mut out);
        buffer_free(&mut err);
        buffer_free(&mut out);
    }
    assert!(out.ptr.is_null() && err.ptr.is_null());
    (code, o, e)
}

/// hb_run_into: (code, output or message, whether the output came in `dst`).
fn call_into(id: u32, input: &[u8], cap: usize) -> (i32, Vec<u8>, bool) {
    let mut dst = vec![0u8; cap];
    let mut out = HbBuffer::EMPTY;
    // SAFETY: valid pointers and lengths.
    let code = unsafe {
        run_into(
            &TABLE,
            id,
            input.as_ptr(),
            input.len(),
            dst.as_mut_ptr().cast(),
            cap,
            &mut out,
        )
    };
    let in_dst = code == HB_OK && out.len <= cap;
    let bytes = if in_dst {
        assert!(out.ptr.is_null());
        dst[..out.len].to_vec()
    } else {
        bytes_of(&out)
    };
    // SAFETY: written by `run_into`.
    unsafe { buffer_free(&mut out) };
    assert!(out.ptr.is_null() && out.len == 0);
    (code, bytes, in_dst)
}

fn id(name: &str) -> u32 {
    TABLE.names().position(|n| n == name).unwrap() as u32
}

#[test]
fn run_codes_and_messages() {
    assert_eq!(
        call("echo", b"abc"),
        (HB_OK, b"abc".to_vec(), String::new())
    );
    assert_eq!(call("echo", b""), (HB_OK, Vec::new(), String::new()));
    assert_eq!(call("upper", b"ab").1, b"AB");
    assert_eq!(
        call("invalid", b"x"),
        (HB_INVALID_INPUT, Vec::new(), "invalid: bad input".into())
    );
    assert_eq!(call("unsupported", b"").0, HB_UNSUPPORTED);
    let (code, _, msg) = call("nope", b"");
    assert_eq!(code, HB_UNSUPPORTED);
    assert!(
        msg.starts_with("unknown workload \"nope\"; known: echo, upper"),
        "{msg}"
    );
    let (code, _, msg) = call("\u{ff}", b"");
    assert_eq!(code, HB_UNSUPPORTED, "{msg}");
}

#[test]
fn panics_are_internal_errors_with_the_panic_text() {
    let (code, out, msg) = call("panic", b"x");
    assert_eq!((code, out.len()), (HB_INTERNAL, 0));
    assert!(
        msg.contains("panicked") && msg.contains("kaboom in the kernel"),
        "{msg}"
    );
    let (code, msg, _) = call_into(id("panic"), b"x", 16);
    assert_eq!(code, HB_INTERNAL);
    assert!(String::from_utf8(msg)
        .unwrap()
        .contains("kaboom in the kernel"));
    let (code, msg, _) = call_into(id("panic_into"), b"x", 16);
    assert_eq!(code, HB_INTERNAL);
    assert!(String::from_utf8(msg)
        .unwrap()
        .contains("kaboom in run_into"));
}

#[test]
fn null_pointers_are_errors_not_crashes() {
    let (mut out, mut err) = (HbBuffer::EMPTY, HbBuffer::EMPTY);
    // SAFETY: exercising the null checks; buffers are valid.
    unsafe {
        let echo = c"echo".as_ptr();
        assert_eq!(
            run(&TABLE, echo, 4, ptr::null(), 0, &mut out, &mut err),
            HB_OK
        );
        assert_eq!(
            run(&TABLE, echo, 4, ptr::null(), 5, &mut out, &mut err),
            HB_INTERNAL
        );
        assert!(String::from_utf8(bytes_of(&err))
            .unwrap()
            .contains("null pointer"));
        buffer_free(&mut err);
        assert_eq!(
            run(&TABLE, ptr::null(), 0, ptr::null(), 0, &mut out, &mut err),
            HB_INTERNAL
        );
        buffer_free(&mut err);
        let no_out = ptr::null_mut();
        assert_eq!(
            run(&TABLE, echo, 4, ptr::null(), 0, no_out, &mut err),
            HB_INTERNAL
        );
        assert_eq!(
            run_into(&TABLE, 0, ptr::null(), 3, ptr::null_mut(), 0, &mut out),
            HB_INTERNAL
        );
        buffer_free(&mut out);
        assert_eq!(
            run_into(&TABLE, 0, ptr::null(), 0, ptr::null_mut(), 8, &mut out),
            HB_INTERNAL
        );
        buffer_free(&mut out);
        assert_eq!(
            run_into(&TABLE, 0, ptr::null(), 0, ptr::null_mut(), 0, &mut out),
            HB_OK
        );
        assert_eq!(
            run_into(&TABLE, 0, ptr::null(), 0, ptr::null_mut(), 0, no_out),
            HB_INTERNAL
        );
        buffer_free(ptr::null_mut());
    }
}

#[test]
fn run_into_small_large_and_errors() {
    let echo = id("echo");
    assert_eq!(call_into(echo, b"abc", 8), (HB_OK, b"abc".to_vec(), true));
    assert_eq!(call_into(echo, b"", 0), (HB_OK, Vec::new(), true));
    let big = vec![7u8; 100];
    assert_eq!(call_into(echo, &big, 99), (HB_OK, big.clone(), false));
    assert_eq!(call_into(echo, &big, 100), (HB_OK, big.clone(), true));
    // no IntoFn: the output of `run` is copied when it fits, handed over when not
    assert_eq!(
        call_into(id("upper"), b"ab", 2),
        (HB_OK, b"AB".to_vec(), true)
    );
    assert_eq!(
        call_into(id("upper"), b"abc", 2),
        (HB_OK, b"ABC".to_vec(), false)
    );
    let (code, msg, in_dst) = call_into(id("invalid"), b"{", 4096);
    assert_eq!(
        (code, msg, in_dst),
        (HB_INVALID_INPUT, b"invalid: bad input".to_vec(), false)
    );
    assert_eq!(call_into(id("unsupported"), b"", 16).0, HB_UNSUPPORTED);
    assert_eq!(call_into(id("liar"), b"", 16).0, HB_INTERNAL);
    let (code, msg, _) = call_into(99, b"", 16);
    assert_eq!(code, HB_UNSUPPORTED);
    let msg = String::from_utf8(msg).unwrap();
    assert!(
        msg.starts_with("unknown workload id 99; known: 0 (echo), 1 (upper)"),
        "{msg}"
    );
}

#[test]
fn oversized_inputs_are_rejected_without_reading_them() {
    let big = vec![0u8; crate::MAX_PAYLOAD_BYTES + 1];
    let (code, _, msg) = call("upper", &big);
    assert_eq!(code, HB_INVALID_INPUT);
    assert!(msg.starts_with("upper: payload of"), "{msg}");
    let (code, msg, _) = call_into(id("echo"), &big, 16);
    assert_eq!(code, HB_INVALID_INPUT);
    assert!(msg.starts_with(b"echo: payload of"));
}

#[test]
fn ids_follow_the_listing() {
    // SAFETY: a static NUL-terminated string.
    let listing = unsafe { CStr::from_ptr(workloads(&TABLE)) }
        .to_str()
        .unwrap();
    assert_eq!(
        listing,
        "echo\nupper\ninvalid\nunsupported\npanic\npanic_into\nliar"
    );
    for (i, name) in listing.split('\n').enumerate() {
        assert_eq!(TABLE.by_id(i as u32).unwrap().name, name);
    }
    assert_eq!(workloads(&TABLE), workloads(&TABLE), "one static string");
}

#[test]
fn kernel_timing_is_opt_in_and_per_thread() {
    // A fresh thread: no other test's calls on it. Only this test turns timing on.
    std::thread::spawn(|| {
        assert_eq!(last_kernel_ns(), 0);
        call("upper", b"a");
        assert_eq!(last_kernel_ns(), 0, "timing is off by default");
        set_kernel_timing(1);
        call("upper", b"a");
        let ns = last_kernel_ns();
        assert!(ns >= 50_000, "the kernel sleeps 50 us: {ns}");
        call_into(id("echo"), b"abc", 8);
        let echo_ns = last_kernel_ns();
        assert!(echo_ns < ns, "run_into timed the copy kernel: {echo_ns}");
        call_into(id("upper"), b"a", 8);
        assert!(last_kernel_ns() >= 50_000);
        call("invalid", b"");
        assert!(last_kernel_ns() < 50_000, "errors are timed too");
        set_kernel_timing(0);
        call("upper", b"a");
        assert!(last_kernel_ns() < 50_000, "not recorded once off");
        std::thread::spawn(|| assert_eq!(last_kernel_ns(), 0))
            .join()
            .unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn static_strings() {
    // SAFETY: static NUL-terminated strings.
    unsafe {
        assert_eq!(CStr::from_ptr(version(&TABLE)), c"9.8.7");
        assert_eq!(CStr::from_ptr(library_name(&TABLE)), c"test-kernels");
    }
    assert_eq!(abi_version(), 2);
    assert_eq!(max_payload(), 64 * 1024 * 1024);
}
