"""Client groups (``--processes N``): members start together, their figures combine into one
unit, a failing member fails the unit; and, with the real server, one spawned server is
shared by the group's processes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from hybridbench import group, stats
from hybridbench.backends.grpc import GrpcBackend
from hybridbench.cli import main
from hybridbench.errors import BackendError
from hybridbench.results import OK, load


def _outcome(pid: int, ops: tuple[int, ...], durations_ms: tuple[int, ...],
             latency_ns: int, cpu_client: float, cpu_server: float | None = None) -> dict:
    histogram = stats.new_histogram()
    stats.record_many(histogram, np.full(sum(ops), latency_ns))
    cpu = {"client": cpu_client} | ({"server": cpu_server} if cpu_server is not None else {})
    return {"pid": pid, "status": "ok", "error": None, "verified": True, "batch": 1,
            "batch_rule": "r", "harness": {"timer_ns": 30.0}, "cpu_affinity": {"client": [0]},
            "rounds": [{"ops": n, "duration_ns": d * 1_000_000, "unsent": 0}
                       for n, d in zip(ops, durations_ms, strict=True)],
            "latency_hdr": stats.encode_histogram(histogram),
            "resources": {"cpu_s": cpu, "rss_peak_bytes": {"client": pid * 10},
                          "rss_baseline_bytes": {"client": pid}, "lost": [],
                          "source": {"client": "process"}},
            "machine": {"others_cores": 1.0, "steal_cores": 0.0},
            "breakdown": {"calls": 2, "end_to_end_ns": [1, 2], "kernel_ns": None}}


def test_members_rounds_add_calls_over_the_longest_member():
    a = _outcome(1, (100, 200), (1000, 1000), 1000, 0.5, cpu_server=0.2)
    b = _outcome(2, (300, 100), (1200, 900), 5000, 0.7, cpu_server=0.3)
    combined = group.combine([a, b], shared_server=True)
    assert combined["rounds"] == [{"ops": 400, "duration_ns": 1_200_000_000, "unsent": 0},
                                  {"ops": 300, "duration_ns": 1_000_000_000, "unsent": 0}]
    histogram = stats.decode_histogram(combined["latency_hdr"])
    assert histogram.get_total_count() == 700
    resources = combined["resources"]
    assert resources["cpu_s"]["client"] == pytest.approx(1.2)  # two processes' CPU adds
    assert resources["cpu_s"]["server"] == pytest.approx(0.3)  # one server seen whole twice
    assert resources["rss_peak_bytes"]["client"] == 20  # the largest process
    assert [m["pid"] for m in combined["group"]] == [1, 2]
    assert combined["breakdown"]["calls"] == 4


def test_the_group_warmed_up_as_long_as_its_slowest_member_and_is_steady_if_all_are():
    a = _outcome(1, (1,), (1,), 1, 0.5)
    b = _outcome(2, (1,), (1,), 1, 0.5)
    a |= {"warmup": {"calls": 10, "seconds": 0.3, "extended": False, "bound_s": 2.0},
          "steady": {"steady": True, "change": 0.01}, "allocator": {"name": "jemalloc"}}
    b |= {"warmup": {"calls": 30, "seconds": 0.9, "extended": True, "bound_s": 2.0},
          "steady": {"steady": False, "change": -0.2}, "allocator": {"name": "jemalloc"}}
    combined = group.combine([a, b], shared_server=False)
    assert combined["warmup"] == {"calls": 40, "seconds": 0.9, "extended": True,
                                  "bound_s": 2.0}
    assert combined["steady"] == {"steady": False, "change": -0.2}  # the member that moved
    assert combined["allocator"] == {"name": "jemalloc"}
    assert "warmup" not in group.combine([_outcome(1, (1,), (1,), 1, 0.5)], False)


def test_separate_servers_add_their_cpu():
    a = _outcome(1, (1,), (1,), 1, 0.5, cpu_server=0.2)
    b = _outcome(2, (1,), (1,), 1, 0.5, cpu_server=0.3)
    assert group.combine([a, b], shared_server=False)["resources"]["cpu_s"]["server"] == \
        pytest.approx(0.5)


def test_siblings_are_not_counted_as_other_load():
    """Each member counts the other's 0.5 s of client CPU over the 1 s round as load."""
    a = _outcome(1, (10,), (1000,), 1, 0.5)
    b = _outcome(2, (10,), (1000,), 1, 0.5)
    assert group.combine([a, b], False)["machine"]["others_cores"] == pytest.approx(0.5)


def test_a_failed_member_fails_the_unit_naming_it():
    bad = {"status": "failed", "error": "boom", "verified": False}
    combined = group.combine([_outcome(1, (1,), (1,), 1, 0.1), bad], shared_server=False)
    assert combined["status"] == "failed"
    assert combined["error"] == "client process 2 of 2: boom"


def test_rate_is_split_and_target_handed_to_every_member(tmp_path):
    spec = {"options": {"workloads": ["echo"]}, "rate": 1000.0}
    members = group.member_specs(spec, 4, tmp_path, "unix:/tmp/s.sock")
    assert [m["rate"] for m in members] == [250.0] * 4
    assert all(m["options"]["target"] == "unix:/tmp/s.sock" for m in members)
    assert [m["group"]["member"] for m in members] == [0, 1, 2, 3]
    assert spec["options"] == {"workloads": ["echo"]}  # not changed


def test_barrier_releases_members_together(tmp_path):
    specs = group.member_specs({"options": {}}, 2, tmp_path, None)
    released: list[float] = []

    def member(spec: dict) -> None:
        group.await_start(spec)
        released.append(time.monotonic())

    first = threading.Thread(target=member, args=(specs[0],))
    first.start()
    time.sleep(0.2)
    assert not released  # still waiting for the second member
    member(specs[1])
    first.join(5)
    assert len(released) == 2 and abs(released[0] - released[1]) < 0.1


def test_barrier_gives_up_when_the_group_is_aborted(tmp_path):
    (tmp_path / group.ABORT_FILE).touch()
    spec = group.member_specs({"options": {}}, 2, tmp_path, None)[0]
    with pytest.raises(BackendError, match="another client process"):
        group.await_start(spec)


@pytest.mark.skipif(GrpcBackend.unavailable_reason() is not None,
                    reason=str(GrpcBackend.unavailable_reason()))
@pytest.mark.slow
def test_two_processes_share_one_spawned_server(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "-w", "echo", "-b", "grpc", "--size", "64B", "--quick",
                 "--processes", "2", "--no-cold-start", "-o", str(out),
                 "--report", str(tmp_path / "r.html")]) == 0
    (cell,) = load(out).cells
    assert cell.status == OK and cell.verified and cell.processes == 2
    for unit in cell.worker_results:
        pids = [member["pid"] for member in unit["processes"]]
        assert len(set(pids)) == 2 and all(m["ops"] > 0 for m in unit["processes"])
    assert "2 client processes" in cell.backend_info["server_shared_by"]
    assert cell.cpu_s_per_op["server"] is not None  # the shared server reported itself
    assert cell.warmup_calls > 0 and cell.steady_state is not None  # the members' verdict


@pytest.mark.slow
def test_in_process_backends_run_one_engine_per_process(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "-w", "echo", "-b", "inproc", "--size", "64B", "--quick",
                 "--processes", "2", "--no-cold-start", "-o", str(out),
                 "--report", str(tmp_path / "r.html")]) == 0
    (cell,) = load(out).cells
    assert cell.status == OK and cell.processes == 2
    assert all(len(unit["processes"]) == 2 for unit in cell.worker_results)
    assert "server_shared_by" not in cell.backend_info
