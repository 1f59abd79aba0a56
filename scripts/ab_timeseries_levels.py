"""Interleaved A/B of C-ABI kernel libraries on timeseries batches whose groups differ.

    python scripts/ab_timeseries_levels.py OLD.so NEW.so [--levels plain,scaled,...] [-n 400]

The generated preset draws every latency from one distribution, so a p95 tuned on it may lean
on that. These batches are the 100k preset (``--seed`` picks which) with each region's
latencies changed: ``plain`` as generated, ``scaled`` 1.0x-1.7x by region, ``scaled2``
1.0x-2.4x, ``shifted`` each region at a level of its own (+1000 per region), ``halfshort``
every second region +1000. Each is timed as ``ab_kernels.py`` times a workload's input
(verified, interleaved, each library's own kernel time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hybridbench.workloads import timeseries

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab_kernels import Library, compare  # a sibling script, not a package

LEVELS = {
    "plain": lambda latency, region: latency,
    "scaled": lambda latency, region: latency * (1.0 + 0.1 * region),
    "scaled2": lambda latency, region: latency * (1.0 + 0.2 * region),
    "shifted": lambda latency, region: latency + region * 1000.0,
    "halfshort": lambda latency, region: latency + (region % 2) * 1000.0,
}


def batch(level: str, seed: int) -> bytes:
    """The 100k preset of `seed` with its latency column (metric 1) changed by region."""
    payload = bytearray(timeseries.generate("100k", seed))
    n, _ = timeseries.parse_header(bytes(payload))
    region = np.frombuffer(payload, "<u2", n, 16 + 12 * n).astype(np.float64)
    at = timeseries.metrics_offset(n) + 8 * n
    latency = np.frombuffer(payload, "<f8", n, at)
    payload[at:at + 8 * n] = LEVELS[level](latency, region).astype("<f8").tobytes()
    return bytes(payload)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("libraries", nargs="+")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("-n", "--calls", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    libs = [Library(path) for path in args.libraries]
    for level in args.levels.split(","):
        compare(libs, "timeseries", batch(level, args.seed), args.calls, f"timeseries {level}")


if __name__ == "__main__":
    main()
