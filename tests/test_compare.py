"""``hybridbench compare``: verdicts from a significance test, and the CI exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hybridbench import compare, results
from hybridbench.results import Cell, Results


def _cell(backend: str, mean: float, rounds: int = 5, seed: int = 0, status: str = "ok") -> Cell:
    values = np.random.default_rng(seed).normal(mean, mean * 0.02, rounds)
    return Cell(workload="json", size="1MB", backend=backend, status=status,
                throughput_ops=float(np.median(values)),
                rounds=[{"ops": 1, "duration_s": 1.0, "throughput": float(v)} for v in values])


def _results(*cells: Cell) -> Results:
    return Results(env={}, cells=list(cells))


def test_verdicts() -> None:
    base = _results(_cell("a", 100), _cell("b", 100), _cell("c", 100), _cell("d", 100, rounds=3))
    new = _results(_cell("a", 120, seed=1), _cell("b", 80, seed=1), _cell("c", 100, seed=1),
                   _cell("d", 50, rounds=3, seed=1))
    verdicts = {c.key[2]: c for c in compare.compare(base, new)}
    assert verdicts["a"].verdict == "faster" and verdicts["a"].p_value < 0.05
    assert verdicts["b"].verdict == "slower" and verdicts["b"].change < -0.15
    assert verdicts["c"].verdict == "no significant change"
    assert verdicts["d"].verdict.startswith("too few rounds")


def test_broken_and_missing_cells() -> None:
    base = _results(_cell("a", 100), _cell("gone", 100))
    new = _results(_cell("a", 100, status="failed"), _cell("new", 100))
    verdicts = {c.key[2]: c.verdict for c in compare.compare(base, new)}
    assert verdicts == {"a": "broken: now failed", "gone": "only in base", "new": "only in new"}


def _cli(base: Results, new: Results, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    results.save(base, tmp / "base.json")
    results.save(new, tmp / "new.json")
    return subprocess.run([sys.executable, "-m", "hybridbench.cli", "compare",
                           str(tmp / "base.json"), str(tmp / "new.json"), *extra],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
def test_fail_on_regression_exit_code(tmp_path: Path) -> None:
    base, slower = _results(_cell("a", 100)), _results(_cell("a", 80, seed=1))
    assert _cli(base, slower, tmp_path).returncode == 0  # reporting alone never fails
    done = _cli(base, slower, tmp_path, "--fail-on-regression", "10%")
    assert done.returncode == 1 and "regression" in done.stdout
    assert _cli(base, slower, tmp_path, "--fail-on-regression", "25%").returncode == 0
    same = _results(_cell("a", 100, seed=3))
    assert _cli(base, same, tmp_path, "--fail-on-regression", "10%").returncode == 0


def _worker_cell(backend: str, mean: float, workers: int = 3, seed: int = 0,
                 spread: float = 0.02) -> Cell:
    """A schema-2 cell: throughput per worker process, three rounds each."""
    rng = np.random.default_rng(seed)
    means = rng.normal(mean, mean * spread, workers)
    rounds = [{"worker": i, "ops": 1, "duration_s": 1.0, "throughput": float(m)}
              for i, m in enumerate(means) for _ in range(3)]
    return Cell(workload="json", size="1MB", backend=backend, workers=workers,
                throughput_ops=float(np.median(means)), rounds=rounds,
                worker_results=[{"throughput": float(m)} for m in means])


def test_worker_cells_are_tested_between_workers() -> None:
    """Two default runs (3 workers a side) are comparable: no "too few rounds"."""
    base = _results(_worker_cell("a", 100), _worker_cell("b", 100), _worker_cell("c", 100),
                    _worker_cell("d", 100, workers=1))
    new = _results(_worker_cell("a", 120, seed=1), _worker_cell("b", 80, seed=1),
                   _worker_cell("c", 100, seed=1), _worker_cell("d", 50, workers=1, seed=1))
    changes = {c.key[2]: c for c in compare.compare(base, new)}
    assert changes["a"].verdict == "faster" and changes["a"].test.startswith("Welch")
    assert changes["b"].verdict == "slower"
    assert changes["c"].verdict == "no significant change"
    assert changes["d"].verdict.startswith("too few workers")


def test_rounds_of_one_worker_are_not_independent_units() -> None:
    """Worker means differ (between-process spread) while rounds inside each agree closely:
    Mann-Whitney on the 9 rounds would call a 3% change significant; Welch on 3 workers does
    not, because that is within the workers' own spread."""
    base, new = _worker_cell("a", 100, seed=5, spread=0.05), _worker_cell("a", 103, seed=6,
                                                                            spread=0.05)
    change = compare.compare(_results(base), _results(new))[0]
    assert change.verdict == "no significant change"


def _sized(size: str, backend: str = "a") -> Cell:
    cell = _cell(backend, 100)
    cell.size = size
    return cell


def test_unmatched_cells_and_differing_settings_are_found() -> None:
    base = Results(env={"cpu_model": "Xeon", "cores_logical": 2},
                   config={"duration_s": 3.0, "workers": 3, "seed": 0},
                   cells=[_sized("1MB"), _sized("8MB")])
    new = Results(env={"cpu_model": "EPYC", "cores_logical": 2},
                  config={"duration_s": 0.6, "workers": 3, "seed": 0},
                  cells=[_sized("1MB"), _sized("1KB")])
    only_base, only_new = compare.unmatched(compare.compare(base, new))
    assert [c.key[1] for c in only_base] == ["8MB"] and [c.key[1] for c in only_new] == ["1KB"]
    assert compare.setting_differences(base, new) == {"duration_s": (3.0, 0.6),
                                                      "cpu_model": ("Xeon", "EPYC")}


def test_cli_says_how_many_cells_matched_and_which_settings_differ(tmp_path: Path) -> None:
    base = Results(env={"cpu_model": "Xeon"}, config={"workers": 3, "rate": None},
                   cells=[_sized("1MB"), *(_sized(f"{n}KB") for n in range(12))])
    new = Results(env={"cpu_model": "Xeon"}, config={"workers": 2, "rate": 100.0},
                  cells=[_sized("1MB"), _sized("9MB")])
    done = _cli(base, new, tmp_path)
    assert done.returncode == 0, done.stdout  # a warning, not a failure
    assert "1 of 14 cells matched" in done.stdout
    assert "only in base (12): json 0KB a c=1" in done.stdout and "and 2 more" in done.stdout
    assert "only in new (1): json 9MB a c=1" in done.stdout
    assert "workers 3 -> 2" in done.stdout and "rate None -> 100.0" in done.stdout
    assert "cpu_model" not in done.stdout


def test_cli_is_quiet_about_matching_runs(tmp_path: Path) -> None:
    same = Results(env={"cpu_model": "Xeon"}, config={"workers": 3}, cells=[_sized("1MB")])
    done = _cli(same, same, tmp_path)
    assert done.returncode == 0 and "warning" not in done.stdout
