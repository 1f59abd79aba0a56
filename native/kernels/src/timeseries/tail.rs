//! The nearest-rank p95 of every group without sorting its latencies. The value at 1-based
//! rank `r = ceil(0.95 c)` of `c` values is the `k`-th largest, `k = c - r + 1` (about 5% of
//! them). Values are finite (checked before) and ordered by `f64::total_cmp`, as integer keys
//! ([`order_key`]), so the result is exactly the element a full sort would put at rank `r`.
//!
//! Three steps without a branch on the data, instead of a heap per group (whose insertions,
//! ~20% of the points on the default batch, each a mispredicted branch and a sift, were 40% of
//! the kernel):
//!
//! 1. a bar per group that is at most its `k`-th largest ([`bars`]): the points of a group are
//!    split into `k` chunks by a hash of their index ([`chunk_of`]), each keeping its maximum;
//!    the smallest of the `k` maxima has at least `k` values at or above it (the maxima
//!    themselves), so it is at most the `k`-th largest;
//! 2. every value at or above its group's bar is kept ([`keep_at_bars`]; about 14% of them on
//!    the default batch), in one stream in point order with its group id, then gathered group by
//!    group ([`by_group`]);
//! 3. the `k`-th largest of each group's kept values by `select_nth_unstable`.
//!
//! Groups of a few values each (under [`HEAPS_BELOW_POINTS_PER_GROUP`] on average) take the
//! previous way instead, a min-heap of the `k` largest per group ([`Heaps`]).
//!
//! Tried: steps 1 and 2 in one pass, the bar recomputed each time a group's deal comes round
//! (it only rises, so it stays a lower bound): P50 ratio 1.08 against the two passes (the
//! wrap-around is a branch that mispredicts, and lower early bars keep more values).

use std::mem::MaybeUninit;

use super::p95_rank;

/// `f64::total_cmp` as an integer order: compare the keys with `<` instead.
#[inline]
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

#[inline]
fn from_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

/// How many of its largest values decide the p95 of a group of `count`: `count - rank + 1`.
fn keep_of(count: u32) -> u32 {
    if count == 0 {
        0
    } else {
        count - p95_rank(count as usize) as u32 + 1
    }
}

/// The p95 of every group.
pub struct Tails {
    p95: Vec<f64>,
}

/// Step 1's state of a group: its `keep` chunk maxima start at `start`.
#[derive(Clone, Copy)]
struct Chunks {
    start: u32,
    keep: u32,
}

/// The chunk (below `keep`) of the point at `index`: Fibonacci hashing of the index, scaled to
/// `keep` by a multiply and a shift. Any split of a group's points into `keep` chunks gives a
/// lower bound (an empty chunk's maximum is `i64::MIN`, a bar that keeps every value), and the
/// hash spreads a group's points, whatever their stride, about evenly; unlike a round-robin
/// deal it needs no per-group counter, whose read-modify-write chained points of one group.
#[inline]
fn chunk_of(index: usize, keep: u32) -> u32 {
    let spread = (index as u32).wrapping_mul(0x9E37_79B9);
    ((u64::from(spread) * u64::from(keep)) >> 32) as u32
}

impl Tails {
    /// The p95 of each group (of sizes `counts`) over the points' `latencies` (the column's
    /// little-endian bytes), point `i` being in group `group_of_point[i]`; `group_of_point` is
    /// used up (step 2 overwrites it). A group of size 0 gets a p95 of 0 (never written out).
    /// `kept` and `grouped` are scratch room (their contents are ignored).
    pub fn new(
        counts: &[u32],
        group_of_point: &mut [u32],
        latencies: &[u8],
        kept: &mut Vec<i64>,
        grouped: &mut Vec<i64>,
    ) -> Self {
        let keys = latencies
            .chunks_exact(8)
            .map(|b| order_key(f64::from_le_bytes(b.try_into().expect("8 bytes"))));
        let with_points = counts.iter().filter(|&&count| count > 0).count();
        let p95 = if group_of_point.len() < HEAPS_BELOW_POINTS_PER_GROUP * with_points {
            by_heaps(counts, group_of_point, keys)
        } else {
            // a local Vec while it is filled: with `kept` passed straight on (the same `&mut
            // Vec` to `by_bars`), the registers of the inlined step-2 loop came out otherwise
            // (one more stack load per point there) and the P50 was 1.00-1.02 of this one's (7
            // interleaved runs at 100k, never below 1.00; 1M 1.00-1.01; load 3.4-7.9): small,
            // but one-sided. Code layout, not a reload of the Vec's pointer.
            let mut local = std::mem::take(kept);
            let p95 = by_bars(counts, group_of_point, keys, &mut local, grouped);
            *kept = local;
            p95
        };
        Self { p95 }
    }

    /// The p95 of group `group`.
    pub fn p95(&self, group: u32) -> f64 {
        self.p95[group as usize]
    }
}

/// [`Tails::new`] by the three steps of the module's description, step 2's values in `kept`
/// and then `grouped` (cleared; room for every point is reserved in `kept`, for the kept values
/// in `grouped`), their group ids over the first entries of `group_of_point`.
fn by_bars(
    counts: &[u32],
    group_of_point: &mut [u32],
    keys: impl Iterator<Item = i64> + Clone,
    kept: &mut Vec<i64>,
    grouped: &mut Vec<i64>,
) -> Vec<f64> {
    let bars = bars(counts, group_of_point, keys.clone());
    kept.clear();
    kept.reserve(group_of_point.len());
    let total = keep_at_bars(&bars, group_of_point, keys, kept.spare_capacity_mut());
    // SAFETY: step 2 wrote the first `total` slots.
    unsafe { kept.set_len(total) };
    let groups = by_group(counts.len(), &group_of_point[..total], kept, grouped);
    groups
        .iter()
        .zip(counts)
        .map(|(&(start, end), &count)| {
            let k = keep_of(count) as usize;
            if k == 0 {
                return 0.0;
            }
            let values = &mut grouped[start as usize..end as usize];
            let (_, kth, _) = values.select_nth_unstable(values.len() - k);
            from_order_key(*kth)
        })
        .collect()
}

/// The kept values (`kept[i]` of group `group_of[i]`) into `grouped`, group after group (a
/// counting sort); returns each group's range there (`groups` ranges).
fn by_group(
    groups: usize,
    group_of: &[u32],
    kept: &[i64],
    grouped: &mut Vec<i64>,
) -> Vec<(u32, u32)> {
    let mut ranges = vec![(0u32, 0u32); groups];
    for &g in group_of {
        ranges[g as usize].1 += 1;
    }
    let mut start = 0u32;
    for range in &mut ranges {
        let len = range.1;
        *range = (start, start);
        start += len;
    }
    grouped.clear();
    grouped.reserve(kept.len());
    let room = &mut grouped.spare_capacity_mut()[..kept.len()];
    for (&g, &key) in group_of.iter().zip(kept) {
        let end = &mut ranges[g as usize].1;
        room[*end as usize].write(key);
        *end += 1;
    }
    // SAFETY: the ranges partition the first `kept.len()` slots, and each slot was written.
    unsafe { grouped.set_len(kept.len()) };
    ranges
}

/// Step 1: each group's bar, the smallest of its `keep` chunk maxima.
fn bars(counts: &[u32], group_of_point: &[u32], keys: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut start = 0u32;
    let chunks: Vec<Chunks> = counts
        .iter()
        .map(|&count| {
            let keep = keep_of(count);
            let chunk = Chunks { start, keep };
            start += keep;
            chunk
        })
        .collect();
    let mut maxima = vec![i64::MIN; start as usize];
    for (index, (&g, key)) in group_of_point.iter().zip(keys).enumerate() {
        let c = chunks[g as usize];
        let slot = &mut maxima[(c.start + chunk_of(index, c.keep)) as usize];
        *slot = (*slot).max(key);
    }
    chunks
        .iter()
        .map(|c| {
            let own = &maxima[c.start as usize..(c.start + c.keep) as usize];
            own.iter().copied().min().unwrap_or(i64::MIN)
        })
        .collect()
}

/// Step 2: the values at or above their group's bar, in point order at the start of `out` (of
/// room for every point: every value may pass), and their groups over the first entries of
/// `group_of_point` (which it reads at or ahead of where it writes); returns how many. A value
/// and its group are written whether it passes or not (the next ones overwrite them): no branch,
/// and no per-group state but the bar (the per-group write positions of before were a
/// read-modify-write chained through memory for the points of one group, and every group's
/// range of the buffer written: P50 0.94-0.95 of theirs at 100k, 0.96 at 1M).
fn keep_at_bars(
    bars: &[i64],
    group_of_point: &mut [u32],
    keys: impl Iterator<Item = i64>,
    out: &mut [MaybeUninit<i64>],
) -> usize {
    assert!(out.len() >= group_of_point.len(), "room for every point");
    let mut kept = 0;
    for (point, key) in (0..group_of_point.len()).zip(keys) {
        let g = group_of_point[point];
        // unchecked: the two bounds checks (the compiler cannot see `kept <= point`) cost a
        // compare, a branch and a register each in a loop of about sixteen instructions
        // SAFETY: `kept <= point` (it grows by at most one a point), and `point` is below the
        // length of `group_of_point`, which that of `out` is at least (asserted above).
        unsafe {
            out.get_unchecked_mut(kept).write(key);
            *group_of_point.get_unchecked_mut(kept) = g;
        }
        kept += usize::from(key >= bars[g as usize]);
    }
    kept
}

/// Below this many points per group on average, the p95 takes the heaps ([`Heaps`]): with a
/// few values per group the heaps stay tiny, and the bar passes cost more than they save
/// (10k batch, ~20 points and `keep` 2 per group: P50 ratio 1.25 against the heaps; 100k,
/// ~205 points: 0.88 the other way).
const HEAPS_BELOW_POINTS_PER_GROUP: usize = 64;

/// [`Tails::new`] by the heaps. Never inlined: inlined, it slowed the bar path of larger
/// batches by 3-5% (code layout).
#[inline(never)]
fn by_heaps(counts: &[u32], group_of_point: &[u32], keys: impl Iterator<Item = i64>) -> Vec<f64> {
    let mut heaps = Heaps::new(counts.iter().copied());
    for (&g, key) in group_of_point.iter().zip(keys) {
        heaps.offer(g, key);
    }
    (0u32..)
        .zip(counts)
        .map(|(g, &count)| if count == 0 { 0.0 } else { heaps.p95(g) })
        .collect()
}

/// The previous way, kept for small groups: one min-heap of the `keep` largest values per
/// group in one flat buffer, the root a bar most values stop at (one compare).
struct Heaps {
    keys: Vec<i64>,
    heaps: Vec<Heap>,
}

/// Where a group's heap is in `Tails::keys`, and the bar a value must pass to enter it.
#[derive(Clone, Copy)]
struct Heap {
    /// the root once the heap is full, else `i64::MIN` (below every finite value's key)
    bar: i64,
    start: u32,
    cap: u32,
    len: u32,
}

impl Heaps {
    /// Heaps for groups of the given sizes (a group of size 0 gets an empty heap).
    fn new(counts: impl Iterator<Item = u32>) -> Self {
        let mut start = 0u32;
        let heaps: Vec<Heap> = counts
            .map(|count| {
                let cap = if count == 0 {
                    0
                } else {
                    count - p95_rank(count as usize) as u32 + 1
                };
                let heap = Heap {
                    bar: i64::MIN,
                    start,
                    cap,
                    len: 0,
                };
                start += cap;
                heap
            })
            .collect();
        Self {
            keys: vec![0; start as usize],
            heaps,
        }
    }

    /// Offer the (finite) latency of a point of group `group`: most values stop at the bar.
    #[inline]
    fn offer(&mut self, group: u32, key: i64) {
        if key > self.heaps[group as usize].bar {
            self.insert(group, key);
        }
    }

    #[inline(never)]
    fn insert(&mut self, group: u32, key: i64) {
        let heap = &mut self.heaps[group as usize];
        let keys = &mut self.keys[heap.start as usize..(heap.start + heap.cap) as usize];
        if heap.len < heap.cap {
            heap.len += 1;
            sift_up(&mut keys[..heap.len as usize], key);
            if heap.len == heap.cap {
                heap.bar = keys[0];
            }
        } else {
            sift_down(keys, key);
            heap.bar = keys[0];
        }
    }

    /// The p95 of group `group`: the smallest of its kept values.
    fn p95(&self, group: u32) -> f64 {
        from_order_key(self.keys[self.heaps[group as usize].start as usize])
    }
}

/// Put `key` at the end of `heap` (whose last slot is free) and restore the min-heap order.
fn sift_up(heap: &mut [i64], key: i64) {
    let mut at = heap.len() - 1;
    while at > 0 {
        let parent = (at - 1) / 2;
        if heap[parent] <= key {
            break;
        }
        heap[at] = heap[parent];
        at = parent;
    }
    heap[at] = key;
}

/// Replace the root of the full min-heap `heap` by `key` and restore the order.
fn sift_down(heap: &mut [i64], key: i64) {
    let mut at = 0;
    loop {
        let mut child = 2 * at + 1;
        if child >= heap.len() {
            break;
        }
        if child + 1 < heap.len() && heap[child + 1] < heap[child] {
            child += 1;
        }
        if key <= heap[child] {
            break;
        }
        heap[at] = heap[child];
        at = child;
    }
    heap[at] = key;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_p95(values: &[f64]) -> f64 {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        v[p95_rank(v.len()) - 1]
    }

    #[test]
    fn order_key_round_trips_and_orders_like_total_cmp() {
        let values = [-f64::MAX, -1.5, -0.0, 0.0, 1e-300, 2.0, f64::MAX];
        for w in values.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{w:?}");
        }
        for v in values {
            assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn the_p95_is_the_nearest_rank_of_each_group() {
        // ascending, descending and shuffled orders, sizes around the rank's steps, ties,
        // signed zeros; two groups interleaved (the second reversed) and an empty third
        for count in [1usize, 2, 19, 20, 21, 40, 100, 101, 257] {
            let ascending: Vec<f64> = (0..count).map(|i| (i / 3) as f64 - 7.0).collect();
            let descending: Vec<f64> = ascending.iter().rev().copied().collect();
            let shuffled: Vec<f64> = (0..count).map(|i| ascending[(i * 7919) % count]).collect();
            let zeros: Vec<f64> = (0..count)
                .map(|i| if i % 2 == 0 { 0.0 } else { -0.0 })
                .collect();
            for values in [ascending, descending, shuffled, zeros] {
                let other: Vec<f64> = values.iter().rev().map(|v| v * 3.0).collect();
                let latencies: Vec<f64> = values
                    .iter()
                    .zip(&other)
                    .flat_map(|(&a, &b)| [a, b])
                    .collect();
                let groups: Vec<u32> = (0..2 * count).map(|i| (i % 2) as u32).collect();
                let counts = [count as u32, count as u32, 0];
                let bytes: Vec<u8> = latencies.iter().flat_map(|v| v.to_le_bytes()).collect();
                let tails = Tails::new(
                    &counts,
                    &mut groups.clone(),
                    &bytes,
                    &mut Vec::new(),
                    &mut Vec::new(),
                );
                let want = [sorted_p95(&values), sorted_p95(&other), 0.0].map(f64::to_bits);
                assert_eq!(tails.p95(0).to_bits(), want[0], "count {count}");
                assert_eq!(tails.p95(1).to_bits(), want[1], "count {count}");
                // both ways, whichever `new` took for this size
                let keys = latencies.iter().map(|&v| order_key(v));
                for p95 in [
                    by_bars(
                        &counts,
                        &mut groups.clone(),
                        keys.clone(),
                        &mut vec![7; 3],
                        &mut vec![7; 2],
                    ),
                    by_heaps(&counts, &groups, keys.clone()),
                ] {
                    let got: Vec<u64> = p95.iter().map(|v| v.to_bits()).collect();
                    assert_eq!(got, want, "count {count}");
                }
            }
        }
    }
}
