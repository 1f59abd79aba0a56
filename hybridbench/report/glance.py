"""The decision at a glance: the headline as a verdict table, read in ten seconds.

One row per workload and size: the verdict (move, and to which pattern, or stay), the gain
over the strongest Python with its 95% interval, and what the service boundary costs. A
workload that measures the crossing alone (``WorkloadView.crossing_only``, e.g. echo) gets no
verdict, since no engine's speed is at stake: it gets one line, what a crossing costs per call
at each size and pattern. A table measured under several allocators stays one row, under the
allocator measured first; the others' verdicts and gains are added to it.

Everything here is read from the report model (``model.RunView``): the verdicts and ratios are
the model's, the patterns are the tiers the backends' recorded profiles declare. No backend is
known by its name; the sentences of the model follow the table, for who wants them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hybridbench.report import decision
from hybridbench.report import formatting as fmt
from hybridbench.report.decision import Estimate
from hybridbench.report.model import Entry, Group, RunView, boundary_cost, boundary_pairs

#: the model's verdict for a table where a move pays (``Group.verdict``)
MOVE = "move"


@dataclass(frozen=True)
class Gain:
    """One backend's throughput over the strongest Python's, with its 95% interval."""

    backend: str
    pattern: str
    speedup: Estimate
    #: ``decision``'s state: whether the interval says the difference is clear
    how: str

    @property
    def clear(self) -> bool:
        return self.how not in decision.UNSURE

    def text(self) -> str:
        """``5.4x (4.7–6.2x)``; ``1.1x (0.9–1.3x, unclear)`` when the interval includes 1."""
        value = fmt.ratio(self.speedup.value)
        if not self.speedup.has_interval:
            return value
        high = self.speedup.high
        span = (f"≥{fmt.ratio(self.speedup.low)}" if high is None or math.isinf(high)
                else f"{fmt.ratio(self.speedup.low).removesuffix('x')}–{fmt.ratio(high)}")
        return f"{value} ({span}{'' if self.clear else ', unclear'})"


@dataclass(frozen=True)
class Boundary:
    """What calling a service costs next to its in-process twin (the same engine)."""

    service: str
    in_process: str
    #: ``decision.boundary_verdict``: affordable, sizeable, dominant, not measurable...
    verdict: str
    cost_ns: Estimate
    service_call_ns: float

    def text(self) -> str:
        """``grpc vs ffi: sizeable, +1.2 ms per call (35%)``"""
        lead = f"{self.service} vs {self.in_process}: {self.verdict}"
        if self.verdict not in (decision.AFFORDABLE, decision.SIZEABLE, decision.DOMINANT):
            return lead
        share = self.cost_ns.value / self.service_call_ns
        return f"{lead}, +{fmt.duration_ns(self.cost_ns.value)}/call ({share:.0%})"


@dataclass(frozen=True)
class Variant:
    """The same table under another allocator."""

    allocator: str
    verdict: str
    gain: Gain | None


@dataclass(frozen=True)
class Row:
    """One workload at one size."""

    workload: str
    size: str
    #: "move", "stay", "undecided", "no data" (``Group.verdict``)
    verdict: str
    #: ``native in-process (FFI)``, ``stay: python in-process`` (``Group.pattern``)
    pattern: str
    #: the strongest Python of the table (the ratios' denominator), None without one
    baseline: str | None
    #: the gain the verdict rests on: the recommended pattern's, else the best other one's
    gain: Gain | None
    #: each pattern's best gain, the baseline's own pattern left out (it is 1x by definition)
    by_pattern: dict[str, Gain]
    boundaries: list[Boundary]
    allocator: str | None = None
    variants: list[Variant] = field(default_factory=list)

    @property
    def verdict_text(self) -> str:
        return f"move to {self.pattern}" if self.verdict == MOVE else self.pattern

    @property
    def label(self) -> str:
        """``json 1MB``, ``json 1MB under glibc`` where allocators were compared."""
        under = f" under {self.allocator}" if self.allocator else ""
        return f"{self.workload} {self.size}{under}"

    def gain_lines(self) -> list[str]:
        """``5.4x (4.7–6.2x) ffi``, then each other allocator's verdict (where it differs)
        and gain: ``under glibc-tuned: stay, 1.08x (1.06–1.1x) ffi``."""
        lines = [_gain_words(self.gain)]
        for variant in self.variants:
            changed = f"{variant.verdict}, " if variant.verdict != self.verdict else ""
            lines.append(f"under {variant.allocator}: {changed}{_gain_words(variant.gain)}")
        return lines

    def boundary_lines(self) -> list[str]:
        return [b.text() for b in self.boundaries] or ["-"]


def _gain_words(gain: Gain | None) -> str:
    return f"{gain.text()} {gain.backend}" if gain else "-"


@dataclass(frozen=True)
class Crossing:
    """A crossing-only workload at one size: the time per call of each pattern's fastest
    backend, one caller (``1 / throughput``): what getting the bytes across costs."""

    size: str
    per_call_ns: dict[str, Estimate]


@dataclass(frozen=True)
class CrossingLine:
    workload: str
    sizes: list[Crossing]

    @property
    def patterns(self) -> list[str]:
        return list(dict.fromkeys(p for c in self.sizes for p in c.per_call_ns))

    def text(self) -> str:
        """``per call at 64B / 1MB: native in-process (FFI) 983 ns / 1.34 ms; native service
        (gRPC) 205 µs / 4.98 ms``: one series per pattern, sizes in order ("-" where a pattern
        was not measured at a size)."""
        sizes = [c for c in self.sizes if c.per_call_ns]
        if not sizes:
            return "no crossing measured"
        series = [f"{pattern} " + " / ".join(
            fmt.duration_ns(c.per_call_ns[pattern].value) if pattern in c.per_call_ns else "-"
            for c in sizes) for pattern in self.patterns]
        return f"per call at {' / '.join(c.size for c in sizes)}: " + "; ".join(series)


#: the verdict table's columns, in every rendering
COLUMNS = ("workload", "verdict", "gain over the strongest Python (95%)", "strongest Python",
           "the service boundary")
#: what a crossing-only workload's line says before its figures
CROSSING_LEAD = ("measures the crossing alone (no engine's speed at stake, so no verdict); "
                 "one caller,")


@dataclass(frozen=True)
class Glance:
    rows: list[Row]
    crossings: list[CrossingLine]
    #: every pattern of ``Row.by_pattern``, in the order first met (the chart's series)
    patterns: list[str]


# -- building ---------------------------------------------------------------------------------

def _gain(entry: Entry, group: Group) -> Gain | None:
    if entry.speedup is None or group.baseline is None:
        return None
    return Gain(entry.cell.backend, entry.profile.pattern, entry.speedup,
                group.ratios.how(entry, group.baseline))


def _others(group: Group) -> list[Entry]:
    """Verified entries of the decision with a ratio, of another pattern than the baseline."""
    base = group.baseline
    if base is None:
        return []
    return [e for e in group.lowest if e.ok and e.speedup is not None
            and e.profile.pattern != base.profile.pattern]


def _fastest(entries: list[Entry]) -> Entry | None:
    return max(entries, key=lambda e: e.speedup.value) if entries else None  # type: ignore[union-attr]


def deciding_gain(group: Group) -> Gain | None:
    """The gain a verdict rests on: the recommended pattern's fastest when moving, else the
    fastest other pattern (what a move would have bought)."""
    others = _others(group)
    if group.verdict == MOVE and group.recommended is not None:
        others = [e for e in others if e.profile.pattern == group.recommended.pattern] or others
    best = _fastest(others)
    return None if best is None else _gain(best, group)


def pattern_gains(group: Group) -> dict[str, Gain]:
    """Each pattern's fastest entry against the strongest Python."""
    gains: dict[str, Gain] = {}
    for entry in _others(group):
        gain, pattern = _gain(entry, group), entry.profile.pattern
        if gain is not None and (pattern not in gains
                                 or gain.speedup.value > gains[pattern].speedup.value):
            gains[pattern] = gain
    return gains


def boundaries(group: Group, pairs: list[tuple[Entry, Entry]]) -> list[Boundary]:
    """The service boundary of each same-engine (service, in-process) pair of the group."""
    found = []
    for service, twin in pairs:
        measured = boundary_cost(service, twin, group.ratios)  # as the model's sentences
        if measured is not None:
            cost, service_call_ns = measured
            found.append(Boundary(service.cell.backend, twin.cell.backend,
                                  decision.boundary_verdict(cost, service_call_ns), cost,
                                  service_call_ns))
    return found


def _row(group: Group, pairs: list[tuple[Entry, Entry]], variants: list[Group]) -> Row:
    return Row(group.workload, group.size, group.verdict, group.pattern, group.baseline_name,
               deciding_gain(group), pattern_gains(group), boundaries(group, pairs),
               group.allocator, [Variant(v.allocator or "", v.verdict, deciding_gain(v))
                                 for v in variants])


def crossing_line(workload: str, groups: list[Group]) -> CrossingLine:
    """Per size, each crossing pattern's cheapest call (in-process Python crosses nothing and
    is left out: it is the floor the others are read against, not a crossing)."""
    sizes = []
    for group in groups:
        cheapest: dict[str, Estimate] = {}
        for entry in group.lowest:
            if not entry.ok or entry.per_call_ns is None or not entry.profile.transport:
                continue
            known = cheapest.get(entry.profile.pattern)
            if known is None or entry.per_call_ns.value < known.value:
                cheapest[entry.profile.pattern] = entry.per_call_ns
        sizes.append(Crossing(group.size, cheapest))
    return CrossingLine(workload, sizes)


def build(run: RunView) -> Glance:
    """The decision at a glance of one run (one result file) of the report model."""
    rows, crossings = [], []
    for workload in run.workloads:
        if workload.crossing_only:
            crossings.append(crossing_line(workload.name, _first_allocator(workload.groups)))
            continue
        for group, variants in _by_size(workload.groups):
            pairs = boundary_pairs([e for e in group.lowest if e.ok])
            rows.append(_row(group, pairs, variants))
    patterns = list(dict.fromkeys(p for row in rows for p in row.by_pattern))
    return Glance(rows, crossings, patterns)


def _by_size(groups: list[Group]) -> list[tuple[Group, list[Group]]]:
    """Each size's first group (allocator measured first) with the same size's others."""
    sizes: dict[str, list[Group]] = {}
    for group in groups:
        sizes.setdefault(group.size, []).append(group)
    return [(same[0], same[1:]) for same in sizes.values()]


def _first_allocator(groups: list[Group]) -> list[Group]:
    return [first for first, _ in _by_size(groups)]
