"""Rate lists, sweeps and the capacity they imply: the arithmetic on built cells (unit), the
plan and the command line, and one real sweep."""

from __future__ import annotations

import argparse

import pytest

from hybridbench import capacity, runner
from hybridbench.cli import _duration, _rates, main
from hybridbench.results import OK, Cell, Results, load


def _open(rate: float, achieved: float, p99_ms: float, unsent: int = 0,
          backend: str = "grpc") -> Cell:
    return Cell(workload="echo", size="64B", backend=backend, mode="open", rate=rate,
                throughput_ops=achieved, latency_ns={"p50": 1e5, "p99": p99_ms * 1e6},
                rounds=[{"ops": achieved}], unsent=unsent,
                cpu_s_per_op={"client": 3e-4, "server": 5e-5})


def test_best_point_is_the_highest_sustained_rate_within_the_objective():
    cells = [_open(100, 100, 1.0), _open(200, 199, 2.0), _open(400, 398, 6.0),
             _open(800, 500, 40.0)]
    (found,) = capacity.capacities(Results(env={}, cells=cells), slo_p99_ns=5e6)
    assert [p.offered for p in found.points] == [100, 200, 400, 800]
    assert [p.meets_slo for p in found.points] == [True, True, False, False]
    assert not found.points[-1].sustained  # 500 of 800 got through: saturated
    assert found.best.achieved == 199
    assert found.cores_per_1000 == pytest.approx({"client": 0.3, "server": 0.05})
    line = capacity.summary_line(found)
    assert "199 req/s at P99 <= 5 ms" in line and "server 0.05 cores" in line


def test_without_an_objective_the_best_is_the_highest_sustained_rate():
    cells = [_open(100, 100, 1.0), _open(400, 398, 60.0), _open(800, 500, 90.0)]
    (found,) = capacity.capacities(Results(env={}, cells=cells))
    assert found.best.offered == 400 and "sustained" in capacity.summary_line(found)


def test_unsent_calls_mean_the_rate_was_not_sustained():
    (found,) = capacity.capacities(Results(env={}, cells=[_open(100, 99, 1.0, unsent=50)]))
    assert found.best is None
    assert "no rate tried (100 req/s)" in capacity.summary_line(found)


def test_closed_loop_and_failed_cells_are_not_points():
    closed = Cell(workload="echo", size="64B", backend="grpc", throughput_ops=10.0)
    failed = _open(100, 0, 0)
    failed.status = "failed"
    assert capacity.capacities(Results(env={}, cells=[closed, failed])) == []


def test_sweep_plan_offers_fractions_of_the_closed_loop_throughput():
    plans = [runner.CellPlan("echo", "64B", "grpc", 1)]
    closed = Cell(workload="echo", size="64B", backend="grpc", status=OK,
                  throughput_ops=1000.0)
    swept = runner.sweep_plan([closed], plans)
    assert [p.rate for p in swept] == [f * 1000 for f in runner.SWEEP_FRACTIONS]
    assert all(p.backend == "grpc" for p in swept)
    failed = Cell(workload="echo", size="64B", backend="grpc", status="failed")
    assert runner.sweep_plan([failed], plans) == []


def test_rate_list_plans_a_cell_per_rate():
    config = runner.RunConfig(workloads=["echo"], backends=["inproc"], sizes="64B",
                              rates=[100.0, 200.0])
    assert [p.rate for p in runner.plan(config)] == [100.0, 200.0]
    assert [p.rate for p in runner.plan(runner.RunConfig(workloads=["echo"], sizes="64B",
                                                         backends=["inproc"], sweep=True))] \
        == [None]


@pytest.mark.parametrize("text, expected", [("auto", "auto"), ("500", [500.0]),
                                            ("100, 200,400", [100.0, 200.0, 400.0])])
def test_rate_values(text, expected):
    assert _rates(text) == expected


@pytest.mark.parametrize("text", ["0", "-5", "100,0", "fast", ""])
def test_bad_rates_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="positive number"):
        _rates(text)


@pytest.mark.parametrize("text, seconds", [("5ms", 5e-3), ("250us", 250e-6), ("1.5s", 1.5),
                                           ("2000ns", 2e-6)])
def test_durations(text, seconds):
    assert _duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "ms", "-1ms", "0s", "infs", "5 parsecs"])
def test_bad_durations_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="duration like 5ms"):
        _duration(text)


@pytest.mark.slow
def test_a_real_sweep_prints_the_capacity(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    assert main(["run", "-w", "echo", "-b", "inproc", "--size", "64B", "--quick",
                 "--rate", "auto", "--slo-p99", "50ms", "--no-cold-start", "-o", str(out),
                 "--report", str(tmp_path / "r.html")]) == 0
    cells = load(out).cells
    assert [c.mode for c in cells] == ["closed"] + ["open"] * len(runner.SWEEP_FRACTIONS)
    closed = cells[0].throughput_ops
    assert [c.rate for c in cells[1:]] == [round(closed * f, 1) for f in runner.SWEEP_FRACTIONS]
    assert all(c.status == OK and c.verified for c in cells)
    printed = " ".join(capsys.readouterr().out.split())
    assert "capacity (open-loop cells):" in printed and "echo/64B inproc" in printed
