"""``hybridbench`` command line: list, run, report (DESIGN.md, "CLI")."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hybridbench import ab as ab_gate
from hybridbench import (
    capacity,
    compare,
    interrupts,
    merge,
    observability,
    payloads,
    pilinfo,
    pipeline,
    progress,
    registry,
    results,
    run_index,
    runner,
)
from hybridbench.errors import HybridbenchError
from hybridbench.report import exports, html, model, terminal
from hybridbench.report import formatting as fmt

#: ``hybridbench report``'s output; a run's report is named after its results file instead
DEFAULT_REPORT = Path("reports/report.html")
BASELINE_HELP = ("compare every backend with this one (default: in each table, the strongest "
                 "Python measured: its fastest verified Python in-process engine, e.g. "
                 "inproc-best)")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # NaN fails the comparison; infinity would never end a cell or divide to zero.
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _rates(text: str) -> str | list[float]:
    """``auto`` (a sweep), or one or more positive rates: ``500`` or ``100,200,400``."""
    if text.strip() == "auto":
        return "auto"
    return [_positive_float(part) for part in _csv(text)] or [_positive_float(text)]


#: --slo-p99 units, in seconds
DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def _duration(text: str) -> float:
    """``5ms``, ``250us``, ``1.5s``, ``2000ns`` -> seconds."""
    for unit in sorted(DURATION_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            try:
                value = float(text.removesuffix(unit)) * DURATION_UNITS[unit]
            except ValueError:
                break
            if math.isfinite(value) and value > 0:
                return value
            break
    raise argparse.ArgumentTypeError(
        f"expected a duration like 5ms, 250us or 1.5s, got {text!r}")


def _concurrency(text: str) -> list[int]:
    try:
        levels = [int(part) for part in _csv(text)]
    except ValueError:
        levels = []
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive integers like 1,2, got {text!r}")
    return levels


def _cpu_limits(text: str) -> list[float | None]:
    from hybridbench import containers

    try:
        return containers.parse_cpus(text)
    except HybridbenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _allocators(text: str) -> list[str]:
    from hybridbench import allocators

    try:
        return allocators.parse(text)
    except HybridbenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / 100.0
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a percentage like 10%, got {text!r}")
    return value


def _sizes(text: str) -> str | dict[str, str]:
    """``1MB`` for every workload, or ``json=1MB,echo=64B`` per workload."""
    if "=" not in text:
        return text
    sizes: dict[str, str] = {}
    for part in _csv(text):
        name, _, size = (piece.strip() for piece in part.partition("="))
        if not name or not size:
            raise argparse.ArgumentTypeError(
                f"expected WORKLOAD=SIZE pairs like json=1MB,echo=64B, got {part!r}")
        sizes[name] = size
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybridbench",
        description="Should this hot path stay in Python, go native over gRPC, or be called "
                    "through FFI? Runs the same workloads through each and measures them.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="workloads, sizes, backends and their availability")

    new = commands.add_parser(
        "new", help="write a plug-in project for your own hot path (Python + Rust kernel)")
    new.add_argument("name", help="the workload name, e.g. wordcount (also the package name)")
    new.add_argument("--dir", type=Path, help="where to write it (default ./NAME)")

    run = commands.add_parser("run", help="measure backends on workloads (the main job)")
    run.add_argument("-w", "--workloads", type=_csv, help="comma-separated (default: all)")
    run.add_argument("-b", "--backends", type=_csv, help="comma-separated (default: all)")
    run.add_argument("--input", action="append", metavar="FILE", dest="inputs",
                     help="measure on this payload file (or every file in this directory) "
                          "instead of generated inputs; repeatable; each file is a size of "
                          "its own, checked against the reference before anything is timed")
    run.add_argument("--size", type=_sizes,
                     help="size preset for every workload, or json=1MB,echo=64B "
                          "(default: each workload's default; echo sweeps all its sizes)")
    run.add_argument("--concurrency", type=_concurrency, default=[1],
                     help="closed-loop workers, e.g. 1,2 (default 1)")
    run.add_argument("--allocator", type=_allocators, dest="allocators",
                     help="measure every cell under each of these allocators, a cell per "
                          "allocator: glibc (pinned at its initial thresholds: a fresh "
                          "process), glibc-tuned (freed memory kept), jemalloc, mimalloc, or "
                          "all (default: glibc; the main job re-measures allocator-sensitive "
                          "tables under jemalloc)")
    timing = run.add_mutually_exclusive_group()
    timing.add_argument("--duration", type=_positive_float,
                        help="measured seconds per cell, shared by its workers (default 3)")
    timing.add_argument("--quick", action="store_true",
                        help="short cells for CI and smoke tests: numbers are indicative only")
    run.add_argument("--rounds", type=_positive_int, help="rounds per worker (default 4, quick 2)")
    run.add_argument("--workers", type=_positive_int,
                     help="fresh worker processes per cell, the units of the interval "
                          "(default 4, quick 2)")
    run.add_argument("--processes", type=_positive_int, default=1,
                     help="client processes driving each backend together, each with the "
                          "--concurrency (open loop: the --rate split between them); a "
                          "spawned server is shared by them (default 1)")
    run.add_argument("--pin", action="store_true",
                     help="put client workers and servers on disjoint CPUs")
    run.add_argument("--rate", type=_rates,
                     help="open loop at this many requests/s, latency from the intended send "
                          "time; a list (100,200,400) measures each; 'auto' sweeps from 25%% "
                          "to 115%% of each cell's closed-loop throughput (default: closed "
                          "loop)")
    run.add_argument("--slo-p99", type=_duration, metavar="DURATION",
                     help="latency objective (e.g. 5ms) for the capacity the rate cells imply")
    run.add_argument("--seed", type=int, default=0, help="input generator seed (default 0)")
    run.add_argument("--no-cold-start", action="store_true",
                     help="skip the cold-start measurement (a fresh process per cell)")
    run.add_argument("--ffi-library", type=Path,
                     help="the ffi backend loads only this C-ABI library (any language, see "
                          "native/sdk/include/hybridbench.h) and runs what it declares")
    run.add_argument("--grpc-target",
                     help="the grpc backend uses the server already running at this address "
                          "(unix:PATH or HOST:PORT) instead of spawning one, and runs what its "
                          "Describe declares")
    run.add_argument("--grpc-tls-ca", type=Path, metavar="PEM",
                     help="talk TLS to --grpc-target, trusting this CA")
    run.add_argument("--grpc-tls-cert", type=Path, metavar="PEM",
                     help="client certificate for mutual TLS (with --grpc-tls-key)")
    run.add_argument("--grpc-tls-key", type=Path, metavar="PEM", help="its private key")
    run.add_argument("--container", metavar="IMAGE",
                     help="also run each selected gRPC backend's server in a container of IMAGE "
                          "(make images builds hybridbench-server; grpc-py's server is in "
                          "hybridbench-client): a cell BACKEND@container beside the bare one, "
                          "over a Unix socket on a shared directory, no network, non-root")
    run.add_argument("--cpus", type=_cpu_limits, metavar="LIST",
                     help="with --container: a container cell per CPU limit, comma-separated "
                          "(none = no limit), e.g. none,1,0.5 (docker run --cpus, a pod's "
                          "limits.cpu)")
    run.add_argument("--memory", metavar="SIZE",
                     help="with --container: the containers' memory limit (docker syntax: "
                          "256m, 1g; a pod's limits.memory)")
    run.add_argument("--trace", type=Path, metavar="FILE",
                     help="after its timed rounds, each worker makes a few sampled calls as "
                          "traces (client, server and kernel spans, W3C traceparent through "
                          "gRPC), all written here as OTLP JSON lines (what an OpenTelemetry "
                          "collector's file exporter writes)")
    run.add_argument("--observability-cost", action="store_true",
                     help="price observability: each backend of -b also runs as B+trace "
                          "(every call traced) and, with a server, B+trace-unsampled (the "
                          "server traces, the calls carry no trace context) and B+log (a "
                          "JSON log line a call), in the same tables; the report says what "
                          "each adds per call, with its paired 95%% interval")
    run.add_argument("--trace-calls", type=_positive_int, default=3, metavar="N",
                     help="sampled calls per worker with --trace (default 3)")
    run.add_argument("--trace-endpoint", metavar="URL",
                     help="with --trace: also send the spans to this OTLP/HTTP receiver (an "
                          "OpenTelemetry collector's, e.g. http://127.0.0.1:4318), as JSON "
                          "to URL/v1/traces")
    run.add_argument("-o", "--output", type=Path,
                     help="result file (default results/run-YYYYmmdd-HHMMSS.json)")
    run.add_argument("--report", type=Path,
                     help="HTML report path (default reports/NAME.html, NAME the result "
                          "file's); the run is listed in the index.html of that directory")
    exports.add_arguments(run)
    run.add_argument("--baseline", metavar="BACKEND", help=BASELINE_HELP)

    report = commands.add_parser("report", help="render result files as an HTML report")
    report.add_argument("results", nargs="+", type=Path)
    report.add_argument("-o", "--output", type=Path, default=DEFAULT_REPORT,
                        help=f"HTML report path (default {DEFAULT_REPORT})")
    exports.add_arguments(report)
    report.add_argument("--terminal", action="store_true",
                        help="also print the headline and tables on the terminal")
    report.add_argument("--baseline", metavar="BACKEND", help=BASELINE_HELP)

    combine = commands.add_parser(
        "merge", help="one result file from several (client machines, CI jobs, per-backend runs)")
    combine.add_argument("results", nargs="+", type=Path)
    combine.add_argument("-o", "--output", type=Path, required=True, help="merged result file")

    body = commands.add_parser(
        "payload", help="write a workload's request body for another load generator (ghz, k6)")
    body.add_argument("workload")
    body.add_argument("size", nargs="?", help="a size preset (default: the workload's default)")
    body.add_argument("--format", choices=payloads.EXPORT_FORMATS, default="raw",
                      help="raw: the body; proto: the serialized RunRequest (ghz "
                           "--binary-file); json: RunRequest as protobuf JSON (ghz --data-file, "
                           "k6) (default raw)")
    body.add_argument("--seed", type=int, default=0, help="input generator seed (default 0)")
    body.add_argument("-o", "--output", type=Path, required=True)

    _ab_parser(commands)

    comp = commands.add_parser("compare", help="change per cell between two result files")
    comp.add_argument("base", type=Path)
    comp.add_argument("new", type=Path)
    comp.add_argument("--fail-on-regression", type=_percent, metavar="PCT",
                      help="exit 1 if a cell got significantly slower by more than PCT "
                           "(e.g. 10%%) or stopped working")
    return parser


def _ab_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ab = commands.add_parser(
        "ab", help="regression gate: two builds (kernel libraries, server binaries or Python "
                   "plug-ins) as paired, interleaved trials in one job; a verdict per cell")
    ab.add_argument("base", help="the reference build: a C-ABI kernel library (.so), a gRPC "
                                 "server binary, or a Python plug-in (project directory or "
                                 "wheel: installed into a directory of its own, measured "
                                 "through inproc)")
    ab.add_argument("new", nargs="?", help="the build under test, of the same kind (optional "
                                           "with --aa: BASE against itself only)")
    ab.add_argument("-w", "--workloads", type=_csv,
                    help="comma-separated (default: every registered workload BASE implements)")
    sizes = ab.add_mutually_exclusive_group()
    sizes.add_argument("--size", type=_sizes,
                       help="size preset for every workload, or json=1MB,echo=64B (default: "
                            "each workload's default)")
    sizes.add_argument("--all-sizes", action="store_true",
                       help="every size preset of each workload up to its default, a cell each")
    ab.add_argument("--duration", type=_positive_float,
                    help=f"measured seconds per build and cell (default "
                         f"{ab_gate.DEFAULTS['duration_s']})")
    ab.add_argument("--workers", type=_positive_int,
                    help=f"passes: fresh worker processes per build and cell, the units of the "
                         f"interval (default {ab_gate.DEFAULTS['workers']})")
    ab.add_argument("--rounds", type=_positive_int,
                    help=f"rounds per worker, taken in turns with the other build (default "
                         f"{ab_gate.DEFAULTS['rounds']})")
    ab.add_argument("--seed", type=int, default=0, help="input generator seed (default 0)")
    ab.add_argument("--fail-on-regression", type=_percent, metavar="PCT",
                    help="exit 1 when a cell's NEW/BASE time has its whole 95%% interval above "
                         "1 + PCT (e.g. 5%%); a broken build (failing, wrong answer, missing "
                         "workload) exits 1 with or without it")
    ab.add_argument("--aa", action="store_true",
                    help="also measure BASE against itself in the same turns: this machine's "
                         "false-alarm rate and the smallest change it detects")
    ab.add_argument("-o", "--output", type=Path,
                    help="result file (default results/ab-YYYYmmdd-HHMMSS.json)")
    ab.add_argument("--report", type=Path, help="also write an HTML report here")


def cmd_list(console: Console) -> int:
    table = Table(title="workloads", title_justify="left")
    for column in ("workload", "sizes (default in bold)", "what it does"):
        table.add_column(column)
    for name, wl in registry.workloads().items():
        sizes = ", ".join(f"[bold]{s}[/]" if s == wl.default_size else s
                          for s in wl.size_names())
        table.add_row(name, sizes, wl.summary)
    console.print(table)
    table = Table(title="backends", title_justify="left")
    for column in ("backend", "available", "where the work runs"):
        table.add_column(column)
    for name in registry.backend_names():
        reason = registry.unavailable_reason(name)
        summary = "" if reason else registry.backend_class(name).summary
        table.add_row(name, "[green]yes[/]" if not reason else f"[red]no[/]: {reason}", summary)
    console.print(table)
    _print_support(console)
    # the Python engines of image and thumbnail are as fast as the PIL underneath them
    console.print(pilinfo.describe(pilinfo.loaded_pil()), markup=False)
    return 0


def _print_support(console: Console) -> None:
    """Which backend implements which workload, and why not where one does not."""
    matrix = registry.support_matrix()
    backends = registry.backend_names()
    table = Table(title="who implements what", title_justify="left")
    table.add_column("workload")
    for name in backends:
        table.add_column(name)
    notes: dict[str, int] = {}  # reason -> footnote number (an unavailable backend: one note)
    for workload, row in matrix.items():
        marks = []
        for name in backends:
            reason = row[name]
            if reason is None:
                marks.append("[green]yes[/]")
            else:
                number = notes.setdefault(reason, len(notes) + 1)
                marks.append(f"[red]no[/] ({number})")
        table.add_row(workload, *marks)
    console.print(table)
    for reason, number in notes.items():
        console.print(f"({number}) {reason}", markup=False)


def cmd_new(args: argparse.Namespace, console: Console) -> int:
    from hybridbench import scaffold

    target = scaffold.create(args.name, args.dir)
    console.print(f"wrote {target}\nnext:\n  pip install -e {target}\n  pytest {target}/tests\n"
                  f"  hybridbench run -w {args.name} -b inproc,ffi,grpc,grpc-py", markup=False)
    return 0


def _config(args: argparse.Namespace) -> runner.RunConfig:
    fields = {"workloads": args.workloads, "backends": args.backends, "sizes": args.size,
              "inputs": args.inputs,
              "concurrency": args.concurrency, **_rate_fields(args.rate), "seed": args.seed,
              "slo_p99_s": args.slo_p99,
              "cold_start": not args.no_cold_start, "processes": args.processes,
              "allocators": args.allocators,
              # the main job: its allocator-sensitive verdicts get a range (DESIGN.md)
              "allocator_recheck": not (args.workloads or args.backends or args.allocators
                                        or args.inputs or args.quick)}
    options: dict[str, dict[str, object]] = {}
    if args.grpc_target:
        # Only the Rust backend: a grpc-py cell pointed at the same server would be mislabelled.
        options["grpc"] = {"target": args.grpc_target, **_tls_options(args)}
    elif args.grpc_tls_ca or args.grpc_tls_cert or args.grpc_tls_key:
        raise HybridbenchError("--grpc-tls-* options need --grpc-target (spawned servers are "
                               "local and plaintext)")
    if args.ffi_library:
        if not args.ffi_library.is_file():
            raise HybridbenchError(f"--ffi-library {args.ffi_library}: no such file")
        options["ffi"] = {"library": str(args.ffi_library.resolve())}
    _add_containers(args, fields, options)
    if options:
        fields["backend_options"] = options
    if args.observability_cost:
        fields.update(observability.config_fields(args.backends or [], options))
    config = runner.RunConfig.quick(**fields) if args.quick else runner.RunConfig(**fields)
    if args.duration is not None:
        config.duration_s = args.duration
    if args.rounds is not None:
        config.rounds = args.rounds
    if args.workers is not None:
        config.workers = args.workers
    config.pin = args.pin
    if args.trace is not None:
        config.trace, config.trace_calls = str(args.trace.resolve()), args.trace_calls
    if args.trace_endpoint is not None:
        if args.trace is None:
            raise HybridbenchError("--trace-endpoint needs --trace FILE (the spans are "
                                   "written there first)")
        config.trace_endpoint = args.trace_endpoint
    _check_sizes(args.size)
    return config


def _add_containers(args: argparse.Namespace, fields: dict[str, Any],
                    options: dict[str, dict[str, object]]) -> None:
    """``--container``: the container cells beside the bare ones (``containers``)."""
    from hybridbench import containers

    if not args.container:
        if args.cpus or args.memory:
            raise HybridbenchError("--cpus and --memory are the limits of --container's cells: "
                                   "give --container IMAGE")
        return
    cells = containers.container_cells(args.backends, args.container, args.cpus, args.memory)
    fields["backends"] = [*(args.backends or registry.backend_names()), *cells.labels]
    fields["backend_kinds"] = cells.kinds
    options.update(cells.options)


def _rate_fields(rate: str | list[float] | None) -> dict[str, object]:
    if rate == "auto":
        return {"sweep": True}
    if isinstance(rate, list) and len(rate) > 1:
        return {"rates": rate}
    return {"rate": rate[0] if rate else None}


def _tls_options(args: argparse.Namespace) -> dict[str, str]:
    """The grpc backend's TLS options; every file must exist, the client pair go together."""
    given = {"tls_ca": args.grpc_tls_ca, "tls_cert": args.grpc_tls_cert,
             "tls_key": args.grpc_tls_key}
    for option, path in given.items():
        if path is not None and not path.is_file():
            raise HybridbenchError(f"--grpc-{option.replace('_', '-')} {path}: no such file")
    if (args.grpc_tls_cert is None) != (args.grpc_tls_key is None):
        raise HybridbenchError("--grpc-tls-cert and --grpc-tls-key go together")
    if args.grpc_tls_cert and not args.grpc_tls_ca:
        raise HybridbenchError("--grpc-tls-cert needs --grpc-tls-ca (the server's CA)")
    return {option: str(path.resolve()) for option, path in given.items() if path is not None}


def _check_sizes(sizes: str | dict[str, str] | None) -> None:
    """Every ``--size WORKLOAD=SIZE`` names a known workload and one of its sizes, even for
    a workload not selected by ``-w`` (the runner checks only the ones it runs)."""
    if not isinstance(sizes, dict):
        return  # one size for all: the runner checks it against every workload it runs
    known = registry.workload_names()
    for name, size in sizes.items():
        if name not in known:
            raise HybridbenchError(f"--size {name}={size}: unknown workload {name!r}; "
                                   f"known: {', '.join(known)}")
        try:
            registry.get_workload(name).check_size(size)
        except HybridbenchError as exc:
            raise HybridbenchError(f"--size {name}={size}: {exc}") from None


def check_writable(path: Path, option: str) -> None:
    """Fail now, naming the path the user gave, rather than after minutes of measuring.

    Creates the parent directory, then creates and removes a probe file in it: the atomic
    write needs exactly that (a temporary file next to the target, then a rename), and a
    permission test would say yes to root in a read-only place such as /proc.
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a directory")
        if path.parent.exists() and not path.parent.is_dir():
            raise NotADirectoryError(20, f"{path.parent} is not a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise HybridbenchError(f"{option} {path}: cannot write there: "
                               f"{exc.strerror or exc}") from None


def _all_failed_line(done: results.Results) -> str | None:
    """None when at least one cell was measured; else what became of every cell."""
    if any(cell.status == results.OK for cell in done.cells):
        return None
    counts = Counter(cell.status for cell in done.cells)
    what = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no cells"
    return f"no cell was measured ({what}): exit 1"


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    config = _config(args)
    cells = runner.plan(config)  # fail on bad names before printing a progress bar
    if args.baseline and args.baseline not in {c.backend for c in cells}:
        raise HybridbenchError(f"--baseline {args.baseline}: not among the backends run "
                               f"({', '.join(dict.fromkeys(c.backend for c in cells))})")
    output, report = run_index.run_paths(args.output, args.report)
    check_writable(output, "-o/--output")
    run_index.check_report_path(report, "--report")
    check_writable(report, "--report")
    exports.check_requested(args, check_writable)
    if args.trace is not None:
        check_writable(args.trace, "--trace")
    with progress.for_console(console, len(cells), config.workers,
                              config.cold_start) as shown:
        done = runner.run(config, progress=shown.slot, on_cell=shown.cell, cells_plan=cells,
                          on_worker=shown.worker)
    return _save_run(done, config, output, report, args, console)


def _save_run(done: results.Results, config: runner.RunConfig, output: Path, report: Path,
              args: argparse.Namespace, console: Console) -> int:
    """Publish the run (``pipeline.publish``: the results first, then the reports), and say
    what was saved where, interrupted or not."""
    published = pipeline.publish(done, output, report, baseline=args.baseline,
                                 exports=exports.requested(args))
    cells = f"{len(done.cells)} cells" + (" (partial)" if done.config.get("interrupted") else "")
    if published.stopped == pipeline.STOPPED_SAVING:
        console.print(f"[red]interrupted[/] while saving: {cells} saved to {output}; the "
                      "report was not written", highlight=False)
        return 130
    if published.model is None:
        console.print(f"[red]interrupted[/]: {cells} saved to {output}; the report was not "
                      "written", highlight=False)
        return 130
    shown_model, exported, index = published.model, published.exported, published.index
    terminal.print_report(shown_model, console)
    _print_capacity(done, config, console)
    console.print(f"results: {output}\nreport:  {report}", highlight=False)
    if config.trace:
        console.print(f"traces:  {config.trace} ({done.config.get('trace_lines', 0)} OTLP "
                      f"JSON lines)", highlight=False)
    if "trace_requests_sent" in done.config:
        console.print(f"traces sent: {done.config['trace_requests_sent']} OTLP/HTTP requests "
                      f"to {config.trace_endpoint}", highlight=False)
    for line in exported:
        console.print(line, highlight=False)
    _print_index_line(report, index, run_index.state_of(done), console)
    if done.config.get("interrupted"):
        console.print(f"[red]interrupted[/]: {cells} saved to {output}", highlight=False)
        return 130
    failed = _all_failed_line(done)
    if failed:
        console.print(f"[red]{failed}[/]")
        return 1
    return 0


def _print_capacity(done: results.Results, config: runner.RunConfig, console: Console) -> None:
    slo_ns = config.slo_p99_s * 1e9 if config.slo_p99_s else None
    found = capacity.capacities(done, slo_ns)
    if not found:
        return
    console.print("capacity (open-loop cells):", highlight=False)
    for item in found:
        console.print(f"  {escape(capacity.summary_line(item))}", highlight=False)
    console.print(f"  [dim]{capacity.ASSUMPTIONS}[/]", highlight=False)


def _print_index_line(report: Path, index: Path | None, state: str, console: Console) -> None:
    """Where the run is listed, and whether it counts as the latest complete report."""
    if not run_index.indexed(report):
        return
    if index is None:
        console.print(f"index:   not written: {report.parent / run_index.INDEX_NAME} is not "
                      "hybridbench's", highlight=False)
        return
    console.print(f"index:   {index}", highlight=False)
    if state != run_index.COMPLETE:
        console.print(f"this run is listed there as {state} "
                      f"({run_index.STATE_MEANING[state]}), not as the latest complete report",
                      highlight=False)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    run_index.check_report_path(args.output, "-o/--output")
    check_writable(args.output, "-o/--output")
    exports.check_requested(args, check_writable)
    loaded = _side_by_side([load_any(path) for path in args.results], args.results, console)
    report = model.build(loaded, args.baseline)  # once: every format renders this model
    if args.terminal:
        terminal.print_report(report, console)
    html.write_report(report, args.output)
    console.print(f"report: {args.output}")
    for line in exports.write_requested(report, args):
        console.print(line)
    return 0


def _side_by_side(loaded: list[results.Results], paths: list[Path],
                  console: Console) -> list[results.Results]:
    """Files with different cells (one per backend, as the nox sessions write them) become one
    run, so every workload gets one table with every backend; files that measured the same
    cells stay separate runs (``merge`` adds same-cell files up, which a report must not)."""
    if len(loaded) < 2:
        return loaded
    keys = [cell.key for r in loaded for cell in r.cells]
    if len(keys) != len(set(keys)):
        console.print("[yellow]note:[/] the files measured some of the same cells: each is "
                      "shown as a run of its own", highlight=False)
        return loaded
    try:
        return [merge.merge([merge.Source(str(p), r) for p, r in zip(paths, loaded,
                                                                       strict=True)])]
    except merge.MergeError as exc:
        console.print(f"[yellow]note:[/] shown as separate runs: {escape(str(exc))}",
                      highlight=False)
        return loaded


def load_any(path: Path) -> results.Results:
    """A hybridbench result file, or pytest-benchmark's JSON (converted)."""
    from hybridbench.report import pytest_benchmark

    if not pytest_benchmark.is_pytest_benchmark(path):
        return results.load(path)
    try:
        return pytest_benchmark.load(path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # The converter reads the file as pytest-benchmark writes it; anything else in it
        # is a file of the wrong shape, not a bug to show as a traceback.
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise results.ResultFileError(
            f"{path}: not a pytest-benchmark file hybridbench can read: {what}") from None


#: unmatched cells listed by name; beyond that, counted
UNMATCHED_LISTED = 10


def _print_mismatch(changes: list[compare.Change], base: results.Results,
                    new: results.Results, console: Console) -> None:
    """Say when the two runs are not measurements of the same thing."""
    only_base, only_new = compare.unmatched(changes)
    if only_base or only_new:
        matched = len(changes) - len(only_base) - len(only_new)
        console.print(f"[yellow]warning:[/] {matched} of {len(changes)} cells matched",
                      highlight=False)
        for where, cells in (("base", only_base), ("new", only_new)):
            if cells:
                names = ", ".join(c.label for c in cells[:UNMATCHED_LISTED])
                more = len(cells) - UNMATCHED_LISTED
                names += f" and {more} more" if more > 0 else ""
                console.print(f"  only in {where} ({len(cells)}): {escape(names)}",
                              highlight=False)
    differences = compare.setting_differences(base, new)
    if differences:
        listed = "; ".join(f"{key} {before!r} -> {after!r}"
                           for key, (before, after) in differences.items())
        console.print(f"[yellow]warning:[/] the runs differ in {escape(listed)}: a change "
                      "between them is not the code's alone", highlight=False)


def cmd_merge(args: argparse.Namespace, console: Console) -> int:
    check_writable(args.output, "-o/--output")
    merged = merge.merge_files(args.results, load_any)
    results.save(merged, args.output)
    console.print(f"merged {len(args.results)} files, {len(merged.cells)} cells: {args.output}")
    return 0


def cmd_payload(args: argparse.Namespace, console: Console) -> int:
    workload = registry.get_workload(args.workload)
    size = args.size or workload.default_size
    workload.check_size(size)
    check_writable(args.output, "-o/--output")
    body = payloads.export(args.workload, payloads.load_payload(args.workload, size, args.seed),
                           args.format)
    results.write_atomic(args.output, body)
    console.print(f"{args.workload} {size} ({args.format}, {len(body)} bytes): {args.output}")
    return 0


def _compared_figure(cell: results.Cell | None) -> str:
    """What a cell is compared on: its throughput, or an imported cell's median."""
    if cell is None:
        return "-"
    if cell.imported:
        return f"{fmt.duration_ns(compare.median_ns(cell))} median"
    return f"{fmt.count(cell.throughput_ops)} ops/s"


def _print_ratios(changes: list[compare.RatioChange], console: Console) -> None:
    """The paired ratios that moved outside the base run's prediction interval."""
    tested = [c for c in changes if c.tested]
    if not tested:
        return
    moved = [c for c in tested if c.moved]
    console.print(f"paired ratios: {len(moved)} of {len(tested)} moved outside the base run's "
                  "95% prediction interval", highlight=False)
    for change in moved:
        low, high = change.base.ratio_pi95 or (0.0, 0.0)
        console.print(f"  {escape(change.label)}: {fmt.ratio(change.base.ratio)} -> "
                      f"{fmt.ratio(change.new.ratio)} (base 95% PI {fmt.ratio(low)}–"
                      f"{fmt.ratio(high)})", highlight=False)


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    base, new = load_any(args.base), load_any(args.new)
    changes = compare.compare(base, new)
    table = Table(title=f"{args.base} -> {args.new}", title_justify="left")
    for column in ("cell", "base", "new", "change", "p", "verdict"):
        table.add_column(column, justify="left" if column in ("cell", "verdict") else "right")
    for change in changes:
        colour = "green" if change.verdict.startswith("faster") else (
            "red" if change.verdict.startswith("slower") else "")
        table.add_row(
            change.label, _compared_figure(change.base), _compared_figure(change.new),
            "-" if change.change is None else f"{change.change:+.1%}",
            "-" if change.p_value is None else f"{change.p_value:.3f}",
            f"[{colour}]{change.verdict}[/]" if colour else change.verdict)
    console.print(table)
    if any(c.test == compare.MEDIAN_TEST for c in changes):
        console.print("note: cells imported from pytest-benchmark carry no interval: their "
                      "change is the speed of the medians (base median / new median), not "
                      "tested for significance", highlight=False)
    _print_mismatch(changes, base, new, console)
    _print_ratios(compare.compare_ratios(base, new), console)
    if args.fail_on_regression is not None:
        bad = compare.regressions(changes, args.fail_on_regression)
        for change in bad:
            console.print(f"[red]regression:[/] {change.label}: {change.verdict}"
                          + ("" if change.change is None else f" ({change.change:+.1%})"))
        return 1 if bad else 0
    return 0


def cmd_ab(args: argparse.Namespace, console: Console) -> int:
    """Detect both builds, measure them as one table per cell, print and save the verdicts."""
    if args.new is None and not args.aa:
        raise HybridbenchError("ab needs NEW (the build under test), or --aa to measure BASE "
                               "against itself")
    base = ab_gate.detect("BASE", args.base)
    new = ab_gate.detect("NEW", args.new) if args.new is not None else None
    if new is not None:
        ab_gate.check_same_kind(base, new)
    output = args.output or ab_gate.default_output()
    check_writable(output, "-o/--output")
    if args.report:
        check_writable(args.report, "--report")
    with contextlib.ExitStack() as stack:
        base, new = stack.enter_context(ab_gate.installed(base, new))
        _check_sizes(args.size)  # a plug-in's workload is known once it is installed
        workloads = ab_gate.workloads_for(base, args.workloads)
        again = stack.enter_context(ab_gate.copy_for_aa(base)) if args.aa else None
        config = ab_gate.config_for(base, new, workloads, args.size, again, args.seed,
                                    duration_s=args.duration, workers=args.workers,
                                    rounds=args.rounds)
        cells = runner.plan(config)  # bad names and sizes fail before anything runs
        if args.all_sizes:
            cells = ab_gate.plan_all_sizes(config)
        with progress.for_console(console, len(cells), config.workers, False) as shown:
            done = runner.run(config, progress=shown.slot, on_cell=shown.cell,
                              cells_plan=cells, on_worker=shown.worker)
    outcome = ab_gate.judge(done, args.fail_on_regression, new is not None, args.aa)
    outcome.record(done, base, new)
    with interrupts.deferred(f"finishing writing {output} first"):
        results.save(done, output)
    for text in outcome.lines():
        console.print(escape(text), highlight=False)
    console.print(f"results: {output}", highlight=False)
    if args.report:
        html.write_report(model.build([done]), args.report)
        console.print(f"report:  {args.report}", highlight=False)
    if done.config.get("interrupted"):
        return 130
    return outcome.exit_status


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so `finally` blocks stop spawned servers and the partial
    # results are still saved; its name says which it was (interrupts.stopped_by).
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # Piped output (CI logs, tee) gets a table wide enough to read instead of 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=180)
    try:
        if args.command == "list":
            return cmd_list(console)
        if args.command == "new":
            return cmd_new(args, console)
        if args.command == "run":
            return cmd_run(args, console)
        if args.command == "compare":
            return cmd_compare(args, console)
        if args.command == "ab":
            return cmd_ab(args, console)
        if args.command == "merge":
            return cmd_merge(args, console)
        if args.command == "payload":
            return cmd_payload(args, console)
        return cmd_report(args, console)
    except (HybridbenchError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        return 2
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
