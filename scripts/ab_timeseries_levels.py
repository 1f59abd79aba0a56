"""Interleaved A/B of two C-ABI kernel libraries on timeseries batches whose groups differ.

    python scripts/ab_timeseries_levels.py OLD.so NEW.so [--levels plain,scaled,...] [-n 400]

The generated preset draws every latency from one distribution, so a p95 tuned on it may lean
on that. These batches are the 100k preset's shape (hour of timestamps, 500 hosts, 8 regions)
with each region's latencies changed: ``plain`` as generated, ``scaled`` 1.0x-1.7x by region,
``scaled2`` 1.0x-2.4x, ``shifted`` each region at a level of its own (+1000 per region),
``halfshort`` every second region +1000. Outputs must be byte-identical; prints each library's
P50 kernel time (the C ABI's kernel timing) and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

from hybridbench.workloads import timeseries

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_library import KernelLibrary  # a sibling script, not a package

N = 100_000


def batch(level: str, seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000_000 + (np.arange(N) * (3_600_000 / N)).astype(np.int64)
    ts += rng.integers(-3000, 3000, N)
    host = rng.integers(0, 500, N, dtype=np.uint32)
    region = (host % 8).astype(np.uint16)
    cpu = np.clip(rng.normal(40.0, 15.0, N), 0.0, 100.0)
    latency = rng.lognormal(3.0, 0.6, N)
    changes = {"plain": latency, "scaled": latency * (1.0 + 0.1 * region),
               "scaled2": latency * (1.0 + 0.2 * region), "shifted": latency + region * 1000.0,
               "halfshort": latency + (region % 2) * 1000.0}
    metrics = np.stack([cpu, changes[level], rng.uniform(0.5, 64, N), rng.exponential(2e6, N)])
    return timeseries.encode_batch(ts, host, region, metrics)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--levels", default="plain,scaled,scaled2,shifted,halfshort")
    parser.add_argument("-n", "--calls", type=int, default=400)
    args = parser.parse_args()
    libs = [KernelLibrary(path, kernel_timing=True) for path in (args.old, args.new)]
    for level in args.levels.split(","):
        payload = batch(level)
        outputs = [lib.call("timeseries", payload) for lib in libs]
        if outputs[0] != outputs[1]:
            sys.exit(f"{level}: the outputs differ")
        times: list[list[float]] = [[], []]
        for _ in range(args.calls):
            for lib, own in zip(libs, times, strict=True):
                lib.call("timeseries", payload)
                own.append(lib.last_kernel_ns() / 1e6)
        old, new = (statistics.median(own) for own in times)
        print(f"{level:10} P50 {old:.3f} -> {new:.3f} ms  ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
