//! What the fuzz targets share: the run length, mutations, and valid inputs of every kernel.
//!
//! Brief by default (CI: a few seconds a target); `PROPTEST_CASES=N` runs N cases a target
//! (README, "Fuzzing"). Failures are not persisted to files: a failure found is turned into a
//! named regression test beside the target.

#![allow(dead_code)] // each test crate uses its part

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

use hybridbench_kernels::image::{encode, Rgb};
use hybridbench_kernels::timeseries::metrics_offset;

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

/// One change to a valid body.
#[derive(Clone, Debug)]
pub enum Edit {
    Replace(Index, u8),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Truncate(Index),
}

/// Bytes that mean something to a parser (JSON grammar, digits, UTF-8 lead bytes), or any.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        select(b"{}[],:\"\\/0123456789-+.eEtrufalsn \n\xc3\xe2\xf0\x80\x00".to_vec()),
    ]
}

/// A few edits, mostly same-length replacements (a fixed layout then gets past its length
/// check).
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
        1 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), prop::collection::vec(interesting_byte(), 1..16))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..8)
}

pub fn mutate(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    for edit in edits {
        match edit {
            Edit::Replace(i, b) => {
                if !data.is_empty() {
                    let p = at(i, data.len());
                    data[p] = *b;
                }
            }
            Edit::Delete(i, n) => {
                let p = at(i, data.len());
                let end = (p + n).min(data.len());
                data.drain(p..end);
            }
            Edit::Insert(i, bytes) => {
                let p = at(i, data.len() + 1);
                data.splice(p..p, bytes.iter().copied());
            }
            Edit::Truncate(i) => data.truncate(at(i, data.len() + 1)),
        }
    }
    data
}

/// A finite double, from ordinary prices to the extremes.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL,
    ]
}

fn order() -> impl Strategy<Value = Value> {
    (
        any::<i64>(),
        select(vec!["new", "paid", "shipped", "cancelled"]),
        select(vec!["gold", "silver", "Bronze", "Ünï", "t\"q\\", ""]),
        prop::collection::vec((0u32..20, number()), 0..4),
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

/// A valid `json` body: a document of orders, compact or pretty.
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

/// A valid `image` body: a small JPEG of noise.
pub fn jpeg() -> impl Strategy<Value = Vec<u8>> {
    (1u32..48, 1u32..48, any::<u64>()).prop_map(|(width, height, seed)| {
        let mut state = seed | 1;
        let pixels = (0..width * height * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        encode(&Rgb {
            width,
            height,
            pixels,
        })
        .expect("a small RGB image encodes")
    })
}

/// A valid `text` body: a batch of UTF-8 documents (any Unicode, empty ones included) in the
/// workload's framing: `HBTX`, version 1, flags 0, the count, the lengths, the bytes.
pub fn text_batch() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(".{0,64}", 0..12).prop_map(|documents: Vec<String>| {
        let mut body = Vec::new();
        body.extend_from_slice(b"HBTX");
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(documents.len() as u32).to_le_bytes());
        for document in &documents {
            body.extend_from_slice(&(document.len() as u32).to_le_bytes());
        }
        for document in &documents {
            body.extend_from_slice(document.as_bytes());
        }
        body
    })
}

/// Valid bodies of the kernel `name`: every kernel of the table needs a generator here.
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
