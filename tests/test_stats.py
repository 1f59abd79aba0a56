"""Statistics: HDR percentiles agree with numpy; bootstrap intervals cover the truth."""

from __future__ import annotations

import numpy as np
import pytest

from hybridbench import stats


@pytest.mark.parametrize("distribution", ["lognormal", "bimodal", "uniform"])
def test_percentiles_agree_with_numpy(distribution: str) -> None:
    rng = np.random.default_rng(42)
    if distribution == "lognormal":
        values = rng.lognormal(np.log(50_000), 0.8, 200_000)
    elif distribution == "bimodal":  # a fast path and a slow path, like a cache
        values = np.concatenate([rng.normal(2_000, 100, 190_000), rng.normal(900_000, 5e4, 10_000)])
    else:
        values = rng.uniform(100, 10_000_000, 200_000)
    values = np.maximum(values, 1).astype(np.int64)
    histogram = stats.new_histogram()
    stats.record_many(histogram, values)
    summary = stats.latency_summary(histogram)
    assert histogram.get_total_count() == values.size
    for key, percentile in stats.PERCENTILES.items():
        exact = np.percentile(values, percentile, method="inverted_cdf")
        assert summary[key] == pytest.approx(exact, rel=2e-3), key
    assert summary["max"] == pytest.approx(values.max(), rel=2e-3)
    assert summary["mean"] == pytest.approx(values.mean(), rel=2e-3)


def test_histogram_round_trips_through_its_encoding() -> None:
    histogram = stats.new_histogram()
    stats.record_many(histogram, np.arange(1, 5000) * 997)
    decoded = stats.decode_histogram(stats.encode_histogram(histogram))
    assert stats.latency_summary(decoded) == stats.latency_summary(histogram)


def test_empty_histogram_summary_is_nan_not_zero() -> None:
    summary = stats.latency_summary(stats.new_histogram())
    assert all(np.isnan(v) for v in summary.values())


def test_bootstrap_ci_covers_the_true_median() -> None:
    # 300 experiments of 10 rounds each around a true median of 1000: a 95% interval should
    # contain it in most of them (the percentile bootstrap undercovers a little at n=10).
    rng = np.random.default_rng(7)
    covered = 0
    for trial in range(300):
        rounds = rng.normal(1000.0, 50.0, 10)
        low, high = stats.bootstrap_ci(rounds, resamples=500, seed=trial)
        assert low <= np.median(rounds) <= high
        covered += low <= 1000.0 <= high
    assert covered / 300 >= 0.85


def test_bootstrap_ci_degenerate_cases() -> None:
    assert stats.bootstrap_ci([5.0]) == (5.0, 5.0)
    assert stats.bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)


def test_variation_and_tail_evidence() -> None:
    assert stats.variation([90.0, 100.0, 110.0]) == pytest.approx(0.1)
    assert stats.variation([5.0]) == 0.0
    assert stats.samples_beyond(1000, 99.0) == pytest.approx(10.0)
