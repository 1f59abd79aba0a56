"""hybridbench against pyperf on the same work: the issue-10 check ("within 10% of pyperf").

    python scripts/pyperf_check.py -o pyperf.json --processes 6 --values 3   # pyperf's figures
    # other backends and cells: --backends inproc,inproc-best --cases timeseries/100k,json/1MB
    hybridbench run -w json,timeseries,echo -b inproc,ffi \
        --size json=1MB,timeseries=100k,echo=64B --no-cold-start -o hb.json
    python scripts/pyperf_check.py --compare pyperf.json hb.json

pyperf runs each benchmark in several fresh worker processes (its own manager/worker split)
with calibrated loops; this script gives it the same payload and the same backend call that
hybridbench times. Compared: pyperf's mean time per call against hybridbench's (each worker's
mean time per call, averaged over workers as pyperf averages its values), and pyperf's median
against hybridbench's P50.
"""

from __future__ import annotations

import functools
import sys

CASES = "json/1MB,timeseries/100k,echo/64B"
BACKENDS = "inproc,ffi"


def _compare(pyperf_path: str, hybridbench_path: str) -> None:
    import pyperf

    from hybridbench import results

    suite = pyperf.BenchmarkSuite.load(pyperf_path)
    cells = {(c.workload, c.size, c.backend): c for c in results.load(hybridbench_path).cells}
    print(f"{'cell':28} {'pyperf mean':>12} {'hb mean':>12} {'diff':>7} "
          f"{'pyperf median':>14} {'hb P50':>12} {'diff':>7}")
    for bench in suite.get_benchmarks():
        workload, size, backend = bench.get_name().split("/")
        cell = cells.get((workload, size, backend))
        if cell is None or not cell.throughput_mean_ops:
            continue
        # like pyperf's mean: every process's mean time per call, weighted equally
        hb_mean = 1e9 * sum(w["duration_s"] / w["ops"] for w in cell.worker_results) / len(
            cell.worker_results)
        hb_p50 = (cell.latency_ns or {}).get("p50") or float("nan")
        pp_mean, pp_median = bench.mean() * 1e9, bench.median() * 1e9
        print(f"{bench.get_name():28} {pp_mean:10.0f}ns {hb_mean:10.0f}ns "
              f"{hb_mean / pp_mean - 1:+7.1%} {pp_median:12.0f}ns {hb_p50:10.0f}ns "
              f"{hb_p50 / pp_median - 1:+7.1%}")


def _bench() -> None:
    import pyperf

    import hybridbench

    def forward(cmd: list[str], args) -> None:  # pyperf's workers get the same choice
        cmd.extend(["--backends", args.backends, "--cases", args.cases])

    runner = pyperf.Runner(add_cmdline_args=forward)
    runner.argparser.add_argument("--backends", default=BACKENDS)
    runner.argparser.add_argument("--cases", default=CASES)
    args = runner.parse_args()
    cases = [tuple(case.split("/", 1)) for case in args.cases.split(",")]
    for backend_name in args.backends.split(","):
        backend = hybridbench.open_backend(backend_name)
        backend.start()
        for workload, size in cases:
            payload = hybridbench.make_input(workload, size)
            runner.bench_func(f"{workload}/{size}/{backend_name}",
                              functools.partial(backend.run, workload, payload))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        _compare(sys.argv[2], sys.argv[3])
    else:
        _bench()
