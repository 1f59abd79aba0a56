"""The typed worker message: it reads what workers and client groups write, writes it back
unchanged, and names the bad field of a malformed one; the reduction reads only it."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybridbench import group, pinning, reduce, runner, stats
from hybridbench.messages import MessageError, WarmState, WorkerOutcome
from hybridbench.results import FAILED, OK, Cell


def _histogram() -> str:
    histogram = stats.new_histogram()
    stats.record_many(histogram, np.full(220, 1000))
    return stats.encode_histogram(histogram)


def _message(pid: int = 7, kernel: list[int] | None = None) -> dict[str, Any]:
    """A worker's message as ``worker.measure_cell`` writes it (keys in its order)."""
    return {"pid": pid, "verified": True, "backend_info": {"name": "inproc"},
            "batch": 1, "batch_rule": "fixed by the caller", "out_of_process": False,
            "harness": {"timer_ns": 30.0, "empty_call_ns": 90.0},
            "cpu_affinity": {"client": [0, 1], "server": None},
            "rounds": [{"ops": 100, "duration_ns": 1_000_000, "unsent": 0, "at_ns": 5},
                       {"ops": 120, "duration_ns": 1_100_000, "unsent": 0, "at_ns": 9}],
            "in_turns": True, "allocator": {"name": "glibc", "roles": {"client": "ok"}},
            "latency_hdr": _histogram(),
            "resources": {"rss_baseline_bytes": {"client": 10}, "rss_peak_bytes": {"client": 20},
                          "cpu_s": {"client": 0.002}, "minor_faults": {"client": 3},
                          "major_faults": {"client": 0}, "lost": [],
                          "source": {"client": "process"}},
            "machine": {"others_cores": 0.1, "steal_cores": 0.0},
            "server_reported": {},
            "breakdown": {"calls": 2, "end_to_end_ns": [500, 600], "kernel_ns": kernel},
            "warmup": {"calls": 50, "seconds": 0.25, "chunks": 5, "extended": False,
                       "bound_s": 2.0, "steady": True, "check": None},
            "steady": {"steady": True, "change": 0.01, "at": 0.5, "z": 1.0, "segments": 21,
                       "at_s": 0.1, "timed_s": 0.2},
            "status": "ok", "error": None}


def test_a_workers_message_round_trips_unchanged() -> None:
    message = _message(kernel=[100, 200])
    outcome = WorkerOutcome.from_dict(message)
    assert outcome.ok and outcome.measured is not None
    assert outcome.measured.rounds[1].ops == 120
    assert outcome.measured.warm.warmup is not None and outcome.measured.warm.others_cores == 0.1
    assert outcome.to_dict() == message
    assert json.loads(json.dumps(outcome.to_dict())) == message  # what goes over the wire
    assert WorkerOutcome.from_dict(outcome.to_dict()) == outcome


def test_a_failed_worker_has_no_figures_and_round_trips() -> None:
    failed = {"pid": 3, "verified": False, "status": "wrong", "error": "output differs"}
    outcome = WorkerOutcome.from_dict(failed)
    assert outcome.measured is None and not outcome.ok and outcome.error == "output differs"
    assert WorkerOutcome.from_dict(outcome.to_dict()) == outcome
    # what the manager makes of a crash: no pid at all
    crash = WorkerOutcome.from_dict({"status": "failed", "error": "signal", "verified": False})
    assert crash.pid is None and crash.status == FAILED


def test_a_group_message_without_faults_and_round_clocks_is_read() -> None:
    members = [_message(pid=1), _message(pid=2)]
    combined = group.combine(members, shared_server=False)
    outcome = WorkerOutcome.from_dict(combined)
    assert outcome.measured is not None
    assert outcome.measured.group is not None and len(outcome.measured.group) == 2
    assert outcome.measured.rounds[0].at_ns is None
    assert outcome.measured.resources.minor_faults == {}


@pytest.mark.parametrize(("path", "value", "error"), [
    (("rounds", 1, "ops"), "many", r"^rounds\[1\]\.ops: expected an integer, got 'many'$"),
    (("rounds", 0, "duration_ns"), None, r"^rounds\[0\]\.duration_ns: expected a number"),
    (("resources", "cpu_s", "client"), "1s", r"^resources\.cpu_s\.client: expected a number"),
    (("breakdown", "end_to_end_ns", 1), 1.5, r"^breakdown\.end_to_end_ns\[1\]: expected an int"),
    (("machine",), [], r"^machine: expected an object, got \[\]$"),
    (("warmup", "extended"), "no", r"^warmup\.extended: expected true or false"),
    (("steady", "steady"), 1, r"^steady\.steady: expected true or false"),
    (("batch",), True, r"^batch: expected an integer, got True$"),
])
def test_a_bad_field_is_named_with_its_path(path: tuple[Any, ...], value: object,
                                            error: str) -> None:
    message = _message()
    *parents, last = path
    target: Any = message
    for key in parents:
        target = target[key]
    target[last] = value
    with pytest.raises(MessageError, match=error):
        WorkerOutcome.from_dict(message)


@pytest.mark.parametrize(("path", "error"), [
    (("latency_hdr",), r"^latency_hdr: missing$"),
    (("resources", "lost"), r"^resources\.lost: missing$"),
    (("rounds", 0, "unsent"), r"^rounds\[0\]\.unsent: missing$"),
    (("cpu_affinity", "client"), r"^cpu_affinity\.client: missing$"),
    (("status",), r"^status: missing$"),
])
def test_a_missing_field_is_named(path: tuple[Any, ...], error: str) -> None:
    message = _message()
    *parents, last = path
    target: Any = message
    for key in parents:
        target = target[key]
    del target[last]
    with pytest.raises(MessageError, match=error):
        WorkerOutcome.from_dict(message)


def test_only_an_ok_worker_must_carry_figures() -> None:
    assert WorkerOutcome.from_dict({"status": "failed", "error": "x"}).measured is None
    with pytest.raises(MessageError, match=r"^rounds: missing$"):
        WorkerOutcome.from_dict({"status": OK, "error": None})


def test_a_malformed_message_fails_its_worker_and_so_the_cell() -> None:
    bad = _message()
    bad["rounds"][0]["ops"] = "x"
    outcomes = [WorkerOutcome.received(_message()), WorkerOutcome.received(bad)]
    assert outcomes[1].status == FAILED
    cell = Cell("echo", "64B", "inproc", payload_bytes=64)
    reduce.reduce_workers(cell, outcomes)
    assert cell.status == FAILED
    assert cell.error == ("the worker's result is malformed: rounds[0].ops: expected an integer, "
                          "got 'x' (worker 2 of 2)")


def test_the_reduction_reads_the_typed_message() -> None:
    cell = Cell("echo", "64B", "inproc", payload_bytes=64)
    reduce.reduce_workers(cell, [WorkerOutcome.from_dict(_message(pid=p, kernel=[100, 200]))
                                for p in (1, 2)])
    assert cell.status == OK and cell.workers == 2 and [w["pid"] for w in
                                                        cell.worker_results] == [1, 2]
    assert cell.time_split["kernel_ns"] == 150.0 and cell.steady_state is True
    assert cell.worker_results[0]["steady"]["others_cores"] == 0.1


def test_warm_state_reads_what_an_older_worker_left_out() -> None:
    assert WarmState.from_dict({}) == WarmState()
    assert WarmState.from_dict({"machine": {"others_cores": 0.5}}).others_cores == 0.5


def test_a_real_workers_message_is_read_and_written_back_unchanged() -> None:
    config = runner.RunConfig(workloads=["echo"], backends=["inproc"], sizes="64B", workers=1,
                              duration_s=0.05, rounds=2, warmup_s=0.02, breakdown_s=0.01,
                              cold_start=False)
    with tempfile.TemporaryDirectory() as tmp:
        pending = runner.prepare_cell(runner.plan(config)[0], config, pinning.plan(False),
                                      Path(tmp))
        assert pending.spec is not None
        message = runner.run_unit(pending.spec, config)
    outcome = WorkerOutcome.from_dict(copy.deepcopy(message))
    assert outcome.ok, outcome.error
    written = outcome.to_dict()
    # the warm-up's own test and chunks ride along; every key the worker wrote comes back
    assert written == message
