"""``timeseries``: aggregate a columnar batch of metrics by (region, 1-minute window).

This docstring is the specification; every backend computes exactly this. All integers and
floats are little-endian; floats are IEEE-754 binary64.

Input: a columnar batch
-----------------------
============================  ==========  ===================================================
offset                        size        field
============================  ==========  ===================================================
0                             4           magic ``b"HBTS"``
4                             2           version, u16, = 1
6                             2           ``m``: number of metric columns, u16, >= 2
8                             4           ``n``: number of points, u32 (0 is allowed)
12                            4           reserved, u32 (ignored)
16                            8n          timestamps, i64, milliseconds since the Unix epoch
16 + 8n                       4n          host id, u32
16 + 12n                      2n          region id, u16
16 + 14n                      0..7        zero padding up to ``M = align8(16 + 14n)``
M                             8nm         metrics, f64, column after column: metric 0 of
                                          every point, then metric 1, ...
============================  ==========  ===================================================

The body must be exactly ``M + 8nm`` bytes. Metric 0 is ``cpu`` (percent), metric 1 is
``latency_ms``; further columns are carried but not aggregated. Points need not be sorted.

Rejected with a ``WorkloadError`` naming the problem: a body shorter than the 16-byte header,
a wrong magic or version, ``m < 2``, a length that does not match ``n`` and ``m`` (e.g. a
truncated or misaligned batch: the message gives the expected and actual lengths), any NaN or
infinite value in any metric column (the message names the metric and the point index), and
bodies above 64 MiB. NaN is rejected rather than skipped so that every engine has one answer.

Aggregation
-----------
``window = floor(ts / 60000)`` (floor toward minus infinity, so negative timestamps work).
For every (region, window) group that has points:

* ``count``; ``mean``, ``min`` and ``max`` of ``cpu``. The mean is the mathematical mean of
  the group's values, sum / count, in any summation order (verified to a relative 1e-9 of the
  group's largest magnitude, see "Verification"). It is always finite and lies between
  ``min`` and ``max``, also when the values' sum leaves the double range (two points of cpu
  1.5e308 in one group have the mean 1.5e308): an engine must not overflow. The usual way,
  which costs nothing in the common case: sum as usual and, only for a group whose sum is not
  finite (an overflow makes it infinite or NaN, so a finite sum proves none happened), sum
  again the values scaled by 2^-64, divide by the count, scale back by 2^64 and clamp to
  [min, max] (rounding could otherwise put a mean of values near the double limit just past
  it, and the scale-back would make that infinite). Scaling by a power of two is exact for
  every value that matters to such a sum (|v| >= 2^-958), and a scaled sum of up to 2^32
  values cannot overflow;
* ``p95`` of ``latency_ms`` by nearest rank: sort the group's latencies ascending and take
  the value at 1-based rank ``(95 * count + 99) // 100`` (that is, ceil(0.95 * count)).

And for every host that has points: ``count`` and ``max`` of ``cpu`` over the whole batch.

Output: a binary table
----------------------
Header of 16 bytes: magic ``b"HBTA"``, u16 version = 1, u16 reserved = 0, u32 ``g`` (number
of groups), u32 ``h`` (number of hosts). Then ``g`` group records of 48 bytes, sorted by region
then window, ascending::

    0  i64 window    8  u16 region   10  u16 zero   12  u32 count
    16 f64 mean_cpu  24 f64 min_cpu  32  f64 max_cpu 40  f64 p95_latency_ms

then ``h`` host records of 16 bytes, sorted by host ascending::

    0  u32 host      4  u32 count    8   f64 max_cpu

Total length ``16 + 48g + 16h``.

Verification
------------
Same header; group keys, counts, hosts and host counts exactly equal; ``p95`` exactly equal;
``min``/``max`` to a relative 1e-9; ``mean`` within ``1e-9 * max(|min|, |max|)`` of the
reference's (its ``min`` and ``max``), and a mean that is not finite never verifies.

The mean's tolerance is relative to the group's largest magnitude, not to the mean itself,
because that is what any summation order can promise: summing ``n`` values in any order errs
by at most about ``(n - 1) * 2^-53 * sum(|v|)``, so the mean by ``(n - 1) * 2^-53 * max|v|``,
below ``1e-9 * max|v|`` for every batch within the 64 MiB limit (fewer than 2.3 million
points). Relative to the mean, a group whose values cancel is ill-conditioned: the mean of
1.7e308, 1.0 and -1.7e308 is 1/3, yet summing in that order gives 0.0 (1.7e308 + 1.0 rounds
to 1.7e308), a legitimate order. For a group of values of one sign (generated batches) the
tolerance is within a factor ``max / mean`` of a relative 1e-9 of the mean.

Sizes
-----
``10k``, ``100k`` (default), ``1M`` points; 4 metric columns; 8 regions; 64 hosts at 10k and
500 above; one hour of data in roughly time order with a few seconds of jitter.
"""

from __future__ import annotations

import math
import statistics
import struct
import sys
from array import array
from collections.abc import Callable

import numpy as np

from hybridbench.errors import VerificationError, WorkloadError
from hybridbench.limits import check_payload_size, oversized_body
from hybridbench.workload import BadInput, SizePreset, Workload

MAGIC_IN, MAGIC_OUT, VERSION = b"HBTS", b"HBTA", 1
HEADER = struct.Struct("<4sHHII")
GROUP = np.dtype([("window", "<i8"), ("region", "<u2"), ("zero", "<u2"), ("count", "<u4"),
                  ("mean_cpu", "<f8"), ("min_cpu", "<f8"), ("max_cpu", "<f8"),
                  ("p95_latency_ms", "<f8")])
HOST = np.dtype([("host", "<u4"), ("count", "<u4"), ("max_cpu", "<f8")])
WINDOW_MS = 60_000
_POINTS = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
#: the overflow fallback of the mean sums the values times ``RESCALE_DOWN`` (2^-64) and scales
#: the mean back by ``RESCALE_UP`` (2^64); see "Aggregation"
RESCALE_DOWN, RESCALE_UP = 2.0 ** -64, 2.0 ** 64


def p95_rank(count: int) -> int:
    """1-based nearest rank of the 95th percentile: ceil(0.95 * count) in integers."""
    return (95 * count + 99) // 100


def metrics_offset(n: int) -> int:
    return (16 + 14 * n + 7) // 8 * 8


def expected_length(n: int, m: int) -> int:
    return metrics_offset(n) + 8 * n * m


# -- input ----------------------------------------------------------------------------------


def encode_batch(ts: np.ndarray, host: np.ndarray, region: np.ndarray,
                 metrics: np.ndarray) -> bytes:
    """Lay out a batch; ``metrics`` has shape (m, n). Tests use this for hand-made batches."""
    n, m = len(ts), metrics.shape[0]
    parts = [HEADER.pack(MAGIC_IN, VERSION, m, n, 0), ts.astype("<i8").tobytes(),
             host.astype("<u4").tobytes(), region.astype("<u2").tobytes()]
    parts.append(b"\0" * (metrics_offset(n) - (16 + 14 * n)))
    parts.append(np.ascontiguousarray(metrics, dtype="<f8").tobytes())
    return b"".join(parts)


def generate(size: str, seed: int) -> bytes:
    n = _POINTS[size]
    rng = np.random.default_rng([seed, n])
    hosts = 64 if n <= 10_000 else 500
    ts = _START_MS + (np.arange(n) * (3_600_000 / n)).astype(np.int64)
    ts += rng.integers(-3000, 3000, n)
    host = rng.integers(0, hosts, n, dtype=np.uint32)
    region = (host % 8).astype(np.uint16)
    cpu = np.clip(rng.normal(40.0, 15.0, n), 0.0, 100.0)
    latency = rng.lognormal(3.0, 0.6, n)
    memory = rng.uniform(0.5, 64.0, n)
    network = rng.exponential(2e6, n)
    return encode_batch(ts, host, region, np.stack([cpu, latency, memory, network]))


def parse_header(payload: bytes) -> tuple[int, int]:
    """Check everything but the metric values; return ``(n, m)``."""
    check_payload_size("timeseries", len(payload))
    if len(payload) < HEADER.size:
        raise WorkloadError(
            f"timeseries: {len(payload)} bytes is shorter than the 16-byte header")
    magic, version, m, n, _ = HEADER.unpack_from(payload)
    if magic != MAGIC_IN:
        raise WorkloadError(f"timeseries: bad magic {magic!r}, expected {MAGIC_IN!r}")
    if version != VERSION:
        raise WorkloadError(f"timeseries: unsupported version {version}, expected {VERSION}")
    if m < 2:
        raise WorkloadError(f"timeseries: {m} metric columns, at least 2 are needed")
    if len(payload) != expected_length(n, m):
        raise WorkloadError(
            f"timeseries: expected {expected_length(n, m)} bytes for {n} points and {m} "
            f"metrics, got {len(payload)} (truncated or misaligned batch)")
    return n, m


def finite_means(sums: np.ndarray, counts: np.ndarray, low: np.ndarray, high: np.ndarray,
                 rescaled_sums: Callable[[float], np.ndarray]) -> np.ndarray:
    """``sums / counts`` per group; a group whose sum is not finite (finite values overflowing)
    gets the spec's fallback: ``rescaled_sums(RESCALE_DOWN)`` gives every group's sum of its
    values times that factor (only called then), and the mean is scaled back and clamped to the
    group's ``[low, high]``."""
    means = sums / counts
    overflowed = ~np.isfinite(sums)
    if overflowed.any():
        scaled = rescaled_sums(RESCALE_DOWN)[overflowed] / counts[overflowed]
        with np.errstate(over="ignore"):  # an infinity from rounding is clamped below
            means[overflowed] = np.clip(scaled * RESCALE_UP, low[overflowed], high[overflowed])
    return means


def non_finite_error(metric: int, point: int, value: float) -> WorkloadError:
    kind = "NaN" if math.isnan(value) else "infinite"
    return WorkloadError(f"timeseries: metric {metric} of point {point} is {kind}")


# -- reference: standard library only (this is what inproc-pure runs) --------------------------


def _column(payload: bytes, typecode: str, offset: int, count: int) -> array:
    values = array(typecode)
    values.frombytes(payload[offset:offset + count * values.itemsize])
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _mean(values: list[float]) -> float:
    """The mean of finite values: ``fsum`` (exact, then one rounding), or, where it overflows,
    the exact rational mean (``statistics.mean``; slower, so only then), which is finite."""
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # "intermediate overflow in fsum": the sum leaves the double range
        return statistics.mean(values)


def reference(payload: bytes) -> bytes:
    n, m = parse_header(payload)
    ts = _column(payload, "q", 16, n)
    hosts = _column(payload, "I", 16 + 8 * n, n)
    regions = _column(payload, "H", 16 + 12 * n, n)
    start = metrics_offset(n)
    columns = [_column(payload, "d", start + 8 * n * k, n) for k in range(m)]
    for k, column in enumerate(columns):
        for i, value in enumerate(column):
            if not math.isfinite(value):
                raise non_finite_error(k, i, value)
    cpu, latency = columns[0], columns[1]

    groups: dict[tuple[int, int], list[int]] = {}
    host_max: dict[int, list] = {}
    for i in range(n):
        groups.setdefault((regions[i], ts[i] // WINDOW_MS), []).append(i)
        entry = host_max.get(hosts[i])
        if entry is None:
            host_max[hosts[i]] = [1, cpu[i]]
        else:
            entry[0] += 1
            entry[1] = max(entry[1], cpu[i])

    out = [HEADER.pack(MAGIC_OUT, VERSION, 0, len(groups), len(host_max))]
    for (region, window), members in sorted(groups.items()):
        values = [cpu[i] for i in members]
        lat = sorted(latency[i] for i in members)
        count = len(members)
        out.append(struct.pack("<qHHIdddd", window, region, 0, count, _mean(values),
                               min(values), max(values), lat[p95_rank(count) - 1]))
    for host in sorted(host_max):
        count, peak = host_max[host]
        out.append(struct.pack("<IId", host, count, peak))
    return b"".join(out)


# -- verification -------------------------------------------------------------------------------


def _group_starts(*sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where any of the (already sorted) key columns changes value."""
    n = len(sorted_keys[0])
    change = np.zeros(n, dtype=bool)
    change[:1] = True
    for key in sorted_keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def fast(payload: bytes) -> bytes:
    """The numpy engine of ``inproc``: sorts and segmented reductions instead of Python loops."""
    n, m = parse_header(payload)
    ts = np.frombuffer(payload, "<i8", n, 16)
    host = np.frombuffer(payload, "<u4", n, 16 + 8 * n)
    region = np.frombuffer(payload, "<u2", n, 16 + 12 * n)
    metrics = np.frombuffer(payload, "<f8", n * m, metrics_offset(n)).reshape(m, n)
    finite = np.isfinite(metrics)
    if not finite.all():
        metric, point = np.argwhere(~finite)[0]
        raise non_finite_error(int(metric), int(point), metrics[metric, point])
    cpu, latency = metrics[0], metrics[1]
    window = ts // WINDOW_MS  # numpy's // floors, like the spec

    order = np.lexsort((latency, window, region))  # by region, window, then latency
    g_region, g_window = region[order], window[order]
    starts = _group_starts(g_region, g_window)
    counts = np.diff(np.append(starts, n))
    g_cpu = cpu[order]
    groups = np.zeros(len(starts), GROUP)
    groups["window"], groups["region"], groups["count"] = g_window[starts], g_region[starts], counts
    if n:
        groups["min_cpu"] = low = np.minimum.reduceat(g_cpu, starts)
        groups["max_cpu"] = high = np.maximum.reduceat(g_cpu, starts)
        with np.errstate(over="ignore", invalid="ignore"):  # finite_means handles an overflow
            sums = np.add.reduceat(g_cpu, starts)
        groups["mean_cpu"] = finite_means(sums, counts, low, high,
                                          lambda scale: np.add.reduceat(g_cpu * scale, starts))
        groups["p95_latency_ms"] = latency[order][starts + (95 * counts + 99) // 100 - 1]

    by_host = np.argsort(host, kind="stable")
    h_host = host[by_host]
    h_starts = _group_starts(h_host)
    hosts = np.zeros(len(h_starts), HOST)
    hosts["host"], hosts["count"] = h_host[h_starts], np.diff(np.append(h_starts, n))
    if n:
        hosts["max_cpu"] = np.maximum.reduceat(cpu[by_host], h_starts)
    header = HEADER.pack(MAGIC_OUT, VERSION, 0, len(groups), len(hosts))
    return header + groups.tobytes() + hosts.tobytes()


def decode_table(data: bytes, what: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) < HEADER.size:
        raise VerificationError(f"timeseries: {what} is shorter than its header")
    magic, version, _, g, h = HEADER.unpack_from(data)
    if magic != MAGIC_OUT or version != VERSION:
        raise VerificationError(f"timeseries: {what} has a bad header")
    if len(data) != 16 + GROUP.itemsize * g + HOST.itemsize * h:
        raise VerificationError(f"timeseries: {what} length does not match its header")
    groups = np.frombuffer(data, GROUP, g, 16)
    hosts = np.frombuffer(data, HOST, h, 16 + GROUP.itemsize * g)
    return groups, hosts


def _first_mismatch(got: np.ndarray, want: np.ndarray, exact: bool) -> int | None:
    bad = got != want if exact else ~np.isclose(got, want, rtol=1e-9, atol=0.0)
    return _first(bad)


def _first(bad: np.ndarray) -> int | None:
    return int(np.argmax(bad)) if bad.any() else None


def _first_bad_mean(got: np.ndarray, want: np.ndarray) -> int | None:
    """The first group whose mean is not within 1e-9 of the group's largest magnitude of the
    reference's (see "Verification"); a NaN or an infinity never is."""
    magnitude = np.maximum(np.abs(want["min_cpu"]), np.abs(want["max_cpu"]))
    with np.errstate(over="ignore", invalid="ignore"):  # far-off or non-finite: not close
        close = np.abs(got["mean_cpu"] - want["mean_cpu"]) <= 1e-9 * magnitude
    return _first(~close)


def _batch_with(value: float) -> bytes:
    """Ten points whose metric 1 of point 7 is ``value`` (NaN, infinity)."""
    n = 10
    metrics = np.ones((3, n))
    metrics[1, 7] = value
    return encode_batch(np.arange(n, dtype=np.int64) * 1000, np.arange(n, dtype=np.uint32),
                        np.zeros(n, np.uint16), metrics)


class TimeseriesWorkload(Workload):
    name = "timeseries"
    summary = "group by (region, minute): count, mean/min/max cpu, p95 latency; max per host"
    sizes = tuple(SizePreset(k, f"{v:,} points x 4 metrics") for k, v in _POINTS.items())
    default_size = "100k"
    rank = 3
    best_engine = "numpy: dense group ids, bincount and ufunc.at, radix-sorted p95"

    def generate(self, size: str, seed: int) -> bytes:
        return generate(size, seed)

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def fast(self, payload: bytes) -> bytes:
        return fast(payload)

    def bad_inputs(self) -> list[BadInput]:
        good = self.make_input("10k")
        one_metric = encode_batch(np.zeros(2, np.int64), np.zeros(2, np.uint32),
                                  np.zeros(2, np.uint16), np.ones((1, 2)))
        return [
            ("ts-short", b"HBTS", r"header"),
            ("ts-bad-magic", b"XXXX" + good[4:], r"magic"),
            ("ts-truncated", good[:-3], r"expected \d+ bytes"),
            ("ts-misaligned", good + b"\0", r"expected \d+ bytes"),
            ("ts-nan", _batch_with(float("nan")), r"metric 1 of point 7 is NaN"),
            ("ts-inf", _batch_with(float("inf")), r"metric 1 of point 7 is infinite"),
            ("ts-one-metric", one_metric, r"metric"),
            ("ts-oversized", oversized_body(), r"limit"),
        ]

    def best(self, payload: bytes) -> bytes:
        from hybridbench.workloads import timeseries_best  # only inproc-best needs it

        return timeseries_best.run(payload)

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        got_g, got_h = decode_table(output, "output")
        want_g, want_h = decode_table(expected, "reference output")
        if len(got_g) != len(want_g) or len(got_h) != len(want_h):
            raise VerificationError(
                f"timeseries: {len(got_g)} groups and {len(got_h)} hosts, expected "
                f"{len(want_g)} and {len(want_h)}")
        checks = [(got_g, want_g, f, _first_mismatch(got_g[f], want_g[f], exact))
                  for f, exact in (("window", True), ("region", True), ("count", True),
                                   ("p95_latency_ms", True), ("min_cpu", False),
                                   ("max_cpu", False))]
        checks.append((got_g, want_g, "mean_cpu", _first_bad_mean(got_g, want_g)))
        checks += [(got_h, want_h, f, _first_mismatch(got_h[f], want_h[f], f != "max_cpu"))
                   for f in ("host", "count", "max_cpu")]
        for got, want, field, row in checks:
            if row is not None:
                table = "group" if got.dtype == GROUP else "host"
                raise VerificationError(
                    f"timeseries: {table} {row} {field} is {got[field][row]!r}, "
                    f"expected {want[field][row]!r}")


WORKLOAD = TimeseriesWorkload()
