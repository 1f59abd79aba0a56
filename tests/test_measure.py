"""Timing loops: counts, batching, open-loop latency from the intended send time."""

from __future__ import annotations

import itertools
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


class FakeClock:
    """A clock seam: every read advances by ``step`` ns, so costs come out exact."""

    def __init__(self, step: int) -> None:
        self._next = itertools.count(0, step)  # next() on a count is atomic under the GIL

    def __call__(self) -> int:
        return next(self._next)


def test_batched_samples_are_divided_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "clock", FakeClock(1000))
    done = measure.closed_loop(lambda: None, 1, 20e-6, batch=10)
    assert done.ops == done.latencies_ns.size * 10
    assert np.all(done.latencies_ns == 100)  # one batch spans one 1000 ns step: 100 per call


def test_batch_size_is_a_rule_on_the_cell_not_a_probe() -> None:
    # the same cell always gets the same batch, whatever the machine is doing
    assert {measure.batch_for(64, out_of_process=False) for _ in range(5)} == {
        (100, "in-process call on a payload <= 1,024 bytes: batches of 100 calls")}
    assert measure.batch_for(1024, False)[0] == 100
    assert measure.batch_for(1025, False)[0] == 10
    assert measure.batch_for(64 * 1024, False)[0] == 10
    assert measure.batch_for(64 * 1024 + 1, False)[0] == 1
    assert measure.batch_for(64, out_of_process=True)[0] == 1


def test_timer_cost_with_a_fake_clock() -> None:
    cost = measure.timer_cost_ns(pairs=1000, read=FakeClock(42))
    assert cost == {"median": 42.0, "min": 42.0}


def test_empty_call_cost_is_the_loop_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "clock", FakeClock(80))
    assert measure.empty_call_cost_ns(1, duration_s=2e-6) == 80.0
    assert measure.empty_call_cost_ns(8, duration_s=2e-6) == 10.0


def test_real_timer_cost_is_plausible() -> None:
    cost = measure.timer_cost_ns(pairs=2000)
    assert 0 <= cost["min"] <= cost["median"] < 10_000


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
