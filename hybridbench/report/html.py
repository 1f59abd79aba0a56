"""The self-contained HTML report: one file, charts inline as SVG, nothing fetched.

Jinja2 with autoescape on (backend and workload names are data, never markup); the only
unescaped content is the SVG that matplotlib wrote, in which matplotlib escaped the text.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from hybridbench import stats
from hybridbench.report import charts, decision
from hybridbench.report import formatting as fmt
from hybridbench.results import FAILED, OK, UNAVAILABLE, UNSUPPORTED, WRONG, Cell, Results
from hybridbench.results import write_atomic as _write_atomic

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hybridbench.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(duration=fmt.duration_ns, count=fmt.count, bytes=fmt.size_bytes,
                    rate_bytes=fmt.rate_bytes, seconds=fmt.seconds, ci=fmt.ci, ratio=fmt.ratio,
                    interval_label_of=fmt.interval_label)
_ENV.globals.update(memory=fmt.memory, THIN_TAIL=stats.THIN_TAIL_SAMPLES,
                    interval_label=fmt.interval_label, time_split=fmt.time_split,
                    server_resources=fmt.server_resources, placement=fmt.placement,
                    machine_load=fmt.machine_load)


def by_workload(cells: list[Cell]) -> dict[str, list[Cell]]:
    grouped: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        grouped[cell.workload].append(cell)
    return dict(grouped)


def workload_charts(workload: str, cells: list[Cell]) -> dict[str, Any]:
    """Figures of one workload by name (None where there is nothing to draw)."""
    return {
        "throughput": charts.throughput_bars(cells, f"{workload}: throughput"),
        "latency": charts.latency_percentiles(cells, f"{workload}: latency percentiles"),
        "memory": charts.memory_split(cells, f"{workload}: peak memory"),
        "cpu": charts.cpu_per_op(cells, f"{workload}: CPU per operation"),
        "cold_start": charts.cold_start(cells, f"{workload}: cold start"),
        "scaling": charts.concurrency_scaling(cells, f"{workload}: concurrency scaling"),
    }


def _svg(figures: dict[str, Any]) -> dict[str, Markup]:
    return {name: Markup(charts.to_svg(fig)) for name, fig in figures.items() if fig is not None}


def _section(results: Results) -> dict[str, Any]:
    grouped = by_workload(results.cells)
    workloads = []
    for name, cells in grouped.items():
        workloads.append({"name": name, "summaries": decision.summarise(name, cells),
                          "rows": decision.table_rows(cells),
                          "charts": _svg(workload_charts(name, cells))})
    crossing = charts.crossing_cost(results.cells)
    problems = [c for c in results.cells if c.status != OK]
    return {"results": results, "workloads": workloads,
            "crossing": Markup(charts.to_svg(crossing)) if crossing else None,
            "problems": problems,
            "thin": [c for c in results.cells
                     if c.status == OK and c.samples < stats.THIN_TAIL_SAMPLES],
            "noisy": [c for c in results.cells if any(w.startswith("noisy") for w in c.warnings)]}


def render(results_list: list[Results]) -> str:
    sections = [_section(r) for r in results_list]
    return _ENV.get_template("report.html.j2").render(
        sections=sections, OK=OK, WRONG=WRONG, FAILED=FAILED, UNSUPPORTED=UNSUPPORTED,
        UNAVAILABLE=UNAVAILABLE)


def write(results_list: list[Results], path: str | Path) -> Path:
    return _write_atomic(path, render(results_list).encode("utf-8"))


def write_pngs(results_list: list[Results], directory: Path) -> list[Path]:
    """Every chart of the report as a PNG file, for slides and pull requests."""
    written = []
    for index, results in enumerate(results_list):
        prefix = f"run{index + 1}-" if len(results_list) > 1 else ""
        for workload, cells in by_workload(results.cells).items():
            for name, fig in workload_charts(workload, cells).items():
                if fig is not None:
                    written.append(charts.to_png(fig, directory / f"{prefix}{workload}-{name}.png"))
        crossing = charts.crossing_cost(results.cells)
        if crossing is not None:
            written.append(charts.to_png(crossing, directory / f"{prefix}echo-crossing-cost.png"))
    return written
