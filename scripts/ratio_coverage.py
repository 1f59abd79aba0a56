"""How tight are the ratios' intervals, and how often does another run's ratio land inside?

    python scripts/ratio_coverage.py run1.json run2.json [run3.json ...]

For every pair of backends measured in the same table in several runs (one direction per pair:
b/a moves exactly when a/b does) and every ordered pair of runs (i, j): whether run i's
``ratio_ci95`` (and ``ratio_pi95``) contains run j's ``ratio``, and the median half-width of
the intervals (half the width over the ratio). Runs without ``comparisons`` (older files)
are measured by the quotient of the two cells' ``throughput_ci95`` instead, the report's
older rule; a file with comparisons is measured both ways, so the two rules can be set side
by side on the same data. Last, the ratios a busy machine moved (flagged by the runner).
"""

from __future__ import annotations

import itertools
import statistics
import sys
from typing import Any

from hybridbench import compare, results
from hybridbench.report import decision
from hybridbench.report.decision import Estimate

Figure = tuple[float, list[float] | None, list[float] | None]  # ratio, ci95, pi95


def _paired(run: results.Results) -> dict[tuple[Any, ...], Figure]:
    found: dict[tuple[Any, ...], Figure] = {}
    seen = set()
    for item in run.comparisons:
        table, backend, baseline = compare._ratio_key(item)
        pair = (table, frozenset((backend, baseline)))
        if pair in seen or not item.ratio:
            continue
        seen.add(pair)
        found[(table, *sorted((backend, baseline)))] = _oriented(
            item.ratio, item.ratio_ci95, item.ratio_pi95, backend < baseline)
    return found


def _oriented(ratio: float, ci: list[float] | None, pi: list[float] | None,
              forward: bool) -> Figure:
    """The ratio as (alphabetically first backend) / (second)."""
    if forward:
        return ratio, ci, pi
    flip = (lambda v: [1 / v[1], 1 / v[0]] if v and None not in v else None)  # noqa: E731
    return 1 / ratio, flip(ci), flip(pi)


def _quotients(run: results.Results) -> dict[tuple[Any, ...], Figure]:
    cells: dict[tuple[Any, ...], list[results.Cell]] = {}
    for cell in run.cells:
        if cell.status == results.OK and cell.throughput_ops:
            key = cell.key
            cells.setdefault(key[:2] + key[3:], []).append(cell)
    found: dict[tuple[Any, ...], Figure] = {}
    for table, members in cells.items():
        for a, b in itertools.combinations(sorted(members, key=lambda c: c.backend), 2):
            ea = Estimate.of(a.throughput_ops, a.throughput_ci95)
            eb = Estimate.of(b.throughput_ops, b.throughput_ci95)
            ratio = decision.ratio(ea, eb) if ea and eb else None
            if ratio is not None:
                interval = [ratio.low, ratio.high] if ratio.has_interval else None
                found[(table, a.backend, b.backend)] = (ratio.value, interval, None)
    return found


def _inside(interval: list[float] | None, value: float) -> bool | None:
    if not interval or any(v is None for v in interval):
        return None
    return interval[0] <= value <= interval[1]


def _summary(name: str, runs: list[dict[tuple[Any, ...], Figure]]) -> None:
    widths = [(f[1][1] - f[1][0]) / 2 / f[0] for run in runs for f in run.values()
              if f[1] and None not in f[1] and f[1][1] != float("inf")]
    print(f"{name}: {sum(len(r) for r in runs)} ratios; median ci95 half-width "
          f"{statistics.median(widths):.1%}" if widths else f"{name}: no intervals")
    for which, index in (("ci95", 1), ("pi95", 2)):
        hits = [_inside(a[key][index], b[key][0]) for a, b in itertools.permutations(runs, 2)
                for key in a if key in b]
        tested = [h for h in hits if h is not None]
        if tested:
            print(f"  another run's ratio inside this run's {which}: {sum(tested)}/"
                  f"{len(tested)} = {sum(tested) / len(tested):.0%}")


def _moves(loaded: list[results.Results], paths: list[str]) -> None:
    for path, run in zip(paths, loaded, strict=True):
        flagged = [results.Notice.of(w) for w in run.warnings]
        moved = [n for n in flagged if n.kind == results.Kind.LOAD_MOVED_RATIO]
        busy = [p for c in run.comparisons for p in c.pass_others_cores]
        print(f"{path}: load average {run.env.get('load_average')} -> "
              f"{run.env.get('load_average_end')}; busiest pass "
              f"{max(busy, default=0):.1f} cores of others; "
              + ("; ".join(n.message for n in moved) if moved else "no ratio flagged as moved"))


def main(paths: list[str]) -> None:
    if len(paths) < 2:
        sys.exit("usage: python scripts/ratio_coverage.py RUN.json RUN.json [RUN.json ...]")
    loaded = [results.load(p) for p in paths]
    with_pairs = [r for r in loaded if r.comparisons]
    if len(with_pairs) >= 2:
        _summary("paired (ratio_ci95 from comparisons)", [_paired(r) for r in with_pairs])
    _summary("quotient of the cells' intervals (the older rule)",
             [_quotients(r) for r in loaded])
    _moves(loaded, paths)


if __name__ == "__main__":
    main(sys.argv[1:])
