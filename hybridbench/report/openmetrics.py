"""OpenMetrics export of the report model: every cell as metrics a dashboard can load.

One series per cell and figure, labelled with the cell's key (``workload``, ``size``,
``backend``, ``allocator``, ``concurrency``, ``mode``, ``rate``) and the ``run`` it came from
(the result file's creation time, the run's id in the run index); every sample is stamped
with that time, so a backfill (``promtool tsdb create-blocks-from openmetrics``) files each run
at the moment it was measured. Figures are in base units (seconds, bytes, calls per second).

The text is written by ``prometheus_client`` (its OpenMetrics exposition), which names, escapes
and orders the lines as Prometheus' own parser expects; this module only says which figures
become which families. A cell that was not measured (failed, wrong, unsupported) has its
``hybridbench_cell_info`` line, with the status, and no figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from hybridbench.report import model
from hybridbench.results import OK, Cell, write_atomic

PREFIX = "hybridbench"
KEY_LABELS = ("workload", "size", "backend", "allocator", "concurrency", "mode", "rate", "run")
#: the latency percentiles a cell records, as OpenMetrics quantiles
QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"), ("p999", "0.999"))


def _labels(cell: Cell, run: str) -> dict[str, str]:
    return {"workload": cell.workload, "size": cell.size, "backend": cell.backend,
            "allocator": cell.allocator or "", "concurrency": str(cell.concurrency),
            "mode": cell.mode, "rate": "" if cell.rate is None else f"{cell.rate:g}",
            "run": run}


def _timestamp(created: str) -> float | None:
    """The run's time as a Unix timestamp; None when the file does not say (an imported
    file), and the samples then carry none."""
    try:
        return dt.datetime.fromisoformat(created).timestamp() if created else None
    except ValueError:
        return None


class _Families:
    """The metric families of one export, filled cell by cell."""

    def __init__(self) -> None:
        gauge = GaugeMetricFamily
        role = [*KEY_LABELS, "role"]
        self.info = InfoMetricFamily(
            f"{PREFIX}_cell", "one per cell: its status and what ran it",
            labels=[*KEY_LABELS, "status", "pattern", "engine"])
        self.throughput = gauge(
            f"{PREFIX}_throughput_calls_per_second",
            "calls per second: the median over rounds (estimate=value) and its 95% interval "
            "(estimate=ci95_low, ci95_high)", labels=[*KEY_LABELS, "estimate"])
        self.latency = Metric(f"{PREFIX}_latency_seconds",
                              "time per call, end to end, as the client saw it", "summary",
                              "seconds")
        self.latency_max = gauge(f"{PREFIX}_latency_max_seconds", "slowest call timed",
                                 labels=list(KEY_LABELS), unit="seconds")
        self.cpu = gauge(f"{PREFIX}_cpu_seconds_per_call", "CPU seconds (user + system) per "
                         "call, per process role", labels=role)
        self.memory = gauge(f"{PREFIX}_memory_peak_bytes", "peak resident set size per "
                            "process role", labels=role, unit="bytes")
        self.split = gauge(f"{PREFIX}_time_split_seconds", "median time per call split into "
                           "the engine's own time (part=kernel) and the rest (part=crossing: "
                           "transport, serialization, client)", labels=[*KEY_LABELS, "part"],
                           unit="seconds")
        self.cold_start = gauge(f"{PREFIX}_cold_start_seconds", "from start() to the first "
                                "verified answer, in a fresh process", labels=list(KEY_LABELS),
                                unit="seconds")

    def all(self) -> list[Metric]:
        return [self.info, self.throughput, self.latency, self.latency_max, self.cpu,
                self.memory, self.split, self.cold_start]

    def add(self, entry: model.Entry, run: str, at: float | None) -> None:
        cell = entry.cell
        labels = _labels(cell, run)
        values = list(labels.values())
        self.info.add_metric(values, {"status": str(cell.status), "pattern": entry.profile.pattern,
                                      "engine": entry.engine}, timestamp=at)
        if cell.status != OK:
            return
        self._throughput(entry, values, at)
        self._latency(cell, labels, at)
        for role, cpu in cell.cpu_s_per_op.items():
            if cpu is not None:
                self.cpu.add_metric([*values, role], cpu, timestamp=at)
        for role, peak in cell.rss_peak_bytes.items():
            if peak is not None:
                self.memory.add_metric([*values, role], peak, timestamp=at)
        for part in ("kernel", "crossing"):
            ns = cell.time_split.get(f"{part}_ns")
            if isinstance(ns, int | float):
                self.split.add_metric([*values, part], ns / 1e9, timestamp=at)
        if cell.cold_start_s is not None:
            self.cold_start.add_metric(values, cell.cold_start_s, timestamp=at)

    def _throughput(self, entry: model.Entry, values: list[str], at: float | None) -> None:
        estimate = entry.throughput
        if estimate is None:
            return
        for name, value in (("value", estimate.value), ("ci95_low", estimate.low),
                            ("ci95_high", estimate.high)):
            if value is not None:
                self.throughput.add_metric([*values, name], value, timestamp=at)

    def _latency(self, cell: Cell, labels: dict[str, str], at: float | None) -> None:
        latency = cell.latency_ns or {}
        name = self.latency.name
        for key, quantile in QUANTILES:
            if latency.get(key) is not None:
                self.latency.add_sample(name, {**labels, "quantile": quantile},
                                        latency[key] / 1e9, at)
        if cell.samples and latency.get("mean") is not None:
            self.latency.add_sample(f"{name}_count", labels, cell.samples, at)
            self.latency.add_sample(f"{name}_sum", labels,
                                    latency["mean"] * cell.samples / 1e9, at)
        if latency.get("max") is not None:
            self.latency_max.add_metric(list(labels.values()), latency["max"] / 1e9,
                                        timestamp=at)


class _ReportCollector(Collector):
    """The report's cells as a ``prometheus_client`` collector (read once, at export)."""

    def __init__(self, report: model.Report) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        for run, view in zip(run_ids(self.report), self.report.runs, strict=True):
            at = _timestamp(view.results.created)
            for entry in view.entries:
                families.add(entry, run, at)
        yield from families.all()


def run_ids(report: model.Report) -> list[str]:
    """Each run's label: its file's creation time, numbered when two runs share one."""
    ids: list[str] = []
    for index, view in enumerate(report.runs, start=1):
        base = view.results.created or f"run {index}"
        ids.append(base if base not in ids else f"{base} #{index}")
    return ids


def render_report(report: model.Report) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReportCollector(report))
    return generate_latest(registry).decode("utf-8")


def write_report(report: model.Report, path: str | Path) -> Path:
    return write_atomic(path, render_report(report).encode("utf-8"))
