"""``hybridbench compare BASE NEW``: the change of every cell, with a significance test.

Cells are matched by (workload, size, backend, concurrency, mode, rate). The test runs on the
same units as the interval: the throughput of each worker process (schema 2), with Welch's
two-sided t-test (``stats.welch_p_value``), which needs two workers a side, so two default
runs (3 workers per cell) can always be compared. Rounds inside one process are not
independent (they share its heap, layout and server), so treating them as units made
differences between runs look significant when they were run-to-run noise.

Cells without worker figures (schema-1 files) fall back to the old test, Mann-Whitney U on
per-round throughputs, which needs 4 rounds a side; the verdict names the test used.

Cells imported from pytest-benchmark have no interval and no independent units (its rounds
run in one process): they are compared by their medians, speed = base median / new median,
and the verdict says the change is untested. ``--fail-on-regression`` applies to that
change as it is, as pytest-benchmark's own ``--benchmark-compare-fail=median:10%`` does.
A cell measured by hybridbench is never compared with one another tool measured.

Ratios (``compare_ratios``): where both files carry paired comparisons (``results.comparisons``),
each backend's ratio to another in the same table is matched too, once per pair of backends.
A ratio *moved* when the new run's lies outside the base run's 95% prediction interval
(``ratio_pi95``: where a repeat run's ratio lands 95% of the time when only the passes vary).
The prediction interval, not the confidence interval: a repeat's ratio falls outside the
latter 10-17% of the time with nothing changed, so it would cry wolf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hybridbench import paired, stats
from hybridbench.results import OK, Cell, Comparison, Results

ALPHA = 0.05
#: run settings (``config``) and machine facts (``env``) that change what a figure means:
#: when they differ, a change between the runs is not the code's alone
CONFIG_KEYS = ("duration_s", "workers", "rounds", "concurrency", "rate", "seed", "processes")
ENV_KEYS = ("cpu_model", "cores_logical")
#: units a side below which no test is attempted
MIN_WORKERS = 2
MIN_ROUNDS = 4
#: verdicts of imported cells (compared by median, untested)
FASTER_BY_MEDIAN = "faster by median (no interval, untested)"
SLOWER_BY_MEDIAN = "slower by median (no interval, untested)"
SAME_MEDIAN = "same median (no interval)"
MEDIAN_TEST = "medians only: the files carry no interval"


@dataclass
class Change:
    key: tuple
    base: Cell | None
    new: Cell | None
    #: new throughput / base throughput (imported cells: base median / new median)
    ratio: float | None = None
    p_value: float | None = None
    verdict: str = ""
    test: str | None = None  # which test gave p_value

    @property
    def label(self) -> str:
        workload, size, backend, concurrency, mode, rate, allocator = self.key
        extra = f" c={concurrency}" + (f" open@{rate}" if mode == "open" else "")
        extra += f" [{allocator}]" if allocator else ""
        return f"{workload} {size} {backend}{extra}"

    @property
    def change(self) -> float | None:
        return None if self.ratio is None else self.ratio - 1.0


def _throughputs(cell: Cell) -> list[float]:
    return [r["throughput"] for r in cell.rounds if r.get("throughput")]


def _worker_throughputs(cell: Cell) -> list[float]:
    return [w["throughput"] for w in cell.worker_results if w.get("throughput")]


def _test(base: Cell, new: Cell) -> tuple[float | None, str, str | None]:
    """``(p-value, verdict if none, test name)`` on the finest units both cells have."""
    a, b = _worker_throughputs(base), _worker_throughputs(new)
    if a and b:
        if min(len(a), len(b)) < MIN_WORKERS:
            return None, f"too few workers to test (need {MIN_WORKERS} a side)", None
        return stats.welch_p_value(a, b), "", "Welch t-test on worker throughputs"
    a, b = _throughputs(base), _throughputs(new)
    if min(len(a), len(b)) < MIN_ROUNDS:
        return None, f"too few rounds to test (need {MIN_ROUNDS} a side)", None
    from scipy.stats import mannwhitneyu

    p_value = float(mannwhitneyu(b, a, alternative="two-sided").pvalue)
    return p_value, "", "Mann-Whitney U on round throughputs (schema 1)"


def compare_cells(base: Cell | None, new: Cell | None, key: tuple) -> Change:
    change = Change(key, base, new)
    if base is None or new is None:
        change.verdict = "only in new" if base is None else "only in base"
        return change
    if base.status != OK or new.status != OK:
        if base.status == OK:
            change.verdict = f"broken: now {new.status}"
        else:
            change.verdict = f"not comparable (base {base.status}, new {new.status})"
        return change
    if base.imported or new.imported:
        return _compare_medians(change, base, new)
    change.ratio = (new.throughput_ops or 0) / (base.throughput_ops or 1)
    change.p_value, change.verdict, change.test = _test(base, new)
    if change.p_value is None:
        return change
    if change.p_value >= ALPHA:
        change.verdict = "no significant change"
    else:
        change.verdict = "faster" if change.ratio > 1 else "slower"
    return change


def median_ns(cell: Cell) -> float | None:
    """An imported cell's median time per call, as its tool computed it."""
    value = (cell.source_stats or {}).get("median_ns")
    return float(value) if value else None


def _compare_medians(change: Change, base: Cell, new: Cell) -> Change:
    """Imported cells: the change of speed between the medians, untested."""
    if base.source.split()[0] != new.source.split()[0]:
        change.verdict = f"not comparable (base measured by {base.source}, new by {new.source})"
        return change
    before, after = median_ns(base), median_ns(new)
    if before is None or after is None:
        change.verdict = "not comparable (no median)"
        return change
    change.ratio, change.test = before / after, MEDIAN_TEST
    if change.ratio == 1:
        change.verdict = SAME_MEDIAN
    else:
        change.verdict = FASTER_BY_MEDIAN if change.ratio > 1 else SLOWER_BY_MEDIAN
    return change


def compare(base: Results, new: Results) -> list[Change]:
    base_cells = {c.key: c for c in base.cells}
    new_cells = {c.key: c for c in new.cells}
    keys = list(dict.fromkeys([*base_cells, *new_cells]))
    return [compare_cells(base_cells.get(k), new_cells.get(k), k) for k in keys]


def regressions(changes: list[Change], threshold: float) -> list[Change]:
    """Cells significantly slower by more than ``threshold`` (0.10 = 10%), or newly broken."""
    return [c for c in changes
            if c.verdict.startswith("broken")
            or (c.verdict in ("slower", SLOWER_BY_MEDIAN)
                and c.change is not None and -c.change > threshold)]


def unmatched(changes: list[Change]) -> tuple[list[Change], list[Change]]:
    """The cells found only in the base file, and only in the new one."""
    return ([c for c in changes if c.new is None], [c for c in changes if c.base is None])


def setting_differences(base: Results, new: Results) -> dict[str, tuple[Any, Any]]:
    """``{key: (base value, new value)}`` for the settings and machine facts that differ.

    A key absent from both files (a pytest-benchmark file has no run settings) is no
    difference; absent from one only, it is.
    """
    found: dict[str, tuple[Any, Any]] = {}
    for source, keys in (("config", CONFIG_KEYS), ("env", ENV_KEYS)):
        for key in keys:
            before, after = getattr(base, source).get(key), getattr(new, source).get(key)
            if before != after:
                found[key] = (before, after)
    return found


@dataclass
class RatioChange:
    """One pair of backends' ratio in both runs."""

    base: Comparison
    new: Comparison

    @property
    def label(self) -> str:
        return paired.comparison_label(self.base)

    @property
    def change(self) -> float | None:
        if not (self.base.ratio and self.new.ratio):
            return None
        return self.new.ratio / self.base.ratio - 1.0

    @property
    def tested(self) -> bool:
        return _interval(self.base.ratio_pi95) is not None and bool(self.new.ratio)

    @property
    def moved(self) -> bool:
        """The new ratio lies outside the base run's 95% prediction interval."""
        interval = _interval(self.base.ratio_pi95)
        if interval is None or not self.new.ratio:
            return False
        return not interval[0] <= self.new.ratio <= interval[1]


def _interval(values: list[float] | None) -> tuple[float, float] | None:
    if not values or len(values) != 2 or any(v is None or v != v for v in values):
        return None
    return float(values[0]), float(values[1])


def _ratio_key(item: Comparison) -> tuple[Any, ...]:
    table = tuple(item.table) or (item.workload, item.size, item.concurrency, item.mode,
                                  item.rate)
    return (table, item.backend, item.baseline)


def compare_ratios(base: Results, new: Results) -> list[RatioChange]:
    """The comparisons both runs have, once per pair of backends (the direction the base file
    stores first: b/a moves exactly when a/b does)."""
    found = {_ratio_key(c): c for c in new.comparisons}
    changes, seen = [], set()
    for item in base.comparisons:
        table, backend, baseline = _ratio_key(item)
        pair = (table, frozenset((backend, baseline)))
        match = found.get((table, backend, baseline))
        if pair in seen or match is None:
            continue
        seen.add(pair)
        changes.append(RatioChange(item, match))
    return changes
