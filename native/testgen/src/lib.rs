//! What the kernel crates' fuzz suites share: the run length, mutations of a body, and a
//! generator of valid bodies for every workload (`workloads/<name>.py` specifies each).
//!
//! A dev-dependency of `hybridbench-kernels` and `hybridbench-idiomatic`, and of no kernel
//! crate itself: a test binary linking two kernel crates would hold the SDK's C-ABI exports
//! (`hb_abi_version`...) twice. So nothing here calls a kernel; the generators build their
//! bodies from the specifications (the JPEGs with `jpeg-encoder`).
//!
//! Brief by default (CI: a few seconds a target); `PROPTEST_CASES=N` runs N cases a target
//! (README, "Fuzzing"). Failures are not persisted to files: a failure found is turned into a
//! named regression test beside the target.

mod inputs;
mod mutations;

use proptest::prelude::*;

pub use inputs::{jpeg, json_document, text_batch, text_errors, text_frame, timeseries_batch};
pub use mutations::{edits, mutate, Edit};

/// Cases per target: `brief` unless `PROPTEST_CASES` says how many.
pub fn config(brief: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(brief);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Valid bodies of the kernel `name`: every kernel of a table needs a generator here.
pub fn valid_input(name: &str) -> BoxedStrategy<Vec<u8>> {
    match name {
        "json" => json_document().boxed(),
        "image" | "thumbnail" => jpeg().boxed(),
        "timeseries" => timeseries_batch().boxed(),
        "echo" => prop::collection::vec(any::<u8>(), 0..4096).boxed(),
        "text" => text_batch().boxed(),
        other => panic!("no valid-input generator for the kernel {other:?}: add one"),
    }
}

/// A valid body of `name` and a mutation of it.
pub fn mutated_valid(name: &str) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (valid_input(name), edits()).prop_map(|(valid, edits)| {
        let mutated = mutate(valid.clone(), &edits);
        (valid, mutated)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn sample(name: &str) -> Vec<u8> {
        let mut runner = TestRunner::deterministic();
        valid_input(name)
            .new_tree(&mut runner)
            .expect("a value")
            .current()
    }

    #[test]
    fn every_generator_starts_its_body_with_the_workloads_magic() {
        assert!(sample("timeseries").starts_with(b"HBTS\x01\x00"));
        assert!(sample("text").starts_with(b"HBTX\x01\x00\x00\x00"));
        assert!(sample("image").starts_with(&[0xFF, 0xD8]));
        assert!(sample("json").starts_with(b"{"));
    }

    #[test]
    fn no_json_document_has_a_total_that_overflows() {
        // the largest price of the generator, in the most items a document can hold
        assert!((f64::MAX / 1024.0 * 285.0).is_finite());
        let mut runner = TestRunner::deterministic();
        for _ in 0..2000 {
            let body = json_document().new_tree(&mut runner).unwrap().current();
            let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let revenue: f64 = doc["orders"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|order| order["items"].as_array().unwrap())
                .map(|item| item["qty"].as_f64().unwrap() * item["price"].as_f64().unwrap())
                .map(f64::abs)
                .sum();
            assert!(revenue.is_finite(), "{}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    #[should_panic(expected = "no valid-input generator")]
    fn an_unknown_kernel_has_no_generator() {
        drop(valid_input("nonesuch"));
    }
}
