"""Container against bare process: what placing a server in a container costs per call.

A cell whose profile records a ``container`` (``hybridbench run --container``) is paired with
its *bare twin* in the same table: the entry whose profile is the same pattern (engine, kind,
placement, transport) without a container. The pair differs only in where the server ran, so
their paired ratio is the container's cost, and the P99 of containers under CPU limits beside
the bare one shows what a CFS quota does to the tail. Pairs are found from the recorded
profiles, never from backend names or labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybridbench.report import formatting as fmt
from hybridbench.report.decision import Estimate

if TYPE_CHECKING:
    from hybridbench.report.model import Entry, Ratios


@dataclass(frozen=True)
class ContainerRow:
    """One containerised cell against its bare twin."""

    container: Entry
    bare: Entry
    #: the container's throughput over the bare process's (paired where the run paired them)
    ratio: Estimate | None
    #: per call, the container's time minus the bare process's (paired where the run paired
    #: them: ``Ratios.extra_per_call``)
    extra_ns: Estimate | None

    @property
    def limits(self) -> str:
        return limits_words(self.container.profile.container)

    def p99(self, entry: Entry) -> float | None:
        value = (entry.cell.latency_ns or {}).get("p99")
        return float(value) if value else None

    @property
    def p99_ratio(self) -> float | None:
        """The container's P99 over the bare process's (a point figure: no interval)."""
        mine, theirs = self.p99(self.container), self.p99(self.bare)
        return mine / theirs if mine and theirs else None

    @property
    def throttled(self) -> str:
        """``12% of 40 periods, 0.31 s``: how often the CFS quota stopped the container's
        server (its last worker's, over its life: warm-up and rounds); "-" where not read."""
        figures = (self.container.cell.server_reported or {}).get("server") or {}
        periods = figures.get("cfs_periods")
        if not periods:
            return "-"
        share = figures.get("cfs_throttled_periods", 0) / periods
        return (f"{share:.0%} of {periods:.0f} periods, "
                f"{fmt.seconds(figures.get('cfs_throttled_s', 0.0))}")

    def sentence(self) -> str:
        ratio = (f"{fmt.ratio(self.ratio.value)} the bare process's throughput"
                 + (f" (95%: {fmt.ratio(self.ratio.low)}-{fmt.ratio(self.ratio.high)})"
                    if self.ratio and self.ratio.has_interval else "")
                 if self.ratio else "no throughput ratio")
        extra = ""
        if self.extra_ns is not None:
            more = self.extra_ns.value >= 0
            extra = (f", {fmt.duration_ns(abs(self.extra_ns.value))} "
                     f"{'more' if more else 'less'} per call")
        tail = (f"; P99 {fmt.duration_ns(self.p99(self.container) or 0)} against "
                f"{fmt.duration_ns(self.p99(self.bare) or 0)}" if self.p99_ratio else "")
        throttled = (f"; CFS throttled in {self.throttled}" if self.throttled != "-" else "")
        return (f"{self.container.cell.backend} (server in a container, {self.limits}) does "
                f"{ratio}{extra} against {self.bare.cell.backend}{tail}{throttled}.")


def limits_words(container: dict[str, Any] | None) -> str:
    """``1 CPU, 256m`` / ``no CPU limit, no memory limit`` from a recorded container."""
    if not container:
        return "bare process"
    cpus = container.get("cpus")
    memory = container.get("memory")
    cpu_words = "no CPU limit" if cpus is None else f"{cpus:g} CPU"
    return f"{cpu_words}, {'memory ' + str(memory) if memory else 'no memory limit'}"


def bare_twin(entry: Entry, entries: list[Entry]) -> Entry | None:
    """The entry of the same pattern whose server ran as a bare process, at the same
    concurrency and load."""
    mine = entry.profile
    for other in entries:
        theirs = other.profile
        if (theirs.container is None and other.ok and theirs.placement == mine.placement
                and theirs.same_engine_key == mine.same_engine_key
                and theirs.transport == mine.transport
                and (other.cell.concurrency, other.cell.mode, other.cell.rate)
                == (entry.cell.concurrency, entry.cell.mode, entry.cell.rate)):
            return other
    return None


def container_rows(entries: list[Entry], ratios: Ratios) -> list[ContainerRow]:
    """A row per containerised cell measured OK whose bare twin was measured too."""
    rows = []
    for entry in entries:
        if entry.profile.container is None or not entry.ok:
            continue
        bare = bare_twin(entry, entries)
        if bare is None:
            continue
        rows.append(ContainerRow(entry, bare, ratios.ratio(entry, bare),
                                 ratios.extra_per_call(entry, bare)))
    return rows
