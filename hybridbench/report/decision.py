"""The plain-words summary per workload, computed from the numbers (never written by hand).

The rules are deliberately simple and stated in the sentences themselves, so a reader can
check them against the table: speedups are ratios of median throughput, "clearly" means the
95% intervals do not overlap, and transport cost is the P50 difference between ``grpc`` and
``ffi`` (same Rust kernels, different way in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hybridbench.report import formatting as fmt
from hybridbench.results import OK, Cell

#: a native backend must beat inproc by this factor to be called worth moving for
WORTH_IT = 1.5


@dataclass
class Row:
    """One line of the articles' table: a backend at one size."""

    cell: Cell
    speedup: float | None  # throughput over inproc's at the same size/concurrency/mode


@dataclass
class WorkloadSummary:
    workload: str
    size: str
    rows: list[Row] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def _clearly_faster(a: Cell, b: Cell) -> bool:
    """a's 95% interval lies entirely above b's."""
    if not a.throughput_ci95 or not b.throughput_ci95:
        return False
    return a.throughput_ci95[0] > b.throughput_ci95[1]


def table_rows(cells: list[Cell]) -> list[Row]:
    base = {(c.size, c.concurrency, c.mode): c.throughput_ops for c in cells
            if c.backend == "inproc" and c.status == OK}
    rows = []
    for cell in cells:
        reference = base.get((cell.size, cell.concurrency, cell.mode))
        ok = cell.status == OK and reference and cell.throughput_ops
        rows.append(Row(cell, cell.throughput_ops / reference if ok else None))  # type: ignore[operator]
    return rows


def summarise(workload: str, cells: list[Cell]) -> list[WorkloadSummary]:
    """One summary per size: every cell in the table, sentences at the lowest concurrency."""
    lowest = min((c.concurrency for c in cells), default=1)
    summaries = []
    for size in dict.fromkeys(c.size for c in cells):
        at_size = sorted((c for c in cells if c.size == size), key=lambda c: c.concurrency)
        summary = WorkloadSummary(workload, size, table_rows(at_size))
        summary.sentences = _sentences(workload, [c for c in at_size if c.concurrency == lowest])
        summaries.append(summary)
    return summaries


def _p50(cell: Cell) -> float | None:
    return (cell.latency_ns or {}).get("p50")


def _sentences(workload: str, cells: list[Cell]) -> list[str]:
    ok = {c.backend: c for c in cells if c.status == OK and c.throughput_ops}
    if not ok:
        return ["No backend produced a verified measurement here."]
    out = []
    best = max(ok.values(), key=lambda c: c.throughput_ops or 0)
    inproc = ok.get("inproc")
    lead = f"Fastest: {best.backend} at {fmt.count(best.throughput_ops)} ops/s"
    if inproc and best is not inproc:
        ratio = (best.throughput_ops or 0) / (inproc.throughput_ops or 1)
        certainty = "clearly" if _clearly_faster(best, inproc) else "not clearly (95% CIs overlap)"
        out.append(f"{lead}, {fmt.count(ratio)}x inproc, {certainty} ahead.")
    else:
        out.append(f"{lead}.")
    if inproc and workload != "echo":
        native = [ok[b] for b in ("ffi", "grpc") if b in ok]
        gains = [(c.throughput_ops or 0) / (inproc.throughput_ops or 1) for c in native]
        if native and max(gains) < WORTH_IT:
            out.append(f"No native backend beats idiomatic Python by {WORTH_IT}x here: the "
                       "Rust hot path does not pay for its build and deployment cost.")
        elif native:
            out.append(f"Moving this hot path to Rust pays: up to {fmt.count(max(gains))}x the "
                       "throughput of idiomatic Python.")
    ffi, grpc = ok.get("ffi"), ok.get("grpc")
    if ffi and grpc and _p50(ffi) and _p50(grpc):
        extra = _p50(grpc) - _p50(ffi)  # type: ignore[operator]
        share = extra / _p50(grpc)  # type: ignore[operator]
        out.append(f"gRPC instead of FFI costs {fmt.duration_ns(extra)} per call at P50 "
                   f"({share:.0%} of a gRPC call): "
                   + ("the transport dominates, call in-process if you can."
                      if share > 0.5 else "the work dominates, the service boundary is "
                                          "affordable."))
    pyserver = ok.get("grpc-py")
    if grpc and pyserver:
        ratio = (grpc.throughput_ops or 0) / (pyserver.throughput_ops or 1)
        out.append(f"Behind the same gRPC transport, the Rust engine does {fmt.count(ratio)}x "
                   "the Python engine's throughput (grpc vs grpc-py).")
    if grpc and (grpc.rss_peak_bytes.get("server") or 0):
        out.append(f"The gRPC server process adds "
                   f"{fmt.size_bytes(grpc.rss_peak_bytes.get('server'))} of peak RSS.")
    return out
