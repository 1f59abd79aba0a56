"""The self-contained HTML report: one file, charts inline as SVG, nothing fetched.

Renders the report model (``model.build``): the headline, the tables, the decisions and the
warnings are the model's; this module only lays them out. Jinja2 with autoescape on (backend
and workload names are data, never markup); the only unescaped content is the SVG that
matplotlib wrote, in which matplotlib escaped the text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from hybridbench import capacity, thresholds
from hybridbench.report import costs, glance, model
from hybridbench.report import formatting as fmt
from hybridbench.results import FAILED, WRONG, Results
from hybridbench.results import write_atomic as _write_atomic

# The charts module (matplotlib) is imported by the functions that draw, not here: matplotlib
# is a third of the CLI's start-up (~0.25 s of ~0.7 s, `python -X importtime`), which
# `hybridbench compare`, `list`, `new` and every subprocess of the tests would pay for nothing.

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hybridbench.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(duration=fmt.duration_ns, signed_duration=fmt.signed_duration_ns,
                    count=fmt.count, bytes=fmt.size_bytes, rate_bytes=fmt.rate_bytes,
                    seconds=fmt.seconds, ci=fmt.ci, ratio=fmt.ratio,
                    interval_label_of=fmt.interval_label)
_ENV.globals.update(memory=fmt.memory, THIN_TAIL=thresholds.THIN_TAIL_SAMPLES,
                    interval_label=fmt.interval_label, time_split=fmt.time_split,
                    server_resources=fmt.server_resources, cpu_affinity=fmt.cpu_affinity,
                    machine_load=fmt.machine_load, warmup=fmt.warmup, speedup=fmt.speedup_cell,
                    interval=fmt.interval_cell, client_memory=fmt.client_memory,
                    server_memory=fmt.server_memory, cpu_role=fmt.cpu_role,
                    faults_role=fmt.faults_role, faults=fmt.faults,
                    byte_rate=fmt.byte_rate, kind_title=model.KIND_TITLES.get,
                    BAD=(WRONG, FAILED), WORTH_IT=thresholds.WORTH_IT,
                    AFFORDABLE=thresholds.AFFORDABLE_SHARE, DOMINANT=thresholds.DOMINANT_SHARE,
                    BUSY=thresholds.BUSY_CORES, capacity_line=capacity.summary_line,
                    CAPACITY_ASSUMPTIONS=capacity.ASSUMPTIONS,
                    article_columns=model.article_columns, CROSSING_LEAD=glance.CROSSING_LEAD)


def _overview_cell(group: model.Group, backend: str) -> str:
    """One cell of the articles' table: throughput and P99 at the lowest concurrency."""
    entry = next((e for e in group.lowest if e.cell.backend == backend), None)
    if entry is None:
        return ""
    if not entry.ok:
        return entry.cell.status
    return (f"{fmt.count(entry.cell.throughput_ops)}/s, P99 "
            f"{fmt.duration_ns((entry.cell.latency_ns or {}).get('p99'))}")


_ENV.globals.update(overview_cell=_overview_cell)


#: one id prefix per inline chart of a page (``chart1-``, ``chart2-``...), drawn from one
#: sequence for the whole page, so that runs united in one report never share an id
Prefixes = Iterator[str]


def _prefixes() -> Prefixes:
    return (f"chart{n}-" for n in itertools.count(1))


def _figure(fig: Any, prefixes: Prefixes) -> dict[str, Any]:
    from hybridbench.report import charts

    svg = charts.with_unique_ids(charts.to_svg(fig), next(prefixes))
    return {"svg": Markup(svg), "wide": charts.is_wide(fig)}


def _charts(workload: model.WorkloadView, prefixes: Prefixes) -> list[dict[str, Any]]:
    from hybridbench.report import charts

    return [_figure(fig, prefixes) for fig in charts.workload_charts(workload).values()
            if fig is not None]


def _sweeps(run: model.RunView, prefixes: Prefixes) -> dict[str, dict[str, Any]]:
    from hybridbench.report import charts

    found = {w.name: charts.size_sweep(run, w) for w in run.workloads}
    return {name: _figure(fig, prefixes) for name, fig in found.items() if fig is not None}


def _loads(run: model.RunView, prefixes: Prefixes) -> dict[str, dict[str, Any]]:
    from hybridbench.report import charts

    found = {w.name: charts.load_curve(run, w) for w in run.workloads}
    return {name: _figure(fig, prefixes) for name, fig in found.items() if fig is not None}


def _section(run: model.RunView, prefixes: Prefixes) -> dict[str, Any]:
    from hybridbench.report import charts

    at_a_glance = glance.build(run)
    chart = charts.glance_speedups(at_a_glance)
    return {"run": run, "glance": at_a_glance,
            "glance_chart": None if chart is None else _figure(chart, prefixes),
            "charts": {w.name: _charts(w, prefixes) for w in run.workloads},
            "sweeps": _sweeps(run, prefixes), "loads": _loads(run, prefixes),
            "costs": costs.of_run(run)}


def render_report(report: model.Report) -> str:
    prefixes = _prefixes()
    sections = [_section(run, prefixes) for run in report.runs]
    return _ENV.get_template("report.html.j2").render(sections=sections)


def render(results_list: list[Results], baseline: str | None = None) -> str:
    return render_report(model.build(results_list, baseline))


def write(results_list: list[Results], path: str | Path, baseline: str | None = None) -> Path:
    return _write_atomic(path, render(results_list, baseline).encode("utf-8"))


def write_report(report: model.Report, path: str | Path) -> Path:
    return _write_atomic(path, render_report(report).encode("utf-8"))


def write_pngs(report: model.Report, directory: Path) -> list[Path]:
    """Every chart of the report as a PNG file, for slides and pull requests."""
    from hybridbench.report import charts

    written = []
    for index, run in enumerate(report.runs):
        prefix = f"run{index + 1}-" if len(report.runs) > 1 else ""
        speedups = charts.glance_speedups(glance.build(run))
        if speedups is not None:
            written.append(charts.to_png(speedups, directory / f"{prefix}speedups.png"))
        for workload in run.workloads:
            figures = {**charts.workload_charts(workload),
                       "crossing-cost": charts.size_sweep(run, workload),
                       "load": charts.load_curve(run, workload)}
            for name, fig in figures.items():
                if fig is not None:
                    written.append(charts.to_png(
                        fig, directory / f"{prefix}{workload.name}-{name}.png"))
    return written
