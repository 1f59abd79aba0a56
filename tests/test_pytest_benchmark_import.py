"""pytest-benchmark JSON, produced here by pytest-benchmark itself: imported with its own
statistics (no invented interval or percentile) and compared by its medians."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from hybridbench import compare, results
from hybridbench.cli import load_any, main
from hybridbench.results import ResultFileError

#: a benchmark whose time per call is set from outside, so two runs differ by a known amount
BENCH_FILE = '''
import os, time

def test_sleep(benchmark):
    benchmark.extra_info.update(workload="sleep", backend="time.sleep", size="-")
    benchmark(time.sleep, float(os.environ["SLEEP_S"]))

def test_batched(benchmark):
    benchmark.extra_info.update(workload="sum", backend="builtin", size="1k")
    benchmark.pedantic(sum, args=(range(1000),), rounds=7, iterations=5)
'''


def run_pytest_benchmark(directory: Path, sleep_s: float, name: str) -> Path:
    """Run pytest-benchmark on BENCH_FILE; the path of the JSON it wrote."""
    directory.mkdir(exist_ok=True)
    (directory / "test_bench.py").write_text(BENCH_FILE)
    out = directory / f"{name}.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bench.py",
         "--benchmark-enable", "--benchmark-min-rounds=5", "--benchmark-max-time=0.05",
         f"--benchmark-json={out}"],
        cwd=directory, capture_output=True, text=True, timeout=120, check=False,
        env={"SLEEP_S": str(sleep_s), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real pytest-benchmark files: sleeping 1 ms per call, then 3 ms."""
    directory = tmp_path_factory.mktemp("pb")
    return (run_pytest_benchmark(directory, 0.001, "fast"),
            run_pytest_benchmark(directory, 0.003, "slow"))


def _raw(path: Path, name: str) -> dict:
    return next(b for b in json.loads(path.read_text())["benchmarks"] if b["name"] == name)


def test_imported_with_its_own_statistics_and_no_interval(runs: tuple[Path, Path]) -> None:
    path = runs[0]
    loaded = load_any(path)
    version = json.loads(path.read_text())["version"]
    cell = next(c for c in loaded.cells if c.workload == "sleep")
    stats = _raw(path, "test_sleep")["stats"]
    assert cell.source == f"pytest-benchmark {version}" and cell.imported
    assert cell.throughput_ci95 is None and cell.throughput_pi95 is None
    assert cell.interval_method is None and cell.latency_hdr is None and cell.workers == 0
    own = cell.source_stats
    assert own is not None
    for name in ("min", "median", "mean", "stddev", "max", "q1", "q3"):
        assert own[f"{name}_ns"] == pytest.approx(stats[name] * 1e9)
    assert own["rounds"] == stats["rounds"] == cell.samples
    assert own["iterations"] == stats["iterations"] == 1
    assert cell.throughput_ops == pytest.approx(stats["ops"])
    assert cell.latency_ns is not None
    assert cell.latency_ns["p50"] == pytest.approx(stats["median"] * 1e9)
    # raw timings of single calls: the tail is computed from them, and said so
    assert math.isfinite(cell.latency_ns["p99"]) and "single calls" in own["percentiles_from"]
    assert all(v >= 0 for v in cell.latency_ns.values())
    assert not cell.rss_peak_bytes and not cell.cpu_s_per_op and cell.cold_start_s is None
    assert any("no confidence intervals" in w for w in loaded.warnings)


def test_batched_timings_get_no_tail_percentiles(runs: tuple[Path, Path]) -> None:
    cell = next(c for c in load_any(runs[0]).cells if c.workload == "sum")
    assert cell.source_stats is not None and cell.source_stats["iterations"] == 5
    assert cell.batch_size == 5 and cell.samples == 7
    assert cell.latency_ns is not None
    assert all(math.isnan(cell.latency_ns[k]) for k in ("p90", "p99", "p999"))
    assert "5 calls per timing" in cell.source_stats["percentiles_from"]


def test_imported_cells_survive_a_round_trip(runs: tuple[Path, Path], tmp_path: Path) -> None:
    loaded = load_any(runs[0])
    again = results.load(results.save(loaded, tmp_path / "converted.json"))
    assert [(c.source, c.source_stats) for c in again.cells] == [
        (c.source, c.source_stats) for c in loaded.cells]
    assert all(c.interval_method is None for c in again.cells)


def test_a_negative_time_is_a_file_of_the_wrong_shape(runs: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    data = json.loads(runs[0].read_text())
    data["benchmarks"][0]["stats"]["median"] = -0.059
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(data))
    with pytest.raises(ResultFileError, match=r"stats\.median"):
        load_any(odd)


def test_compare_uses_the_medians_and_says_there_is_no_interval(
        runs: tuple[Path, Path]) -> None:
    fast, slow = (load_any(path) for path in runs)
    changes = {c.key[0]: c for c in compare.compare(fast, slow)}
    slept = changes["sleep"]
    assert slept.verdict == compare.SLOWER_BY_MEDIAN and slept.p_value is None
    assert slept.test == compare.MEDIAN_TEST
    expected = fast.cells[0].source_stats["median_ns"] / slow.cells[0].source_stats["median_ns"]
    assert slept.ratio == pytest.approx(expected)
    # the size of the change (~1 ms against ~3 ms of sleep) moves with the machine's load;
    # what compare must get right is that it is the medians' ratio
    assert slept.change == pytest.approx(expected - 1)
    # the rule, not the machine: whether the unchanged `sum` also moved by 10% depends on load
    found = compare.regressions(list(changes.values()), 0.10)
    assert slept in found
    assert all((c in found) == (c.change is not None and c.change < -0.10)
               for c in changes.values())
    back = {c.key[0]: c for c in compare.compare(slow, fast)}["sleep"]
    assert back.verdict == compare.FASTER_BY_MEDIAN


def test_compare_command_accepts_pytest_benchmark_files(
        runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fast, slow = runs
    assert main(["compare", str(fast), str(slow)]) == 0
    assert main(["compare", str(fast), str(slow), "--fail-on-regression", "10%"]) == 1
    text = capsys.readouterr().out
    assert "median" in text and "no interval" in text and "regression:" in text
    assert "sleep - time.sleep" in text


def test_imported_and_measured_cells_are_not_compared(runs: tuple[Path, Path]) -> None:
    imported = load_any(runs[0])
    measured = results.Results(env={}, cells=[
        results.Cell(workload="sleep", size="-", backend="time.sleep", throughput_ops=900.0,
                     worker_results=[{"throughput": 900.0}, {"throughput": 910.0}])])
    change = compare.compare(measured, imported)[0]
    assert change.verdict.startswith("not comparable") and "pytest-benchmark" in change.verdict
    assert change.ratio is None
