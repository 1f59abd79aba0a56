"""How much does the harness itself add? echo at 64 B in-process: runner vs a bare timeit loop.

    python scripts/runner_overhead.py [--backend inproc] [--size 64B]

Prints ns per call three ways: ``timeit`` around ``backend.run`` (the floor any harness can
reach in Python), the runner's closed loop (throughput and P50 of batched samples), and the
runner's loop forced to time every call on its own (what it would cost without batching).
"""

from __future__ import annotations

import argparse
import functools
import timeit

import hybridbench
from hybridbench import measure, runner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="inproc")
    parser.add_argument("--size", default="64B")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    payload = hybridbench.make_input("echo", args.size)
    with hybridbench.open_backend(args.backend) as backend:
        call = functools.partial(backend.run, "echo", payload)
        timer = timeit.Timer(call)
        number, _ = timer.autorange()
        bare = min(timer.repeat(repeat=7, number=number)) / number * 1e9
        unbatched = measure.closed_loop(call, 1, args.seconds, batch=1)

    config = runner.RunConfig(workloads=["echo"], backends=[args.backend], sizes=args.size,
                              duration_s=args.seconds, rounds=5, cold_start=False)
    cell = runner.run(config).cells[0]
    per_op = 1e9 / cell.throughput_ops
    print(f"backend {args.backend}, echo {args.size}")
    print(f"  bare timeit (best of 7 x {number:,} calls):   {bare:8.1f} ns/call")
    print(f"  runner, batched (batch {cell.batch_size}):  {per_op:8.1f} ns/call "
          f"(1/throughput), P50 {cell.latency_ns['p50']:.0f} ns, {cell.samples:,} samples")
    print(f"  runner, one timer pair per call:      "
          f"{unbatched.duration_ns / unbatched.ops:8.1f} ns/call, "
          f"P50 {sorted(unbatched.latencies_ns)[len(unbatched.latencies_ns) // 2]} ns")
    print(f"  runner overhead over bare (batched):  {per_op - bare:8.1f} ns/call "
          f"({(per_op / bare - 1):.1%})")


if __name__ == "__main__":
    main()
