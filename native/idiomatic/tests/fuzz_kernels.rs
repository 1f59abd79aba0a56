//! Fuzzing every idiomatic kernel (proptest): arbitrary bytes and mutations of valid bodies never
//! panic and never fail otherwise than as invalid input; valid bodies succeed.
//!
//! Brief by default (a few seconds); `PROPTEST_CASES=N cargo test --release -p
//! hybridbench-idiomatic --test fuzz_kernels` runs N cases a target (README, "Fuzzing").

use hybridbench_idiomatic::{jpeg, ErrorKind, KERNELS};
use image::RgbImage;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;
use serde_json::json;

/// Cases per target: `brief` unless `PROPTEST_CASES` says how many.
fn config(brief: u32) -> ProptestConfig {
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

/// Ok, or an invalid-input error with a message: anything else (internal, a panic) fails.
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

/// A few edits: bytes replaced (mostly: a fixed layout then gets past its length check),
/// deleted or inserted, or the body cut short.
fn edits() -> impl Strategy<Value = Vec<(u8, Index, Vec<u8>)>> {
    let byte = prop_oneof![
        any::<u8>(),
        select(b"{}[],:\"\\0123456789-+.eEtrufalsn \xc3\xff\xd8\xd9\x00".to_vec())
    ];
    let edit = (0u8..7, any::<Index>(), prop::collection::vec(byte, 1..8));
    prop::collection::vec(edit, 1..6)
}

fn mutate(mut data: Vec<u8>, edits: &[(u8, Index, Vec<u8>)]) -> Vec<u8> {
    for (kind, at, bytes) in edits {
        let at = at.index(data.len() + 1);
        match kind {
            0..=3 if at < data.len() => data[at] = bytes[0],
            4 => data.splice(at..at, bytes.iter().copied()).for_each(drop),
            5 => data
                .drain(at..(at + bytes.len()).min(data.len()))
                .for_each(drop),
            6 => data.truncate(at),
            _ => {}
        }
    }
    data
}

fn json_document() -> impl Strategy<Value = Vec<u8>> {
    let order = (
        any::<i64>(),
        select(vec!["paid", "cancelled", "new"]),
        select(vec!["gold", "Ünï", "t\"q\\", ""]),
        prop::collection::vec((0u32..20, -1e6f64..1e6), 0..4),
        prop::collection::vec(select(vec!["Gift", "ÉCOLE", "ΔΕΛΤΑ", ""]), 0..3),
    )
        .prop_map(|(id, status, tier, items, tags)| {
            let items: Vec<_> = items
                .into_iter()
                .map(|(qty, price)| json!({"sku": "x", "qty": qty, "price": price}))
                .collect();
            json!({"id": id, "status": status, "customer": {"tier": tier}, "items": items,
                   "tags": tags, "note": {"deep": [[1, {"k": null}]]}})
        });
    prop::collection::vec(order, 0..5).prop_map(|orders| {
        serde_json::to_vec(&json!({"meta": {"m": 1}, "orders": orders})).unwrap()
    })
}

fn timeseries_batch() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (any::<i64>(), 0u32..8, 0u16..4, -1e6f64..1e6, 0f64..1e3),
        0..40,
    )
    .prop_map(|points| {
        let n = points.len();
        let mut body = b"HBTS".to_vec();
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&(n as u32).to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.0.to_le_bytes()));
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.1.to_le_bytes()));
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.2.to_le_bytes()));
        body.resize((16 + 14 * n).div_ceil(8) * 8, 0);
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.3.to_le_bytes()));
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.4.to_le_bytes()));
        body
    })
}

/// A small JPEG of noise.
fn jpeg_image() -> impl Strategy<Value = Vec<u8>> {
    (1u32..48, 1u32..48, any::<u64>()).prop_map(|(width, height, seed)| {
        let mut state = seed | 1;
        let image = RgbImage::from_fn(width, height, |_, _| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            };
            image::Rgb([next(), next(), next()])
        });
        jpeg::encode(&image, 90, "fuzz").expect("a small RGB image encodes")
    })
}

fn valid_input(name: &str) -> BoxedStrategy<Vec<u8>> {
    match name {
        "json" => json_document().boxed(),
        "timeseries" => timeseries_batch().boxed(),
        "image" | "thumbnail" => jpeg_image().boxed(),
        "echo" => prop::collection::vec(any::<u8>(), 0..4096).boxed(),
        other => panic!("no valid-input generator for the kernel {other:?}: add one"),
    }
}

fn mutated_valid(name: &'static str) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (valid_input(name), edits()).prop_map(|(valid, edits)| {
        let mutated = mutate(valid.clone(), &edits);
        (valid, mutated)
    })
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
    fn arbitrary_bytes_after_a_jpeg_header(tail in prop::collection::vec(any::<u8>(), 0..4096)) {
        let input = [&[0xFF, 0xD8, 0xFF][..], &tail].concat();
        accepts_or_rejects("image", &input)?;
        accepts_or_rejects("thumbnail", &input)?;
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
    fn echo_mutated((valid, mutated) in mutated_valid("echo")) {
        prop_assert_eq!(KERNELS.run("echo", &valid).unwrap(), valid);
        accepts_or_rejects("echo", &mutated)?;
    }
}

proptest! {
    // a decode, a resize and an encode per case: fewer cases
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
