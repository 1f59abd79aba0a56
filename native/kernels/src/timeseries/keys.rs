//! Which group and which host every point belongs to, as small ids in output order.
//!
//! The spec puts no bound on the keys (any u16 region, any i64 window, any u32 host), but real
//! batches cover a few regions, a short time range and a compact host range. When the key
//! ranges span at most a few slots per point ([`dense_limit`]), the id is plain arithmetic on
//! the key ([`Grid`], [`Offset`]); ascending ids are then ascending keys, so the output needs no
//! sort. Otherwise the distinct keys are collected in a hash map and sorted once
//! ([`Sorted`]): the general path, linear in the number of points plus the sort of the
//! distinct keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::WINDOW_MS;

/// The key of a group: `(region, window)`, ordered as the output is.
pub type GroupKey = (u16, i64);

/// A numbering of keys `K`: `id` gives every point's key an id below `slots()`, ascending in
/// key order; `key` maps an id back.
pub trait KeyIds<K> {
    fn slots(&self) -> usize;
    fn id(&self, point: usize, key: K) -> u32;
    fn key(&self, id: u32) -> K;
}

/// The group ids of the points as the aggregation's pass computes them: from a point's region
/// and raw timestamp, so that a numbering may derive the window its own way.
pub trait GroupIds: KeyIds<GroupKey> {
    fn id_at(&self, point: usize, region: u16, ts: i64) -> u32;
}

/// The most slots a dense numbering may have for `n` points: linear in `n`, so that the
/// per-slot arrays and the walk over them never cost more than the points do.
pub fn dense_limit(n: usize) -> u64 {
    2 * n as u64 + 4096
}

/// Dense group ids: `(region - r0) * windows + (window - w0)`.
pub struct Grid {
    region0: u16,
    window0: i64,
    windows: u64,
    slots: usize,
    /// the first window's first millisecond, `window0 * WINDOW_MS` (wrapped: it may lie below
    /// `i64::MIN`)
    base_ts: i64,
    /// `region0 * windows` (wrapped), taken off `region * windows`
    base_row: u64,
}

impl Grid {
    /// The grid over `regions` x `windows` (inclusive ranges), if it is at most `limit` slots.
    pub fn new(regions: (u16, u16), windows: (i64, i64), limit: u64) -> Option<Self> {
        let region_span = u64::from(regions.1 - regions.0) + 1;
        let window_span = (windows.1 as i128 - windows.0 as i128 + 1) as u128;
        let slots = u128::from(region_span) * window_span;
        (slots <= u128::from(limit)).then_some(Self {
            region0: regions.0,
            window0: windows.0,
            windows: window_span as u64,
            slots: slots as usize,
            base_ts: windows.0.wrapping_mul(WINDOW_MS),
            base_row: u64::from(regions.0).wrapping_mul(window_span as u64),
        })
    }
}

impl KeyIds<GroupKey> for Grid {
    fn slots(&self) -> usize {
        self.slots
    }
    #[inline]
    fn id(&self, _point: usize, (region, window): GroupKey) -> u32 {
        let row = u64::from(region - self.region0) * self.windows;
        (row + (window - self.window0) as u64) as u32
    }
    fn key(&self, id: u32) -> GroupKey {
        let id = u64::from(id);
        let region = self.region0 + (id / self.windows) as u16;
        (region, self.window0 + (id % self.windows) as i64)
    }
}

impl GroupIds for Grid {
    /// `(region - r0) * windows + (window - w0)` with the window's floor division done unsigned
    /// on the timestamp's offset from `base_ts`: that offset is below `windows * WINDOW_MS`
    /// (at most [`dense_limit`] windows), so its wrapped difference is exact, and `floor(ts /
    /// 60000) - w0 = (ts - w0 * 60000) / 60000`. A multiply and a shift instead of the signed
    /// division's eight instructions and its floor correction; `r0` and `w0` are folded into
    /// the two bases (fewer registers in the aggregation's loop).
    #[inline]
    fn id_at(&self, _point: usize, region: u16, ts: i64) -> u32 {
        let window = ts.wrapping_sub(self.base_ts) as u64 / WINDOW_MS as u64;
        let row = u64::from(region).wrapping_mul(self.windows);
        row.wrapping_sub(self.base_row).wrapping_add(window) as u32
    }
}

/// Dense host ids: `host - h0`.
pub struct Offset {
    host0: u32,
    slots: usize,
}

impl Offset {
    /// The ids of the hosts in `hosts` (an inclusive range), if it is at most `limit` slots.
    pub fn new(hosts: (u32, u32), limit: u64) -> Option<Self> {
        let slots = u64::from(hosts.1 - hosts.0) + 1;
        (slots <= limit).then_some(Self {
            host0: hosts.0,
            slots: slots as usize,
        })
    }
}

impl KeyIds<u32> for Offset {
    fn slots(&self) -> usize {
        self.slots
    }
    #[inline]
    fn id(&self, _point: usize, host: u32) -> u32 {
        host - self.host0
    }
    fn key(&self, id: u32) -> u32 {
        self.host0 + id
    }
}

/// The general numbering: every point's id precomputed, ids ranking the distinct keys.
pub struct Sorted<K> {
    of_point: Vec<u32>,
    keys: Vec<K>,
}

impl<K: Copy + Ord + Hash> Sorted<K> {
    /// Number the distinct keys of `keys` (one per point) in ascending order.
    pub fn new(keys: impl Iterator<Item = K>) -> Self {
        let mut first_seen: FxMap<K, u32> = FxMap::default();
        let of_point: Vec<u32> = keys
            .map(|key| {
                let next = first_seen.len() as u32;
                *first_seen.entry(key).or_insert(next)
            })
            .collect();
        let mut distinct: Vec<(K, u32)> = first_seen.into_iter().collect();
        distinct.sort_unstable_by_key(|&(key, _)| key);
        let mut rank = vec![0u32; distinct.len()];
        for (position, &(_, seen)) in distinct.iter().enumerate() {
            rank[seen as usize] = position as u32;
        }
        Self {
            of_point: of_point
                .into_iter()
                .map(|seen| rank[seen as usize])
                .collect(),
            keys: distinct.into_iter().map(|(key, _)| key).collect(),
        }
    }
}

impl<K: Copy> KeyIds<K> for Sorted<K> {
    fn slots(&self) -> usize {
        self.keys.len()
    }
    #[inline]
    fn id(&self, point: usize, _key: K) -> u32 {
        self.of_point[point]
    }
    fn key(&self, id: u32) -> K {
        self.keys[id as usize]
    }
}

impl GroupIds for Sorted<GroupKey> {
    #[inline]
    fn id_at(&self, point: usize, _region: u16, _ts: i64) -> u32 {
        self.of_point[point]
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_ids_ascend_with_the_keys_and_map_back() {
        let grid = Grid::new((3, 5), (-2, 4), 100).unwrap();
        assert_eq!(grid.slots(), 21);
        let mut last = None;
        for region in 3..=5 {
            for window in -2..=4 {
                let id = grid.id(0, (region, window));
                for ts in [window * WINDOW_MS, window * WINDOW_MS + WINDOW_MS - 1] {
                    assert_eq!(grid.id_at(0, region, ts), id);
                }
                assert!(last < Some(id));
                assert_eq!(grid.key(id), (region, window));
                last = Some(id);
            }
        }
        assert!(Grid::new((3, 5), (-2, 4), 20).is_none());
        // windows at the ends of the i64 range: the bases wrap, the ids do not
        let low = i64::MIN.div_euclid(WINDOW_MS);
        let grid = Grid::new((0, 1), (low, low + 1), 100).unwrap();
        assert_eq!(grid.id_at(0, 1, i64::MIN), 2);
        assert_eq!(grid.id_at(0, 0, (low + 1) * WINDOW_MS), 1);
        let high = i64::MAX.div_euclid(WINDOW_MS);
        let grid = Grid::new((7, 7), (high - 2, high), 100).unwrap();
        assert_eq!(grid.id_at(0, 7, i64::MAX), 2);
        assert!(Grid::new((0, u16::MAX), (i64::MIN, i64::MAX), u64::MAX).is_none());
    }

    #[test]
    fn offsets_and_their_limit() {
        let hosts = Offset::new((7, 9), 3).unwrap();
        assert_eq!((hosts.slots(), hosts.id(0, 8), hosts.key(2)), (3, 1, 9));
        assert!(Offset::new((0, u32::MAX), u64::from(u32::MAX)).is_none());
    }

    #[test]
    fn sorted_ids_rank_the_distinct_keys() {
        let keys = [(2u16, 5i64), (1, 9), (2, 5), (1, -3)];
        let ids = Sorted::new(keys.into_iter());
        assert_eq!(ids.slots(), 3);
        let of: Vec<u32> = (0..keys.len()).map(|i| ids.id(i, keys[i])).collect();
        assert_eq!(of, [2, 1, 2, 0]);
        assert_eq!((ids.key(0), ids.key(2)), ((1, -3), (2, 5)));
    }
}
