"""The self-contained HTML report (Jinja2, autoescaped; no external resources)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import jinja2

from hybridbench.report import formatting as fmt
from hybridbench.results import OK, Cell, Results, write_atomic

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hybridbench.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(duration=fmt.duration_ns, count=fmt.count, bytes=fmt.size_bytes,
                    rate_bytes=fmt.rate_bytes, seconds=fmt.seconds, ci=fmt.ci)


def _by_workload(cells: list[Cell]) -> dict[str, list[Cell]]:
    grouped: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        grouped[cell.workload].append(cell)
    return dict(grouped)


def speedups(cells: list[Cell]) -> list[float | None]:
    """Throughput of each cell over ``inproc``'s at the same size, concurrency and mode."""
    base = {(c.size, c.concurrency, c.mode): c.throughput_ops for c in cells
            if c.backend == "inproc" and c.status == OK}
    out: list[float | None] = []
    for cell in cells:
        reference = base.get((cell.size, cell.concurrency, cell.mode))
        ok = cell.status == OK and reference and cell.throughput_ops
        out.append(cell.throughput_ops / reference if ok else None)  # type: ignore[operator]
    return out


def render(results_list: list[Results]) -> str:
    sections = []
    for results in results_list:
        workloads = {name: (cells, speedups(cells))
                     for name, cells in _by_workload(results.cells).items()}
        sections.append({"results": results, "workloads": workloads})
    return _ENV.get_template("report.html.j2").render(sections=sections, OK=OK)


def write(results_list: list[Results], path: str | Path) -> Path:
    return write_atomic(path, render(results_list).encode("utf-8"))
