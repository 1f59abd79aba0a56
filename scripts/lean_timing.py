"""hybridbench's P50 against a lean process and pyperf, per allocator (issue 21, goal 1).

A lean process is the least a user would write: import, open the backend, load the payload,
run the call once (as hybridbench verifies before timing), then ``--calls`` calls of
``backend.run`` in a loop, each timed alone; it prints the median time and the page faults
(``getrusage(RUSAGE_SELF).ru_minflt``) per call. Under an allocator it re-executes itself with
that allocator's environment (``hybridbench.allocators.child_env``: LD_PRELOAD or glibc's
thresholds), exactly the environment hybridbench gives its workers.

    # one lean measurement
    python scripts/lean_timing.py lean --allocator jemalloc --backend inproc-best \
        --case timeseries/100k --calls 300
    # pyperf on the same call under the same environment (pyperf's own workers, -o FILE)
    python scripts/lean_timing.py pyperf --allocator jemalloc --backend inproc-best \
        --case timeseries/100k --fast -o pp.json
    # everything side by side, against a hybridbench result file measured with
    # --allocator LIST (cells are matched by workload, size, backend and allocator)
    python scripts/lean_timing.py table --hybridbench hb.json \
        --allocators glibc,glibc-tuned,jemalloc,mimalloc --backends inproc,inproc-best,ffi \
        --cases timeseries/100k,json/1MB
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hybridbench import allocators

PYPERF_ENV = ("LD_PRELOAD", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "PYTHONPATH",
              allocators.ENV_NAME)


def _under(name: str) -> None:
    """Re-execute this process under allocator ``name`` unless it runs under it already
    (LD_PRELOAD and glibc's variables only act on a process from its start)."""
    if os.environ.get(allocators.ENV_NAME) == name:
        return
    env = allocators.child_env(name)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def _call(backend_name: str, case: str) -> Any:
    import functools

    import hybridbench

    workload, size = case.split("/", 1)
    backend = hybridbench.open_backend(backend_name)
    backend.start()
    payload = hybridbench.make_input(workload, size)
    return functools.partial(backend.run, workload, payload)


def lean(args: argparse.Namespace) -> dict[str, Any]:
    _under(args.allocator)
    call = _call(args.backend, args.case)
    call()  # hybridbench verifies once before timing; so does the lean process
    times: list[int] = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(args.calls):
        t0 = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - t0)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"tool": "lean", "allocator": args.allocator, "backend": args.backend,
            "case": args.case, "calls": args.calls, "median_ns": statistics.median(times),
            "minflt_per_call": (after.ru_minflt - before.ru_minflt) / args.calls,
            "majflt_per_call": (after.ru_majflt - before.ru_majflt) / args.calls}


def pyperf_main() -> None:
    import pyperf

    def forward(cmd: list[str], args: argparse.Namespace) -> None:
        cmd.extend(["--allocator", args.allocator, "--backend", args.backend,
                    "--case", args.case])

    # pyperf re-runs ``program_args`` for its workers: name the subcommand, or the workers
    # would parse their options with this script's own parser
    runner = pyperf.Runner(add_cmdline_args=forward,
                           program_args=(__file__, "pyperf"))
    runner.argparser.add_argument("--allocator", default="glibc")
    runner.argparser.add_argument("--backend", required=True)
    runner.argparser.add_argument("--case", required=True)
    args = runner.parse_args(sys.argv[2:])
    if not args.worker:
        _under(args.allocator)  # the manager under it; its workers inherit PYPERF_ENV
    runner.bench_func(f"{args.case}/{args.backend}/{args.allocator}",
                      _call(args.backend, args.case))


def _pyperf(allocator: str, backend: str, case: str) -> float | None:
    import pyperf

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pp.json"
        done = subprocess.run(
            [sys.executable, __file__, "pyperf", "--allocator", allocator, "--backend", backend,
             "--case", case, "--fast", "--quiet", "-o", str(out),
             f"--inherit-environ={','.join(PYPERF_ENV)}"],
            capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out.exists():
            print(f"pyperf failed for {case} {backend} {allocator}: {done.stderr[-400:]}",
                  file=sys.stderr)
            return None
        return float(pyperf.Benchmark.load(str(out)).median()) * 1e9


def _lean(allocator: str, backend: str, case: str, calls: int,
          processes: int) -> dict[str, Any]:
    """The median of ``processes`` lean processes' medians: one process's figure moves with
    its address-space layout and hash seed (5-15% for the Python engines), which
    hybridbench's P50, the median over 4 workers, averages out too."""
    runs = []
    for _ in range(processes):
        done = subprocess.run([sys.executable, __file__, "lean", "--allocator", allocator,
                               "--backend", backend, "--case", case, "--calls", str(calls)],
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout))
    return {"median_ns": statistics.median(r["median_ns"] for r in runs),
            "minflt_per_call": statistics.median(r["minflt_per_call"] for r in runs)}


def table(args: argparse.Namespace) -> None:
    from hybridbench import results

    cells = {(c.workload, c.size, c.backend, c.allocator): c
             for c in results.load(args.hybridbench).cells if c.status == "ok"}
    print(f"{'case':17} {'backend':12} {'allocator':11} {'hb P50':>9} {'lean':>9} "
          f"{'hb/lean':>8} {'pyperf':>9} {'hb/pp':>7} {'flt/call':>9} {'hb flt':>7} load")
    for case in args.cases.split(","):
        workload, size = case.split("/", 1)
        for backend in args.backends.split(","):
            for allocator in args.allocators.split(","):
                if allocators.get(allocator).unavailable:
                    continue
                cell = cells.get((workload, size, backend, allocator))
                hb = (cell.latency_ns or {}).get("p50") if cell else None
                measured = _lean(allocator, backend, case, args.calls, args.processes)
                pp = None if args.no_pyperf else _pyperf(allocator, backend, case)
                hb_faults = (cell.minor_faults_per_op or {}).get("client") if cell else None
                print(f"{case:17} {backend:12} {allocator:11} {_ms(hb)} "
                      f"{_ms(measured['median_ns'])} {_ratio(hb, measured['median_ns'])} "
                      f"{_ms(pp)} {_ratio(hb, pp, 7)} {measured['minflt_per_call']:9.1f} "
                      f"{hb_faults if hb_faults is None else round(hb_faults):>7} "
                      f"{os.getloadavg()[0]:.2f}", flush=True)


def _ms(ns: float | None) -> str:
    return f"{'-':>9}" if ns is None else f"{ns / 1e6:7.3f}ms"


def _ratio(a: float | None, b: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if not a or not b else f"{a / b:>{width}.3f}"


def main() -> None:
    if sys.argv[1:2] == ["pyperf"]:
        pyperf_main()  # keeps sys.argv whole: _under re-executes it
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("lean")
    one.add_argument("--allocator", default="glibc", choices=allocators.NAMES)
    one.add_argument("--backend", required=True)
    one.add_argument("--case", required=True)
    one.add_argument("--calls", type=int, default=300)
    every = sub.add_parser("table")
    every.add_argument("--hybridbench", required=True, help="a result file (--allocator LIST)")
    every.add_argument("--allocators", default=",".join(allocators.NAMES))
    every.add_argument("--backends", default="inproc,inproc-best,ffi")
    every.add_argument("--cases", default="timeseries/100k,json/1MB")
    every.add_argument("--calls", type=int, default=300)
    every.add_argument("--processes", type=int, default=3,
                       help="lean processes per row; the row gives their median")
    every.add_argument("--no-pyperf", action="store_true")
    args = parser.parse_args()
    if args.command == "lean":
        print(json.dumps(lean(args)))
    else:
        table(args)


if __name__ == "__main__":
    main()
