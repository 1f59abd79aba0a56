"""Turns: the workers of a table alive together, timing their rounds one at a time in turn.

Real worker processes throughout (the protocol is pipes between real processes); the fakes
of fake_backends.py stand in for engines that fail in each way a worker can.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import pytest
from fake_backends import FAKES, REFS

import hybridbench
from hybridbench import paired, runner, turns
from hybridbench.results import FAILED, OK, WRONG

TINY = dict(duration_s=0.6, rounds=3, warmup_s=0.02, workers=2, breakdown_s=0.02,
            cold_start=False)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    real_class, real_reason = runner.open_backend, runner.unavailable_reason
    monkeypatch.setattr(runner, "open_backend", lambda name, **options: (
        FAKES[name](**options) if name in FAKES else real_class(name, **options)))
    monkeypatch.setattr(runner, "unavailable_reason",
                        lambda n, options=None: FAKES[n].unavailable_reason() if n in FAKES
                        else real_reason(n, options))
    monkeypatch.setattr(runner, "backend_names", lambda: [*hybridbench.backend_names(), *FAKES])
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))  # for the workers


def test_round_order_rotates() -> None:
    assert [turns.round_order(3, r) for r in range(4)] == [
        [0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]
    assert turns.round_order(0, 5) == []


@pytest.mark.slow
def test_a_table_times_its_rounds_in_turn() -> None:
    """Round r of every backend of a pass ran before round r+1 of any of them, never two at
    once (the rounds' start times on the system's monotonic clock, shared by processes)."""
    config = runner.RunConfig(workloads=["echo"], backends=["inproc", "inproc-pure", "ffi"],
                              sizes="64B", **TINY)
    done = runner.run(config)
    assert all(c.status == OK for c in done.cells), [c.error for c in done.cells]
    for cell in done.cells:
        assert all(w["in_turns"] for w in cell.worker_results)
    for worker in range(config.workers):
        timeline = sorted((r["at_ns"], r["duration_s"], index)
                          for cell in done.cells for r in cell.rounds if r["worker"] == worker
                          for index in [_round_index(cell, r)])
        assert [index for _, _, index in timeline] == sorted(i for _, _, i in timeline)
        for (start, seconds, _), (after, _, _) in itertools.pairwise(timeline):
            assert start + seconds * 1e9 <= after  # one at a time
    for comparison in done.comparisons:
        assert comparison.passes == config.workers


def _round_index(cell: object, round_: dict) -> int:
    same_worker = [r for r in cell.rounds if r["worker"] == round_["worker"]]  # type: ignore
    return same_worker.index(round_)


@pytest.mark.slow
def test_a_failing_worker_drops_out_and_the_others_finish(fakes: None) -> None:
    """Every way a worker can fail, in one table with a good engine: the failures are
    reported as such, and the good cell is measured in turns all the same."""
    config = runner.RunConfig(workloads=["echo"], sizes="64B", backend_refs=REFS,
                              backends=["inproc", "wrong", "dies", "crashes", "hangs"],
                              worker_timeout_s=6.0, **TINY)
    started = time.monotonic()
    cells = {c.backend: c for c in runner.run(config).cells}
    assert time.monotonic() - started < 60  # the hung worker cost its timeout, not more
    good = cells["inproc"]
    assert good.status == OK and good.workers == 2, good.error
    # pass 1 in turns with the others; in pass 2 the failed cells get no worker: it ran alone
    assert [w["in_turns"] for w in good.worker_results] == [True, False]
    assert cells["wrong"].status == WRONG
    assert cells["dies"].status == FAILED and "signal 9" in (cells["dies"].error or "")
    assert cells["crashes"].status == FAILED and "status 3" in (cells["crashes"].error or "")
    assert cells["hangs"].status == FAILED and "timed out" in (cells["hangs"].error or "")


def _outcome(rates: list[float], in_turns: bool = True) -> dict:
    return {"in_turns": in_turns,
            "rounds": [{"ops": int(r * 1000), "duration_ns": 10**12} for r in rates]}


def test_a_pass_ratio_pairs_rounds_so_a_drift_cancels() -> None:
    # the machine slowed to 60% in the second round: both backends' second rounds show it
    fast, slow = _outcome([300.0, 180.0, 300.0]), _outcome([100.0, 60.0, 100.0])
    assert paired.pass_ratio(fast, slow) == pytest.approx(3.0)
    assert paired.pass_ratio(slow, fast) == pytest.approx(1 / 3)
    # one stalled round of one backend does not move the median of the round ratios
    stalled = _outcome([300.0, 30.0, 300.0])
    assert paired.pass_ratio(stalled, slow) == pytest.approx(3.0)


def test_workers_that_ran_alone_are_paired_by_their_figures() -> None:
    alone = _outcome([300.0, 180.0, 300.0], in_turns=False)
    other = _outcome([100.0, 100.0, 100.0])
    assert paired.pass_ratio(alone, other) == pytest.approx(3.0)  # medians: 300 / 100
    assert math.isnan(paired.pass_ratio(_outcome([]), _outcome([])))
