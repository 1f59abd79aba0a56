"""Read pytest-benchmark's JSON (``--benchmark-json``) as hybridbench results.

Teams that already run pytest-benchmark get the same report. A benchmark maps to a cell
through its ``params`` (or ``extra_info``) ``workload``, ``backend`` and ``size``; other
benchmarks keep their name as the workload.

The cells carry pytest-benchmark's own statistics and nothing hybridbench did not get from it:

* ``source`` says which tool measured them (``pytest-benchmark 5.3.1``), ``source_stats`` holds
  its figures (min, Q1, median, Q3, max, mean, standard deviation in ns; rounds, iterations,
  ops, outliers) as it computed them;
* there is no interval (``throughput_ci95``, ``throughput_pi95`` and ``interval_method`` stay
  None): pytest-benchmark times rounds in one process, so its spread is no confidence
  interval, and hybridbench does not invent one;
* no HDR histogram, memory, CPU, time split or cold start;
* P50 is its median and the mean its mean; P90/P99/P99.9 are computed only from its raw
  timings (``stats.data``: always in ``--benchmark-json`` files, in ``--benchmark-save`` files
  only with ``--benchmark-save-data``) and only when each timing is one call
  (``iterations == 1``), otherwise they are unknown;
* the throughput is its ``ops`` (1 / mean), as pytest-benchmark reports it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from hybridbench.results import OK, Cell, Results

TOOL = "pytest-benchmark"
#: pytest-benchmark's time statistics (seconds in its file), stored in ns under ``<name>_ns``
TIME_STATS = ("min", "q1", "median", "q3", "max", "mean", "stddev", "iqr")
NS = 1e9


def is_pytest_benchmark(path: Path) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and "benchmarks" in data and "machine_info" in data


def _seconds(stats: dict[str, Any], name: str) -> float:
    """A time statistic, checked: a negative or non-finite time is a file of the wrong shape."""
    value = float(stats[name])
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"stats.{name} is {stats[name]!r}, not a time")
    return value


def own_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """pytest-benchmark's statistics as it computed them, times in ns."""
    figures: dict[str, Any] = {f"{name}_ns": _seconds(stats, name) * NS
                               for name in TIME_STATS if name in stats}
    figures["rounds"] = int(stats["rounds"])
    figures["iterations"] = int(stats.get("iterations", 1))
    figures["ops"] = float(stats["ops"])
    if "outliers" in stats:
        figures["outliers"] = str(stats["outliers"])  # "stddev outliers;IQR outliers"
    return figures


def _latency(stats: dict[str, Any], figures: dict[str, Any]) -> dict[str, float]:
    """P50 = median, mean, max from pytest-benchmark; tail percentiles only from raw timings
    of single calls."""
    nan = float("nan")
    latency = {"p50": figures["median_ns"], "p90": nan, "p99": nan, "p999": nan,
               "max": figures["max_ns"], "mean": figures["mean_ns"]}
    data = stats.get("data")
    if data and figures["iterations"] == 1:
        values = np.asarray(data, dtype=float) * NS
        for key, q in (("p90", 90), ("p99", 99), ("p999", 99.9)):
            latency[key] = float(np.percentile(values, q, method="inverted_cdf"))
        figures["percentiles_from"] = f"raw timings: {values.size} single calls"
    else:
        why = "no raw timings" if not data else f"{figures['iterations']} calls per timing"
        figures["percentiles_from"] = f"none ({why}): P90/P99/P99.9 unknown"
    return latency


def _cell(bench: dict[str, Any], source: str) -> Cell:
    facts = {**(bench.get("extra_info") or {}), **(bench.get("params") or {})}
    stats = bench["stats"]
    figures = own_stats(stats)
    cell = Cell(workload=str(facts.get("workload", bench.get("group") or bench["name"])),
                size=str(facts.get("size", "-")), backend=str(facts.get("backend", bench["name"])),
                status=OK, verified=bool(facts.get("verified", False)),
                samples=figures["rounds"], batch_size=figures["iterations"],
                duration_s=_seconds(stats, "total"), throughput_ops=figures["ops"],
                payload_bytes=int(facts.get("payload_bytes", 0)), source=source)
    cell.throughput_bytes = figures["ops"] * cell.payload_bytes
    cell.latency_ns = _latency(stats, figures)
    figures["name"] = str(bench.get("fullname") or bench["name"])
    cell.source_stats = figures
    return cell


def load(path: Path) -> Results:
    data = orjson.loads(path.read_bytes())
    machine = data.get("machine_info", {})
    source = f"{TOOL} {data.get('version', '?')}"
    env = {"cpu_model": (machine.get("cpu") or {}).get("brand_raw", "?"),
           "cores_logical": (machine.get("cpu") or {}).get("count"),
           "os": f"{machine.get('system', '')} {machine.get('release', '')}".strip(),
           "python": machine.get("python_version"), "hostname": machine.get("node"),
           "git_commit": (data.get("commit_info") or {}).get("id"),
           "source": source}
    return Results(env=env, cells=[_cell(b, source) for b in data["benchmarks"]],
                   created=str(data.get("datetime", "")),
                   config={"source": source, "file": path.name},
                   warnings=[f"measured by {source} ({path.name}): its own statistics (min, "
                             "median, mean, standard deviation over its rounds in one "
                             "process); no confidence intervals, no memory, CPU or cold "
                             "start"])
