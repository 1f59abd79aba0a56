//! Time the image kernel's steps (decode, resize, sharpen, encode) on a JPEG file:
//! `cargo run --release -p hybridbench-kernels --example image_breakdown -- FILE [ITERATIONS]`.
//! Prints the minimum and median of each step in ms.

use std::time::Instant;

use hybridbench_kernels::image;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: image_breakdown FILE [ITERATIONS]");
    let iterations: usize = args.next().map_or(10, |s| s.parse().expect("a count"));
    let input = std::fs::read(&path).expect("readable file");
    let mut times = vec![Vec::new(); 4];
    for _ in 0..iterations {
        let t0 = Instant::now();
        let decoded = image::decode(&input).expect("a JPEG");
        let t1 = Instant::now();
        let resized = image::resize(decoded).expect("resizable");
        let t2 = Instant::now();
        let sharpened = image::sharpen(&resized);
        let t3 = Instant::now();
        std::hint::black_box(image::encode(&sharpened).expect("encodable"));
        let t4 = Instant::now();
        for (v, (a, b)) in times
            .iter_mut()
            .zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4)])
        {
            v.push((b - a).as_secs_f64() * 1e3);
        }
    }
    if std::env::var_os("TURBO").is_some() {
        let mut v: Vec<f64> = (0..iterations)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(
                    turbojpeg::decompress(&input, turbojpeg::PixelFormat::RGB).expect("a JPEG"),
                );
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "turbojpeg decode: min {:8.3} ms  median {:8.3} ms",
            v[0],
            v[v.len() / 2]
        );
    }
    for (name, mut v) in ["decode", "resize", "sharpen", "encode"]
        .into_iter()
        .zip(times)
    {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{name:>8}: min {:8.3} ms  median {:8.3} ms",
            v[0],
            v[v.len() / 2]
        );
    }
}
