"""Charts for the report, drawn with matplotlib (Agg) as inline SVG or PNG.

Each function takes cells and returns a ``Figure`` or None when there is nothing to draw; the
HTML reporter inlines ``to_svg(fig)``, ``--png-dir`` saves ``to_png(fig, path)``. Text stays
text in the SVG (``svg.fonttype = none``): smaller files, selectable labels, and matplotlib
escapes it, so a label can never become markup.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hybridbench.report.formatting import client_growth, duration_ns, size_bytes
from hybridbench.results import OK, Cell

# Figures are made with the object API, never pyplot: no GUI backend, no figure registry to
# leak, safe in any thread. The style is read at draw and save time, hence global.
matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "svg.hashsalt": "hybridbench"})

#: one colour per backend, stable across charts and reports
PALETTE = {"inproc": "#4c72b0", "inproc-pure": "#8c8c8c", "ffi": "#dd8452", "grpc": "#55a868",
           "grpc-py": "#c44e52"}
_EXTRA = ["#8172b3", "#937860", "#da8bc3", "#ccb974", "#64b5cd"]


def colour(backend: str) -> str:
    if backend in PALETTE:
        return PALETTE[backend]
    return _EXTRA[sum(map(ord, backend)) % len(_EXTRA)]


def _log_duration_axis(axis: Any) -> None:
    """A log axis of nanosecond values labelled as durations (850 ns, 12 µs, 3 ms)."""
    axis.axes.set_yscale("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: duration_ns(v)))
    axis.set_minor_formatter(NullFormatter())


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="tight")
    return fig, fig.subplots()


def _ok(cells: list[Cell]) -> list[Cell]:
    return [c for c in cells if c.status == OK and c.throughput_ops]


def _label(cell: Cell, sizes: set[str]) -> str:
    return cell.backend if len(sizes) == 1 else f"{cell.backend} {cell.size}"


def _single_concurrency(cells: list[Cell]) -> list[Cell]:
    """The cells of the lowest concurrency: the per-backend charts compare like with like."""
    lowest = min((c.concurrency for c in cells), default=1)
    return [c for c in cells if c.concurrency == lowest]


def throughput_bars(cells: list[Cell], title: str) -> Figure | None:
    cells = _single_concurrency(_ok(cells))
    if not cells:
        return None
    sizes = {c.size for c in cells}
    fig, ax = _figure(6.4, 0.45 * len(cells) + 1.1)
    labels = [_label(c, sizes) for c in cells]
    values = [c.throughput_ops or 0.0 for c in cells]
    errors = [[v - (c.throughput_ci95 or [v, v])[0] for c, v in zip(cells, values, strict=True)],
              [(c.throughput_ci95 or [v, v])[1] - v for c, v in zip(cells, values, strict=True)]]
    ax.barh(labels, values, xerr=errors, color=[colour(c.backend) for c in cells],
            error_kw={"ecolor": "#222", "capsize": 3, "elinewidth": 1})
    ax.invert_yaxis()
    ax.set_xlabel("operations per second (median of rounds, bar: 95% CI)")
    ax.set_title(title, loc="left")
    if max(values) / max(min(values), 1e-9) > 50:
        ax.set_xscale("log")
    return fig


def latency_percentiles(cells: list[Cell], title: str) -> Figure | None:
    cells = _single_concurrency(_ok(cells))
    if not cells:
        return None
    sizes = {c.size for c in cells}
    keys, names = ["p50", "p90", "p99", "p999", "max"], ["P50", "P90", "P99", "P99.9", "max"]
    fig, ax = _figure(6.4, 3.4)
    for cell in cells:
        latency = cell.latency_ns or {}
        ys = [latency.get(k) for k in keys]
        points = [(i, y) for i, y in enumerate(ys) if y]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", color=colour(cell.backend),
                    label=_label(cell, sizes), linestyle="--" if cell.batch_size > 1 else "-")
    ax.set_xticks(range(len(names)), names)
    _log_duration_axis(ax.yaxis)
    ax.set_ylabel("latency (log scale)")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", which="both", alpha=0.25)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _stacked(cells: list[Cell], parts: dict[str, list[float]], xlabel: str,
             title: str) -> Figure | None:
    if not any(any(values) for values in parts.values()):
        return None  # e.g. results imported from pytest-benchmark carry no memory or CPU
    sizes = {c.size for c in cells}
    labels = [_label(c, sizes) for c in cells]
    fig, ax = _figure(6.4, 0.45 * len(cells) + 1.5)
    left = [0.0] * len(cells)
    for (name, values), shade in zip(parts.items(), ("#4c72b0", "#dd8452"), strict=False):
        if any(values):  # no server bar segment when nothing ran out of process
            ax.barh(labels, values, left=left, color=shade, label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    # below the axis label, where it can cover neither bars nor title
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28),
              ncol=2)
    return fig


def memory_split(cells: list[Cell], title: str) -> Figure | None:
    cells = _single_concurrency(_ok(cells))
    if not cells:
        return None
    mib = 1024 * 1024
    parts = {
        "client growth in the cell": [
            (client_growth(c.rss_peak_bytes, c.rss_baseline_bytes) or 0) / mib for c in cells],
        "server process": [(c.rss_peak_bytes.get("server") or 0) / mib for c in cells],
    }
    return _stacked(cells, parts, "peak memory (MiB): client growth over its baseline + whole "
                    "server process", title)


def cpu_per_op(cells: list[Cell], title: str) -> Figure | None:
    cells = _single_concurrency(_ok(cells))
    if not cells:
        return None
    parts = {role: [(c.cpu_s_per_op.get(role) or 0) * 1e6 for c in cells]
             for role in ("client", "server")}
    return _stacked(cells, parts, "CPU time per operation (µs, user+system): client + server",
                    title)


def cold_start(cells: list[Cell], title: str) -> Figure | None:
    seen: dict[str, float] = {}
    for cell in _ok(cells):
        if cell.cold_start_s is not None:
            seen.setdefault(cell.backend, cell.cold_start_s)
    if not seen:
        return None
    fig, ax = _figure(6.4, 0.45 * len(seen) + 1.1)
    ax.barh(list(seen), [v * 1e3 for v in seen.values()], color=[colour(b) for b in seen])
    ax.invert_yaxis()
    ax.set_xlabel("cold start: start() to first verified answer (ms)")
    ax.set_title(title, loc="left")
    return fig


def crossing_cost(cells: list[Cell]) -> Figure | None:
    """Echo P50 latency against payload size, log-log: where the boundary stops mattering."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for cell in _single_concurrency(_ok([c for c in cells if c.workload == "echo"])):
        if cell.latency_ns and cell.latency_ns.get("p50"):
            series[cell.backend].append((cell.payload_bytes, cell.latency_ns["p50"]))
    if not any(len(points) > 1 for points in series.values()):
        return None
    fig, ax = _figure(6.4, 3.6)
    for backend, points in series.items():
        points.sort()
        ax.plot(*zip(*points, strict=True), marker="o", color=colour(backend), label=backend)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: size_bytes(v)))
    _log_duration_axis(ax.yaxis)
    ax.set_xlabel("payload (log scale)")
    ax.set_ylabel("echo P50 latency (log scale)")
    ax.set_title("crossing cost against payload size", loc="left")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=8, frameon=False)
    return fig


def concurrency_scaling(cells: list[Cell], title: str) -> Figure | None:
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for cell in _ok(cells):
        series[f"{cell.backend} {cell.size}"].append((cell.concurrency, cell.throughput_ops or 0))
    if not any(len(points) > 1 for points in series.values()):
        return None
    fig, ax = _figure(6.4, 3.4)
    for name, points in series.items():
        points.sort()
        ax.plot(*zip(*points, strict=True), marker="o", color=colour(name.split(" ")[0]),
                label=name)
    ax.set_xlabel("concurrent callers")
    ax.set_ylabel("operations per second")
    ax.set_xticks(sorted({c for points in series.values() for c, _ in points}))
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False)
    return fig


def to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE for inline use


def to_png(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=150)
    return path

