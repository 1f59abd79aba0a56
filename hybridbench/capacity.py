"""Latency against load, and the capacity it implies (the articles' "containers at peak").

From the open-loop cells of a rate list or a sweep (``--rate 100,200`` or ``--rate auto``):
for each (workload, size, backend, concurrency, processes), the points (offered rate,
achieved rate, P50, P99), the highest achieved rate that meets the latency objective, and from
the CPU per call measured at that point, the cores each process role needs per 1,000 requests
per second. Derived from measurements only; the assumptions are stated in ``ASSUMPTIONS`` and
printed next to the figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from hybridbench.results import OK, Cell, Results

#: a point is sustained when the client got this share of the offered rate through...
KEPT_UP = 0.95
#: ...and left at most this share of the scheduled calls unsent
UNSENT_ALLOWED = 0.01
ASSUMPTIONS = (
    "cores per 1,000 requests/s = CPU seconds per call x 1,000, measured at the highest rate "
    "that met the objective; assumes CPU per call stays flat as replicas are added (no "
    "shared bottleneck beyond CPU) and that production calls look like this workload and "
    "size; 'client' is the calling Python process(es), 'server' the service process")


@dataclass
class LoadPoint:
    offered: float
    achieved: float
    p50_ns: float | None
    p99_ns: float | None
    sustained: bool
    meets_slo: bool
    cpu_s_per_op: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Capacity:
    workload: str
    size: str
    backend: str
    concurrency: int
    processes: int
    points: list[LoadPoint]
    slo_p99_ns: float | None
    #: the highest achieved rate that was sustained and met the objective
    best: LoadPoint | None = None

    @property
    def cores_per_1000(self) -> dict[str, float]:
        """Cores per role for 1,000 requests/s at the best point (empty without one)."""
        if self.best is None:
            return {}
        return {role: value * 1000 for role, value in self.best.cpu_s_per_op.items()
                if value is not None}


def _point(cell: Cell, slo_p99_ns: float | None) -> LoadPoint:
    offered = float(cell.rate or 0.0)
    achieved = float(cell.throughput_ops or 0.0)
    scheduled = max(1.0, sum(r.get("ops", 0) for r in cell.rounds) + cell.unsent)
    sustained = (achieved >= KEPT_UP * offered and cell.unsent <= UNSENT_ALLOWED * scheduled)
    latency = cell.latency_ns or {}
    p99 = latency.get("p99")
    meets = sustained and (slo_p99_ns is None or (p99 is not None and p99 <= slo_p99_ns))
    return LoadPoint(offered, achieved, latency.get("p50"), p99, sustained, meets,
                     dict(cell.cpu_s_per_op))


def capacities(results: Results, slo_p99_ns: float | None = None) -> list[Capacity]:
    """One Capacity per group of open-loop cells, in the order the groups first appear."""
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for cell in results.cells:
        if cell.mode == "open" and cell.status == OK and cell.rate:
            key = (cell.workload, cell.size, cell.backend, cell.concurrency, cell.processes)
            groups[key].append(cell)
    found = []
    for (workload, size, backend, concurrency, processes), cells in groups.items():
        points = sorted((_point(c, slo_p99_ns) for c in cells), key=lambda p: p.offered)
        meeting = [p for p in points if p.meets_slo]
        best = max(meeting, key=lambda p: p.achieved) if meeting else None
        found.append(Capacity(workload, size, backend, concurrency, processes, points,
                              slo_p99_ns, best))
    return found


def summary_line(capacity: Capacity) -> str:
    """``echo/64B grpc: 2,400 req/s at P99 <= 5 ms; per 1,000 req/s: client 0.81 cores, ...``"""
    objective = (f"P99 <= {capacity.slo_p99_ns / 1e6:g} ms" if capacity.slo_p99_ns is not None
                 else "sustained")
    head = f"{capacity.workload}/{capacity.size} {capacity.backend}"
    if capacity.processes > 1:
        head += f" ({capacity.processes} client processes)"
    if capacity.best is None:
        tried = ", ".join(f"{p.offered:,.0f}" for p in capacity.points)
        return f"{head}: no rate tried ({tried} req/s) met {objective}"
    cores = "; ".join(f"{role} {value:.2f} cores"
                      for role, value in capacity.cores_per_1000.items())
    return (f"{head}: {capacity.best.achieved:,.0f} req/s at {objective}"
            + (f"; per 1,000 req/s: {cores}" if cores else ""))
