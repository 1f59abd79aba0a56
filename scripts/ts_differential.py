"""Differential check of two C-ABI kernel libraries on the timeseries workload: same bytes out.

    python scripts/ts_differential.py OLD.so NEW.so [--cases 400] [--big]

For tuning the timeseries kernel without changing its behaviour: both libraries run on the
generated presets (10k and 100k, seeds 0-3; ``--big`` adds 1M, seeds 0-1), the workload's bad
inputs, the overflow cases of ``tests/test_timeseries_overflow.py``, and random batches built
to reach every path (dense and general group and host ids, the heaps and the bars of the p95,
groups of one point and groups of all of them, ties, signed zeros, sorted and reversed
latencies, huge cpu values, NaN and infinities at random places, extra metric columns). Each
case must give the same status and the same output or error bytes. Prints the counts and the
first differences; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

import hybridbench
from hybridbench.workloads import timeseries

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from kernel_library import KernelLibrary  # a sibling script, not a package


def random_batch(rng: np.random.Generator) -> tuple[str, bytes]:
    """One random batch and the name of its family."""
    family = rng.choice(["compact", "spread-groups", "spread-hosts", "one-group", "few-groups",
                         "tiny", "ties", "sorted", "huge", "bad-value", "wide-windows",
                         "extreme-ts"])
    n = int(rng.choice([0, 1, 2, 3, 7, 64, 65, 200, 1000, 5000, 20000, 70000]))
    if family == "tiny":
        n = int(rng.integers(0, 6))
    m = int(rng.choice([2, 2, 3, 4]))
    ts = 1_767_225_600_000 + np.sort(rng.integers(0, 3_600_000, n)) + rng.integers(-3000, 3000, n)
    if rng.random() < 0.2:
        ts = -ts  # negative timestamps floor
    host = rng.integers(0, 500, n, dtype=np.uint32)
    region = (host % 8).astype(np.uint16)
    lat = rng.lognormal(3.0, 0.6, n)
    cpu = np.clip(rng.normal(40.0, 15.0, n), 0.0, 100.0)
    if family == "spread-groups":
        ts = rng.integers(-2**62, 2**62, n)
        region = rng.integers(0, 65536, n).astype(np.uint16)
    elif family == "spread-hosts":
        host = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    elif family == "one-group":
        ts = np.full(n, 123_456, np.int64)
        region = np.full(n, 3, np.uint16)
    elif family == "few-groups":
        ts = rng.integers(0, 3 * 60_000, n)
        region = rng.integers(0, 2, n).astype(np.uint16)
    elif family == "ties":
        lat = rng.integers(0, 4, n).astype(float) * rng.choice([1.0, -1.0])
        cpu = rng.choice([0.0, -0.0, 1.0], n)
        lat[rng.random(n) < 0.3] = -0.0
    elif family == "sorted":
        lat = np.sort(lat)
        if rng.random() < 0.5:
            lat = lat[::-1].copy()
    elif family == "huge":
        cpu = rng.choice([1.7e308, -1.7e308, 1e308, 5.0, sys.float_info.max], n)
        lat = rng.choice([sys.float_info.max, -sys.float_info.max, 1e-310, 0.0], n)
    elif family == "extreme-ts":  # a compact range at either end of i64 (dense ids)
        low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        ts = low + rng.integers(0, 600_000, n) if rng.random() < 0.5 else \
            high - rng.integers(0, 600_000, n)
    elif family == "wide-windows":
        ts = rng.integers(0, 60_000 * 2 * max(n, 1), n)
    metrics = np.stack([cpu, lat] + [rng.uniform(0, 1, n) for _ in range(m - 2)])
    if family == "bad-value" and n:
        metrics[rng.integers(0, m), rng.integers(0, n)] = rng.choice([np.nan, np.inf, -np.inf])
    return str(family), timeseries.encode_batch(ts, host, region, metrics)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("libraries", nargs=2)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--big", action="store_true")
    args = parser.parse_args()
    old, new = (KernelLibrary(p) for p in args.libraries)
    cases: list[tuple[str, bytes]] = []
    for size, seeds in (("10k", 4), ("100k", 4)) + ((("1M", 2),) if args.big else ()):
        cases += [(f"preset {size}", hybridbench.make_input("timeseries", size, seed=s))
                  for s in range(seeds)]
    cases += [(f"bad {name}", body) for name, body, _ in timeseries.WORKLOAD.bad_inputs()]
    from test_timeseries_overflow import CASES  # tests/ is on the path above

    cases += [(f"overflow {name}", body) for name, body in CASES.items()]
    rng = np.random.default_rng(28)
    cases += [random_batch(rng) for _ in range(args.cases)]
    counts: Counter[str] = Counter()
    differ = 0
    for family, body in cases:
        a, b = old.call("timeseries", body), new.call("timeseries", body)
        counts[f"{family} {'ok' if a[0] == 0 else 'rejected'}"] += 1
        if a != b:
            differ += 1
            if differ <= 5:
                print(f"DIFFER: {family} ({len(body)} B): status {a[0]} vs {b[0]}, "
                      f"{a[1][:80]!r} vs {b[1][:80]!r}")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    print(f"{len(cases)} cases, {differ} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
