//! The nearest-rank p95 of every group without sorting its latencies. The value at 1-based
//! rank `r = ceil(0.95 c)` of `c` values is the `k`-th largest, `k = c - r + 1` (about 5% of
//! them). Values are finite (checked before) and ordered by `f64::total_cmp`, as integer keys
//! ([`order_key`]), so the result is exactly the element a full sort would put at rank `r`.
//!
//! Three ways, by the size of the groups:
//!
//! * **A sampled bar** (batches of [`HEAPS_BELOW_POINTS_PER_GROUP`] points or more per slot of
//!   the numbering: the default 100k and 1M batches). Before the aggregation's pass, one bar
//!   for the whole batch from a strided sample of its latencies ([`sampled_bar`], 12% of the
//!   sample at or above it); during the pass, every latency at or above it, and each group's
//!   first [`FIRST_KEPT`], go into one stream with their group, branch-free ([`AboveBar`]);
//!   after it, a group with `k` values at or above the bar has its `k` largest in the stream,
//!   a group of at most [`FIRST_KEPT`] has all of them, and the rare others (a group whose
//!   latencies sit lower than the batch's) get the rest of theirs from a search of
//!   `group_of_point` ([`complete_short_groups`]); then the stream is gathered group by group
//!   ([`by_group`]) and each group's `k`-th largest selected. No pass over the points of its
//!   own: it replaced the two below (P50 0.88 of theirs at 100k).
//! * **Chunk-maxima bars** (groups of 64 points or more on average, but a sparse numbering, so
//!   no bar before the pass): after the pass, a bar per group that is at most its `k`-th
//!   largest ([`bars`]: its points split into `k` chunks by a hash of their index,
//!   [`chunk_of`]; the smallest of the `k` chunk maxima has at least `k` values at or above
//!   it), every value at or above its group's bar kept ([`keep_at_bars`]), gathered and
//!   selected as above.
//! * **Heaps** (groups of a few points each, under [`HEAPS_BELOW_POINTS_PER_GROUP`] on
//!   average): a min-heap of the `k` largest per group ([`Heaps`]).
//!
//! Tried: the chunk-maxima bars' two passes as one (the bar recomputed each time a group's deal
//! comes round; it only rises, so it stays a lower bound): P50 ratio 1.08 against the two passes
//! (the wrap-around is a branch that mispredicts, and lower early bars keep more values).

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

/// What the aggregation's pass does with each point's latency (monomorphised: the pass that
/// ignores them loads none). `seen` is how many points of the group came before this one.
pub trait LatencySink {
    fn offer(&mut self, group: u32, latency: f64, seen: u32);
}

/// The latencies are read after the pass ([`Tails::new`]).
pub struct AfterThePass;

impl LatencySink for AfterThePass {
    #[inline(always)]
    fn offer(&mut self, _group: u32, _latency: f64, _seen: u32) {}
}

/// Every group's first points, whatever their latency, go into [`AboveBar`]'s stream: a group
/// of at most this many then has all its values there. Such groups are the common short ones,
/// the partial windows at either end of a batch's time range (a few points each on the
/// default batch), and a pass over all points for them alone cost a fifth of the kernel.
const FIRST_KEPT: u32 = 8;

/// Where the aggregation's pass puts every latency at or above a bar sampled before it
/// ([`sampled_bar`]), and each group's first [`FIRST_KEPT`]: in one stream in point order, with
/// its group, written whether it passes or not (the next point overwrites a value that does
/// not), as [`keep_at_bars`] does.
pub struct AboveBar<'a> {
    bar: f64,
    keys: &'a mut [MaybeUninit<i64>],
    groups: &'a mut [MaybeUninit<u32>],
    len: usize,
    offered: usize,
}

impl<'a> AboveBar<'a> {
    /// A stream of room for `points` values (each buffer at least that long).
    pub fn new(
        bar: f64,
        points: usize,
        keys: &'a mut [MaybeUninit<i64>],
        groups: &'a mut [MaybeUninit<u32>],
    ) -> Self {
        assert!(
            keys.len() >= points && groups.len() >= points,
            "room for every point"
        );
        Self {
            bar,
            keys: &mut keys[..points],
            groups: &mut groups[..points],
            len: 0,
            offered: 0,
        }
    }

    /// How many values passed.
    pub fn passed(&self) -> usize {
        self.len
    }
}

impl LatencySink for AboveBar<'_> {
    /// Offer point after point, at most `points` of them. The value goes in as its bits (the
    /// order keys are made after, for the fewer that pass).
    #[inline(always)]
    fn offer(&mut self, group: u32, latency: f64, seen: u32) {
        assert!(self.offered < self.keys.len(), "at most `points` offers");
        // SAFETY: `len <= offered` (it grows by at most one an offer), below both lengths
        // (asserted just above; `new` made them equal).
        unsafe {
            let at = self.len;
            self.keys
                .get_unchecked_mut(at)
                .write(latency.to_bits() as i64);
            self.groups.get_unchecked_mut(at).write(group);
        }
        self.offered += 1;
        self.len += usize::from(above(latency, self.bar) | (seen < FIRST_KEPT));
    }
}

/// Whether `latency` is at or above `bar`. `>=` on doubles also says so of `-0.0` at a bar of
/// `+0.0`, which `total_cmp` puts below it: the values it says so of are still an upper set of
/// the order, so a group with `keep` of them has its `keep` largest among them.
#[inline(always)]
fn above(latency: f64, bar: f64) -> bool {
    latency >= bar
}

/// The fraction of a sample of the latencies at or above the bar [`sampled_bar`] picks: with
/// groups of 64 points or more on average (the only batches that take it), a group whose
/// values are spread as the batch's are has its `keep` (5%) above it almost always.
const SAMPLED_ABOVE: f64 = 0.12;
/// How many latencies [`sampled_bar`] looks at.
const SAMPLE: usize = 512;

/// A bar for [`AboveBar`] when the batch has [`HEAPS_BELOW_POINTS_PER_GROUP`] points or more
/// for each of its `slots` groups (else `None`: the heaps or the bars after the pass decide):
/// the value with [`SAMPLED_ABOVE`] of an evenly strided sample of the latencies at or above
/// it. Any bar gives the exact p95 ([`Tails::above_bar`] completes the groups it leaves short);
/// a good one keeps few values besides each group's `keep`.
pub fn sampled_bar(latencies: &[u8], slots: usize) -> Option<f64> {
    let n = latencies.len() / 8;
    if n == 0 || n < HEAPS_BELOW_POINTS_PER_GROUP * slots {
        return None;
    }
    let stride = n.div_ceil(SAMPLE);
    let mut sample: Vec<f64> = latencies
        .chunks_exact(8)
        .step_by(stride)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let above = ((sample.len() as f64 * SAMPLED_ABOVE) as usize).max(1);
    let at = sample.len() - above;
    Some(*sample.select_nth_unstable_by(at, f64::total_cmp).1)
}

impl Tails {
    /// The p95 of each group (of sizes `counts`) from [`AboveBar`]'s stream (`kept` and
    /// `kept_group`, `kept` with room for every point). A group is complete there when it has
    /// at most [`FIRST_KEPT`] values (all of them are there) or `keep` values at or above the
    /// bar (its `keep` largest are there). The others, short of values above a bar that was
    /// too high for them, get the rest of their values from a pass over `group_of_point` and
    /// `latencies` that only batches with such a group pay for.
    pub fn above_bar(
        counts: &[u32],
        bar: f64,
        (kept, kept_group): (&mut Vec<i64>, &mut Vec<u32>),
        group_of_point: &[u32],
        latencies: &[u8],
        grouped: &mut Vec<i64>,
    ) -> Self {
        let mut above_bar = vec![0u32; counts.len()];
        for (&g, &bits) in kept_group.iter().zip(kept.iter()) {
            above_bar[g as usize] += u32::from(above(f64::from_bits(bits as u64), bar));
        }
        let short: Vec<bool> = above_bar
            .iter()
            .zip(counts)
            .map(|(&above_bar, &count)| count > FIRST_KEPT && above_bar < keep_of(count))
            .collect();
        if short.iter().any(|&s| s) {
            complete_short_groups(&short, bar, group_of_point, latencies, kept, kept_group);
        }
        for key in kept.iter_mut() {
            *key = order_key(f64::from_bits(*key as u64));
        }
        let groups = by_group(counts.len(), kept_group, kept, grouped);
        Self {
            p95: select_kth(counts, &groups, grouped),
        }
    }
}

/// The values of the groups marked `short` that are not in the stream yet (below `bar`, and
/// after the group's first [`FIRST_KEPT`]), appended to it: such a group then has all its
/// values there. A few short groups are found by a vectorised compare of blocks of
/// `group_of_point` against up to [`SHORT_AT_ONCE`] of their ids (a block without one is
/// passed over; the scan of every point's latency and flag it replaced cost a fifth of the
/// kernel where one group of the default batch was short); many by that scan.
#[cold]
fn complete_short_groups(
    short: &[bool],
    bar: f64,
    group_of_point: &[u32],
    latencies: &[u8],
    kept: &mut Vec<i64>,
    kept_group: &mut Vec<u32>,
) {
    let value_at = |point: usize| {
        f64::from_le_bytes(latencies[8 * point..8 * point + 8].try_into().expect("8"))
    };
    let mut seen = vec![0u32; short.len()];
    let mut take = |point: usize, g: u32| {
        let seen = &mut seen[g as usize];
        let value = value_at(point);
        if *seen >= FIRST_KEPT && !above(value, bar) {
            kept.push(value.to_bits() as i64);
            kept_group.push(g);
        }
        *seen += 1;
    };
    let ids: Vec<u32> = (0u32..)
        .zip(short)
        .filter(|(_, &s)| s)
        .map(|(g, _)| g)
        .collect();
    if ids.len() > 4 * SHORT_AT_ONCE {
        for (point, &g) in group_of_point.iter().enumerate() {
            if short[g as usize] {
                take(point, g);
            }
        }
        return;
    }
    assert!(short.len() < u32::MAX as usize, "u32::MAX is no group's id");
    for some in ids.chunks(SHORT_AT_ONCE) {
        let mut wanted = [u32::MAX; SHORT_AT_ONCE];
        wanted[..some.len()].copy_from_slice(some);
        const BLOCK: usize = 32;
        for (block_index, block) in group_of_point.chunks(BLOCK).enumerate() {
            let any = block.iter().fold(false, |any, g| any | wanted.contains(g));
            if any {
                for (at, &g) in block.iter().enumerate() {
                    if wanted.contains(&g) {
                        take(block_index * BLOCK + at, g);
                    }
                }
            }
        }
    }
}

/// How many short groups [`complete_short_groups`] looks for in one pass.
const SHORT_AT_ONCE: usize = 4;

/// The `keep`-th largest of every group's values (`grouped[start..end]` for its range; every
/// range holds at least the group's `keep` largest values).
fn select_kth(counts: &[u32], groups: &[(u32, u32)], grouped: &mut [i64]) -> Vec<f64> {
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
    select_kth(counts, &groups, grouped)
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

    /// [`Tails::above_bar`] over the stream the aggregation's pass would write at `bar`.
    fn p95_above_bar(counts: &[u32], groups: &[u32], latencies: &[f64], bar: f64) -> Vec<u64> {
        let n = latencies.len();
        let (mut kept, mut kept_group) = (vec![7i64; 3], vec![7u32; 3]);
        kept.clear();
        kept.reserve(n);
        kept_group.clear();
        kept_group.reserve(n);
        let mut stream = AboveBar::new(
            bar,
            n,
            kept.spare_capacity_mut(),
            kept_group.spare_capacity_mut(),
        );
        let mut seen = vec![0u32; counts.len()];
        for (&g, &latency) in groups.iter().zip(latencies) {
            stream.offer(g, latency, seen[g as usize]);
            seen[g as usize] += 1;
        }
        let passed = stream.passed();
        // SAFETY: the stream wrote the first `passed` slots of both
        unsafe {
            kept.set_len(passed);
            kept_group.set_len(passed);
        }
        let bytes: Vec<u8> = latencies.iter().flat_map(|v| v.to_le_bytes()).collect();
        let tails = Tails::above_bar(
            counts,
            bar,
            (&mut kept, &mut kept_group),
            groups,
            &bytes,
            &mut vec![7; 5],
        );
        (0..counts.len() as u32)
            .map(|g| tails.p95(g).to_bits())
            .collect()
    }

    #[test]
    fn the_sampled_bar_gives_the_p95_whatever_the_bar() {
        // group 0 spread over 0..200; group 1 the same shifted below every bar but the lowest
        // (short: completed by the pass over the points); group 2 a partial window of five
        // (complete by its first points); group 3 zeros of both signs, ties at a bar of +0.0;
        // group 4 nine rising points, the largest (its p95) one past the first kept; group 5
        // empty
        let mut groups = Vec::new();
        let mut latencies = Vec::new();
        let mut push = |g: u32, v: f64| {
            groups.push(g);
            latencies.push(v);
        };
        for i in 0..200u32 {
            push(0, f64::from((i * 7919) % 200));
            push(1, f64::from((i * 31) % 200) - 1000.0);
            if i < 5 {
                push(2, f64::from(i) * 0.5);
            }
            if i < 60 {
                push(3, if i % 3 == 0 { -0.0 } else { 0.0 });
            }
            if i < 9 {
                push(4, 42.0 + f64::from(i));
            }
        }
        let mut counts = vec![0u32; 6];
        for &g in &groups {
            counts[g as usize] += 1;
        }
        let want: Vec<u64> = (0..6u32)
            .map(|g| {
                let own: Vec<f64> = groups
                    .iter()
                    .zip(&latencies)
                    .filter(|(&of, _)| of == g)
                    .map(|(_, &v)| v)
                    .collect();
                if own.is_empty() {
                    0
                } else {
                    sorted_p95(&own).to_bits()
                }
            })
            .collect();
        let bytes: Vec<u8> = latencies.iter().flat_map(|v| v.to_le_bytes()).collect();
        let sampled = sampled_bar(&bytes, 6).expect("over 64 points a group");
        for bar in [sampled, 0.0, -0.0, 190.0, 1e9, f64::NEG_INFINITY, -2000.0] {
            assert_eq!(
                p95_above_bar(&counts, &groups, &latencies, bar),
                want,
                "bar {bar}"
            );
        }
        assert_eq!(sampled_bar(&bytes, 100), None, "under 64 points a slot");
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
