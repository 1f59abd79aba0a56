"""How often does one run's interval contain another run's figure? (issue 10, "Done when")

    python scripts/interval_coverage.py run1.json run2.json run3.json

For every cell present in several runs and every ordered pair of runs (i, j), checks whether
run i's ``throughput_ci95`` (and ``throughput_pi95``) contains run j's ``throughput_ops`` (the
median of its rounds, the figure the report shows) and its mean worker throughput.
"""

from __future__ import annotations

import itertools
import sys

from hybridbench import results


def _inside(interval: list[float] | None, value: float | None) -> bool | None:
    if not interval or value is None or any(v is None for v in interval):
        return None
    return interval[0] <= value <= interval[1]


def main(paths: list[str]) -> None:
    runs = [results.load(p) for p in paths]
    keys = list(dict.fromkeys(c.key for r in runs for c in r.cells))
    tallies = {name: [0, 0] for name in ("ci95 ∋ median", "ci95 ∋ mean", "pi95 ∋ median",
                                         "pi95 ∋ mean")}
    for key in keys:
        cells = [next((c for c in r.cells if c.key == key and c.status == "ok"), None)
                 for r in runs]
        print(f"{key[0]} {key[1]} {key[2]}: " + ", ".join(
            f"{c.throughput_ops:.4g} [{c.throughput_ci95[0]:.4g}, {c.throughput_ci95[1]:.4g}]"
            if c and c.throughput_ci95 else "-" for c in cells))
        for a, b in itertools.permutations([c for c in cells if c], 2):
            checks = {"ci95 ∋ median": _inside(a.throughput_ci95, b.throughput_ops),
                      "ci95 ∋ mean": _inside(a.throughput_ci95, b.throughput_mean_ops),
                      "pi95 ∋ median": _inside(a.throughput_pi95, b.throughput_ops),
                      "pi95 ∋ mean": _inside(a.throughput_pi95, b.throughput_mean_ops)}
            for name, hit in checks.items():
                if hit is not None:
                    tallies[name][0] += hit
                    tallies[name][1] += 1
    for name, (hits, total) in tallies.items():
        if total:
            print(f"{name}: {hits}/{total} = {hits / total:.0%}")


if __name__ == "__main__":
    main(sys.argv[1:])
