"""The README's tier table, generated from a results file (issue 21: "regenerated with the
process state named").

The table between ``<!-- tiers-table:begin -->`` and ``<!-- tiers-table:end -->`` in
README.md is replaced by one row per table (workload, size) of the results file: each
backend's throughput (calls per second, the median over workers) under every allocator the
run measured, then the paired ratios (``comparisons``) of ``--ratios`` pairs with their 95%
intervals, per allocator. The paragraph above the table names the run's process state:
machine, versions, commit, allocators, workers and rounds, and the load average at start
and end.

    python scripts/readme_results.py reports/reference/results.json \
        --backends inproc,inproc-best,ffi-idiomatic,ffi,grpc \
        --ratios ffi/inproc-best,ffi/ffi-idiomatic \
        --workloads json,timeseries,text,image,thumbnail [--write README.md]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from hybridbench import results as results_mod
from hybridbench import runner
from hybridbench.report import formatting as fmt
from hybridbench.results import OK, Cell, Comparison, Results

BEGIN, END = "<!-- tiers-table:begin -->", "<!-- tiers-table:end -->"


def _allocators(run: Results) -> list[str]:
    return list(dict.fromkeys(c.allocator or "glibc" for c in run.cells))


def _tables(run: Results) -> list[tuple[str, str]]:
    return list(dict.fromkeys((c.workload, c.size) for c in run.cells))


def _cell(run: Results, workload: str, size: str, backend: str,
          allocator: str) -> Cell | None:
    return next((c for c in run.cells if (c.workload, c.size, c.backend, c.allocator)
                 == (workload, size, backend, allocator) and c.status == OK), None)


def _comparison(run: Results, workload: str, size: str, pair: tuple[str, str],
                allocator: str) -> Comparison | None:
    backend, baseline = pair
    return next((c for c in run.comparisons
                 if (c.workload, c.size, c.backend, c.baseline) == (workload, size, backend,
                                                                   baseline)
                 and c.table[-1] == allocator), None)


def _throughputs(run: Results, workload: str, size: str, backend: str,
                 allocators: list[str]) -> str:
    figures = []
    for allocator in allocators:
        cell = _cell(run, workload, size, backend, allocator)
        figures.append(fmt.count(cell.throughput_ops) if cell else "-")
    return " / ".join(figures) if any(f != "-" for f in figures) else "-"


def _ratios(run: Results, workload: str, size: str, pair: tuple[str, str],
            allocators: list[str]) -> str:
    shown = []
    for allocator in allocators:
        comparison = _comparison(run, workload, size, pair, allocator)
        if comparison is None or comparison.ratio_ci95 is None:
            shown.append("-")
            continue
        low, high = comparison.ratio_ci95
        shown.append(f"{fmt.ratio(comparison.ratio)} ({fmt.ratio(low)}-{fmt.ratio(high)})")
    return " / ".join(shown)


def state(run: Results, path: str) -> str:
    """The process state the figures describe, in one paragraph."""
    env, config = run.env, run.config
    load_start = env.get("load_average") or [None]
    load_end = env.get("load_average_end") or [None]
    allocators = _allocators(run)
    described = "; ".join(f"`{a}`: {env.get('allocators', {}).get(a, {}).get('state', a)}"
                          for a in allocators)
    command = " ".join(["hybridbench run", *_command(run)])
    rechecked = config.get("allocator_rechecked")
    states = (f"Process state: every cell under `{allocators[0]}`, then {rechecked['cells']} "
              f"cells ({rechecked['rule']}) again under `{rechecked['allocator']}`, in "
              f"cells of {config.get('duration_s', 0) * runner.RECHECK_DURATION_SHARE:g} s"
              if rechecked else "Process state: every process under each allocator in turn")
    return (f"Measured with `{command}` "
            f"({config.get('workers')} worker processes x {config.get('rounds')} rounds, "
            f"{config.get('duration_s')} s per cell, the backends of a table in paired turns) "
            f"on {env.get('cpu_model')}, {env.get('cores_logical')} logical cores (a shared VM), "
            f"Python {env.get('python')}, PIL {(env.get('pil') or {}).get('version')}, rustc "
            f"{str(env.get('rustc', '')).split(' (')[0].removeprefix('rustc ')}, commit "
            f"`{str(env.get('git_commit'))[:7]}`; load average {_load(load_start)} at the start, "
            f"{_load(load_end)} at the end. {states} ({described}). Throughput in calls per "
            f"second (the median worker), "
            f"cells under {' / '.join(f'`{a}`' for a in allocators)}; ratios are paired "
            f"(95% interval), every cell verified. Full results: `{path}`.")


def _command(run: Results) -> list[str]:
    config = run.config
    words = []
    if config.get("workloads"):
        words += ["-w", ",".join(config["workloads"])]
    if config.get("backends"):
        words += ["-b", ",".join(config["backends"])]
    if config.get("allocators"):
        words += ["--allocator", ",".join(config["allocators"])]
    if not config.get("cold_start", True):
        words.append("--no-cold-start")
    return words


def _load(values: list[float | None]) -> str:
    first = values[0] if values else None
    return "unknown" if first is None else f"{first:.2f}"


def table(run: Results, backends: list[str], pairs: list[tuple[str, str]],
          workloads: list[str] | None = None) -> str:
    allocators = _allocators(run)
    head = ["workload (size)", *(f"`{b}`" for b in backends),
            *(f"{b} / {a}" for b, a in pairs)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    tables = _tables(run)
    if workloads:
        tables = sorted((t for t in tables if t[0] in workloads),
                        key=lambda t: workloads.index(t[0]))
    for workload, size in tables:
        row = [f"{workload} {size}",
               *(_throughputs(run, workload, size, b, allocators) for b in backends),
               *(_ratios(run, workload, size, p, allocators) for p in pairs)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def splice(readme: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README has no {BEGIN} ... {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{block}\n{END}", readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("results")
    parser.add_argument("--backends", default="inproc,inproc-best,ffi-idiomatic,ffi,grpc")
    parser.add_argument("--ratios", default="ffi/inproc-best,ffi/ffi-idiomatic")
    parser.add_argument("--workloads", help="these workloads' tables only, in this order")
    parser.add_argument("--write", type=Path, help="splice into this README (else print)")
    args = parser.parse_args()
    run = results_mod.load(args.results)
    pairs = [tuple(p.split("/", 1)) for p in args.ratios.split(",")]
    block = (state(run, args.results) + "\n\n"
             + table(run, args.backends.split(","), pairs,  # type: ignore[arg-type]
                     args.workloads.split(",") if args.workloads else None))
    if args.write:
        args.write.write_text(splice(args.write.read_text(), block))
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
