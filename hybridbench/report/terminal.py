"""The terminal rendering of the report model, printed at the end of ``hybridbench run`` and
by ``hybridbench report --terminal``: the headline, the summary table, the time split, and
the warnings grouped by kind."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hybridbench.report import costs, glance, model
from hybridbench.report import formatting as fmt
from hybridbench.results import Results


def summary_table(run: model.RunView) -> Table:
    table = Table(title="hybridbench results", title_justify="left", header_style="bold")
    for column in ("workload", "backend", "c", "ops/s", "±CI", f"vs {run.baseline or 'best Py'}",
                   "bytes in/s", "P50", "P99", "P99.9", "RSS cli (+cell)", "RSS srv",
                   "samples", "cold"):
        table.add_column(column, justify="left" if column in ("workload", "backend") else "right")
    for entry in run.entries:
        cell = entry.cell
        lead = [escape(f"{cell.workload} {cell.size}"), f"[{entry.colour}]■[/] "
                + escape(cell.backend), str(cell.concurrency)]
        if not entry.ok:
            table.add_row(*lead, f"[yellow]{cell.status}[/]", *[""] * 10)
            continue
        lat = cell.latency_ns or {}
        table.add_row(
            *lead, fmt.count(cell.throughput_ops),
            fmt.ci_percent(cell.throughput_ci95, cell.throughput_ops) or "none",
            fmt.speedup_cell(entry), fmt.byte_rate(entry),
            fmt.duration_ns(lat.get("p50")), fmt.duration_ns(lat.get("p99")),
            fmt.duration_ns(lat.get("p999")), fmt.client_memory(cell), fmt.server_memory(cell),
            f"{cell.samples:,}" + ("*" if cell.batch_size > 1 else "")
            + ("†" if entry.thin_tail else ""),
            fmt.seconds(cell.cold_start_s))
    return table


def time_split_table(run: model.RunView) -> Table | None:
    """Per call, medians: the engine's own time, the rest of the call, and who paid CPU."""
    entries = [e for e in run.entries if e.ok and e.cell.time_split]
    if not entries:
        return None
    table = Table(title="where the time goes (per call, medians)", title_justify="left",
                  header_style="bold")
    for column in ("workload", "backend", "c", "end-to-end", "kernel", "crossing+ser.",
                   "client CPU", "faults/call", "server", "CPUs", "others' CPU", "warm-up"):
        table.add_column(column, justify="left" if column in ("workload", "backend", "server",
                                                               "CPUs") else "right")
    for entry in entries:
        cell = entry.cell
        split = fmt.time_split(cell)
        table.add_row(escape(f"{cell.workload} {cell.size}"), escape(cell.backend),
                      str(cell.concurrency), split["end_to_end"], split["kernel"],
                      split["crossing"], split["client_cpu"], fmt.faults(cell),
                      fmt.server_resources(cell),
                      fmt.cpu_affinity(cell), fmt.machine_load(cell), fmt.warmup(cell))
    return table


def verdict_table(at_a_glance: glance.Glance) -> Table:
    """The verdict table, compact: a cell's several lines stacked."""
    table = Table(title="the decision at a glance", title_justify="left", header_style="bold")
    for column in glance.COLUMNS:
        table.add_column(column, justify="right" if column.startswith("gain") else "left")
    for row in at_a_glance.rows:
        colour = "green" if row.verdict == glance.MOVE else "dim"
        table.add_row(escape(row.label), f"[{colour}]{escape(row.verdict_text)}[/]",
                      escape("\n".join(row.gain_lines())), escape(row.baseline or "-"),
                      escape("\n".join(row.boundary_lines())))
    return table


def print_headline(run: model.RunView, console: Console) -> None:
    at_a_glance = glance.build(run)
    console.print(verdict_table(at_a_glance))
    for line in at_a_glance.crossings:
        console.print(f"[bold]{escape(line.workload)}[/] {escape(glance.CROSSING_LEAD)} "
                      f"{escape(line.text())}.")
    console.print("[dim](the decision in sentences: the HTML report's headline, and the "
                  "Markdown summary)[/]")


def print_warnings(run: model.RunView, console: Console) -> None:
    """Failed cells one line each; warnings one line per kind with the count of its cells
    (their list is in the HTML report's warnings, folded): the terminal's last screen is the
    decision, not fifty cell names."""
    for entry in run.problems:
        cell = entry.cell
        console.print(f"[yellow]{escape(cell.workload)}/{escape(cell.size)} "
                      f"{escape(cell.backend)}: {cell.status}:[/] {escape(cell.error or '')}")
    kinds = run.warning_kinds
    for kind in kinds:
        for message in kind.run_messages:
            console.print(f"[yellow]warning:[/] {escape(message)}")
    counted = [kind for kind in kinds if kind.cells]
    for kind in counted:
        console.print(f"[yellow]warning:[/] {escape(kind.count_line)}")
    if counted:
        console.print("[dim](which cells: the HTML report's warnings)[/]")


def print_run(run: model.RunView, console: Console) -> None:
    console.print(summary_table(run))
    labels = dict.fromkeys(fmt.interval_label(e.cell) for e in run.entries if e.ok)
    if labels:
        console.print("±CI: " + escape("; ".join(labels)) + "; * timed in batches; † thin tail")
    split = time_split_table(run)
    if split is not None:
        console.print(split)
    print_warnings(run, console)
    print_costs(run, console)
    print_headline(run, console)


def print_costs(run: model.RunView, console: Console) -> None:
    """What observability adds per call (``--observability-cost`` runs only)."""
    found = costs.of_run(run)
    if found:
        console.print("[bold]Observability cost[/] (each variant against its base, same table)")
    for cost in found:
        console.print(f"  {escape(cost.sentence())}", highlight=False)


def print_report(report: model.Report, console: Console | None = None) -> None:
    console = console or Console()
    for run in report.runs:
        print_run(run, console)


def print_summary(results: Results, console: Console | None = None,
                  baseline: str | None = None) -> None:
    print_report(model.build([results], baseline), console)
