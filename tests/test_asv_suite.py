"""The asv suite (``benchmarks/``): cases named by their real sizes, client memory as the
growth of each cell alone, and no server memory where there is no server (n/a, not 0)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import script_module  # tests/
from asv_runner.benchmarks.mark import SkipNotImplemented

from hybridbench.registry import get_workload, unavailable_reason, workload_names
from hybridbench.results import Cell


def _suite(name: str = "bench_backends_under_test") -> ModuleType:
    return script_module.load(
        name, Path(__file__).resolve().parent.parent / "benchmarks" / "bench_backends.py")


suite = _suite()


def test_cases_are_named_by_the_workloads_sizes() -> None:
    for case in [*suite.CALL_CASES, *suite.RUNNER_CASES]:
        workload, size = case.split("/")
        assert size in get_workload(workload).size_names()
    assert "json/1KB" in suite.CALL_CASES and "json/1MB" in suite.RUNNER_CASES
    assert not any(word in case for case in suite.CALL_CASES for word in ("smallest", "default"))
    assert suite.OneCall.param_names == suite.RunnerCell.param_names == ("case", "backend")


def test_smoke_mode_keeps_every_benchmark_at_the_smallest_sizes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDBENCH_ASV_SMOKE", "1")
    smoke = _suite("bench_backends_smoke")
    smallest = [f"{w}/{get_workload(w).size_names()[0]}" for w in workload_names()]
    assert smoke.CALL_CASES == smoke.RUNNER_CASES == smallest
    assert smoke.TRACK_SECONDS < suite.TRACK_SECONDS
    assert smoke.BACKENDS == suite.BACKENDS
    assert set(suite.CALL_CASES) > set(smallest)  # without it: smallest and default sizes


def test_figures_of_a_cell_without_a_server() -> None:
    cell = Cell(workload="echo", size="64B", backend="inproc", throughput_ops=1000.0,
                latency_ns={"p99": 2e6}, rss_peak_bytes={"client": 120 * 2**20},
                rss_baseline_bytes={"client": 100 * 2**20})
    figures = suite._track_figures(cell)
    assert figures == {"throughput": 1000.0, "p99_ms": 2.0, "server_mib": None,
                       "client_growth_mib": 20.0}
    tracked = suite.RunnerCell()
    tracked.cell = figures
    with pytest.raises(SkipNotImplemented):  # asv records NaN: shown as n/a
        tracked.track_server_peak_rss({}, "echo/64B", "inproc")
    assert tracked.track_client_rss_growth({}, "echo/64B", "inproc") == 20.0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["inproc", "grpc"])
def test_a_measured_cell_has_its_own_growth_and_a_server_only_if_it_has_one(
        backend: str) -> None:
    if unavailable_reason(backend):
        pytest.skip(f"{backend} unavailable: {unavailable_reason(backend)}")
    figures = suite.measure_cell("echo", "64B", backend)
    assert isinstance(figures, dict), figures
    assert figures["throughput"] and figures["throughput"] > 0
    # fresh workers: the growth of this cell only, not a process that ran earlier cells
    assert figures["client_growth_mib"] is not None and 0 <= figures["client_growth_mib"] < 64
    if backend == "inproc":
        assert figures["server_mib"] is None
    else:
        assert figures["server_mib"] is not None and figures["server_mib"] > 0


def test_a_case_that_cannot_run_is_skipped() -> None:
    reason = suite.measure_cell("image", "small", "inproc-pure")
    assert isinstance(reason, str) and reason.startswith("skip: ")
    with pytest.raises(NotImplementedError):
        suite.RunnerCell().setup({("image/small", "inproc-pure"): reason}, "image/small",
                                 "inproc-pure")


@pytest.mark.slow
def test_one_run_measures_every_cell_and_skips_what_cannot_run() -> None:
    cells = suite.measure_cells(["echo/64B", "image/small"], ["inproc-pure"])
    assert set(cells) == {("echo/64B", "inproc-pure"), ("image/small", "inproc-pure")}
    assert isinstance(cells["echo/64B", "inproc-pure"], dict), cells
    skipped = cells["image/small", "inproc-pure"]
    assert isinstance(skipped, str) and skipped.startswith("skip: ")
