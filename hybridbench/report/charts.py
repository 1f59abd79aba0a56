"""Charts for the report, drawn with matplotlib (Agg) as inline SVG or PNG, from the model.

Each function takes a part of the report model and returns a ``Figure``, or None when there is
nothing to draw. Colours come from the model (one per backend, the same in every chart); the
process role (client, server) is a hatch, never a colour. A workload measured at several sizes
gets small multiples: one panel per size, each with its own scale. Axes are labelled in the
unit their largest value calls for (ms rather than 80000 µs). Text stays text in the SVG
(``svg.fonttype = none``), escaped by matplotlib, so a label can never become markup.
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hybridbench import thresholds
from hybridbench.report import formatting as fmt
from hybridbench.report.glance import Glance
from hybridbench.report.model import Entry, Group, RunView, WorkloadView

# Figures are made with the object API, never pyplot: no GUI backend, no figure registry to
# leak, safe in any thread. The style is read at draw and save time, hence global.
matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "svg.hashsalt": "hybridbench"})

#: the server's share of a bar: hatched, in the backend's colour
SERVER_HATCH = "////"
NA_COLOUR = "#6b6b6b"
WIDTH, WIDE = 6.4, 10.0


def _measured(group: Group) -> list[Entry]:
    return [e for e in group.lowest if e.ok]


def _panels(groups: list[Group], rows_per_panel: Callable[[Group], int],
            ) -> tuple[Figure, list[tuple[Group, Axes]]]:
    """One panel per group (size), two columns when there are several."""
    ncols = 1 if len(groups) == 1 else 2
    nrows = math.ceil(len(groups) / ncols)
    tallest = max(rows_per_panel(g) for g in groups)
    fig = Figure(figsize=(WIDTH if ncols == 1 else WIDE, nrows * (0.32 * tallest + 1.0) + 0.7),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    return fig, list(zip(groups, axes, strict=False))


def _titled(fig: Figure, panels: list[tuple[Group, Axes]], title: str) -> None:
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    if len(panels) > 1:
        for group, ax in panels:
            ax.set_title(group.title[len(group.workload) + 1:], loc="left", fontsize=9)


def _backend_axis(ax: Axes, entries: list[Entry]) -> None:
    ax.set_yticks(range(len(entries)), [e.cell.backend for e in entries])
    ax.set_ylim(len(entries) - 0.5, -0.5)


def _duration_formatter(scale: float, unit: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _: f"{v / scale:g} {unit}" if v else "0")


def _log_duration_axis(axis: Any, low: float, high: float) -> None:
    """A log axis of nanosecond values labelled as durations (850 ns, 12 µs, 3 ms): ticks at
    1-2-5 over up to two decades, at powers of ten beyond (their labels would collide)."""
    decades = math.log10(max(high, 1.0) / max(low, 1.0))
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.duration_ns(v)))
    axis.set_minor_formatter(NullFormatter())


def _bounds(entry: Entry) -> tuple[float, float]:
    """The throughput interval, or the point itself when there is none (no error bar)."""
    estimate = entry.throughput
    assert estimate is not None
    if estimate.low is None or estimate.high is None:
        return estimate.value, estimate.value
    return estimate.low, estimate.high


def throughput(workload: WorkloadView) -> Figure | None:
    groups = [g for g in workload.groups if _measured(g)]
    if not groups:
        return None
    fig, panels = _panels(groups, lambda g: len(_measured(g)))
    for group, ax in panels:
        entries = _measured(group)
        values = [e.throughput.value for e in entries]  # type: ignore[union-attr]
        bounds = [_bounds(e) for e in entries]
        # The bar is the median of the rounds, the interval is for the mean of the workers:
        # on a skewed run the median can sit outside it, and an error bar cannot be negative.
        low = [max(0.0, v - lo) for (lo, _), v in zip(bounds, values, strict=True)]
        high = [max(0.0, hi - v) for (_, hi), v in zip(bounds, values, strict=True)]
        ax.barh(range(len(entries)), values, xerr=[low, high],
                color=[e.colour for e in entries],
                error_kw={"ecolor": "#222", "capsize": 3, "elinewidth": 1})
        _backend_axis(ax, entries)
        if max(values) / max(min(values), 1e-9) > 50:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.count(v)))
        with_interval = any(e.throughput.has_interval for e in entries)  # type: ignore[union-attr]
        ax.set_xlabel("operations per second (bar: 95% interval)" if with_interval
                      else "operations per second (the data has no interval)")
    _titled(fig, panels, f"{workload.name}: throughput")
    return fig


def latency(workload: WorkloadView) -> Figure | None:
    """P50 (dot) to P99 (tick) per backend, log scale: two percentiles that read, rather
    than five lines per backend."""
    groups = [g for g in workload.groups if any((e.cell.latency_ns or {}).get("p50")
                                                for e in _measured(g))]
    if not groups:
        return None
    fig, panels = _panels(groups, lambda g: len(_measured(g)))
    for group, ax in panels:
        entries = _measured(group)
        for row, entry in enumerate(entries):
            lat = entry.cell.latency_ns or {}
            p50, p99 = lat.get("p50"), lat.get("p99")
            if p50 and p99:
                ax.plot([p50, p99], [row, row], color=entry.colour, linewidth=2.5, alpha=0.5)
                ax.plot([p99], [row], marker="|", markersize=12, color=entry.colour)
            if p50:
                ax.plot([p50], [row], marker="o", color=entry.colour,
                        fillstyle="none" if entry.cell.batch_size > 1 else "full")
        _backend_axis(ax, entries)
        ax.set_xscale("log")
        _log_duration_axis(ax.xaxis, *ax.get_xlim())
        ax.grid(axis="x", which="major", alpha=0.25)
        ax.set_xlabel("latency per call (log scale)")
    fig.legend(handles=[
        matplotlib.lines.Line2D([], [], marker="o", linestyle="", color="#444", label="P50"),
        matplotlib.lines.Line2D([], [], marker="|", markersize=12, linestyle="",
                                color="#444", label="P99"),
        matplotlib.lines.Line2D([], [], marker="o", fillstyle="none", linestyle="",
                                color="#444", label="P50 of batch means")],
        loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    _titled(fig, panels, f"{workload.name}: latency, P50 to P99")
    return fig


def _value_label(ax: Axes, y: float, value: float | None, scale: float, text: str,
                 missing: str) -> None:
    """The figure at the end of its bar, or why there is no bar ("n/a: ...")."""
    if value is None:
        ax.text(0, y, f" n/a: {missing}", va="center", fontsize=7, color=NA_COLOUR)
    else:
        ax.text(value / scale, y, f" {text}", va="center", fontsize=7, color="#333")


def _role_bars(workload: WorkloadView, title: str, xlabel: str,
               value: Callable[[Entry, str], float | None],
               units: tuple[tuple[str, float], ...],
               label: Callable[[float | None], str]) -> Figure | None:
    """Client (solid) and server (hatched) bars per backend, in the backend's colour; "n/a"
    where a backend has no server process."""
    groups = [g for g in workload.groups
              if any(value(e, role) for e in _measured(g) for role in ("client", "server"))]
    if not groups:
        return None  # e.g. results imported from pytest-benchmark carry no memory or CPU
    fig, panels = _panels(groups, lambda g: len(_measured(g)) * 2)
    for group, ax in panels:
        entries = _measured(group)
        largest = max((value(e, r) or 0.0) for e in entries for r in ("client", "server"))
        unit, scale = fmt.axis_unit(largest, units)
        for row, entry in enumerate(entries):
            client = value(entry, "client")
            server = value(entry, "server") if entry.has_server else None
            ax.barh(row - 0.2, (client or 0.0) / scale, height=0.38, color=entry.colour)
            _value_label(ax, row - 0.2, client, scale, label(client), "not measured")
            if entry.has_server:
                ax.barh(row + 0.2, (server or 0.0) / scale, height=0.38, color="white",
                        edgecolor=entry.colour, hatch=SERVER_HATCH, linewidth=0.8)
            _value_label(ax, row + 0.2, server, scale, label(server),
                         "no server process" if not entry.has_server else "not measured")
        _backend_axis(ax, entries)
        ax.set_xlim(0, largest / scale * 1.25 or 1)  # room for the value labels
        ax.set_xlabel(f"{xlabel} ({unit})")
    fig.legend(handles=[Patch(facecolor="#888", label="client (this process)"),
                        Patch(facecolor="white", edgecolor="#444", hatch=SERVER_HATCH,
                              label="server process")],
               loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    _titled(fig, panels, title)
    return fig


def memory(workload: WorkloadView) -> Figure | None:
    def value(entry: Entry, role: str) -> float | None:
        cell = entry.cell
        if role == "client":
            return fmt.client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes)
        return cell.rss_peak_bytes.get(role)
    return _role_bars(workload, f"{workload.name}: peak memory",
                      "client growth in the cell, server peak RSS", value, fmt.SIZE_UNITS,
                      fmt.size_bytes)


def cpu(workload: WorkloadView) -> Figure | None:
    def value(entry: Entry, role: str) -> float | None:
        seconds = entry.cell.cpu_s_per_op.get(role)
        return None if seconds is None else seconds * 1e9
    return _role_bars(workload, f"{workload.name}: CPU per operation",
                      "CPU per operation, user + system", value, fmt.DURATION_UNITS,
                      fmt.duration_ns)


def cold_start(workload: WorkloadView) -> Figure | None:
    seen: dict[str, tuple[float, str]] = {}
    for group in workload.groups:
        for entry in _measured(group):
            if entry.cell.cold_start_s is not None:
                seen.setdefault(entry.cell.backend, (entry.cell.cold_start_s * 1e9,
                                                     entry.colour))
    if not seen:
        return None
    fig = Figure(figsize=(WIDTH, 0.32 * len(seen) + 1.3), layout="constrained")
    ax = fig.subplots()
    unit, scale = fmt.axis_unit(max(v for v, _ in seen.values()), fmt.DURATION_UNITS)
    ax.barh(range(len(seen)), [v / scale for v, _ in seen.values()],
            color=[c for _, c in seen.values()])
    ax.set_yticks(range(len(seen)), list(seen))
    ax.set_ylim(len(seen) - 0.5, -0.5)
    ax.set_xlabel(f"start() to first verified answer ({unit})")
    ax.set_title(f"{workload.name}: cold start", loc="left", fontsize=10)
    return fig


def concurrency_scaling(workload: WorkloadView) -> Figure | None:
    series: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    colours: dict[str, str] = {}
    for group in workload.groups:
        for entry in group.entries:
            if entry.ok and entry.cell.mode != "open":  # load points have their own chart
                series[(entry.cell.backend, group.size)].append(
                    (entry.cell.concurrency, entry.throughput.value))  # type: ignore[union-attr]
                colours[entry.cell.backend] = entry.colour
    if not any(len(points) > 1 for points in series.values()):
        return None
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    ax = fig.subplots()
    sizes = {size for _, size in series}
    for (backend, size), points in series.items():
        points.sort()
        ax.plot(*zip(*points, strict=True), marker="o", color=colours[backend],
                label=backend if len(sizes) == 1 else f"{backend} {size}")
    ax.set_xlabel("concurrent callers")
    ax.set_ylabel("operations per second")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.count(v)))
    ax.set_xticks(sorted({c for points in series.values() for c, _ in points}))
    ax.set_title(f"{workload.name}: concurrency scaling", loc="left", fontsize=10)
    fig.legend(loc="outside right upper", frameon=False, fontsize=8)
    return fig


def size_sweep(run: RunView, workload: WorkloadView) -> Figure | None:
    """P50 (solid) and P99 (dashed) against payload size, log-log, for a workload measured at
    several sizes: where the boundary stops mattering next to moving the bytes."""
    series: dict[str, list[tuple[int, float, float | None]]] = defaultdict(list)
    for group in workload.groups:
        for entry in _measured(group):
            lat = entry.cell.latency_ns or {}
            if lat.get("p50") and entry.cell.payload_bytes:
                series[entry.cell.backend].append((entry.cell.payload_bytes, lat["p50"],
                                                   lat.get("p99")))
    if not any(len(points) > 1 for points in series.values()):
        return None
    fig = Figure(figsize=(WIDTH + 1.6, 3.8), layout="constrained")
    ax = fig.subplots()
    for backend, points in series.items():
        points.sort()
        xs = [p[0] for p in points]
        colour = run.colours[backend]
        ax.plot(xs, [p[1] for p in points], marker="o", color=colour, label=f"{backend} P50")
        tails = [(x, p[2]) for x, p in zip(xs, points, strict=True) if p[2]]
        if tails:
            ax.plot(*zip(*tails, strict=True), linestyle="--", color=colour, alpha=0.7,
                    label=f"{backend} P99")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.size_bytes(v)))
    ax.set_yscale("log")
    _log_duration_axis(ax.yaxis, *ax.get_ylim())
    ax.set_xlabel("payload (log scale)")
    ax.set_ylabel("latency per call (log scale)")
    ax.set_title(f"{workload.name}: latency against payload size", loc="left", fontsize=10)
    ax.grid(which="major", alpha=0.25)
    fig.legend(loc="outside right upper", frameon=False, fontsize=8)
    return fig


def load_curve(run: RunView, workload: WorkloadView) -> Figure | None:
    """P50 (solid) and P99 (dashed) against the achieved rate, per backend, from the
    open-loop cells; the latency objective as a line, the capacity point circled."""
    found = [c for c in run.capacities_of(workload.name) if len(c.points) > 1]
    if not found:
        return None
    fig = Figure(figsize=(WIDTH + 1.6, 3.8), layout="constrained")
    ax = fig.subplots()
    several_sizes = len({c.size for c in found}) > 1
    for item in found:
        colour = run.colours.get(item.backend, NA_COLOUR)
        label = f"{item.backend} {item.size}" if several_sizes else item.backend
        points = [(p.achieved, p.p50_ns, p.p99_ns) for p in item.points
                  if p.p50_ns and p.p99_ns]
        xs = [x for x, _, _ in points]
        ax.plot(xs, [float(p50) for _, p50, _ in points], marker="o", color=colour,
                label=f"{label} P50")
        ax.plot(xs, [float(p99) for _, _, p99 in points], linestyle="--", marker=".",
                color=colour, alpha=0.8, label=f"{label} P99")
        if item.best is not None and item.best.p99_ns:
            ax.plot([item.best.achieved], [item.best.p99_ns], marker="o", markersize=11,
                    markerfacecolor="none", color=colour)
    slo = found[0].slo_p99_ns
    if slo:
        ax.axhline(slo, color="#444444", linewidth=0.8, linestyle=":",
                   label=f"objective P99 {fmt.duration_ns(slo)}")
    ax.set_yscale("log")
    _log_duration_axis(ax.yaxis, *ax.get_ylim())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.count(v)))
    ax.set_xlabel("achieved requests per second")
    ax.set_ylabel("latency (log scale)")
    ax.set_title(f"{workload.name}: latency against load (circled: capacity)", loc="left",
                 fontsize=10)
    ax.grid(which="major", alpha=0.25)
    fig.legend(loc="outside right upper", frameon=False, fontsize=8)
    return fig


#: one colour and one marker per pattern (a pattern is not a backend: not the backends'
#: palette), the marker so that the series read without colour too
PATTERN_STYLES = (("#d55e00", "o"), ("#0072b2", "s"), ("#009e73", "^"), ("#cc79a7", "D"),
                  ("#999933", "v"), ("#332288", "P"))


def glance_speedups(glance: Glance) -> Figure | None:
    """The verdict table as one chart: per workload and size, each pattern's best speed-up
    over the strongest Python, log scale, with its 95% interval; a line at 1x (the strongest
    Python) and a dashed one at the gain a move needs."""
    rows = [r for r in glance.rows if r.by_pattern]
    if not rows:
        return None
    fig = Figure(figsize=(WIDTH, 0.55 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    spread = 0.6 / max(len(glance.patterns), 1)
    for index, pattern in enumerate(glance.patterns):
        colour, marker = PATTERN_STYLES[index % len(PATTERN_STYLES)]
        offset = (index - (len(glance.patterns) - 1) / 2) * spread
        points = [(y + offset, row.by_pattern[pattern].speedup)
                  for y, row in enumerate(rows) if pattern in row.by_pattern]
        values = [estimate.value for _, estimate in points]
        low = [max(0.0, e.value - (e.low or e.value)) for _, e in points]
        high = [max(0.0, _finite(e.high, e.value) - e.value) for _, e in points]
        ax.errorbar(values, [y for y, _ in points], xerr=[low, high], fmt=marker, color=colour,
                    ecolor=colour, elinewidth=1.2, capsize=2.5, markersize=5, label=pattern)
    ax.axvline(1.0, color="#444", linewidth=0.9)
    ax.axvline(thresholds.WORTH_IT, color="#444", linewidth=0.8, linestyle="--",
               label=f"{thresholds.WORTH_IT:g}x: a move's bar")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.ratio(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(rows)), [f"{r.workload} {r.size}" for r in rows])
    for between in range(len(rows) - 1):  # a hairline between workloads
        ax.axhline(between + 0.5, color="#ddd", linewidth=0.6)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="x", which="major", alpha=0.25)
    ax.set_xlabel("throughput / the strongest Python's (log scale; bar: 95% interval)")
    ax.set_title("speed-up over the strongest Python, per pattern", loc="left", fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return fig


def _finite(value: float | None, fallback: float) -> float:
    """An interval's bound to draw: an unbounded or missing one draws no bar beyond the point."""
    return fallback if value is None or math.isinf(value) else value


def workload_charts(workload: WorkloadView) -> dict[str, Figure | None]:
    """Figures of one workload by name (None where there is nothing to draw)."""
    return {"throughput": throughput(workload), "latency": latency(workload),
            "memory": memory(workload), "cpu": cpu(workload), "cold_start": cold_start(workload),
            "scaling": concurrency_scaling(workload)}


def is_wide(fig: Figure) -> bool:
    return bool(fig.get_figwidth() > WIDTH + 0.5)


def to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE for inline use


#: an element id, and every way an SVG refers to one: ``url(#x)`` (clip paths, patterns) and
#: ``href="#x"`` (also ``xlink:href``, matplotlib's markers)
_ID_OR_REFERENCE = re.compile(r'(\bid="|\bhref="#|url\(#)([^")]+)')
_DEFINED_ID = re.compile(r'\bid="([^"]+)"')


def with_unique_ids(svg: str, prefix: str) -> str:
    """``svg`` with ``prefix`` before every id it defines and every reference to one.

    matplotlib numbers its ids per figure (``figure_1``, ``axes_1``, ``legend_1``) and, with a
    fixed hash salt, names clip paths alike across figures: several charts inline in one page
    would repeat ids, and a clip path could resolve to another chart's. Only ids the SVG
    defines are renamed, so a colour such as ``fill="#0072b2"`` is never touched."""
    defined = set(_DEFINED_ID.findall(svg))

    def rename(match: re.Match[str]) -> str:
        lead, name = match.groups()
        return lead + (prefix + name if name in defined else name)

    return _ID_OR_REFERENCE.sub(rename, svg)


def to_png(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=150)
    return path
