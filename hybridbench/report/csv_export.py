"""CSV export of the report model: one row per cell, raw numbers in base units.

For spreadsheets and scripts: figures are unformatted (ops/s, nanoseconds, bytes, seconds),
empty where not measured or not applicable, and each row carries its group's decision, so a
filter on ``recommended`` gives the headline. The ratio to the baseline (``vs_baseline``) is
the run's paired ratio where it has one (``vs_baseline_method``: ``paired``), else the
quotient of the two cells' intervals (``quotient``).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from hybridbench.report import formatting as fmt
from hybridbench.report import model
from hybridbench.results import write_atomic

COLUMNS = (
    "run", "workload", "size", "backend", "pattern", "engine", "placement", "engine_kind",
    "transport", "concurrency", "mode", "status", "error", "payload_bytes", "throughput_ops",
    "throughput_ci95_low", "throughput_ci95_high", "interval_method", "workers", "baseline",
    "vs_baseline", "vs_baseline_low", "vs_baseline_high", "p50_ns", "p90_ns", "p99_ns",
    "p999_ns", "max_ns", "samples", "batch_size", "zero_copy", "throughput_bytes",
    "client_rss_peak_bytes", "client_growth_bytes", "server_rss_peak_bytes",
    "client_cpu_s_per_op", "server_cpu_s_per_op", "cold_start_s", "kernel_ns", "crossing_ns",
    "group_verdict", "recommended", "warning_kinds",
    # process state (issue 21): the allocator and the page faults per call it gave
    "allocator", "client_minor_faults_per_op", "server_minor_faults_per_op",
    "vs_baseline_method")


def _number(value: Any) -> Any:
    """Numbers as they are; None, NaN and infinities as empty fields."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def _row(index: int, group: model.Group, entry: model.Entry, baseline: str | None
         ) -> dict[str, Any]:
    cell, profile = entry.cell, entry.profile
    latency = cell.latency_ns or {}
    speedup, throughput = entry.speedup, entry.throughput
    growth = fmt.client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes)
    return {
        "run": index, "workload": cell.workload, "size": cell.size, "backend": cell.backend,
        "pattern": profile.pattern, "engine": profile.engine, "placement": profile.placement or "",
        "engine_kind": profile.engine_kind or "", "transport": profile.transport,
        "concurrency": cell.concurrency, "mode": cell.mode, "status": str(cell.status),
        "error": cell.error or "", "payload_bytes": cell.payload_bytes,
        "throughput_ops": _number(throughput.value if throughput else None),
        "throughput_ci95_low": _number(throughput.low if throughput else None),
        "throughput_ci95_high": _number(throughput.high if throughput else None),
        "interval_method": cell.interval_method or "", "workers": cell.workers,
        "baseline": baseline or "",
        "vs_baseline": _number(speedup.value if speedup else None),
        "vs_baseline_low": _number(speedup.low if speedup else None),
        "vs_baseline_high": _number(speedup.high if speedup else None),
        **{f"{key}_ns": _number(latency.get(key)) for key in ("p50", "p90", "p99", "p999",
                                                               "max")},
        "samples": cell.samples, "batch_size": cell.batch_size,
        "zero_copy": "yes" if entry.zero_copy else "",
        "throughput_bytes": "" if entry.zero_copy else _number(cell.throughput_bytes),
        "client_rss_peak_bytes": _number(cell.rss_peak_bytes.get("client")),
        "client_growth_bytes": _number(growth),
        "server_rss_peak_bytes": _number(cell.rss_peak_bytes.get("server")),
        "client_cpu_s_per_op": _number(cell.cpu_s_per_op.get("client")),
        "server_cpu_s_per_op": _number(cell.cpu_s_per_op.get("server")),
        "cold_start_s": _number(cell.cold_start_s),
        "kernel_ns": _number(cell.time_split.get("kernel_ns")),
        "crossing_ns": _number(cell.time_split.get("crossing_ns")),
        "group_verdict": group.verdict,
        "recommended": group.recommended.pattern if group.recommended else "",
        "warning_kinds": ";".join(dict.fromkeys(n.kind for n in entry.notices)),
        "allocator": cell.allocator or "",
        "client_minor_faults_per_op": _number(cell.minor_faults_per_op.get("client")),
        "server_minor_faults_per_op": _number(cell.minor_faults_per_op.get("server")),
        # added last: columns only grow, scripts reading by position keep working
        "vs_baseline_method": _method(entry, baseline),
    }


def _method(entry: model.Entry, baseline: str | None) -> str:
    """``paired`` (the run's own paired ratio), ``quotient`` (of two cells' intervals: files
    without comparisons), empty without a ratio or for the baseline itself."""
    if entry.speedup is None or entry.cell.backend == baseline:
        return ""
    return "paired" if entry.speedup_paired else "quotient"


def render_report(report: model.Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for index, run in enumerate(report.runs, start=1):
        for group in run.groups:
            for entry in group.entries:
                writer.writerow(_row(index, group, entry, group.baseline_name))
    return buffer.getvalue()


def write_report(report: model.Report, path: str | Path) -> Path:
    return write_atomic(path, render_report(report).encode("utf-8"))
