//! `echo`: the response body is the request body, byte for byte.

use std::mem::MaybeUninit;

use crate::{check_payload_size, Result};

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("echo", input.len())?;
    Ok(input.to_vec())
}

/// The C ABI's fast path: copy the input straight into the caller's buffer, no allocation.
pub fn run_into(input: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
    check_payload_size("echo", input.len())?;
    Ok(hybridbench_sdk::copy_into(dst, input))
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    #[test]
    fn returns_its_input() {
        assert_eq!(super::run(b"").unwrap(), b"");
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(super::run(&data).unwrap(), data);
    }

    #[test]
    fn run_into_copies_what_fits() {
        let mut dst = [MaybeUninit::new(0u8); 4];
        assert_eq!(super::run_into(b"abc", &mut dst).unwrap(), Some(3));
        assert_eq!(dst.map(|b| unsafe { b.assume_init() }), *b"abc\0");
        assert_eq!(super::run_into(b"abcde", &mut dst).unwrap(), None);
    }
}
