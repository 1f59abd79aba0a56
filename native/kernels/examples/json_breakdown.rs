//! Time the json kernel's phases (parse, transform, serialize) and the whole run on a file:
//! `cargo run --release -p hybridbench-kernels --example json_breakdown -- FILE [ITERATIONS]`.
//! Prints the minimum and median of each phase in ms and the whole run's throughput in MB/s,
//! and for scale a reference: serde_json's validating pass over the same bytes into
//! `IgnoredAny` (no values kept; with this crate's dev features, `float_roundtrip` included).
//! simdjson's own parse of the file: `scripts/json_floor.cpp`.

use std::time::Instant;

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[0], v[v.len() / 2])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: json_breakdown FILE [ITERATIONS]");
    let iterations: usize = args.next().map_or(30, |s| s.parse().expect("a count"));
    let input = std::fs::read(&path).expect("readable file");
    let (mut parse, mut transform, mut serialize, mut whole) = (vec![], vec![], vec![], vec![]);
    let mut reference = vec![];
    for _ in 0..iterations {
        let t0 = Instant::now();
        let doc = hybridbench_kernels::json::parse(&input).expect("valid document");
        let t1 = Instant::now();
        let plan = hybridbench_kernels::json::transform(&doc).expect("valid orders");
        let t2 = Instant::now();
        let out = hybridbench_kernels::json::serialize(&doc, &plan);
        let t3 = Instant::now();
        drop(doc);
        std::hint::black_box(out);
        let t4 = Instant::now();
        hybridbench_kernels::json::run(&input).expect("valid document");
        let t5 = Instant::now();
        parse.push((t1 - t0).as_secs_f64() * 1e3);
        transform.push((t2 - t1).as_secs_f64() * 1e3);
        serialize.push((t3 - t2).as_secs_f64() * 1e3);
        whole.push((t5 - t4).as_secs_f64() * 1e3);
        let t6 = Instant::now();
        let _: serde::de::IgnoredAny = serde_json::from_slice(&input).expect("valid JSON");
        reference.push(t6.elapsed().as_secs_f64() * 1e3);
    }
    let mb = input.len() as f64 / (1024.0 * 1024.0);
    for (name, v) in [
        ("parse", parse),
        ("transform", transform),
        ("serialize", serialize),
        ("run", whole),
        ("serde_json IgnoredAny", reference),
    ] {
        let (min, med) = stats(v);
        println!(
            "{name:>21}: min {min:8.3} ms  median {med:8.3} ms  ({:7.1} MB/s at the median)",
            mb / (med / 1e3)
        );
    }
}
