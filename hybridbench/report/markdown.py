"""Markdown export: the articles' table and the decision summary, for READMEs and PRs.

Every label and message comes from a result file (backend and workload names, error
messages, warnings), which may come from anywhere: all of it goes through ``text`` so it
reads as text, never as HTML, a table column, a code span or a link.
"""

from __future__ import annotations

import re
from pathlib import Path

from hybridbench.report import decision
from hybridbench.report import formatting as fmt
from hybridbench.report.html import by_workload
from hybridbench.results import OK, Cell, Results, write_atomic

#: HTML's own characters become entities; Markdown's are backslash-escaped
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text(value: object) -> str:
    """``value`` as literal Markdown text: no raw HTML, no table-breaking ``|`` or newline,
    no code span, emphasis or link."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAK.sub(" ", str(value)))
    return "".join(_HTML_ENTITIES.get(char, char) for char in escaped)


def table_row(*values: object) -> str:
    return "| " + " | ".join(text(value) for value in values) + " |"


def _row(row: decision.Row) -> str:
    cell = row.cell
    if cell.status != OK:
        return table_row(cell.backend, f"{cell.status}: {cell.error or ''}", "", "", "", "")
    latency = cell.latency_ns or {}
    name = cell.backend if cell.concurrency == 1 else f"{cell.backend} ×{cell.concurrency}"
    return table_row(name, f"{fmt.count(cell.throughput_ops)} ops/s "
                           f"{fmt.ci_percent(cell.throughput_ci95, cell.throughput_ops)}",
                     fmt.ratio(row.speedup),
                     fmt.memory(cell.rss_peak_bytes, cell.rss_baseline_bytes),
                     fmt.duration_ns(latency.get("p50")), fmt.duration_ns(latency.get("p99")))


def _split_row(cell: Cell) -> str:
    split = fmt.time_split(cell)
    return table_row(cell.backend, split["end_to_end"], split["kernel"], split["crossing"],
                     split["client_cpu"], fmt.server_resources(cell), fmt.placement(cell),
                     fmt.machine_load(cell))


def time_split_lines(cells: list[Cell]) -> list[str]:
    """Where the time goes per call (medians), for the cells that were measured."""
    ok = [c for c in cells if c.status == OK and c.time_split]
    if not ok:
        return []
    return ["| backend | end-to-end | kernel | crossing + serialization | client CPU/call "
            "| server (peak RSS, CPU/op) | CPUs | others' CPU |", "|---" * 8 + "|",
            *(_split_row(c) for c in ok), ""]


def _overview_cell(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.status != OK:
        return cell.status
    server = cell.rss_peak_bytes.get("server")
    growth = fmt.client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes)
    memory = fmt.size_bytes(server) if server else f"+{fmt.size_bytes(growth)}"
    return (f"{fmt.count(cell.throughput_ops)}/s, P99 "
            f"{fmt.duration_ns((cell.latency_ns or {}).get('p99'))}, {memory}")


def overview(results: Results) -> list[str]:
    """The articles' table: one row per workload and size, one column per backend.

    Each entry: throughput, P99, and memory (the server's peak RSS for out-of-process
    backends, the client's growth during the cell for in-process ones). Lowest concurrency.
    """
    backends = list(dict.fromkeys(c.backend for c in results.cells))
    lowest = min((c.concurrency for c in results.cells), default=1)
    rows: dict[tuple[str, str], dict[str, Cell]] = {}
    for cell in results.cells:
        if cell.concurrency == lowest:
            rows.setdefault((cell.workload, cell.size), {})[cell.backend] = cell
    lines = [table_row("workload", *backends), "|---|" + "---|" * len(backends)]
    for (workload, size), by_backend in rows.items():
        lines.append(table_row(f"{workload} {size}",
                               *(_overview_cell(by_backend.get(b)) for b in backends)))
    return lines


def render(results_list: list[Results]) -> str:
    lines: list[str] = []
    for results in results_list:
        env = results.env
        lines += [text(f"Measured {results.created} on {env.get('cpu_model', '?')} "
                       f"({env.get('cores_logical', '?')} cores), Python "
                       f"{env.get('python', '?')}, PIL {env.get('pil', {}).get('version', '?')}, "
                       f"{env.get('rustc') or 'rustc ?'}."), ""]
        lines += [*overview(results), "",
                  "Each entry: throughput, P99 latency, memory (server peak RSS, or the "
                  "client's growth in-process).", ""]
        for workload, cells in by_workload(results.cells).items():
            for summary in decision.summarise(workload, cells):
                lines += [f"### {text(workload)} {text(summary.size)}", "",
                          "| backend | throughput (±95% CI) | vs inproc "
                          "| peak RSS client (growth) + server | P50 | P99 |",
                          "|---|---|---|---|---|---|"]
                lines += [_row(row) for row in summary.rows]
                labels = dict.fromkeys(fmt.interval_label(r.cell) for r in summary.rows
                                       if r.cell.status == OK)
                if labels:
                    lines += ["", text("Intervals: " + "; ".join(labels) + "."), ""]
                lines += time_split_lines([r.cell for r in summary.rows])
                lines += [""] + [f"- {text(s)}" for s in summary.sentences] + [""]
        for warning in results.warnings:
            lines.append(f"> warning: {text(warning)}")
    return "\n".join(lines).rstrip() + "\n"


def write(results_list: list[Results], path: str | Path) -> Path:
    return write_atomic(path, render(results_list).encode("utf-8"))
