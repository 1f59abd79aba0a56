//! `timeseries`: aggregate a columnar batch by (region, 1-minute window), plus per-host
//! maxima (see `workloads/timeseries.py` for the binary layouts and the semantics).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::{check_payload_size, KernelError, Result};

pub const MAGIC_IN: &[u8; 4] = b"HBTS";
pub const MAGIC_OUT: &[u8; 4] = b"HBTA";
pub const VERSION: u16 = 1;
pub const WINDOW_MS: i64 = 60_000;
pub const GROUP_RECORD: usize = 48;
pub const HOST_RECORD: usize = 16;

/// Offset of the metric columns: `align8(16 + 14n)`.
pub fn metrics_offset(n: usize) -> usize {
    (16 + 14 * n).div_ceil(8) * 8
}

pub fn expected_length(n: usize, m: usize) -> usize {
    metrics_offset(n) + 8 * n * m
}

/// 1-based nearest rank of the 95th percentile: `ceil(0.95 * count)` in integers.
pub fn p95_rank(count: usize) -> usize {
    (95 * count).div_ceil(100)
}

/// Multiplicative hashing (FxHash's constant) for small integer keys: much cheaper than SipHash
/// and fine for data that is not adversarial to the hash function's quality.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[inline]
fn le_i64(b: &[u8]) -> i64 {
    i64::from_le_bytes(b.try_into().expect("8 bytes"))
}
#[inline]
fn le_f64(b: &[u8]) -> f64 {
    f64::from_le_bytes(b.try_into().expect("8 bytes"))
}

/// Check the header and length; return `(n, m)`.
pub fn parse_header(input: &[u8]) -> Result<(usize, usize)> {
    check_payload_size("timeseries", input.len())?;
    if input.len() < 16 {
        return Err(KernelError::invalid(format!(
            "timeseries: {} bytes is shorter than the 16-byte header",
            input.len()
        )));
    }
    if &input[0..4] != MAGIC_IN {
        return Err(KernelError::invalid(format!(
            "timeseries: bad magic {:?}, expected \"HBTS\"",
            String::from_utf8_lossy(&input[0..4])
        )));
    }
    let version = u16::from_le_bytes([input[4], input[5]]);
    if version != VERSION {
        return Err(KernelError::invalid(format!(
            "timeseries: unsupported version {version}, expected {VERSION}"
        )));
    }
    let m = usize::from(u16::from_le_bytes([input[6], input[7]]));
    if m < 2 {
        return Err(KernelError::invalid(format!(
            "timeseries: {m} metric columns, at least 2 are needed"
        )));
    }
    let n = u32::from_le_bytes([input[8], input[9], input[10], input[11]]) as usize;
    let expected = expected_length(n, m);
    if input.len() != expected {
        return Err(KernelError::invalid(format!(
            "timeseries: expected {expected} bytes for {n} points and {m} metrics, got {} \
             (truncated or misaligned batch)",
            input.len()
        )));
    }
    Ok((n, m))
}

struct Group {
    count: u32,
    sum: f64,
    min: f64,
    max: f64,
    latencies: Vec<f64>,
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let (n, m) = parse_header(input)?;
    let ts = &input[16..16 + 8 * n];
    let hosts = &input[16 + 8 * n..16 + 12 * n];
    let regions = &input[16 + 12 * n..16 + 14 * n];
    let start = metrics_offset(n);
    let column = |k: usize| &input[start + 8 * n * k..start + 8 * n * (k + 1)];

    // Reject NaN/inf first, in (metric, point) order, so the first offender is reported.
    for k in 0..m {
        for (i, chunk) in column(k).chunks_exact(8).enumerate() {
            let v = le_f64(chunk);
            if !v.is_finite() {
                let kind = if v.is_nan() { "NaN" } else { "infinite" };
                return Err(KernelError::invalid(format!(
                    "timeseries: metric {k} of point {i} is {kind}"
                )));
            }
        }
    }
    let cpu = column(0);
    let latency = column(1);

    let mut group_of: FxMap<(u16, i64), u32> = FxMap::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut host_of: FxMap<u32, (u32, f64)> = FxMap::default();
    let mut last_key: Option<((u16, i64), u32)> = None;
    for i in 0..n {
        let t = le_i64(&ts[8 * i..8 * i + 8]);
        let host = u32::from_le_bytes(hosts[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let region = u16::from_le_bytes([regions[2 * i], regions[2 * i + 1]]);
        let c = le_f64(&cpu[8 * i..8 * i + 8]);
        let l = le_f64(&latency[8 * i..8 * i + 8]);
        let key = (region, t.div_euclid(WINDOW_MS));
        let g = match last_key {
            Some((k, g)) if k == key => g,
            _ => {
                let next = groups.len() as u32;
                let g = *group_of.entry(key).or_insert(next);
                if g == next {
                    groups.push(Group {
                        count: 0,
                        sum: 0.0,
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                        latencies: Vec::new(),
                    });
                }
                last_key = Some((key, g));
                g
            }
        };
        let group = &mut groups[g as usize];
        group.count += 1;
        group.sum += c;
        group.min = group.min.min(c);
        group.max = group.max.max(c);
        group.latencies.push(l);
        let entry = host_of.entry(host).or_insert((0, f64::NEG_INFINITY));
        entry.0 += 1;
        entry.1 = entry.1.max(c);
    }

    let mut keys: Vec<((u16, i64), u32)> = group_of.into_iter().collect();
    keys.sort_unstable_by_key(|&(k, _)| k);
    let mut host_rows: Vec<(u32, (u32, f64))> = host_of.into_iter().collect();
    host_rows.sort_unstable_by_key(|&(h, _)| h);

    let mut out =
        Vec::with_capacity(16 + GROUP_RECORD * keys.len() + HOST_RECORD * host_rows.len());
    out.extend_from_slice(MAGIC_OUT);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    out.extend_from_slice(&(host_rows.len() as u32).to_le_bytes());
    for ((region, window), g) in keys {
        let group = &mut groups[g as usize];
        let count = group.count as usize;
        let rank = p95_rank(count) - 1;
        let (_, p95, _) = group.latencies.select_nth_unstable_by(rank, f64::total_cmp);
        let p95 = *p95;
        out.extend_from_slice(&window.to_le_bytes());
        out.extend_from_slice(&region.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&group.count.to_le_bytes());
        out.extend_from_slice(&(group.sum / count as f64).to_le_bytes());
        out.extend_from_slice(&group.min.to_le_bytes());
        out.extend_from_slice(&group.max.to_le_bytes());
        out.extend_from_slice(&p95.to_le_bytes());
    }
    for (host, (count, max)) in host_rows {
        out.extend_from_slice(&host.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&max.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// Lay out a batch; `metrics[k][i]` is metric k of point i.
    fn batch(ts: &[i64], host: &[u32], region: &[u16], metrics: &[Vec<f64>]) -> Vec<u8> {
        let n = ts.len();
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC_IN);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(metrics.len() as u16).to_le_bytes());
        b.extend_from_slice(&(n as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        ts.iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        host.iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        region
            .iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b.resize(metrics_offset(n), 0);
        metrics
            .iter()
            .flatten()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b
    }

    fn err(input: &[u8]) -> String {
        let e = run(input).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        e.message
    }

    #[test]
    fn aggregates_by_region_and_window() {
        // two points in window -1 (negative timestamps floor), three in window 1, region 2
        let ts = [-1, -60_000, 60_000, 119_999, 60_001];
        let host = [7, 3, 7, 7, 3];
        let region = [2, 2, 2, 2, 1];
        let cpu = vec![10.0, 20.0, 30.0, 50.0, 5.0];
        let lat = vec![1.0, 2.0, 3.0, 4.0, 9.0];
        let out = run(&batch(&ts, &host, &region, &[cpu, lat])).unwrap();
        assert_eq!(&out[..4], b"HBTA");
        let g = u32::from_le_bytes(out[8..12].try_into().unwrap()) as usize;
        let h = u32::from_le_bytes(out[12..16].try_into().unwrap()) as usize;
        assert_eq!((g, h), (3, 2));
        assert_eq!(out.len(), 16 + 48 * g + 16 * h);
        let rec = |i: usize| &out[16 + 48 * i..16 + 48 * (i + 1)];
        let f = |r: &[u8], o: usize| le_f64(&r[o..o + 8]);
        // sorted by region then window: (1, 1), (2, -1), (2, 1)
        assert_eq!(le_i64(&rec(0)[0..8]), 1);
        assert_eq!(u16::from_le_bytes([rec(0)[8], rec(0)[9]]), 1);
        assert_eq!(le_i64(&rec(1)[0..8]), -1);
        assert_eq!(u32::from_le_bytes(rec(1)[12..16].try_into().unwrap()), 2);
        assert_eq!(
            (f(rec(1), 16), f(rec(1), 24), f(rec(1), 32), f(rec(1), 40)),
            (15.0, 10.0, 20.0, 2.0)
        );
        assert_eq!((f(rec(2), 16), f(rec(2), 40)), (40.0, 4.0));
        let host0 = &out[16 + 48 * 3..16 + 48 * 3 + 16];
        assert_eq!(u32::from_le_bytes(host0[0..4].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(host0[4..8].try_into().unwrap()), 2);
        assert_eq!(f(host0, 8), 20.0);
    }

    #[test]
    fn nearest_rank_p95() {
        assert_eq!(p95_rank(1), 1);
        assert_eq!(p95_rank(20), 19);
        assert_eq!(p95_rank(21), 20);
        assert_eq!(p95_rank(100), 95);
        let n = 40;
        let ts = vec![0i64; n];
        let lat: Vec<f64> = (0..n).rev().map(|i| i as f64).collect();
        let out = run(&batch(&ts, &vec![0; n], &vec![0; n], &[vec![1.0; n], lat])).unwrap();
        assert_eq!(le_f64(&out[16 + 40..16 + 48]), 37.0); // rank 38 of 0..39
    }

    #[test]
    fn empty_batch() {
        let out = run(&batch(&[], &[], &[], &[vec![], vec![]])).unwrap();
        assert_eq!(out.len(), 16);
    }

    #[test]
    fn rejects_bad_input() {
        let good = batch(&[1, 2], &[0, 1], &[0, 0], &[vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert!(run(&good).is_ok());
        assert!(err(&good[..10]).contains("shorter than the 16-byte header"));
        assert!(err(&good[..good.len() - 1]).contains("expected 80 bytes"));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(err(&bad).contains("bad magic"));
        let mut bad = good.clone();
        bad[4] = 2;
        assert!(err(&bad).contains("unsupported version 2"));
        let mut bad = good.clone();
        bad[6] = 1;
        assert!(err(&bad).contains("at least 2"));
        let nan = batch(
            &[1, 2],
            &[0, 1],
            &[0, 0],
            &[vec![1.0, 2.0], vec![3.0, f64::NAN]],
        );
        assert_eq!(err(&nan), "timeseries: metric 1 of point 1 is NaN");
        let inf = batch(
            &[1, 2],
            &[0, 1],
            &[0, 0],
            &[vec![f64::NEG_INFINITY, 2.0], vec![3.0, 4.0]],
        );
        assert_eq!(err(&inf), "timeseries: metric 0 of point 0 is infinite");
    }
}
