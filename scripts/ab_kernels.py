"""Interleaved A/B of C-ABI kernel libraries: each library's own kernel time (hb_last_kernel_ns).

    python scripts/ab_kernels.py OLD.so NEW.so [-w json,timeseries,image] [-n CALLS] [--size S]
        [--seed N]

Loads every library side by side (ctypes, RTLD_LOCAL: their identical hb_* names do not
collide), checks that they give byte-identical output on each workload's input (its
default, or the one ``--size`` and ``--seed`` pick; or says they differ), then alternates
calls library by library and prints min / P50 per library and the ratio of P50s. ``--seed``
takes another generated input of the same size, so that a step is not tuned to one batch.
The kernel time is measured inside the library (the C ABI's kernel timing), so the ctypes
crossing does not count. A loaded machine moves both columns alike. The file a library is
loaded from moves them too: byte-identical copies of one library differ by up to ~7% on
json (native/README, "Round eight"), so compare every workload, and a small difference
again with fresh copies (`cp`) of both libraries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import hybridbench

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_library import KernelLibrary  # a sibling script, not a package


class Library(KernelLibrary):
    def __init__(self, path: str) -> None:
        super().__init__(path, kernel_timing=True)

    def run(self, workload: str, payload: bytes) -> tuple[bytes, int]:
        """The output and the kernel's own time in ns; an error ends the comparison."""
        status, data = self.call(workload, payload)
        if status != 0:
            raise RuntimeError(f"{self.path}: {workload}: {data.decode(errors='replace')}")
        return data, self.last_kernel_ns()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("libraries", nargs="+")
    parser.add_argument("-w", "--workloads", default="json,timeseries,image")
    parser.add_argument("-n", "--calls", type=int, default=200)
    parser.add_argument("--size", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    libs = [Library(p) for p in args.libraries]
    for workload in args.workloads.split(","):
        payload = hybridbench.make_input(workload, args.size, seed=args.seed)
        compare(libs, workload, payload, args.calls, f"{workload} ({len(payload):,} B)")


def compare(libs: list[Library], workload: str, payload: bytes, calls: int, title: str) -> None:
    """Verify each library's output on `payload`, then time `calls` rounds of one call per
    library in turn and print min / P50 per library and the ratio of P50s to the first's."""
    outputs = [lib.run(workload, payload)[0] for lib in libs]
    same = all(o == outputs[0] for o in outputs)
    for output in outputs:
        hybridbench.verify(workload, payload, output)
    times: list[list[int]] = [[] for _ in libs]
    for _ in range(calls):
        for i, lib in enumerate(libs):
            times[i].append(lib.run(workload, payload)[1])
    print(f"{title}, outputs {'byte-identical' if same else 'DIFFER (each verified)'}:")
    base = statistics.median(times[0])
    for lib, ts in zip(libs, times, strict=True):
        p50 = statistics.median(ts)
        print(f"  {lib.version:<24} min {min(ts) / 1e6:8.3f} ms  P50 {p50 / 1e6:8.3f} ms  "
              f"P50 ratio {p50 / base:5.2f}  {lib.path}")


if __name__ == "__main__":
    main()
