//! Valid bodies of every workload, built from the specifications in `workloads/`.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// A finite double, from ordinary prices to the extremes.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL,
    ]
}

/// A price: a finite double small enough that no total of a generated document overflows
/// (at most 5 orders of 3 items of quantity 19: 285 terms, fewer than the 1024 the extremes
/// are divided by). A total that overflows is invalid input to the specification (JSON has
/// no infinity), so such a body would not be a valid one.
fn price() -> impl Strategy<Value = f64> {
    number().prop_map(|x| if x.abs() > 1e6 { x / 1024.0 } else { x })
}

fn order() -> impl Strategy<Value = Value> {
    (
        any::<i64>(),
        select(vec!["new", "paid", "shipped", "cancelled"]),
        select(vec!["gold", "silver", "Bronze", "Ünï", "t\"q\\", ""]),
        prop::collection::vec((0u32..20, price()), 0..4),
        prop::collection::vec(
            select(vec!["Gift", "ÉCOLE", "ΔΕΛΤΑ", "a\\b\u{1}", ""]),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(id, status, tier, items, tags, extra)| {
            let items: Vec<Value> = items
                .into_iter()
                .map(|(qty, price)| json!({"sku": "x", "qty": qty, "price": price}))
                .collect();
            let mut order = json!({"id": id, "status": status,
                                   "customer": {"id": 7, "tier": tier},
                                   "items": items, "tags": tags});
            if extra {
                order["total"] = json!(0);
                order["note"] = json!({"deep": [[1, {"k": null}]]});
            }
            order
        })
}

/// A valid `json` body (`workloads/json_orders.py`): a document of orders, compact or pretty.
pub fn json_document() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(order(), 0..6), any::<bool>()).prop_map(|(orders, pretty)| {
        let doc = json!({"meta": {"source": "fuzz"}, "orders": orders, "summary": null});
        if pretty {
            serde_json::to_vec_pretty(&doc).unwrap()
        } else {
            serde_json::to_vec(&doc).unwrap()
        }
    })
}

/// Offset of the metric columns of `n` points: `align8(16 + 14n)` (the specification's).
fn metrics_offset(n: usize) -> usize {
    (16 + 14 * n).div_ceil(8) * 8
}

/// A valid `timeseries` body (`workloads/timeseries.py`): `n` points of `m` metrics.
pub fn timeseries_batch() -> impl Strategy<Value = Vec<u8>> {
    (0usize..40, 2usize..5)
        .prop_flat_map(|(n, m)| {
            let timestamp = prop_oneof![
                4 => 1_767_225_600_000i64..1_767_229_200_000,
                1 => any::<i64>(),
            ];
            (
                prop::collection::vec(timestamp, n),
                prop::collection::vec(0u32..8, n),
                prop::collection::vec(prop_oneof![4 => 0u16..4, 1 => any::<u16>()], n),
                prop::collection::vec(number(), n * m),
                Just(m),
            )
        })
        .prop_map(|(timestamps, hosts, regions, metrics, m)| {
            let n = timestamps.len();
            let mut body = Vec::with_capacity(metrics_offset(n) + 8 * n * m);
            body.extend_from_slice(b"HBTS");
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&(m as u16).to_le_bytes());
            body.extend_from_slice(&(n as u32).to_le_bytes());
            body.extend_from_slice(&0u32.to_le_bytes());
            timestamps
                .iter()
                .for_each(|t| body.extend_from_slice(&t.to_le_bytes()));
            hosts
                .iter()
                .for_each(|h| body.extend_from_slice(&h.to_le_bytes()));
            regions
                .iter()
                .for_each(|r| body.extend_from_slice(&r.to_le_bytes()));
            body.resize(metrics_offset(n), 0);
            metrics
                .iter()
                .for_each(|v| body.extend_from_slice(&v.to_le_bytes()));
            body
        })
}

/// A valid `image` (and `thumbnail`) body: a small baseline JPEG of noise, chroma 4:2:0 (what
/// the workloads produce) or 4:4:4, at a quality from 50 to 95.
pub fn jpeg() -> impl Strategy<Value = Vec<u8>> {
    let sampling = select(vec![SamplingFactor::R_4_2_0, SamplingFactor::R_4_4_4]);
    (1u16..48, 1u16..48, any::<u64>(), 50u8..=95, sampling).prop_map(
        |(width, height, seed, quality, sampling)| {
            let mut state = seed | 1;
            let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 56) as u8
                })
                .collect();
            let mut out = Vec::new();
            let mut encoder = Encoder::new(&mut out, quality);
            encoder.set_sampling_factor(sampling);
            encoder
                .encode(&pixels, width, height, ColorType::Rgb)
                .expect("a small RGB image encodes");
            out
        },
    )
}

/// A valid `text` body (`workloads/text.py`): a batch of UTF-8 documents (any Unicode, empty
/// ones included) in the workload's framing.
pub fn text_batch() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(".{0,64}", 0..12).prop_map(|documents: Vec<String>| {
        let documents: Vec<&[u8]> = documents.iter().map(|d| d.as_bytes()).collect();
        text_frame(&documents)
    })
}

/// `documents` in the `text` framing: `HBTX`, version 1, flags 0, the count, the lengths, the
/// bytes (the documents need not be UTF-8: the kernels' error tests frame invalid ones too).
pub fn text_frame(documents: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"HBTX");
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(documents.len() as u32).to_le_bytes());
    for document in documents {
        body.extend_from_slice(&(document.len() as u32).to_le_bytes());
    }
    for document in documents {
        body.extend_from_slice(document);
    }
    body
}

/// Invalid `text` bodies, one per rule of the specification in its order of checks (framing,
/// then the first document that is not UTF-8), each with the exact message every engine gives.
pub fn text_errors() -> Vec<(Vec<u8>, &'static str)> {
    let good = text_frame(&[b"ab", b"c"]);
    let with = |at: usize, bytes: &[u8]| {
        let mut body = good.clone();
        body[at..at + bytes.len()].copy_from_slice(bytes);
        body
    };
    let mut no_table = good[..12].to_vec();
    no_table[8] = 3;
    vec![
        (
            b"HBTX".to_vec(),
            "text: 4 bytes is shorter than the 12-byte header",
        ),
        (
            b"XXXX\x01\0\0\0\0\0\0\0".to_vec(),
            "text: bad magic 58585858, expected 48425458 (\"HBTX\")",
        ),
        (with(4, &[2]), "text: unsupported version 2, expected 1"),
        (with(6, &[1]), "text: flags are 1, expected 0"),
        (
            with(8, &65537u32.to_le_bytes()),
            "text: 65537 documents exceed the limit of 65536 per batch",
        ),
        (
            no_table,
            "text: 12 bytes cannot hold the length table of 3 documents (24 bytes)",
        ),
        (
            good[..good.len() - 1].to_vec(),
            "text: expected 23 bytes for 2 documents of 3 bytes in all, got 22",
        ),
        (
            text_frame(&[b"fine", b"ok \xed\xa0\x80", b"\xff"]), // a lone surrogate
            "text: document 1 is not valid UTF-8 at byte 3",
        ),
        (
            text_frame(&[b"ab\xe2\x82"]), // truncated
            "text: document 0 is not valid UTF-8 at byte 2",
        ),
    ]
}
