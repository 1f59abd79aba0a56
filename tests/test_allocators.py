"""The allocator as a dimension of the run: names, environments, and real processes (workers
and spawned servers) running under the allocator asked for, read from ``/proc/PID/maps``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbench import allocators, runner
from hybridbench.errors import WorkloadError
from hybridbench.registry import open_backend, unavailable_reason
from hybridbench.results import OK, UNAVAILABLE

JEMALLOC = allocators.get("jemalloc")
needs_jemalloc = pytest.mark.skipif(JEMALLOC.unavailable is not None,
                                    reason=JEMALLOC.unavailable or "")


def test_names_are_checked_and_all_means_every_one() -> None:
    assert allocators.parse("glibc, jemalloc,glibc") == ["glibc", "jemalloc"]
    assert allocators.parse("all") == list(allocators.NAMES)
    with pytest.raises(WorkloadError, match="unknown allocator 'tcmalloc'; known: glibc"):
        allocators.parse("glibc,tcmalloc")


def test_a_child_environment_has_only_the_chosen_settings() -> None:
    base = {"PATH": "/bin", "MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "1",
            "LD_PRELOAD": "/opt/libfoo.so /usr/lib/libmimalloc.so.2"}
    env = allocators.child_env("glibc-tuned", base)
    assert env["LD_PRELOAD"] == "/opt/libfoo.so"  # the user's own preload stays
    assert "MALLOC_ARENA_MAX" not in env
    assert env["MALLOC_MMAP_THRESHOLD_"] == allocators.GLIBC_TUNED["MALLOC_MMAP_THRESHOLD_"]
    assert env[allocators.ENV_NAME] == "glibc-tuned" and env["PATH"] == "/bin"


def test_a_missing_library_is_unavailable_with_why(monkeypatch: pytest.MonkeyPatch) -> None:
    allocators.find_library.cache_clear()
    monkeypatch.setattr(allocators, "_ldconfig", lambda: {})
    monkeypatch.setattr(allocators, "SEARCH_DIRS", ())
    try:
        found = allocators.get("mimalloc")
        assert found.unavailable and "libmimalloc2.0" in found.unavailable
        cell = runner.run_cell(runner.CellPlan("echo", "64B", "inproc", 1,
                                               allocator="mimalloc"),
                               runner.RunConfig(workers=1, cold_start=False))
        assert cell.status == UNAVAILABLE and "allocator mimalloc unavailable" in cell.error
    finally:
        allocators.find_library.cache_clear()


def test_the_allocator_is_part_of_the_cell_key() -> None:
    config = runner.RunConfig(workloads=["echo"], backends=["inproc"], sizes="64B",
                              allocators=["glibc", "glibc-tuned"])
    plans = runner.plan(config)
    assert [p.allocator for p in plans] == ["glibc", "glibc-tuned"]


@needs_jemalloc
@pytest.mark.slow
@pytest.mark.parametrize("name", ["grpc", "grpc-py"])
def test_a_spawned_server_runs_under_the_allocator_asked_for(name: str) -> None:
    reason = unavailable_reason(name)
    if reason:
        pytest.skip(reason)
    backend = open_backend(name, workloads=["echo"])
    with allocators.selected("jemalloc"):
        backend.start()
    try:
        pid = backend.processes()["server"]
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert JEMALLOC.library in maps
        assert allocators.check_process(pid, "jemalloc").startswith("jemalloc:")
    finally:
        backend.stop()


@needs_jemalloc
@pytest.mark.slow
def test_a_worker_and_its_server_record_what_they_ran_under() -> None:
    reason = unavailable_reason("grpc-py")
    if reason:
        pytest.skip(reason)
    cell = runner.run_cell(runner.CellPlan("echo", "64B", "grpc-py", 1, allocator="jemalloc"),
                           runner.RunConfig(workers=1, duration_s=0.2, rounds=1,
                                            warmup_s=0.02, breakdown_s=0.02,
                                            cold_start=False))
    assert cell.status == OK, cell.error
    assert cell.allocator == "jemalloc"
    # read by the worker from /proc/PID/maps of itself and of the server it spawned
    assert cell.allocator_roles["client"] == f"jemalloc: {JEMALLOC.library} mapped"
    assert cell.allocator_roles["server"] == f"jemalloc: {JEMALLOC.library} mapped"
    assert cell.minor_faults_per_op["server"] is not None


@pytest.mark.slow
def test_a_go_server_is_said_not_to_allocate_through_malloc() -> None:
    reason = unavailable_reason("grpc-go")
    if reason:
        pytest.skip(reason)
    backend = open_backend("grpc-go", workloads=["echo"])
    with allocators.selected("glibc-tuned"):
        backend.start()
    try:
        verdict = allocators.check_process(backend.processes()["server"], "glibc-tuned")
    finally:
        backend.stop()
    assert verdict.startswith("not applicable: Go's runtime")


def test_the_main_job_rechecks_the_in_process_cells_of_sensitive_tables() -> None:
    from hybridbench.results import Cell, Kind

    placement = {"inproc": "in-process", "ffi": "in-process", "grpc": "service"}
    plans = [runner.CellPlan(w, s, b, 1) for w, s in (("timeseries", "100k"), ("json", "1MB"))
             for b in placement]
    cells = [Cell(p.workload, p.size, p.backend, allocator="glibc",
                  backend_info={"profile": {"placement": placement[p.backend]}})
             for p in plans]
    cells[0].warn(Kind.ALLOCATOR_SENSITIVE, "faults", role="client")  # timeseries on inproc
    again = runner.recheck_plan(cells, plans, "glibc-tuned")
    # the timeseries table's in-process cells (its baseline and its mover), not its gRPC
    # cell, nothing of json
    assert [(p.workload, p.backend, p.allocator) for p in again] == [
        ("timeseries", "inproc", "glibc-tuned"), ("timeseries", "ffi", "glibc-tuned")]
    # planned twice, measured once
    assert runner.recheck_plan(cells, [*plans, *again], "glibc-tuned") == []
    # the standard-library control is never the strongest Python
    pure = Cell("timeseries", "100k", "inproc-pure", allocator="glibc", backend_info={
        "profile": {"placement": "in-process", "engine_kind": "python", "tuning": "plain"}})
    assert runner.recheck_plan([*cells, pure],
                               [*plans, runner.CellPlan("timeseries", "100k", "inproc-pure", 1)],
                               "glibc-tuned") == again
    # echo measures the crossing alone: no allocator range for it
    echo = runner.CellPlan("echo", "1MB", "ffi", 1)
    faulting = Cell("echo", "1MB", "ffi", allocator="glibc",
                    backend_info={"profile": {"placement": "in-process"}})
    faulting.warn(Kind.ALLOCATOR_SENSITIVE, "faults", role="client")
    assert runner.recheck_plan([faulting], [echo], "glibc-tuned") == []


def test_the_recheck_phase_times_shorter_cells_without_breakdown_or_cold_start() -> None:
    config = runner.RunConfig()
    again = runner.recheck_config(config)
    assert (again.workers, again.rounds) == (config.workers, config.rounds)
    assert again.duration_s < config.duration_s
    assert not again.cold_start and again.breakdown_s == 0


@pytest.mark.slow
def test_a_run_with_the_recheck_measures_the_sensitive_table_again_without_cold_starts(
) -> None:
    if unavailable_reason("ffi"):
        pytest.skip(str(unavailable_reason("ffi")))
    # timeseries 100k faults thousands of pages per call on numpy under cold glibc
    config = runner.RunConfig.quick(workloads=["timeseries"], sizes="100k",
                                    backends=["inproc-best", "ffi"], allocator_recheck=True)
    results = runner.run(config)
    by_allocator = {(c.backend, c.allocator): c for c in results.cells}
    assert set(by_allocator) == {(b, a) for b in ("inproc-best", "ffi")
                                 for a in ("glibc", allocators.second_choice())}
    assert all(c.status == OK for c in results.cells)
    assert results.config["allocator_rechecked"]["cells"] == 2
    assert by_allocator[("ffi", "glibc")].cold_start_s is not None
    assert by_allocator[("ffi", allocators.second_choice())].cold_start_s is None


@needs_jemalloc
def test_a_cold_start_runs_under_the_cells_allocator(monkeypatch: pytest.MonkeyPatch) -> None:
    from hybridbench import coldstart

    assert coldstart.measure("inproc", "echo", b"x" * 64, {}, "jemalloc") > 0
    # a child that could not get the allocator (its preload taken away) fails the measurement
    real = allocators.child_env
    monkeypatch.setattr(allocators, "child_env", lambda name: {
        k: v for k, v in real(name).items() if k != "LD_PRELOAD"})
    with pytest.raises(RuntimeError, match="did not run under jemalloc"):
        coldstart.measure("inproc", "echo", b"x" * 64, {}, "jemalloc")
