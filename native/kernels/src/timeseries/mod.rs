//! `timeseries`: aggregate a columnar batch by (region, 1-minute window), plus per-host
//! maxima (see `workloads/timeseries.py` for the binary layouts and the semantics).

mod keys;
mod scratch;
mod tail;

use crate::{check_payload_size, KernelError, Result};
use keys::{dense_limit, Grid, GroupIds, GroupKey, KeyIds, Offset, Sorted};
use scratch::{with_scratch, Scratch};
use tail::Tails;

pub const MAGIC_IN: &[u8; 4] = b"HBTS";
pub const MAGIC_OUT: &[u8; 4] = b"HBTA";
pub const VERSION: u16 = 1;
pub const WINDOW_MS: i64 = 60_000;
pub const GROUP_RECORD: usize = 48;
pub const HOST_RECORD: usize = 16;
/// The overflow fallback of the mean (spec, "Aggregation"): a group whose cpu sum is not
/// finite is summed again with the values times 2^-64, and its mean scaled back by 2^64.
const RESCALE_UP: f64 = 18_446_744_073_709_551_616.0;
const RESCALE_DOWN: f64 = 1.0 / RESCALE_UP;

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

/// The columns of a batch whose header has been checked.
struct Batch<'a> {
    n: usize,
    ts: &'a [u8],
    hosts: &'a [u8],
    regions: &'a [u8],
    /// all `m` metric columns, one after the other
    metrics: &'a [u8],
}

impl<'a> Batch<'a> {
    fn new(input: &'a [u8], n: usize, m: usize) -> Self {
        let start = metrics_offset(n);
        Self {
            n,
            ts: &input[16..16 + 8 * n],
            hosts: &input[16 + 8 * n..16 + 12 * n],
            regions: &input[16 + 12 * n..16 + 14 * n],
            metrics: &input[start..start + 8 * n * m],
        }
    }

    fn windows(&self) -> impl Iterator<Item = i64> + 'a {
        self.ts
            .chunks_exact(8)
            .map(|b| window_of(i64::from_le_bytes(b.try_into().expect("8 bytes"))))
    }
    fn hosts(&self) -> impl Iterator<Item = u32> + 'a {
        self.hosts
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn regions(&self) -> impl Iterator<Item = u16> + 'a {
        self.regions
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn metric(&self, k: usize) -> impl Iterator<Item = f64> + 'a {
        self.metrics[8 * self.n * k..8 * self.n * (k + 1)]
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn group_keys(&self) -> impl Iterator<Item = GroupKey> + 'a {
        self.regions().zip(self.windows())
    }
}

/// The smaller of two finite values (one `minsd`: `f64::min` also handles NaN, which the
/// batch cannot hold any more).
#[inline]
fn min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// The larger of two finite values (see [`min`]).
#[inline]
fn max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

#[inline]
fn window_of(ts: i64) -> i64 {
    ts.div_euclid(WINDOW_MS)
}

/// Reject NaN and infinities. The columns lie metric after metric, so the first offender in
/// memory order is the first in (metric, point) order, the one the error names. Blocks are
/// tested without branching (vectorised); only a block with an offender is searched. Inlined,
/// so that it is vectorised for the CPU [`run`] picked.
#[inline(always)]
fn check_finite(metrics: &[u8], n: usize) -> Result<()> {
    const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
    let not_finite =
        |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes")) & EXPONENT == EXPONENT;
    const BLOCK: usize = 8 * 512;
    for (block_index, block) in metrics.chunks(BLOCK).enumerate() {
        let any = block
            .chunks_exact(8)
            .fold(false, |any, b| any | not_finite(b));
        if any {
            let within = block
                .chunks_exact(8)
                .position(not_finite)
                .expect("found above");
            let at = block_index * BLOCK / 8 + within;
            let v = f64::from_le_bytes(block[8 * within..8 * within + 8].try_into().expect("8"));
            let kind = if v.is_nan() { "NaN" } else { "infinite" };
            return Err(KernelError::invalid(format!(
                "timeseries: metric {} of point {} is {kind}",
                at / n,
                at % n
            )));
        }
    }
    Ok(())
}

/// The inclusive ranges of the regions, windows and hosts of a non-empty batch: one streaming
/// pass that decides whether the ids can be dense.
struct Ranges {
    regions: (u16, u16),
    windows: (i64, i64),
    hosts: (u32, u32),
}

impl Ranges {
    /// Inlined, as [`check_finite`].
    #[inline(always)]
    fn of(batch: &Batch) -> Option<Self> {
        fn span<T: Copy + Ord>(values: impl Iterator<Item = T>, first: T) -> (T, T) {
            values.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)))
        }
        let timestamps = batch
            .ts
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
        // min/max of the timestamps (a plain, vectorised fold); floor division is monotone
        let ts0 = i64::from_le_bytes(batch.ts.get(..8)?.try_into().expect("8 bytes"));
        let ts = span(timestamps, ts0);
        Some(Self {
            regions: span(batch.regions(), batch.regions().next()?),
            windows: (window_of(ts.0), window_of(ts.1)),
            hosts: span(batch.hosts(), batch.hosts().next()?),
        })
    }
}

/// The running aggregates of one group. `repr(C)` with the count between `min` and `max`:
/// adjacent (as Rust's own layout put them), the two updates were vectorised into one 16-byte
/// load, a compare-and-blend (SSE2 has no blend instruction: five more instructions) and a
/// 16-byte store per point, instead of a `minsd` and a `maxsd`.
#[derive(Clone, Copy)]
#[repr(C)]
struct GroupStats {
    sum: f64,
    min: f64,
    count: u32,
    /// whether `sum` is the overflow fallback's, of the values times `RESCALE_DOWN`
    rescaled: bool,
    max: f64,
}

impl GroupStats {
    fn mean(&self) -> f64 {
        let mean = self.sum / f64::from(self.count);
        if self.rescaled {
            // the true mean lies in [min, max]; rounding may put this one just past a max near
            // the double limit, which the scale-back would turn into an infinity
            max(min(mean * RESCALE_UP, self.max), self.min)
        } else {
            mean
        }
    }
}

/// The running aggregates of one host.
#[derive(Clone, Copy)]
struct HostStats {
    count: u32,
    max: f64,
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { run_avx2(input) };
    }
    run_any_cpu(input)
}

/// [`run`] compiled for AVX2, chosen at run time (no `-C target-cpu` anywhere): the scans that
/// are inlined into it ([`check_finite`], [`Ranges::of`]) then go 4 lanes wide, and the i64 and
/// u32 min/max folds of the ranges vectorise at all (SSE2 has no 64-bit or unsigned 32-bit
/// compare, so the baseline build runs them as scalar branches). The aggregation and the p95
/// stay out of it: inlined here too they were slower (P50 ratio 1.22 with both, 1.05 with the
/// p95 alone; with AVX the conditional min/max updates of a group became a `vmaskmovpd` store,
/// slow on this AMD core).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2(input: &[u8]) -> Result<Vec<u8>> {
    run_any_cpu(input)
}

#[inline(always)]
fn run_any_cpu(input: &[u8]) -> Result<Vec<u8>> {
    let (n, m) = parse_header(input)?;
    let batch = Batch::new(input, n, m);
    check_finite(batch.metrics, n)?;
    let limit = dense_limit(n);
    let (grid, offsets) = match Ranges::of(&batch) {
        Some(ranges) => (
            Grid::new(ranges.regions, ranges.windows, limit),
            Offset::new(ranges.hosts, limit),
        ),
        None => (None, None),
    };
    Ok(match (grid, offsets) {
        (Some(grid), Some(offsets)) => aggregate(&batch, &grid, &offsets),
        (Some(grid), None) => aggregate(&batch, &grid, &Sorted::new(batch.hosts())),
        (None, Some(offsets)) => aggregate(&batch, &Sorted::new(batch.group_keys()), &offsets),
        (None, None) => aggregate(
            &batch,
            &Sorted::new(batch.group_keys()),
            &Sorted::new(batch.hosts()),
        ),
    })
}

/// Two passes over the points: the cpu aggregates per group and host (remembering each point's
/// group), then the latencies into their group's p95 tail; the per-point buffers are this
/// thread's ([`scratch`]).
fn aggregate<G: GroupIds, H: KeyIds<u32>>(batch: &Batch, groups: &G, hosts: &H) -> Vec<u8> {
    with_scratch(|scratch| aggregate_in(batch, groups, hosts, scratch))
}

fn aggregate_in<G: GroupIds, H: KeyIds<u32>>(
    batch: &Batch,
    groups: &G,
    hosts: &H,
    scratch: &mut Scratch,
) -> Vec<u8> {
    let mut group_stats = vec![
        GroupStats {
            count: 0,
            rescaled: false,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        };
        groups.slots()
    ];
    let mut host_stats = vec![
        HostStats {
            count: 0,
            max: f64::NEG_INFINITY,
        };
        hosts.slots()
    ];
    // a local Vec, not one behind `scratch`: pushed through a reference, the hot loop below
    // was 12% slower (P50, warm heap: its length and pointer no longer stayed in registers)
    let mut group_of_point = std::mem::take(&mut scratch.group_of_point);
    group_of_point.clear();
    group_of_point.reserve(batch.n);
    // written slot by slot, not pushed: a push checks the capacity, which `reserve` (unlike
    // `with_capacity`) does not tell the compiler
    let slots = &mut group_of_point.spare_capacity_mut()[..batch.n];
    let cpu = &batch.metrics[..8 * batch.n];
    let columns = batch.ts.chunks_exact(8).zip(batch.regions.chunks_exact(2));
    let columns = columns
        .zip(batch.hosts.chunks_exact(4))
        .zip(cpu.chunks_exact(8))
        .zip(slots);
    for (point, ((((ts, region), host), cpu), slot)) in columns.enumerate() {
        let ts = i64::from_le_bytes(ts.try_into().expect("8 bytes"));
        let region = u16::from_le_bytes([region[0], region[1]]);
        let host = u32::from_le_bytes(host.try_into().expect("4 bytes"));
        let cpu = f64::from_le_bytes(cpu.try_into().expect("8 bytes"));
        let g = groups.id_at(point, region, ts);
        let stats = &mut group_stats[g as usize];
        stats.count += 1;
        stats.sum += cpu;
        stats.min = min(stats.min, cpu);
        stats.max = max(stats.max, cpu);
        let stats = &mut host_stats[hosts.id(point, host) as usize];
        stats.count += 1;
        stats.max = max(stats.max, cpu);
        slot.write(g);
    }
    // SAFETY: every column has `n` entries, so the loop wrote all `n` slots.
    unsafe { group_of_point.set_len(batch.n) };
    // an overflow leaves an infinity or a NaN in the sum, so a finite sum proves none happened
    if group_stats.iter().any(|s| !s.sum.is_finite()) {
        rescale_overflowed_sums(&mut group_stats, &group_of_point, batch.metric(0));
    }
    let counts: Vec<u32> = group_stats.iter().map(|s| s.count).collect();
    let latencies = &batch.metrics[8 * batch.n..16 * batch.n];
    let tails = Tails::new(
        &counts,
        &mut group_of_point,
        latencies,
        &mut scratch.kept,
        &mut scratch.grouped,
    );
    scratch.group_of_point = group_of_point;
    table(groups, &group_stats, &tails, hosts, &host_stats)
}

/// The spec's fallback for the groups whose cpu sum overflowed (finite values beyond the
/// double range): their values are summed again times 2^-64 (exact for every value that
/// matters to such a sum; 2^32 of them cannot overflow), and [`GroupStats::mean`] scales back.
/// Only batches with such a group pay for this pass.
#[cold]
fn rescale_overflowed_sums(
    stats: &mut [GroupStats],
    group_of_point: &[u32],
    cpu: impl Iterator<Item = f64>,
) {
    for s in stats.iter_mut().filter(|s| !s.sum.is_finite()) {
        s.sum = 0.0;
        s.rescaled = true;
    }
    for (&g, cpu) in group_of_point.iter().zip(cpu) {
        let s = &mut stats[g as usize];
        if s.rescaled {
            s.sum += cpu * RESCALE_DOWN;
        }
    }
}

/// The output: the groups and hosts that have points, in id (= key) order.
fn table<G: KeyIds<GroupKey>, H: KeyIds<u32>>(
    groups: &G,
    group_stats: &[GroupStats],
    tails: &Tails,
    hosts: &H,
    host_stats: &[HostStats],
) -> Vec<u8> {
    let g = group_stats.iter().filter(|s| s.count > 0).count();
    let h = host_stats.iter().filter(|s| s.count > 0).count();
    let mut out = Vec::with_capacity(16 + GROUP_RECORD * g + HOST_RECORD * h);
    out.extend_from_slice(MAGIC_OUT);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(g as u32).to_le_bytes());
    out.extend_from_slice(&(h as u32).to_le_bytes());
    for (id, stats) in (0u32..).zip(group_stats).filter(|(_, s)| s.count > 0) {
        let (region, window) = groups.key(id);
        out.extend_from_slice(&window.to_le_bytes());
        out.extend_from_slice(&region.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&stats.count.to_le_bytes());
        out.extend_from_slice(&stats.mean().to_le_bytes());
        out.extend_from_slice(&stats.min.to_le_bytes());
        out.extend_from_slice(&stats.max.to_le_bytes());
        out.extend_from_slice(&tails.p95(id).to_le_bytes());
    }
    for (id, stats) in (0u32..).zip(host_stats).filter(|(_, s)| s.count > 0) {
        out.extend_from_slice(&hosts.key(id).to_le_bytes());
        out.extend_from_slice(&stats.count.to_le_bytes());
        out.extend_from_slice(&stats.max.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn le_i64(b: &[u8]) -> i64 {
        i64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
    fn le_f64(b: &[u8]) -> f64 {
        f64::from_le_bytes(b.try_into().expect("8 bytes"))
    }

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

    /// A plain oracle: sort every group's values; hosts by a BTreeMap.
    fn oracle(ts: &[i64], host: &[u32], region: &[u16], cpu: &[f64], lat: &[f64]) -> Vec<u8> {
        use std::collections::BTreeMap;
        let mut groups: BTreeMap<(u16, i64), Vec<usize>> = BTreeMap::new();
        let mut hosts: BTreeMap<u32, (u32, f64)> = BTreeMap::new();
        for i in 0..ts.len() {
            groups
                .entry((region[i], ts[i].div_euclid(WINDOW_MS)))
                .or_default()
                .push(i);
            let h = hosts.entry(host[i]).or_insert((0, f64::NEG_INFINITY));
            *h = (h.0 + 1, h.1.max(cpu[i]));
        }
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC_OUT);
        out.extend_from_slice(&[1, 0, 0, 0]);
        out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
        out.extend_from_slice(&(hosts.len() as u32).to_le_bytes());
        for ((r, w), members) in &groups {
            let mut l: Vec<f64> = members.iter().map(|&i| lat[i]).collect();
            l.sort_by(f64::total_cmp);
            let c: Vec<f64> = members.iter().map(|&i| cpu[i]).collect();
            out.extend_from_slice(&w.to_le_bytes());
            out.extend_from_slice(&r.to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(members.len() as u32).to_le_bytes());
            let sum: f64 = c.iter().sum();
            out.extend_from_slice(&(sum / c.len() as f64).to_le_bytes());
            out.extend_from_slice(
                &c.iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
                    .to_le_bytes(),
            );
            out.extend_from_slice(
                &c.iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
                    .to_le_bytes(),
            );
            out.extend_from_slice(&l[p95_rank(l.len()) - 1].to_le_bytes());
        }
        for (h, (count, max)) in hosts {
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&max.to_le_bytes());
        }
        out
    }

    #[test]
    fn dense_and_general_ids_agree_with_an_oracle() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // compact keys (the dense path) and keys spread over their whole ranges (general)
        for spread in [false, true] {
            let n = 3000;
            let ts: Vec<i64> = (0..n)
                .map(|i| match spread {
                    false => 1_000_000 + i as i64 * 1000 - (next() % 5000) as i64,
                    true => next() as i64 / if next() % 2 == 0 { 1 } else { 1 << 40 },
                })
                .collect();
            let host: Vec<u32> = (0..n)
                .map(|_| {
                    if spread {
                        next() as u32
                    } else {
                        (next() % 40) as u32
                    }
                })
                .collect();
            let region: Vec<u16> = host.iter().map(|&h| (h % 5) as u16 * 7).collect();
            let cpu: Vec<f64> = (0..n)
                .map(|_| (next() % 10_000) as f64 / 7.0 - 300.0)
                .collect();
            let lat: Vec<f64> = (0..n).map(|_| (next() % 1000) as f64 / 3.0 - 9.0).collect();
            let input = batch(&ts, &host, &region, &[cpu.clone(), lat.clone()]);
            let want = oracle(&ts, &host, &region, &cpu, &lat);
            assert_eq!(run(&input).unwrap(), want, "run, spread {spread}");
            // the build for any CPU too, where `run` picked the AVX2 one
            assert_eq!(
                run_any_cpu(&input).unwrap(),
                want,
                "any CPU, spread {spread}"
            );
            let b = Batch::new(&input, n, 2);
            let ranges = Ranges::of(&b).unwrap();
            let grid = Grid::new(ranges.regions, ranges.windows, 1 << 22);
            let offsets = Offset::new(ranges.hosts, 1 << 22);
            let sorted_groups = Sorted::new(b.group_keys());
            let sorted_hosts = Sorted::new(b.hosts());
            if let (Some(grid), Some(offsets)) = (grid, offsets) {
                assert_eq!(aggregate(&b, &grid, &offsets), want);
                assert_eq!(aggregate(&b, &grid, &sorted_hosts), want);
                assert_eq!(aggregate(&b, &sorted_groups, &offsets), want);
            }
            assert_eq!(aggregate(&b, &sorted_groups, &sorted_hosts), want);
        }
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

    /// The mean of each group of one point per host, all in window 0, `groups[r]` in region r.
    fn means_of(groups: &[&[f64]]) -> Vec<f64> {
        let region: Vec<u16> = (0u16..)
            .zip(groups)
            .flat_map(|(r, g)| std::iter::repeat_n(r, g.len()))
            .collect();
        let cpu: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let n = cpu.len();
        let host: Vec<u32> = (0..n as u32).collect();
        let input = batch(&vec![0; n], &host, &region, &[cpu, vec![1.0; n]]);
        let out = run(&input).unwrap();
        // the general numbering (sorted keys) takes the same fallback
        let b = Batch::new(&input, n, 2);
        let general = aggregate(&b, &Sorted::new(b.group_keys()), &Sorted::new(b.hosts()));
        assert_eq!(general, out);
        (0..groups.len())
            .map(|i| le_f64(&out[16 + 48 * i + 16..16 + 48 * i + 24]))
            .collect()
    }

    #[test]
    fn a_sum_beyond_the_double_range_gives_the_finite_mean() {
        let means = means_of(&[
            &[1.5e308, 1.5e308],
            &[f64::MAX; 7],
            &[-1.7e308, -1.7e308, -1.7e308, 5.0],
            &[1.0, 3.0], // a group that does not overflow keeps the plain sum / count
        ]);
        assert_eq!(means[0], 1.5e308);
        assert_eq!(means[1], f64::MAX);
        let want = (-1.7e308 / 4.0) * 3.0; // exact enough: 1e-9 below
        assert!((means[2] - want).abs() <= 1e-9 * 1.7e308, "{}", means[2]);
        assert_eq!(means[3], 2.0);
    }

    #[test]
    fn cancelling_huge_values_give_a_mean_within_the_spec_tolerance() {
        // the sum overflows in input order, although the exact sum (1.0) is small; the spec
        // verifies the mean to 1e-9 of the group's largest magnitude
        let means = means_of(&[&[1.7e308, 1.7e308, -1.7e308, -1.7e308, 1.0]]);
        assert!(means[0].is_finite());
        assert!((means[0] - 0.2).abs() <= 1e-9 * 1.7e308, "{}", means[0]);
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
        // the error names the first offender in (metric, point) order, whichever column
        // holds it and whatever the values around it
        let both = batch(
            &[1, 2, 3],
            &[0, 1, 2],
            &[0, 0, 0],
            &[vec![1.0, 2.0, f64::NAN], vec![f64::INFINITY, 4.0, 5.0]],
        );
        assert_eq!(err(&both), "timeseries: metric 0 of point 2 is NaN");
        let cancelling = batch(
            &[1, 2],
            &[0, 1],
            &[0, 0],
            &[vec![f64::INFINITY, f64::NEG_INFINITY], vec![3.0, 4.0]],
        );
        assert_eq!(
            err(&cancelling),
            "timeseries: metric 0 of point 0 is infinite"
        );
        let third = batch(
            &[1, 2],
            &[0, 1],
            &[0, 0],
            &[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, f64::NAN]],
        );
        assert_eq!(err(&third), "timeseries: metric 2 of point 1 is NaN");
        for bad in [&nan, &inf, &both, &cancelling, &third, &good[..10]] {
            assert_eq!(run_any_cpu(bad).unwrap_err().message, err(bad));
        }
    }
}
