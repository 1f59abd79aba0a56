"""Interleaved timing of the thumbnail engines in one process: reference, fast, the pyvips
variant (where pyvips is installed) and the Rust kernel through the ``ffi`` backend (when a
library is built).

Each round calls every engine once, in turn, so that a loaded machine's drift lands on all of
them; prints medians and minimums, and each engine's speed relative to the reference. Not a
substitute for ``hybridbench run`` (fresh workers, intervals): a quick side-by-side.

    .venv/bin/python scripts/thumbnail_engines.py [SIZE] [ROUNDS]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable

import thumbnail_psnr  # this folder: run as scripts/thumbnail_engines.py

import hybridbench
from hybridbench.registry import unavailable_reason
from hybridbench.workloads import thumbnail


def engines() -> dict[str, Callable[[bytes], bytes]]:
    found: dict[str, Callable[[bytes], bytes]] = {
        "reference": thumbnail.reference, "fast": thumbnail.fast}
    if thumbnail_psnr.pyvips_problem() is None:
        found["pyvips"] = thumbnail_psnr.vips_shrink_on_load
    if unavailable_reason("ffi") is None:
        ffi = hybridbench.open_backend("ffi")
        found["ffi"] = lambda payload: ffi.call("thumbnail", payload)
    return found


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "5MB"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    payload = hybridbench.make_input("thumbnail", size)
    found = engines()
    for engine in found.values():  # every engine verified (and warmed up) before timing
        hybridbench.verify("thumbnail", payload, engine(payload))
    times: dict[str, list[float]] = {name: [] for name in found}
    gc.disable()
    for _ in range(rounds):
        for name, engine in found.items():
            start = time.perf_counter()
            engine(payload)
            times[name].append(time.perf_counter() - start)
    gc.enable()
    base = statistics.median(times["reference"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:10s} median {median * 1e3:7.1f} ms  min {min(samples) * 1e3:7.1f} ms  "
              f"{base / median:5.2f}x the reference")


if __name__ == "__main__":
    main()
