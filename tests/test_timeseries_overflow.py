"""Finite cpu values whose sum leaves the double range, on every backend.

The ``timeseries`` spec (``workloads/timeseries.py``): the mean is the mathematical mean of the
group's values, finite and between ``min`` and ``max``, however large the values ("Aggregation");
it is verified to ``1e-9 * max(|min|, |max|)`` of the reference's, and an infinite or NaN mean
never verifies ("Verification"). Each backend runs its real engine (the Rust libraries and
server, the Python and Go servers); one that cannot run here is skipped with its reason.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import hybridbench
from hybridbench.errors import VerificationError
from hybridbench.registry import unavailable_reason
from hybridbench.workloads import timeseries

BACKENDS = ("inproc", "inproc-pure", "inproc-best", "ffi", "ffi-idiomatic", "grpc", "grpc-py",
            "grpc-go", "grpc-go-best", "grpc-go-cgo")
HUGE = 1.7e308
LARGEST = sys.float_info.max


def _batch(groups: list[list[float]]) -> bytes:
    """Group ``r`` in region ``r``, window 0; one host per point."""
    region = np.concatenate([np.full(len(g), r) for r, g in enumerate(groups)])
    cpu = np.concatenate([np.asarray(g, float) for g in groups])
    n = len(cpu)
    return timeseries.encode_batch(np.zeros(n, np.int64), np.arange(n, dtype=np.uint32),
                                   region.astype(np.uint16), np.stack([cpu, np.ones(n)]))


def _generated_with_huge_groups() -> bytes:
    """The 10k preset with the cpu of one group raised to 1e308 (its sum overflows) and of
    another to +-1.7e308 alternating (partial sums overflow both ways, the exact sum is
    small): the fallback among hundreds of ordinary groups, through each engine's fast paths."""
    payload = hybridbench.make_input("timeseries", "10k", seed=0)
    n, m = timeseries.parse_header(payload)
    ts = np.frombuffer(payload, "<i8", n, 16)
    host = np.frombuffer(payload, "<u4", n, 16 + 8 * n)
    region = np.frombuffer(payload, "<u2", n, 16 + 12 * n)
    metrics = np.frombuffer(payload, "<f8", n * m, timeseries.metrics_offset(n)).reshape(m, n)
    metrics = metrics.copy()
    key = region.astype(np.int64) * 2**40 + ts // timeseries.WINDOW_MS
    keys, sizes = np.unique(key, return_counts=True)
    first, second = (key == k for k in keys[np.argsort(sizes)[-2:]])  # the two largest groups
    metrics[0][first] = 1e308
    metrics[0][second] = HUGE * np.resize([1.0, -1.0], int(second.sum()))
    return timeseries.encode_batch(ts, host, region, metrics)


CASES = {
    "two points of 1.5e308": _batch([[1.5e308, 1.5e308], [1.0, 3.0]]),
    "the largest double seven times": _batch([[LARGEST] * 7]),
    "negative": _batch([[-HUGE] * 3 + [5.0]]),
    "cancelling": _batch([[HUGE, HUGE, -HUGE, -HUGE, 1.0]]),
    "in a generated batch": _generated_with_huge_groups(),
}


def _assert_finite_means_within_min_and_max(output: bytes) -> None:
    groups, _ = timeseries.decode_table(output, "output")
    means = groups["mean_cpu"]
    assert np.isfinite(means).all(), means
    assert ((groups["min_cpu"] <= means) & (means <= groups["max_cpu"])).all()


def test_the_reference_gives_the_exact_mean() -> None:
    groups, _ = timeseries.decode_table(timeseries.reference(CASES["two points of 1.5e308"]), "r")
    assert groups["mean_cpu"].tolist() == [1.5e308, 2.0]
    groups, _ = timeseries.decode_table(timeseries.reference(CASES["cancelling"]), "r")
    assert groups["mean_cpu"].tolist() == [0.2]
    groups, _ = timeseries.decode_table(
        timeseries.reference(CASES["the largest double seven times"]), "r")
    assert groups["mean_cpu"].tolist() == [LARGEST]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_gives_a_finite_verified_mean(backend: str) -> None:
    if reason := unavailable_reason(backend):
        pytest.skip(reason)
    with hybridbench.open_backend(backend) as engine:
        outputs = {case: engine.run("timeseries", payload) for case, payload in CASES.items()}
    for case, output in outputs.items():
        hybridbench.verify("timeseries", CASES[case], output)
        _assert_finite_means_within_min_and_max(output)


def _with_means(output: bytes, *means: float) -> bytes:
    groups, hosts = timeseries.decode_table(output, "output")
    groups = groups.copy()
    groups["mean_cpu"][:len(means)] = means
    return output[:16] + groups.tobytes() + hosts.tobytes()


@pytest.mark.parametrize("wrong", [float("inf"), -float("inf"), float("nan")])
def test_a_mean_that_is_not_finite_never_verifies(wrong: float) -> None:
    for case in ("two points of 1.5e308", "in a generated batch"):
        payload = CASES[case]
        expected = timeseries.reference(payload)
        with pytest.raises(VerificationError, match="group 0 mean_cpu"):
            hybridbench.verify("timeseries", payload, _with_means(expected, wrong))


def test_the_mean_is_verified_to_1e_9_of_the_groups_largest_magnitude() -> None:
    # summed as 1.7e308 + 1.0 - 1.7e308 + 1.7e308 - 1.7e308 (a legitimate order) these values
    # give 0.0 where the exact mean is 0.2: the mean of cancelling values is ill-conditioned,
    # so the tolerance is 1e-9 of max(|min|, |max|), not of the mean
    payload = CASES["cancelling"]
    expected = timeseries.reference(payload)
    hybridbench.verify("timeseries", payload, _with_means(expected, 0.0))
    hybridbench.verify("timeseries", payload, _with_means(expected, 0.9e-9 * HUGE))
    with pytest.raises(VerificationError, match="mean_cpu"):
        hybridbench.verify("timeseries", payload, _with_means(expected, 1.1e-9 * HUGE))
    # a group of values of one sign: within a factor max / mean of relative 1e-9 of the mean
    payload = CASES["two points of 1.5e308"]  # group 1 holds 1.0 and 3.0: mean 2, max 3
    expected = timeseries.reference(payload)
    hybridbench.verify("timeseries", payload, _with_means(expected, 1.5e308, 2.0 + 2.9e-9))
    with pytest.raises(VerificationError, match="group 1 mean_cpu"):
        hybridbench.verify("timeseries", payload, _with_means(expected, 1.5e308, 2.0 + 3.1e-9))
    with pytest.raises(VerificationError, match="group 0 mean_cpu"):
        hybridbench.verify("timeseries", payload, _with_means(expected, 1.5e308 * (1 - 2e-9)))
