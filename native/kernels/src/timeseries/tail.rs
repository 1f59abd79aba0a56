//! The nearest-rank p95 of every group without sorting its latencies: the value at 1-based rank
//! `r = ceil(0.95 c)` of `c` values is the `c - r + 1`-th largest, so each group keeps only its
//! `c - r + 1` largest values (about 5% of them) in a min-heap. Once a heap is full, a new value
//! costs one comparison with the heap's root unless it belongs in the top; the root at the end
//! is the answer. All values are finite (checked before), ordered by `f64::total_cmp`, so the
//! result is exactly the element a full sort would put at rank `r`.

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

/// One min-heap per group in one flat buffer.
pub struct Tails {
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

impl Tails {
    /// Heaps for groups of the given sizes (a group of size 0 gets an empty heap).
    pub fn new(counts: impl Iterator<Item = u32>) -> Self {
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
    pub fn offer(&mut self, group: u32, latency: f64) {
        let key = order_key(latency);
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
    pub fn p95(&self, group: u32) -> f64 {
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
    fn the_heap_root_is_the_nearest_rank_p95() {
        // ascending, descending and shuffled orders, sizes around the rank's steps, ties
        for count in [1usize, 2, 19, 20, 21, 40, 100, 101, 257] {
            let ascending: Vec<f64> = (0..count).map(|i| (i / 3) as f64 - 7.0).collect();
            let descending: Vec<f64> = ascending.iter().rev().copied().collect();
            let shuffled: Vec<f64> = (0..count).map(|i| ascending[(i * 7919) % count]).collect();
            for values in [ascending, descending, shuffled] {
                let mut tails = Tails::new([count as u32].into_iter());
                values.iter().for_each(|&v| tails.offer(0, v));
                assert_eq!(tails.p95(0), sorted_p95(&values), "count {count}");
            }
        }
    }
}
