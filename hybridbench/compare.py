"""``hybridbench compare BASE NEW``: the change of every cell, with a significance test.

Cells are matched by (workload, size, backend, concurrency, mode, rate). The test is a
two-sided Mann-Whitney U on the per-round throughputs (scipy.stats.mannwhitneyu): it assumes
nothing about their distribution, and with 5 rounds a side its smallest p-value is 0.008, so
"significant" means every round of one run beat most rounds of the other. With fewer than 4
rounds a side no p-value below 0.05 is possible, and the verdict says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridbench.results import OK, Cell, Results

ALPHA = 0.05
MIN_ROUNDS = 4


@dataclass
class Change:
    key: tuple
    base: Cell | None
    new: Cell | None
    ratio: float | None = None  # new throughput / base throughput
    p_value: float | None = None
    verdict: str = ""

    @property
    def label(self) -> str:
        workload, size, backend, concurrency, mode, rate = self.key
        extra = f" c={concurrency}" + (f" open@{rate}" if mode == "open" else "")
        return f"{workload} {size} {backend}{extra}"

    @property
    def change(self) -> float | None:
        return None if self.ratio is None else self.ratio - 1.0


def _throughputs(cell: Cell) -> list[float]:
    return [r["throughput"] for r in cell.rounds if r.get("throughput")]


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
    change.ratio = (new.throughput_ops or 0) / (base.throughput_ops or 1)
    a, b = _throughputs(base), _throughputs(new)
    if min(len(a), len(b)) < MIN_ROUNDS:
        change.verdict = f"too few rounds to test (need {MIN_ROUNDS} a side)"
        return change
    from scipy.stats import mannwhitneyu

    change.p_value = float(mannwhitneyu(b, a, alternative="two-sided").pvalue)
    if change.p_value >= ALPHA:
        change.verdict = "no significant change"
    else:
        change.verdict = "faster" if change.ratio > 1 else "slower"
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
            or (c.verdict == "slower" and c.change is not None and -c.change > threshold)]
