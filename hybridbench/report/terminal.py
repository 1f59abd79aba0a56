"""The summary table printed at the end of ``hybridbench run``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hybridbench.report import formatting as fmt
from hybridbench.results import OK, Results


def summary_table(results: Results) -> Table:
    table = Table(title="hybridbench results", title_justify="left", header_style="bold")
    for column in ("workload", "backend", "c", "ops/s", "±CI", "bytes in/s", "P50", "P99", "P99.9",
                   "RSS cli (+cell)", "RSS srv", "samples", "cold"):
        table.add_column(column, justify="left" if column in ("workload", "backend") else "right")
    for cell in results.cells:
        lead = [f"{cell.workload} {cell.size}", cell.backend, str(cell.concurrency)]
        if cell.status != OK:
            table.add_row(*lead, f"[yellow]{cell.status}[/]", "", "", "", "", "", "", "", "", "")
            continue
        lat = cell.latency_ns or {}
        table.add_row(
            *lead, fmt.count(cell.throughput_ops), fmt.ci_percent(cell.throughput_ci95,
                                                                  cell.throughput_ops),
            fmt.rate_bytes(cell.throughput_bytes),
            fmt.duration_ns(lat.get("p50")), fmt.duration_ns(lat.get("p99")),
            fmt.duration_ns(lat.get("p999")),
            f"{fmt.size_bytes(cell.rss_peak_bytes.get('client'))} +"
            f"{fmt.size_bytes(fmt.client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes))}",
            fmt.size_bytes(cell.rss_peak_bytes.get("server")),
            f"{cell.samples:,}" + ("*" if cell.batch_size > 1 else ""),
            fmt.seconds(cell.cold_start_s))
    return table


def time_split_table(results: Results) -> Table | None:
    """Per call, medians: the engine's own time, the rest of the call, and who paid CPU."""
    cells = [c for c in results.cells if c.status == OK and c.time_split]
    if not cells:
        return None
    table = Table(title="where the time goes (per call, medians)", title_justify="left",
                  header_style="bold")
    for column in ("workload", "backend", "c", "end-to-end", "kernel", "crossing+ser.",
                   "client CPU", "server", "CPUs", "others' CPU"):
        table.add_column(column, justify="left" if column in ("workload", "backend", "server",
                                                               "CPUs") else "right")
    for cell in cells:
        split = fmt.time_split(cell)
        table.add_row(f"{cell.workload} {cell.size}", cell.backend, str(cell.concurrency),
                      split["end_to_end"], split["kernel"], split["crossing"],
                      split["client_cpu"], fmt.server_resources(cell), fmt.placement(cell),
                      fmt.machine_load(cell))
    return table


def interval_note(results: Results) -> str | None:
    labels = dict.fromkeys(fmt.interval_label(c) for c in results.cells if c.status == OK)
    return "±CI: " + "; ".join(labels) if labels else None


#: warning prefix -> one grouped line, so twenty thin tails do not bury the table
_KINDS = {"thin tail": "thin tail (< 10,000 samples: P99 rests on < 100 of them)",
          "noisy": "noisy (throughput standard deviation > 10% of the mean between workers, "
                   "or between rounds in schema-1 files)",
          "calls shorter": "* timed in batches (percentiles are of batch means)",
          "batched": "* timed in batches (percentiles are of batch means)",
          "busy machine": "busy machine (other processes used > 0.5 cores while timed)"}


def print_summary(results: Results, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(results))
    note = interval_note(results)
    if note:
        console.print(note)
    split = time_split_table(results)
    if split is not None:
        console.print(split)
    for cell in results.cells:
        if cell.status != OK:
            console.print(f"[yellow]{cell.workload}/{cell.size} {cell.backend}: "
                          f"{cell.status}:[/] {cell.error}")
    for warning in results.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    grouped: dict[str, list[str]] = {}
    for cell in results.cells:
        for warning in cell.warnings:
            kind = next((k for k in _KINDS if warning.startswith(k)), None)
            label = f"{cell.workload}/{cell.size} {cell.backend}"
            if kind:
                grouped.setdefault(_KINDS[kind], []).append(label)
            else:
                console.print(f"[yellow]{label}:[/] {warning}")
    for title, labels in grouped.items():
        console.print(f"[yellow]{title}:[/] {', '.join(labels)}")
