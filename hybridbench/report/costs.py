"""What observability costs per call (issue 24, item 2), from a run's cost cells.

A run with ``--observability-cost`` records which labels price what
(``config["observability"]``: label -> base backend and what it adds); each such cell shares
its table with its base, so the run's paired comparison of the two (``model.Ratios``: its own
95% interval, or for files without comparisons the quotient) gives the time ratio. Turned
into the sentence a team wants: "tracing adds 41 us per call to grpc (+38%, 95% interval
+31% to +45%)". The time added is the base's time per call times the fraction, so its
interval is the fraction's interval scaled by that point estimate (said in the sentence).
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridbench import paired
from hybridbench.report import formatting as fmt
from hybridbench.report import model
from hybridbench.report.decision import Estimate


@dataclass(frozen=True)
class Cost:
    """One variant against its base in one table."""

    workload: str
    size: str
    base: str
    variant: str
    #: "tracing" or "logging"
    adds: str
    #: the variant's time per call over the base's, minus one (0.38: 38% more time per call)
    fraction: Estimate
    #: nanoseconds added per call: the base's time per call times ``fraction``
    added_ns: Estimate
    #: the fraction comes from the run's paired comparison (else the quotient of intervals)
    paired: bool

    def sentence(self) -> str:
        interval = ""
        if self.fraction.has_interval:
            interval = (f", 95% interval {_percent(self.fraction.low)} to "  # type: ignore[arg-type]
                        f"{_percent(self.fraction.high)}")  # type: ignore[arg-type]
        how = "paired" if self.paired else "quotient of the cells' intervals"
        return (f"{self.workload} {self.size}: {self.adds} adds "
                f"{_signed_duration(self.added_ns.value)} per call to {self.base} "
                f"({_percent(self.fraction.value)}{interval}; {how})")


def _signed_duration(ns: float) -> str:
    """A time added per call, negative when the variant measured faster (noise, when its
    interval holds zero)."""
    return f"-{fmt.duration_ns(-ns)}" if ns < 0 else fmt.duration_ns(ns)


def _percent(value: float) -> str:
    return f"{value * 100:+.1f}%"


def _inverse_minus_one(ratio: Estimate) -> Estimate:
    """A throughput ratio (variant / base) as the fraction of time it adds per call."""
    if not ratio.has_interval or not ratio.low:
        return Estimate(1 / ratio.value - 1)
    return Estimate(1 / ratio.value - 1, 1 / ratio.high - 1, 1 / ratio.low - 1)  # type: ignore[operator]


def of_run(run: model.RunView) -> list[Cost]:
    """Every cost cell of the run against its base, table by table."""
    variants = run.results.config.get("observability") or {}
    ratios = model.Ratios.of(run.results)
    found = []
    for group in run.groups:
        for entry in group.entries:
            recorded = variants.get(entry.cell.backend)
            if not isinstance(recorded, dict) or not entry.ok:
                continue
            base = _base(group, entry, str(recorded.get("base")))
            ratio = ratios.ratio(entry, base) if base is not None else None
            if base is None or ratio is None or base.per_call_ns is None or ratio.value <= 0:
                continue
            fraction = _inverse_minus_one(ratio)
            scale = base.per_call_ns.value
            added = Estimate(fraction.value * scale,
                             None if fraction.low is None else fraction.low * scale,
                             None if fraction.high is None else fraction.high * scale)
            found.append(Cost(group.workload, group.size, base.cell.backend,
                              entry.cell.backend, str(recorded.get("adds", "")), fraction,
                              added, ratios.comparison(entry, base) is not None))
    return found


def _base(group: model.Group, entry: model.Entry, name: str) -> model.Entry | None:
    table = paired.table_key(entry.cell)
    return next((e for e in group.entries if e.cell.backend == name and e.ok
                 and paired.table_key(e.cell) == table), None)


def lines(report: model.Report) -> list[str]:
    """Every cost sentence of the report, run by run."""
    return [cost.sentence() for run in report.runs for cost in of_run(run)]
