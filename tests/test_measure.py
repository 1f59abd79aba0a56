"""Timing loops: counts, batching, open-loop latency from the intended send time."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from hybridbench import measure


def test_closed_loop_counts_every_call() -> None:
    calls = []
    lock = threading.Lock()

    def call() -> None:
        with lock:
            calls.append(1)
        time.sleep(0.001)

    done = measure.closed_loop(call, concurrency=2, duration_s=0.2)
    assert done.ops == len(calls) == done.latencies_ns.size
    assert np.all(done.latencies_ns >= 1_000_000)  # each call slept 1 ms
    assert 0.19e9 <= done.duration_ns < 1e9


def test_short_calls_are_batched_and_divided() -> None:
    batch, mean_ns = measure.calibrate_batch(lambda: None)
    assert batch > 1 and mean_ns < measure.BATCH_THRESHOLD_NS
    done = measure.closed_loop(lambda: None, 1, 0.05, batch=batch)
    assert done.ops == done.latencies_ns.size * batch
    assert np.median(done.latencies_ns) < 5_000  # per call, not per batch


def test_slow_calls_are_not_batched() -> None:
    assert measure.calibrate_batch(lambda: time.sleep(0.0002), probe_ns=5_000_000)[0] == 1


def test_open_loop_charges_queueing_to_the_backend() -> None:
    # 10 ms calls asked for at 200/s on one worker: the backend falls behind, and latency from
    # the intended send time grows far beyond the 10 ms service time (coordinated omission).
    done = measure.open_loop(lambda: time.sleep(0.01), rate=200, concurrency=1, duration_s=0.3)
    assert done.latencies_ns.max() > 100_000_000
    assert done.ops + done.unsent == 60


def test_open_loop_at_a_sustainable_rate_keeps_the_schedule() -> None:
    done = measure.open_loop(lambda: None, rate=500, concurrency=1, duration_s=0.4)
    assert done.ops == 200 and done.unsent == 0
    assert done.throughput == pytest.approx(500, rel=0.2)


def test_open_loop_gives_up_instead_of_hanging() -> None:
    done = measure.open_loop(lambda: time.sleep(0.05), rate=1000, concurrency=1, duration_s=1,
                             give_up_after_s=0.3)
    assert done.unsent > 900 and done.duration_ns < 2e9


def test_worker_exception_reaches_the_caller() -> None:
    def boom() -> None:
        raise RuntimeError("backend died")

    with pytest.raises(RuntimeError, match="backend died"):
        measure.closed_loop(boom, concurrency=2, duration_s=0.1)
    with pytest.raises(RuntimeError, match="backend died"):
        measure.open_loop(boom, rate=100, concurrency=2, duration_s=0.1)
