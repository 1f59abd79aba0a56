"""Read pytest-benchmark's JSON (``--benchmark-json``) as hybridbench results.

Teams that already run pytest-benchmark get the same report. A benchmark maps to a cell
through its ``params`` (or ``extra_info``) ``workload``, ``backend`` and ``size``; other
benchmarks keep their name as the workload. pytest-benchmark stores summary statistics, not
every call: P50 is its median, P99 and P99.9 are computed only when the file carries the raw
timings (``--benchmark-save-data``), and the cell says which.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from hybridbench.results import OK, Cell, Results


def is_pytest_benchmark(path: Path) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and "benchmarks" in data and "machine_info" in data


def _cell(bench: dict[str, Any]) -> Cell:
    facts = {**(bench.get("extra_info") or {}), **(bench.get("params") or {})}
    stats = bench["stats"]
    cell = Cell(workload=str(facts.get("workload", bench.get("group") or bench["name"])),
                size=str(facts.get("size", "-")), backend=str(facts.get("backend", bench["name"])),
                status=OK, verified=bool(facts.get("verified", False)),
                samples=int(stats["rounds"]), duration_s=float(stats["total"]),
                throughput_ops=float(stats["ops"]),
                payload_bytes=int(facts.get("payload_bytes", 0)))
    cell.throughput_bytes = cell.throughput_ops * cell.payload_bytes  # type: ignore[operator]
    ns = 1e9
    cell.latency_ns = {"p50": stats["median"] * ns, "p90": float("nan"), "p99": float("nan"),
                       "p999": float("nan"), "max": stats["max"] * ns, "mean": stats["mean"] * ns}
    data = stats.get("data")
    if data:
        values = np.asarray(data) * ns
        for key, q in (("p90", 90), ("p99", 99), ("p999", 99.9)):
            cell.latency_ns[key] = float(np.percentile(values, q, method="inverted_cdf"))
    else:
        cell.warnings.append("from pytest-benchmark without raw timings: P90/P99/P99.9 unknown "
                             "(run with --benchmark-save-data)")
    cell.warnings.append(f"from pytest-benchmark ({bench['fullname']}): no memory or CPU data; "
                         "no rounds, so no confidence interval")
    return cell


def load(path: Path) -> Results:
    data = orjson.loads(path.read_bytes())
    machine = data.get("machine_info", {})
    env = {"cpu_model": (machine.get("cpu") or {}).get("brand_raw", "?"),
           "cores_logical": (machine.get("cpu") or {}).get("count"),
           "os": f"{machine.get('system', '')} {machine.get('release', '')}".strip(),
           "python": machine.get("python_version"), "hostname": machine.get("node"),
           "git_commit": (data.get("commit_info") or {}).get("id"),
           "source": f"pytest-benchmark {data.get('version', '?')}"}
    return Results(env=env, cells=[_cell(b) for b in data["benchmarks"]],
                   created=str(data.get("datetime", "")),
                   warnings=[f"converted from pytest-benchmark JSON ({path.name})"])
