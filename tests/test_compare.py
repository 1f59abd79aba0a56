"""``hybridbench compare``: verdicts from a significance test, and the CI exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

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


def test_fail_on_regression_exit_code(tmp_path: Path) -> None:
    base, slower = _results(_cell("a", 100)), _results(_cell("a", 80, seed=1))
    assert _cli(base, slower, tmp_path).returncode == 0  # reporting alone never fails
    done = _cli(base, slower, tmp_path, "--fail-on-regression", "10%")
    assert done.returncode == 1 and "regression" in done.stdout
    assert _cli(base, slower, tmp_path, "--fail-on-regression", "25%").returncode == 0
    same = _results(_cell("a", 100, seed=3))
    assert _cli(base, same, tmp_path, "--fail-on-regression", "10%").returncode == 0
