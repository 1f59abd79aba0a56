"""Markdown export of the report model: the headline, the articles' table and the decision
summary, for READMEs and PRs.

Every label and message comes from a result file (backend and workload names, error
messages, warnings), which may come from anywhere: all of it goes through ``text`` so it
reads as text, never as HTML, a table column, a code span or a link.
"""

from __future__ import annotations

import re
from pathlib import Path

from hybridbench.report import costs, glance, model
from hybridbench.report import formatting as fmt
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


def _row(entry: model.Entry) -> str:
    cell = entry.cell
    if not entry.ok:
        return table_row(cell.backend, entry.profile.pattern, f"{cell.status}: {cell.error or ''}",
                         "", "", "", "", "")
    latency = cell.latency_ns or {}
    name = cell.backend if cell.concurrency == 1 else f"{cell.backend} ×{cell.concurrency}"
    return table_row(name, entry.profile.pattern,
                     f"{fmt.count(cell.throughput_ops)} ops/s {_interval(entry)}".strip(),
                     fmt.speedup_cell(entry),
                     f"{fmt.client_memory(cell)} + {fmt.server_memory(cell)}",
                     fmt.duration_ns(latency.get("p50")), fmt.duration_ns(latency.get("p99")),
                     fmt.byte_rate(entry))


def _interval(entry: model.Entry) -> str:
    estimate = entry.throughput
    if estimate is None or not estimate.has_interval:
        return "(no interval)"
    return fmt.ci_percent([estimate.low, estimate.high], estimate.value)  # type: ignore[list-item]


def _split_row(cell: Cell) -> str:
    split = fmt.time_split(cell)
    return table_row(cell.backend, split["end_to_end"], split["kernel"], split["crossing"],
                     split["client_cpu"], fmt.faults(cell), fmt.server_resources(cell),
                     fmt.cpu_affinity(cell), fmt.machine_load(cell), fmt.warmup(cell))


def time_split_lines(cells: list[Cell]) -> list[str]:
    """Where the time goes per call (medians), for the cells that were measured."""
    ok = [c for c in cells if c.status == OK and c.time_split]
    if not ok:
        return []
    return ["| backend | end-to-end | kernel | crossing + serialization | client CPU/call "
            "| page faults/call (client + server) | server (peak RSS, CPU/op) | CPUs "
            "| others' CPU | warm-up |", "|---" * 10 + "|",
            *(_split_row(c) for c in ok), ""]


def _overview_cell(entry: model.Entry | None) -> str:
    if entry is None:
        return "-"
    cell = entry.cell
    if not entry.ok:
        return str(cell.status)
    server = cell.rss_peak_bytes.get("server")
    growth = fmt.client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes)
    memory = fmt.size_bytes(server) if server else f"+{fmt.size_bytes(growth)}"
    return (f"{fmt.count(cell.throughput_ops)}/s, P99 "
            f"{fmt.duration_ns((cell.latency_ns or {}).get('p99'))}, {memory}")


def overview(run: model.RunView) -> list[str]:
    """The articles' table: one row per workload and size, one column per backend.

    Each entry: throughput, P99, and memory (the server's peak RSS for out-of-process
    backends, the client's growth during the cell for in-process ones). Lowest concurrency.
    """
    columns = model.article_columns(run)
    lines = [table_row("workload", *(heading for _, heading in columns)),
             "|---|" + "---|" * len(columns)]
    for group in run.groups:
        by_backend = {e.cell.backend: e for e in group.lowest}
        lines.append(table_row(group.title,
                               *(_overview_cell(by_backend.get(b)) for b, _ in columns)))
    return lines


def verdict_table(at_a_glance: glance.Glance) -> list[str]:
    """The verdict table (``glance``): one row per workload and size; a cell's several lines
    joined by ``; `` (a Markdown table cell has one line)."""
    lines = [table_row(*glance.COLUMNS), "|---" * len(glance.COLUMNS) + "|"]
    for row in at_a_glance.rows:
        lines.append(table_row(row.label, row.verdict_text, "; ".join(row.gain_lines()),
                               row.baseline or "-", "; ".join(row.boundary_lines())))
    for line in at_a_glance.crossings:
        lines += ["", f"**{text(line.workload)}** {text(glance.CROSSING_LEAD)} "
                      f"{text(line.text())}."]
    return lines


def headline(run: model.RunView) -> list[str]:
    """The verdict table, then the sentences behind it in a fold (GitHub renders
    ``<details>``; the tags are ours, the words go through ``text``)."""
    lines = ["## Headline", "", *verdict_table(glance.build(run)), "",
             "<details><summary>The decision in sentences</summary>", "", text(run.overall), ""]
    lines += [f"- **{text(g.title)} → {text(g.pattern)}**: {text(g.headline)}"
              for g in run.groups]
    return [*lines, "", "</details>", ""]


def _group_lines(group: model.Group) -> list[str]:
    lines = [f"### {text(group.title)}", "",
             table_row("backend", "pattern", "throughput (±95% CI)",
                       f"vs {group.baseline_name or 'baseline'}",
                       "peak RSS client (growth) + server", "P50", "P99", "request bytes/s"),
             "|---" * 8 + "|"]
    lines += [_row(e) for e in group.entries]
    labels = dict.fromkeys(fmt.interval_label(e.cell) for e in group.entries if e.ok)
    if labels:
        lines += ["", text("Intervals: " + "; ".join(labels) + "."), ""]
    lines += time_split_lines([e.cell for e in group.entries])
    lines += _ladder_lines(group)
    lines += _kernel_ladder_lines(group)
    lines += _container_lines(group)
    return lines + [""] + [f"- {text(s)}" for s in group.sentences] + [""]


def _ladder_lines(group: model.Group) -> list[str]:
    """Where the native advantage comes from: one row per tier (``report.tiers``)."""
    if group.ladder is None:
        return []
    lines = ["", table_row("tier", "backend", "throughput", "step", "factor"), "|---" * 5 + "|"]
    for rung, step in group.ladder.rows():
        lines.append(table_row(rung.label, rung.entry.cell.backend,
                               f"{fmt.count(rung.entry.throughput.value)} ops/s",  # type: ignore[union-attr]
                               step.name if step else "",
                               fmt.ratio(step.factor.value) if step else ""))
    return lines


def _kernel_ladder_lines(group: model.Group) -> list[str]:
    """Go against Rust on the kernels' own time: one row per rung (``tiers.kernel_ladder``)."""
    ladder = group.kernel_ladder
    if ladder is None:
        return []
    first = ladder.rungs[0].kernel_ns
    lines = ["", table_row("kernel rung", "backend", "engine", "kernel P50",
                           f"vs {ladder.rungs[0].label}"), "|---" * 5 + "|"]
    lines += [table_row(r.label, r.entry.cell.backend, r.entry.engine,
                        fmt.duration_ns(r.kernel_ns), fmt.ratio(first / r.kernel_ns))
              for r in ladder.rungs]
    return [*lines, "", text(ladder.sentence())]


def _container_lines(group: model.Group) -> list[str]:
    """Each server in a container against its bare twin (``report.containers``)."""
    if not group.containers:
        return []
    lines = ["", table_row("in a container", "limits", "bare process", "throughput ratio (95%)",
                           "per call, more", "P50", "P99", "P99 vs bare", "CFS throttled"),
             "|---" * 9 + "|"]
    for row in group.containers:
        ratio = row.ratio
        lines.append(table_row(
            row.container.cell.backend, row.limits, row.bare.cell.backend,
            f"{fmt.ratio(ratio.value)} {fmt.ci([ratio.low, ratio.high])}"  # type: ignore[list-item]
            if ratio and ratio.has_interval else fmt.ratio(ratio.value if ratio else None),
            fmt.signed_duration_ns(row.extra_ns.value) if row.extra_ns else "-",
            fmt.duration_ns((row.container.cell.latency_ns or {}).get("p50")),
            fmt.duration_ns(row.p99(row.container)), fmt.ratio(row.p99_ratio), row.throttled))
    return [*lines, "", *(text(row.sentence()) for row in group.containers[:1])]


def _warning_lines(run: model.RunView) -> list[str]:
    """Run-wide warnings in full; per kind, one line with the count of its cells, the cells
    in a ``<details>`` fold (GitHub renders it; the tags are ours, the cells' words go
    through ``text``)."""
    kinds = run.warning_kinds
    lines = [f"> warning: {text(message)}" for kind in kinds for message in kind.run_messages]
    for kind in (k for k in kinds if k.cells):
        cells = [text(f"{where}: {n.message}" if kind.detailed else where)
                 for where, n in kind.cells]
        lines += ["", f"> warning: {text(kind.count_line)}", "",
                  "<details><summary>the cells</summary>", "",
                  *(f"- {cell}" for cell in cells), "", "</details>"]
    return lines


def _pil_words(pil: object) -> str:
    """``PIL 12.1.1.post0 (pillow-simd, SIMD SSE4)``; older files name the version alone."""
    if not isinstance(pil, dict):
        return "PIL ?"
    extra = [str(pil["distribution"])] if pil.get("distribution") else []
    if pil.get("simd"):
        extra.append(f"SIMD {pil['simd']}")
    return f"PIL {pil.get('version', '?')}" + (f" ({', '.join(extra)})" if extra else "")


def _cost_lines(run: model.RunView) -> list[str]:
    """What observability adds per call (``--observability-cost`` runs only)."""
    found = costs.of_run(run)
    if not found:
        return []
    return ["### Observability cost", "", *(f"- {text(c.sentence())}" for c in found), ""]


def render_report(report: model.Report) -> str:
    lines: list[str] = []
    for run in report.runs:
        env = run.results.env
        lines += headline(run)
        lines += [text(f"Measured {run.results.created} on {env.get('cpu_model', '?')} "
                       f"({env.get('cores_logical', '?')} cores), Python "
                       f"{env.get('python', '?')}, {_pil_words(env.get('pil'))}, "
                       f"{env.get('rustc') or 'rustc ?'}."), ""]
        lines += [*overview(run), "",
                  "Each entry: throughput, P99 latency, memory (server peak RSS, or the "
                  "client's growth in-process).", ""]
        for group in run.groups:
            lines += _group_lines(group)
        lines += _cost_lines(run)
        lines += _warning_lines(run)
    return "\n".join(lines).rstrip() + "\n"


def render(results_list: list[Results], baseline: str | None = None) -> str:
    return render_report(model.build(results_list, baseline))


def write(results_list: list[Results], path: str | Path, baseline: str | None = None) -> Path:
    return write_atomic(path, render(results_list, baseline).encode("utf-8"))


def write_report(report: model.Report, path: str | Path) -> Path:
    return write_atomic(path, render_report(report).encode("utf-8"))
