"""The ``timeseries`` workload's best Python engine (what ``inproc-best`` runs).

Tuned numpy, on the same specification as ``fast``:

* (region, window) becomes one dense group id, ``region * span + (window - first window)``,
  so the group statistics are ``np.bincount`` (count, sum of cpu) and ``np.minimum.at`` /
  ``np.maximum.at`` (min, max) over a table indexed by id, in id order, which is the output
  order (region, then window) with no sort at all;
* the p95 needs each group's latencies sorted, where ``fast`` pays a three-key
  ``np.lexsort``. The points are put in group order by a *stable* argsort of the ids (when
  there are at most 65,536 groups the ids fit ``uint16``, for which numpy's stable sort is an
  O(n) radix sort: 0.8 ms at 100k against 7.4 ms for ``int64`` ids), each group's latencies
  become one row of a table padded with +inf, and ``ndarray.sort(axis=1)`` sorts the short
  rows (vectorised, no argsort); the p95 is one fancy index. When the groups are so unequal
  that the padding would exceed two cells per point, one float argsort of all latencies
  followed by the stable id sort gives the same order;
* a group whose cpu sum overflows (finite values beyond the double range) is summed again
  scaled by 2^-64, as the spec says (``timeseries.finite_means``; only then);
* hosts (``u32`` ids) are counted and maximised the same way over a table indexed by host id;
* every metric is finite exactly when their sum is (a NaN or an infinity makes the sum NaN or
  infinite), so the common case is one pass; only a non-finite sum looks for the first bad
  value, for the error message the reference gives.

No range is taken from the generator: regions are ``u16`` and windows span whatever the batch
holds. When a dense table would be larger than a few entries per point (a batch spread over
years, or host ids in the billions) the engine compacts the ids with ``np.unique`` first, which
is sort-based and correct for any input.

Measured at 100k points on the 2-vCPU machine shared with four other jobs (load 4-6), every
output verified against the reference (everything but ``mean_cpu`` is byte-identical to
``fast``'s; the mean differs in the last bits, its summation order being free):

* as it is, interleaved with ``fast``, median process CPU time of 40 calls each (load ~4.5):
  ``fast`` 29.3 ms, this engine 5.9 ms (5.0x);
* interleaved, median of 25 calls each (wall time, load ~5.5), before the padded rows:
  ``fast`` (``inproc``: a three-key ``np.lexsort`` and ``reduceat``) 26.1 ms, this engine
  6.3 ms (4.2x); median process CPU time of 40 calls (load ~4.6): 30.0 and 7.6 ms (4.0x);
* the p95 step alone, median process CPU time of 40 calls: argsort of the latencies plus the
  stable id sort 5.4 ms, the padded rows 3.8 ms (so they replaced it);
* its parts, median of 30 calls: ``np.argsort(latency)`` 3.4 ms, with ``kind="stable"``
  15.0 ms (the order of equal latencies does not change the p95 value, so unstable is
  enough); the stable argsort of the ids 0.8 ms as ``uint16`` (radix) against 7.4 ms as
  ``int64``; ``np.bincount`` 0.2 ms and ``np.minimum.at`` 0.2 ms;
* sorting (id, latency) pairs in one ``np.sort`` of ``id + 1j * latency`` (complex numbers sort
  by real, then imaginary part, so no argsort is needed): 12.3 ms, slower than the two
  argsorts together.

polars (17.5 ms) and duckdb (25.8 ms) were measured by the lead for issue 13 (the issue that
asked for this engine) against this approach's 5.0 ms, not again here: both are slower and
would be extra dependencies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hybridbench.workloads.timeseries import (
    GROUP,
    HEADER,
    HOST,
    MAGIC_OUT,
    VERSION,
    WINDOW_MS,
    finite_means,
    metrics_offset,
    non_finite_error,
    parse_header,
)

#: an id table (groups or hosts) is built densely up to this many entries per point, plus
#: ``_DENSE_SLACK``; above that, ids are compacted first (the tables cost memory and time in
#: proportion to their size, not to the batch's)
_DENSE_PER_POINT = 4
_DENSE_SLACK = 1 << 16
#: the p95 sorts one padded row per group while the rows hold at most this many cells per point
#: (plus ``_DENSE_SLACK``); groups of very unequal sizes take the argsort path
_PADDING_PER_POINT = 2
#: the region and window of group ids
KeysOf = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
#: numpy's stable sort is a radix sort for integers of at most 16 bits
_RADIX_IDS = 1 << 16


def _check_finite(metrics: np.ndarray) -> None:
    """The reference's error for the first NaN or infinity. A finite sum proves every value
    finite in one pass; a sum that is not finite may also be finite values overflowing."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(metrics.sum()):
            return
    finite = np.isfinite(metrics)
    if finite.all():
        return
    metric, point = np.argwhere(~finite)[0]
    raise non_finite_error(int(metric), int(point), metrics[metric, point])


def _dense(size: int, points: int) -> bool:
    return size <= _DENSE_PER_POINT * points + _DENSE_SLACK


def _group_ids(region: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, int, KeysOf]:
    """Ids ordered like (region, window), the size of the id space, and a function giving
    the region and window of given ids."""
    first, last = int(window.min()), int(window.max())
    span = last - first + 1
    size = (int(region.max()) + 1) * span
    if _dense(size, len(region)):
        def keys_of(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return ids // span, first + ids % span

        return region.astype(np.intp) * span + (window - first), size, keys_of
    # a sparse key space: (region, window) pairs ranked by one sort
    pairs = np.empty(len(region), dtype=[("region", "<u2"), ("window", "<i8")])
    pairs["region"], pairs["window"] = region, window
    keys, ids = np.unique(pairs, return_inverse=True)
    return ids.astype(np.intp), len(keys), lambda at: (keys["region"][at], keys["window"][at])


def _host_ids(host: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense host ids and the host each id stands for (ascending)."""
    size = int(host.max()) + 1
    if _dense(size, len(host)):
        return host.astype(np.intp), np.arange(size, dtype=np.uint32)
    names, ids = np.unique(host, return_inverse=True)
    return ids.astype(np.intp), names


def _stable_order(ids: np.ndarray, size: int) -> np.ndarray:
    """The stable argsort of ``ids`` (in ``range(size)``): a radix sort when they fit 16 bits."""
    return np.argsort(ids.astype(np.uint16) if size <= _RADIX_IDS else ids, kind="stable")


def _p95(ids: np.ndarray, latency: np.ndarray, counts: np.ndarray,
         used: np.ndarray) -> np.ndarray:
    """The nearest-rank p95 of each used group (``counts`` per id, ``used`` the ids that have
    points, ascending)."""
    kept = counts[used]
    ranks = (95 * kept + 99) // 100 - 1
    width = int(kept.max())
    if len(used) * width <= _PADDING_PER_POINT * len(ids) + _DENSE_SLACK:
        rows = _latency_rows(ids, latency, counts, used, width)
        return rows[np.arange(len(used)), ranks]
    # groups of very unequal sizes: sort all the latencies, then (stably) by group
    by_latency = np.argsort(latency)
    grouped = _stable_order(ids[by_latency], len(counts))
    return latency[by_latency[grouped[np.cumsum(kept) - kept + ranks]]]


def _latency_rows(ids: np.ndarray, latency: np.ndarray, counts: np.ndarray, used: np.ndarray,
                  width: int) -> np.ndarray:
    """One row per used group holding its latencies, ascending, padded with +inf (latencies
    are finite, so the padding sorts last and is never a group's p95)."""
    grouped = _stable_order(ids, len(counts))
    group_ids = ids[grouped]
    row_of = np.zeros(len(counts), dtype=np.intp)
    row_of[used] = np.arange(len(used))
    column = np.arange(len(ids)) - (np.cumsum(counts) - counts)[group_ids]
    rows = np.full((len(used), width), np.inf)
    rows[row_of[group_ids], column] = latency[grouped]
    rows.sort(axis=1)  # many short rows: numpy's vectorised sort, no argsort
    return rows


def _groups(region: np.ndarray, window: np.ndarray, cpu: np.ndarray,
            latency: np.ndarray) -> np.ndarray:
    ids, size, keys_of = _group_ids(region, window)
    counts = np.bincount(ids, minlength=size)
    used = np.flatnonzero(counts)
    low = np.full(size, np.inf)
    high = np.full(size, -np.inf)
    np.minimum.at(low, ids, cpu)
    np.maximum.at(high, ids, cpu)
    groups = np.zeros(len(used), GROUP)
    groups["region"], groups["window"] = keys_of(used)
    groups["count"] = counts[used]
    groups["min_cpu"], groups["max_cpu"] = low[used], high[used]
    sums = np.bincount(ids, weights=cpu, minlength=size)[used]
    groups["mean_cpu"] = finite_means(
        sums, counts[used], low[used], high[used],
        lambda scale: np.bincount(ids, weights=cpu * scale, minlength=size)[used])
    groups["p95_latency_ms"] = _p95(ids, latency, counts, used)
    return groups


def _hosts(host: np.ndarray, cpu: np.ndarray) -> np.ndarray:
    ids, names = _host_ids(host)
    counts = np.bincount(ids, minlength=len(names))
    peak = np.full(len(names), -np.inf)
    np.maximum.at(peak, ids, cpu)
    used = np.flatnonzero(counts)
    hosts = np.zeros(len(used), HOST)
    hosts["host"], hosts["count"], hosts["max_cpu"] = names[used], counts[used], peak[used]
    return hosts


def run(payload: bytes) -> bytes:
    n, m = parse_header(payload)
    ts = np.frombuffer(payload, "<i8", n, 16)
    host = np.frombuffer(payload, "<u4", n, 16 + 8 * n)
    region = np.frombuffer(payload, "<u2", n, 16 + 12 * n)
    metrics = np.frombuffer(payload, "<f8", n * m, metrics_offset(n)).reshape(m, n)
    _check_finite(metrics)
    if n == 0:
        return HEADER.pack(MAGIC_OUT, VERSION, 0, 0, 0)
    cpu, latency = metrics[0], metrics[1]
    groups = _groups(region, ts // WINDOW_MS, cpu, latency)  # numpy's // floors, like the spec
    hosts = _hosts(host, cpu)
    return HEADER.pack(MAGIC_OUT, VERSION, 0, len(groups), len(hosts)) + groups.tobytes() \
        + hosts.tobytes()
