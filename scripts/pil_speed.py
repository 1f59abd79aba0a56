"""Time the image workloads' Python engine (``fast``: Pillow calls) under this environment's PIL.

Run it with the python of each environment to compare (plain Pillow, pillow-simd for SSE4,
pillow-simd built with ``CC="cc -mavx2"``), interleaved, a few rounds, and compare the rounds'
ratios (README "pillow-simd" has the figures):

    for r in 1 2 3; do for e in ENV_A ENV_B; do $e/bin/python scripts/pil_speed.py; done; done

Prints one JSON line: the PIL in use (``hybridbench list``'s words) and the median
milliseconds per call of ``image`` and ``thumbnail`` at 5MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import hybridbench
from hybridbench import pilinfo, registry

WORKLOADS = ("image", "thumbnail")


def median_ms(workload: str, size: str, calls: int) -> float:
    engine = registry.workloads()[workload]
    payload = hybridbench.make_input(workload, size, seed=0)
    for _ in range(2):  # warm-up: first calls load codecs and fault the buffers in
        engine.fast(payload)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        engine.fast(payload)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=7, help="timed calls per workload")
    parser.add_argument("--size", default="5MB")
    args = parser.parse_args()
    found: dict[str, object] = {"pil": pilinfo.describe(pilinfo.loaded_pil()).splitlines()[0]}
    for workload in WORKLOADS:
        found[f"{workload}_ms"] = median_ms(workload, args.size, args.calls)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
