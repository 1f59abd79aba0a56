//! `timeseries`: aggregate a columnar batch by (region, 1-minute window), plus per-host counts
//! and maxima (see `workloads/timeseries.py` for the layouts and the semantics).
//!
//! Idiomatic: the columns are read into `Vec`s, groups are accumulated in a std `HashMap`
//! (SipHash) keyed by `(region, window)`, each keeping its latencies for the p95, and the
//! groups and hosts are sorted with `sort_unstable_by_key` at the end. A group whose cpu sum
//! overflows (finite values beyond the double range) is summed again scaled, as the spec says.

use std::collections::HashMap;

use crate::{check_payload_size, KernelError, Result};

const MAGIC_IN: &[u8] = b"HBTS";
const MAGIC_OUT: &[u8] = b"HBTA";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 16;
const WINDOW_MS: i64 = 60_000;
/// The mean's overflow fallback (spec, "Aggregation"): sum the values times 2^-64, scale the
/// mean back by 2^64.
const RESCALE_UP: f64 = 18_446_744_073_709_551_616.0;
const RESCALE_DOWN: f64 = 1.0 / RESCALE_UP;

/// Offset of the metric columns: `align8(16 + 14n)`.
fn metrics_offset(n: usize) -> usize {
    (HEADER_LEN + 14 * n).div_ceil(8) * 8
}

/// The batch, decoded into columns (metric 0 is cpu, metric 1 latency; the rest are unused).
struct Batch {
    timestamps: Vec<i64>,
    hosts: Vec<u32>,
    regions: Vec<u16>,
    cpu: Vec<f64>,
    latency: Vec<f64>,
}

#[derive(Default)]
struct Group {
    count: u32,
    sum: f64,
    /// whether `sum` is of the values times `RESCALE_DOWN` (the overflow fallback)
    rescaled: bool,
    min: f64,
    max: f64,
    latencies: Vec<f64>,
}

impl Group {
    fn mean(&self) -> f64 {
        let mean = self.sum / f64::from(self.count);
        if self.rescaled {
            // clamped: near the double limit, rounding past max would scale back to infinity
            (mean * RESCALE_UP).clamp(self.min, self.max)
        } else {
            mean
        }
    }
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let batch = parse(input)?;
    let mut groups: HashMap<(u16, i64), Group> = HashMap::new();
    let mut hosts: HashMap<u32, (u32, f64)> = HashMap::new();
    for i in 0..batch.timestamps.len() {
        let (cpu, latency) = (batch.cpu[i], batch.latency[i]);
        let window = batch.timestamps[i].div_euclid(WINDOW_MS);
        let group = groups
            .entry((batch.regions[i], window))
            .or_insert_with(|| Group {
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                ..Group::default()
            });
        group.count += 1;
        group.sum += cpu;
        group.min = group.min.min(cpu);
        group.max = group.max.max(cpu);
        group.latencies.push(latency);
        let host = hosts
            .entry(batch.hosts[i])
            .or_insert((0, f64::NEG_INFINITY));
        host.0 += 1;
        host.1 = host.1.max(cpu);
    }
    // an overflow leaves an infinity or a NaN in a sum: a finite sum proves none happened
    if groups.values().any(|group| !group.sum.is_finite()) {
        rescale_overflowed_sums(&mut groups, &batch);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_unstable_by_key(|&(key, _)| key);
    let mut hosts: Vec<_> = hosts.into_iter().collect();
    hosts.sort_unstable_by_key(|&(host, _)| host);
    Ok(serialize(groups, &hosts))
}

/// Sum again, times 2^-64, the cpu of the groups whose sum overflowed (exact for every value
/// that matters to such a sum; `Group::mean` scales back).
fn rescale_overflowed_sums(groups: &mut HashMap<(u16, i64), Group>, batch: &Batch) {
    for group in groups.values_mut().filter(|group| !group.sum.is_finite()) {
        group.sum = 0.0;
        group.rescaled = true;
    }
    for i in 0..batch.timestamps.len() {
        let key = (batch.regions[i], batch.timestamps[i].div_euclid(WINDOW_MS));
        let group = groups.get_mut(&key).expect("every point's group exists");
        if group.rescaled {
            group.sum += batch.cpu[i] * RESCALE_DOWN;
        }
    }
}

fn serialize(groups: Vec<((u16, i64), Group)>, hosts: &[(u32, (u32, f64))]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 48 * groups.len() + 16 * hosts.len());
    out.extend_from_slice(MAGIC_OUT);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
    out.extend_from_slice(&(hosts.len() as u32).to_le_bytes());
    for ((region, window), mut group) in groups {
        group.latencies.sort_unstable_by(f64::total_cmp);
        let rank = (95 * group.latencies.len()).div_ceil(100); // 1-based nearest rank
        out.extend_from_slice(&window.to_le_bytes());
        out.extend_from_slice(&region.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&group.count.to_le_bytes());
        out.extend_from_slice(&group.mean().to_le_bytes());
        out.extend_from_slice(&group.min.to_le_bytes());
        out.extend_from_slice(&group.max.to_le_bytes());
        out.extend_from_slice(&group.latencies[rank - 1].to_le_bytes());
    }
    for &(host, (count, max)) in hosts {
        out.extend_from_slice(&host.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&max.to_le_bytes());
    }
    out
}

/// Check the header, the length and every metric value; decode the columns used.
fn parse(input: &[u8]) -> Result<Batch> {
    let n = parse_header(input)?;
    let mut metrics: Vec<f64> = column(&input[metrics_offset(n)..], f64::from_le_bytes);
    if let Some(at) = metrics.iter().position(|v| !v.is_finite()) {
        let kind = if metrics[at].is_nan() {
            "NaN"
        } else {
            "infinite"
        };
        return Err(KernelError::invalid(format!(
            "timeseries: metric {} of point {} is {kind}",
            at / n,
            at % n
        )));
    }
    metrics.truncate(2 * n);
    let latency = metrics.split_off(n);
    Ok(Batch {
        timestamps: column(&input[HEADER_LEN..HEADER_LEN + 8 * n], i64::from_le_bytes),
        hosts: column(
            &input[HEADER_LEN + 8 * n..HEADER_LEN + 12 * n],
            u32::from_le_bytes,
        ),
        regions: column(
            &input[HEADER_LEN + 12 * n..HEADER_LEN + 14 * n],
            u16::from_le_bytes,
        ),
        cpu: metrics,
        latency,
    })
}

/// Little-endian values of `N` bytes each.
fn column<T, const N: usize>(bytes: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|chunk| from_le(chunk.try_into().expect("chunks of N bytes")))
        .collect()
}

/// Check everything but the metric values; return `n`, the number of points.
fn parse_header(input: &[u8]) -> Result<usize> {
    check_payload_size("timeseries", input.len())?;
    let invalid = |message: String| Err(KernelError::invalid(format!("timeseries: {message}")));
    if input.len() < HEADER_LEN {
        return invalid(format!(
            "{} bytes is shorter than the 16-byte header",
            input.len()
        ));
    }
    let u16_at = |at: usize| u16::from_le_bytes([input[at], input[at + 1]]);
    if &input[..4] != MAGIC_IN {
        let magic = String::from_utf8_lossy(&input[..4]);
        return invalid(format!("bad magic {magic:?}, expected \"HBTS\""));
    }
    let version = u16_at(4);
    if version != VERSION {
        return invalid(format!("unsupported version {version}, expected {VERSION}"));
    }
    let m = usize::from(u16_at(6));
    if m < 2 {
        return invalid(format!("{m} metric columns, at least 2 are needed"));
    }
    let n = u32::from_le_bytes(input[8..12].try_into().expect("4 bytes")) as usize;
    let expected = metrics_offset(n) + 8 * n * m;
    if input.len() != expected {
        return invalid(format!(
            "expected {expected} bytes for {n} points and {m} metrics, got {} (truncated or \
             misaligned batch)",
            input.len()
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(points: &[(i64, u32, u16, f64, f64)]) -> Vec<u8> {
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
        body.resize(metrics_offset(n), 0);
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.3.to_le_bytes()));
        points
            .iter()
            .for_each(|p| body.extend_from_slice(&p.4.to_le_bytes()));
        body
    }

    fn f64_at(out: &[u8], at: usize) -> f64 {
        f64::from_le_bytes(out[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn groups_by_region_and_floored_window_with_nearest_rank_p95() {
        let out = run(&batch(&[
            (-1, 7, 1, 10.0, 5.0),
            (59_999, 3, 0, 30.0, 1.0),
            (0, 3, 0, 20.0, 2.0),
        ]))
        .unwrap();
        assert_eq!(&out[..4], b"HBTA");
        assert_eq!(u32::from_le_bytes(out[8..12].try_into().unwrap()), 2); // groups
        assert_eq!(u32::from_le_bytes(out[12..16].try_into().unwrap()), 2); // hosts
                                                                            // region 0, window 0: two points
        assert_eq!(i64::from_le_bytes(out[16..24].try_into().unwrap()), 0);
        assert_eq!(u32::from_le_bytes(out[28..32].try_into().unwrap()), 2);
        assert_eq!(f64_at(&out, 32), 25.0);
        assert_eq!((f64_at(&out, 40), f64_at(&out, 48)), (20.0, 30.0));
        assert_eq!(f64_at(&out, 56), 2.0); // rank ceil(0.95 * 2) = 2
                                           // region 1, window -1 (floor, not truncation)
        assert_eq!(i64::from_le_bytes(out[64..72].try_into().unwrap()), -1);
        // hosts 3 then 7
        assert_eq!(u32::from_le_bytes(out[112..116].try_into().unwrap()), 3);
        assert_eq!(f64_at(&out, 120), 30.0);
    }

    #[test]
    fn rejects_bad_batches_naming_the_problem() {
        let err = |body: &[u8]| run(body).unwrap_err().message;
        assert!(err(b"HBTS").contains("shorter than the 16-byte header"));
        let good = batch(&[(0, 0, 0, 1.0, 1.0)]);
        assert!(err(&[b"XXXX", &good[4..]].concat()).contains("bad magic"));
        assert!(err(&good[..good.len() - 1]).contains("truncated or misaligned"));
        let nan = batch(&[(0, 0, 0, 1.0, 1.0), (0, 0, 0, 1.0, f64::NAN)]);
        assert_eq!(err(&nan), "timeseries: metric 1 of point 1 is NaN");
        let inf = batch(&[(0, 0, 0, f64::INFINITY, 1.0)]);
        assert_eq!(err(&inf), "timeseries: metric 0 of point 0 is infinite");
    }

    #[test]
    fn a_sum_beyond_the_double_range_gives_the_finite_mean() {
        let out = run(&batch(&[
            (0, 0, 0, 1.5e308, 1.0),
            (1, 1, 0, 1.5e308, 1.0),
            (0, 2, 1, f64::MAX, 1.0),
            (0, 2, 1, f64::MAX, 1.0),
            (0, 2, 1, f64::MAX, 1.0),
            (0, 3, 2, 1.0, 1.0),
            (0, 3, 2, 3.0, 1.0),
        ]))
        .unwrap();
        let mean = |group: usize| f64_at(&out, 16 + 48 * group + 16);
        assert_eq!(mean(0), 1.5e308);
        assert_eq!(mean(1), f64::MAX);
        assert_eq!(mean(2), 2.0); // no overflow: the plain sum / count
    }

    #[test]
    fn cancelling_huge_values_give_a_mean_within_the_spec_tolerance() {
        // the sum overflows in input order, although the exact sum (1.0) is small; the spec
        // verifies the mean to 1e-9 of the group's largest magnitude
        let cpu = [1.7e308, 1.7e308, -1.7e308, -1.7e308, 1.0];
        let points: Vec<_> = cpu.iter().map(|&c| (0, 0, 0, c, 1.0)).collect();
        let mean = f64_at(&run(&batch(&points)).unwrap(), 16 + 16);
        assert!(mean.is_finite());
        assert!((mean - 0.2).abs() <= 1e-9 * 1.7e308, "{mean}");
    }

    #[test]
    fn an_empty_batch_has_no_groups() {
        assert_eq!(run(&batch(&[])).unwrap().len(), 16);
    }
}
