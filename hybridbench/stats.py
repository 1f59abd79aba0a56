"""Pure statistics: latency histograms, percentiles and confidence intervals.

Latencies go into an HDR histogram (3 significant figures: every reported percentile is within
0.1% of the exact order statistic) so that rounds and threads merge exactly and a result file
can carry the whole distribution in a few kilobytes. Costs: recording is O(distinct values)
after quantising (a few thousand at most), percentile queries O(buckets).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

from hybridbench.thresholds import THIN_TAIL_SAMPLES  # noqa: F401  (re-exported: stats.THIN_TAIL_SAMPLES)

#: 1 ns to 1 hour, 3 significant figures
LOWEST_NS, HIGHEST_NS, SIGNIFICANT_FIGURES = 1, 3_600_000_000_000, 3
#: percentiles stored in every cell, by key
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_FIGURES)


def record_many(histogram: HdrHistogram, values_ns: np.ndarray) -> None:
    """Record many latencies at once.

    ``record_value`` is a Python call per value; collapsing equal values first makes a round
    of a million samples cost milliseconds instead of a second. Values are quantised to the
    histogram's own resolution (2**-10 relative, finer than its 3 significant figures), so
    nothing is lost that the histogram would have kept.
    """
    values = np.clip(np.asarray(values_ns, dtype=np.int64), LOWEST_NS, HIGHEST_NS)
    if values.size == 0:
        return
    shift = np.maximum(np.floor(np.log2(values)).astype(np.int64) - 10, 0)
    quantised = (values >> shift) << shift
    unique, counts = np.unique(quantised, return_counts=True)
    for value, count in zip(unique.tolist(), counts.tolist(), strict=True):
        histogram.record_value(value, count)


def latency_summary(histogram: HdrHistogram) -> dict[str, float]:
    """``p50``, ``p90``, ``p99``, ``p999``, ``max``, ``mean`` in nanoseconds."""
    if histogram.get_total_count() == 0:
        return {key: math.nan for key in (*PERCENTILES, "max", "mean")}
    summary = {key: float(histogram.get_value_at_percentile(p)) for key, p in PERCENTILES.items()}
    summary["max"] = float(histogram.get_max_value())
    summary["mean"] = histogram_mean(histogram)
    return summary


def histogram_mean(histogram: HdrHistogram) -> float:
    """``histogram.get_mean_value()``, the same float, from the non-zero counts at once.

    hdrh's own walks every bucket with its Python iterator: about 0.2 s per cell here, more
    than the rest of the cell's reduction. The mean is that of the buckets' median equivalent
    values (the lowest value of a bucket plus half its width), summed in exact integers.
    """
    if not histogram.total_count:
        return 0.0
    counts = np.ctypeslib.as_array(histogram.counts)[:histogram.counts_len]
    index = np.flatnonzero(counts)
    half_magnitude = histogram.sub_bucket_half_count_magnitude
    bucket = (index >> half_magnitude) - 1
    sub_bucket = (index & (histogram.sub_bucket_half_count - 1)) + histogram.sub_bucket_half_count
    first = bucket < 0  # the first bucket holds the sub-buckets below half count too
    sub_bucket[first] -= histogram.sub_bucket_half_count
    bucket[first] = 0
    shift = bucket + histogram.unit_magnitude
    median = (sub_bucket << shift) + ((1 << shift) >> 1)
    total = sum(map(operator.mul, counts[index].tolist(), median.tolist()))
    return float(total) / histogram.total_count


def encode_histogram(histogram: HdrHistogram) -> str:
    """The standard compressed HdrHistogram encoding, as text for the JSON result."""
    return histogram.encode().decode("ascii")


def decode_histogram(encoded: str) -> HdrHistogram:
    return HdrHistogram.decode(encoded.encode("ascii"))


def sum_histograms(encoded: Sequence[str]) -> HdrHistogram:
    """One histogram holding every recorded value of the encoded ones (HDR histograms add
    exactly: the workers of a cell, the members of a client group, the clients of a merge)."""
    histogram = new_histogram()
    for item in encoded:
        histogram.add(decode_histogram(item))
    return histogram


def samples_beyond(samples: int, percentile: float) -> float:
    """How many samples lie beyond ``percentile``: the evidence a tail estimate rests on."""
    return samples * (100.0 - percentile) / 100.0


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95,
                 resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median (scipy.stats.bootstrap).

    With a handful of rounds the interval is coarse, never fake: for one value, or values
    that are all equal, it is that value on both sides.
    """
    data = np.asarray(values, dtype=float)
    if data.size < 2 or np.all(data == data[0]):
        value = float(data[0]) if data.size else math.nan
        return value, value
    from scipy.stats import bootstrap

    result = bootstrap((data,), np.median, confidence_level=confidence, n_resamples=resamples,
                       method="percentile", random_state=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


def variation(values: Sequence[float]) -> float:
    """Coefficient of variation (sample standard deviation / mean) of the rounds of a cell.

    pyperf's instability rule: above 10% the rounds disagree too much to trust one number.
    Chosen over (max - min) / median, which one stalled round on a shared VM pushes past 10%.
    """
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return 0.0
    mean = float(data.mean())
    return float(data.std(ddof=1) / mean) if mean else math.inf


#: ``interval_method`` of cells measured in worker processes (schema 2)
WORKER_T_METHOD = "student-t over worker-process means"
#: ``interval_method`` when a cell has one worker: rounds of one process, which miss the
#: between-process spread (labelled so, never passed off as the worker interval)
ROUNDS_BOOTSTRAP_METHOD = "percentile bootstrap of round throughputs in one process"


def worker_intervals(worker_means: Sequence[float], confidence: float = 0.95
                     ) -> tuple[tuple[float, float], tuple[float, float]]:
    """``(confidence interval of the mean, prediction interval of a repeat run's mean)``.

    The unit is the worker process: each worker's throughput already averages its rounds, so
    its spread contains both the between-process component (layout, hash seeds, a server's
    fresh state) and the between-round one divided by the number of rounds. The mean of k
    such values has variance s^2/k, and Student's t with k-1 degrees of freedom accounts for
    s itself being estimated from k values (with k = 3, t = 4.30, not 1.96).

    The prediction interval answers "where will the same measurement land next time?": the
    difference of two independent k-worker means has variance 2 s^2/k, hence the sqrt(2).
    A confidence interval of the mean contains another run's mean only ~83% of the time even
    when the model holds; the coverage test in tests/test_stats.py checks both by simulation.
    With fewer than two workers there is no spread to estimate: both intervals are NaN.
    """
    data = np.asarray(worker_means, dtype=float)
    if data.size < 2:
        nan = (math.nan, math.nan)
        return nan, nan
    from scipy.stats import t as student_t

    centre = float(data.mean())
    sem = float(data.std(ddof=1)) / math.sqrt(data.size)
    quantile = float(student_t.ppf(0.5 + confidence / 2, data.size - 1))
    ci = (centre - quantile * sem, centre + quantile * sem)
    pi = (centre - quantile * sem * math.sqrt(2), centre + quantile * sem * math.sqrt(2))
    return ci, pi


def welch_p_value(base: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided Welch t-test on per-worker throughputs (unequal variances allowed).

    Chosen over Mann-Whitney because with 3 workers a side the smallest Mann-Whitney p-value
    is 0.1: no change could ever be called significant. Welch's test uses the sizes of the
    differences, not only their order, and stays valid when the two runs vary differently.
    """
    from scipy.stats import ttest_ind

    a, b = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return 1.0 if a[0] == b[0] else 0.0
    return float(ttest_ind(b, a, equal_var=False).pvalue)


#: ``method`` of a comparison measured as paired, interleaved trials (``paired_ratio``)
PAIRED_METHOD = ("student-t over per-pass log ratios of paired, interleaved workers "
                 "(each pass's ratio: the median of its round-by-round throughput ratios, "
                 "the table's workers timing their rounds in turn)")


@dataclass(frozen=True)
class PairedRatio:
    """A ratio from paired observations, with its own intervals (NaN where it has none)."""

    ratio: float
    ci95: tuple[float, float]
    #: where a repeat run's ratio should land (95%): the yardstick of ``compare``
    pi95: tuple[float, float]
    #: pairs it rests on
    passes: int
    #: per pass: numerator / denominator
    pass_ratios: tuple[float, ...]

    @property
    def half_width(self) -> float:
        """Half the interval's width relative to the ratio (0.05: +-5%)."""
        low, high = self.ci95
        return (high - low) / 2 / self.ratio if self.ratio else math.nan


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float],
                 confidence: float = 0.95) -> PairedRatio:
    """The ratio of two things measured side by side in each of several passes.

    ``numerators[i]`` and ``denominators[i]`` were measured in the same pass, adjacent in
    time, so a drift of the machine that slows both cancels in their quotient. The unit is
    the pass: its log ratio d_i = log(a_i / b_i). The ratio is exp(mean d) (a geometric mean
    of the pass ratios, so a/b and b/a are exact reciprocals with mirrored intervals), its
    interval exp(mean d +- t * s_d / sqrt(n)) with Student's t at n-1 degrees of freedom.
    Logs because a throughput ratio is multiplicative and its noise roughly proportional.

    The prediction interval is sqrt(2) wider (the difference of two independent n-pass
    means): where a repeat run's ratio lands 95% of the time if the passes are the only
    noise. With fewer than two valid pairs both intervals are NaN; with no spread at all
    (a backend paired with itself) they are the ratio itself.
    """
    a, b = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired figures need one denominator per numerator: "
                         f"{a.size} against {b.size}")
    valid = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    logs = np.log(a[valid]) - np.log(b[valid])
    ratios = tuple(float(r) for r in np.exp(logs))
    nan = (math.nan, math.nan)
    if logs.size == 0:
        return PairedRatio(math.nan, nan, nan, 0, ratios)
    centre = float(logs.mean())
    if logs.size < 2:
        return PairedRatio(math.exp(centre), nan, nan, 1, ratios)
    from scipy.stats import t as student_t

    sem = float(logs.std(ddof=1)) / math.sqrt(logs.size)
    reach = float(student_t.ppf(0.5 + confidence / 2, logs.size - 1)) * sem

    def around(width: float) -> tuple[float, float]:
        return math.exp(centre - width), math.exp(centre + width)

    return PairedRatio(math.exp(centre), around(reach), around(reach * math.sqrt(2)),
                       int(logs.size), ratios)


@dataclass(frozen=True)
class LoadShift:
    """The busy passes' ratio against the quiet passes' (geometric means)."""

    quiet: float
    busy: float
    #: the shift exceeds what the quiet passes' own spread allows (95%, Welch-like with
    #: the quiet spread for both); always True with one quiet pass (no spread to judge by)
    beyond_noise: bool

    @property
    def factor(self) -> float:
        return self.busy / self.quiet


def load_shift(log_ratios: Sequence[float], busy: Sequence[bool],
               confidence: float = 0.95) -> LoadShift | None:
    """How the passes a busy machine measured moved a paired ratio: the busy passes' mean
    log ratio against the quiet ones'. None when either kind of pass is missing (nothing to
    set the busy ones against)."""
    logs, flags = np.asarray(log_ratios, dtype=float), np.asarray(busy, dtype=bool)
    if logs.shape != flags.shape:
        raise ValueError(f"one busy flag per pass: {flags.size} flags, {logs.size} passes")
    if flags.all() or not flags.any():
        return None
    quiet, loaded = logs[~flags], logs[flags]
    gap = abs(float(loaded.mean()) - float(quiet.mean()))
    beyond = True
    if quiet.size >= 2:
        from scipy.stats import t as student_t

        spread = float(quiet.std(ddof=1)) * math.sqrt(1 / quiet.size + 1 / loaded.size)
        beyond = gap > float(student_t.ppf(0.5 + confidence / 2, quiet.size - 1)) * spread
    return LoadShift(math.exp(float(quiet.mean())), math.exp(float(loaded.mean())), beyond)
