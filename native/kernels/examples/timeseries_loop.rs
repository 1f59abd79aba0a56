//! Run the timeseries kernel on a batch file in a loop, for `perf stat` / `perf record`:
//! `cargo run --release -p hybridbench-kernels --example timeseries_loop -- FILE [ITERATIONS]`.
//! The file is a request body (`hybridbench.make_input("timeseries", "100k")` written out).
//! Prints the minimum and median of the whole run in ms.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: timeseries_loop FILE [ITERATIONS]");
    let iterations: usize = args.next().map_or(1000, |s| s.parse().expect("a count"));
    let input = std::fs::read(&path).expect("readable file");
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t0 = Instant::now();
        let out = hybridbench_kernels::timeseries::run(&input).expect("a valid batch");
        std::hint::black_box(out);
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "timeseries {} ({} runs): min {:.3} ms, median {:.3} ms",
        path,
        iterations,
        times[0],
        times[times.len() / 2]
    );
}
