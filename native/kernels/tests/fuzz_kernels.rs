//! Fuzzing every kernel (proptest): arbitrary bytes and mutations of valid bodies never panic
//! and never fail otherwise than as invalid input; valid bodies succeed.
//!
//! `PROPTEST_CASES=N cargo test --release --test fuzz_kernels` for a long run.

use hybridbench_kernels::{ErrorKind, KERNELS};
use hybridbench_testgen::{config, mutated_valid, valid_input};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Ok, or an invalid-input error: anything else (internal, unsupported, a panic) fails.
fn accepts_or_rejects(name: &str, input: &[u8]) -> Result<(), TestCaseError> {
    match KERNELS.run(name, input) {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::InvalidInput && !e.message.is_empty() => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!(
            "{name}: {:?} error on {} bytes: {}",
            e.kind,
            input.len(),
            e.message
        ))),
    }
}

#[test]
fn every_kernel_has_a_valid_input_generator() {
    for name in KERNELS.names() {
        drop(valid_input(name));
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..4096)) {
        for name in KERNELS.names() {
            accepts_or_rejects(name, &input)?;
        }
    }

    #[test]
    fn json_mutated((valid, mutated) in mutated_valid("json")) {
        prop_assert!(KERNELS.run("json", &valid).is_ok(), "{}", String::from_utf8_lossy(&valid));
        accepts_or_rejects("json", &mutated)?;
    }

    #[test]
    fn timeseries_mutated((valid, mutated) in mutated_valid("timeseries")) {
        prop_assert!(KERNELS.run("timeseries", &valid).is_ok());
        accepts_or_rejects("timeseries", &mutated)?;
    }

    #[test]
    fn text_mutated((valid, mutated) in mutated_valid("text")) {
        prop_assert!(KERNELS.run("text", &valid).is_ok(), "{:?}", valid);
        accepts_or_rejects("text", &mutated)?;
    }

    #[test]
    fn echo_mutated((valid, mutated) in mutated_valid("echo")) {
        prop_assert_eq!(KERNELS.run("echo", &valid).unwrap(), valid);
        accepts_or_rejects("echo", &mutated)?;
    }
}

proptest! {
    // a decode, a resize to 800x600 (or 256x256), a sharpen and an encode per case: fewer cases
    #![proptest_config(config(24))]

    #[test]
    fn image_mutated((valid, mutated) in mutated_valid("image")) {
        prop_assert!(KERNELS.run("image", &valid).is_ok());
        accepts_or_rejects("image", &mutated)?;
    }

    #[test]
    fn thumbnail_mutated((valid, mutated) in mutated_valid("thumbnail")) {
        prop_assert!(KERNELS.run("thumbnail", &valid).is_ok());
        accepts_or_rejects("thumbnail", &mutated)?;
    }
}
