"""The worker's own pieces, in this process: the breakdown phase and resource merging."""

from __future__ import annotations

import itertools

import pytest
from fake_backends import KERNEL_NS, SERVER_RSS, SERVER_RSS_PEAK, EchoOnly, Timed

from hybridbench import measure, worker
from hybridbench.resources import ResourceUsage


class _FakeClock:
    def __init__(self, step: int) -> None:
        self._next = itertools.count(0, step)

    def __call__(self) -> int:
        return next(self._next)


def test_breakdown_pairs_end_to_end_with_kernel_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "clock", _FakeClock(1000))
    with Timed() as backend:
        done = worker.breakdown(backend, "echo", b"x" * 64, seconds=30e-6)
    # each call: read, call, read (1000 ns apart), then the deadline read
    assert done["calls"] == 10
    assert done["end_to_end_ns"] == [1000] * 10
    assert done["kernel_ns"] == [KERNEL_NS] * 10


def test_breakdown_is_bounded_by_calls_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "clock", _FakeClock(1))
    monkeypatch.setattr(worker, "BREAKDOWN_MAX_CALLS", 25)
    with Timed() as backend:
        assert worker.breakdown(backend, "echo", b"x", seconds=10.0)["calls"] == 25


def test_breakdown_without_kernel_time_says_none() -> None:
    with EchoOnly() as backend:  # a backend that cannot time its engine
        done = worker.breakdown(backend, "echo", b"x", seconds=0.001)
    assert done["calls"] >= 1 and done["kernel_ns"] is None


def test_self_reported_figures_fill_roles_without_a_pid() -> None:
    class Monitor:
        usage = ResourceUsage(rss_baseline_bytes={"client": 10}, rss_peak_bytes={"client": 20},
                              cpu_s={"client": 1.0})

    before = {"server": {"pid": 7, "rss_bytes": SERVER_RSS, "rss_peak_bytes": 1, "cpu_s": 5.0}}
    after = {"server": {"pid": 7, "rss_bytes": 2, "rss_peak_bytes": SERVER_RSS_PEAK,
                        "cpu_s": 7.5}}
    merged = worker._resources(Monitor(), before, after)  # type: ignore[arg-type]
    assert merged["cpu_s"] == {"client": 1.0, "server": 2.5}
    assert merged["rss_peak_bytes"]["server"] == SERVER_RSS_PEAK
    assert merged["rss_baseline_bytes"]["server"] == SERVER_RSS
    assert merged["source"] == {"client": "process", "server": "self-reported"}


def test_a_sampled_process_wins_over_its_own_report() -> None:
    class Monitor:
        usage = ResourceUsage(rss_baseline_bytes={"server": 10}, rss_peak_bytes={"server": 20},
                              cpu_s={"server": 1.0})

    report = {"server": {"pid": 7, "rss_bytes": 2, "rss_peak_bytes": 99, "cpu_s": 50.0}}
    merged = worker._resources(Monitor(), report, report)  # type: ignore[arg-type]
    assert merged["cpu_s"]["server"] == 1.0 and merged["source"]["server"] == "process"
