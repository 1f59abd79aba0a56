"""The runner: plans cells, and for each one verifies, warms up, measures and summarises.

Order inside a cell (DESIGN.md, "Measurement rules"): start a fresh backend instance; run once
and verify against the reference (a wrong answer is reported, never timed); calibrate the
batch size; warm up; then ``rounds`` rounds inside a resource monitor; stop the backend. Any
failure is recorded in the cell and the run goes on with the next one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hybridbench import coldstart, envinfo, measure, stats
from hybridbench.backend import Backend
from hybridbench.errors import HybridbenchError, VerificationError, WorkloadError
from hybridbench.registry import (
    backend_names,
    get_workload,
    open_backend,
    unavailable_reason,
    workload_names,
)
from hybridbench.resources import ResourceMonitor
from hybridbench.results import FAILED, OK, UNAVAILABLE, UNSUPPORTED, WRONG, Cell, Results
from hybridbench.verification import reference_output

#: rounds disagreeing by more than this are flagged
ROUND_SPREAD_WARNING = 0.10


@dataclass
class RunConfig:
    workloads: list[str] | None = None  # None: every workload
    backends: list[str] | None = None  # None: every registered backend
    #: None: each workload's default size (echo sweeps all); else one size for all, or per
    #: workload ``{"json": "64KB"}``
    sizes: dict[str, str] | str | None = None
    concurrency: list[int] = field(default_factory=lambda: [1])
    duration_s: float = 5.0  # measured time per cell, split into rounds of 1 s
    rounds: int = 5
    warmup_s: float = 0.5
    rate: float | None = None  # open loop at this many requests per second
    seed: int = 0
    cold_start: bool = True
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def quick(cls, **overrides: Any) -> RunConfig:
        """Short cells for CI and smoke runs: numbers are indicative only."""
        return cls(**{"duration_s": 0.6, "rounds": 3, "warmup_s": 0.1, **overrides})


@dataclass(frozen=True)
class CellPlan:
    workload: str
    size: str
    backend: str
    concurrency: int

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.size} on {self.backend} c={self.concurrency}"


def sizes_for(config: RunConfig, workload: str) -> list[str]:
    wl = get_workload(workload)
    wanted = config.sizes.get(workload) if isinstance(config.sizes, dict) else config.sizes
    if wanted is None:
        return wl.size_names() if getattr(wl, "sweep_by_default", False) else [wl.default_size]
    wl.check_size(wanted)
    return [wanted]


def plan(config: RunConfig) -> list[CellPlan]:
    """Every cell of the run, validated up front: a bad name fails before anything runs."""
    workloads = config.workloads or workload_names()
    for name in workloads:
        get_workload(name)
    backends = config.backends or backend_names()
    known = backend_names()
    for name in backends:
        if name not in known:
            raise WorkloadError(f"unknown backend {name!r}; known: {', '.join(known)}")
    if any(c < 1 for c in config.concurrency):
        raise WorkloadError("concurrency must be at least 1")
    return [CellPlan(w, s, b, c) for w in workloads for s in sizes_for(config, w)
            for b in backends for c in config.concurrency]


ProgressFn = Callable[[int, int, CellPlan], None]


def run(config: RunConfig, progress: ProgressFn | None = None,
        on_cell: Callable[[Cell], None] | None = None) -> Results:
    """Run every planned cell; ``progress(i, total, plan)`` is called before each."""
    cells_plan = plan(config)
    results = Results(env=envinfo.capture(), config=_config_dict(config))
    busy = envinfo.busy_warning()
    if busy:
        results.warnings.append(f"at start: {busy}")
    cold_cache: dict[tuple[str, str, str], float | str] = {}
    try:
        for index, cell_plan in enumerate(cells_plan):
            if progress:
                progress(index, len(cells_plan), cell_plan)
            cell = run_cell(cell_plan, config, cold_cache)
            results.cells.append(cell)
            if on_cell:
                on_cell(cell)
    except KeyboardInterrupt:
        # Keep what was measured: the caller saves it, marked as partial, and exits.
        results.warnings.append(f"interrupted after {len(results.cells)} of "
                                f"{len(cells_plan)} cells: the results are partial")
        results.config["interrupted"] = True
    busy = envinfo.busy_warning()
    if busy:
        results.warnings.append(f"at end: {busy}")
    results.env["load_average_end"] = envinfo.load_average()
    return results


def _config_dict(config: RunConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(config)


def run_cell(cell_plan: CellPlan, config: RunConfig,
             cold_cache: dict[tuple[str, str, str], float | str] | None = None) -> Cell:
    workload = get_workload(cell_plan.workload)
    payload = workload.make_input(cell_plan.size, config.seed)
    cell = Cell(workload=cell_plan.workload, size=cell_plan.size, backend=cell_plan.backend,
                concurrency=cell_plan.concurrency, mode="open" if config.rate else "closed",
                rate=config.rate, payload_bytes=len(payload))
    reason = unavailable_reason(cell_plan.backend)
    if reason:
        cell.status, cell.error = UNAVAILABLE, reason
        return cell
    options = config.backend_options.get(cell_plan.backend, {})
    backend = open_backend(cell_plan.backend, **options)
    reason = backend.unsupported_reason(cell_plan.workload)
    if reason:
        cell.status, cell.error = UNSUPPORTED, reason
        return cell
    try:
        backend.start()
        cell.backend_info = backend.describe()
        expected = reference_output(cell_plan.workload, payload)
        workload.verify(payload, backend.run(cell_plan.workload, payload), expected)
        cell.verified = True
        _measure(cell, backend, payload, config)
    except VerificationError as exc:
        cell.status, cell.error = WRONG, f"output differs from the reference: {exc}"
    except (HybridbenchError, OSError) as exc:
        cell.status, cell.error = FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        backend.stop()
    if cell.status == OK and config.cold_start:
        _attach_cold_start(cell, payload, options, cold_cache)
    return cell


def _measure(cell: Cell, backend: Backend, payload: bytes, config: RunConfig) -> None:
    call = functools.partial(backend.run, cell.workload, payload)
    batch = 1
    if config.rate is None:
        batch, _ = measure.calibrate_batch(call)
        measure.closed_loop(call, cell.concurrency, config.warmup_s, batch)
    else:
        measure.open_loop(call, config.rate, cell.concurrency, config.warmup_s)
    histogram = stats.new_histogram()
    rounds: list[measure.Round] = []
    round_s = config.duration_s / config.rounds
    with ResourceMonitor(backend.processes()) as monitor:
        for _ in range(config.rounds):
            if config.rate is None:
                done = measure.closed_loop(call, cell.concurrency, round_s, batch)
            else:
                done = measure.open_loop(call, config.rate, cell.concurrency, round_s)
            stats.record_many(histogram, done.latencies_ns)
            rounds.append(done)
    _summarise(cell, rounds, histogram, batch, monitor)


def _summarise(cell: Cell, rounds: list[measure.Round], histogram: Any, batch: int,
               monitor: ResourceMonitor) -> None:
    ops = sum(r.ops for r in rounds)
    throughputs = [r.throughput for r in rounds]
    cell.samples = int(histogram.get_total_count())
    cell.batch_size = batch
    cell.duration_s = sum(r.duration_ns for r in rounds) / 1e9
    cell.throughput_ops = float(np.median(throughputs))
    cell.throughput_bytes = cell.throughput_ops * cell.payload_bytes
    cell.throughput_ci95 = list(stats.bootstrap_ci(throughputs))
    cell.latency_ns = stats.latency_summary(histogram)
    cell.latency_hdr = stats.encode_histogram(histogram)
    cell.rounds = [{"ops": r.ops, "duration_s": r.duration_ns / 1e9, "throughput": r.throughput,
                    "unsent": r.unsent} for r in rounds]
    cell.unsent = sum(r.unsent for r in rounds)
    usage = monitor.usage
    roles = ("client", "server")
    cell.rss_peak_bytes = {role: usage.rss_peak_bytes.get(role) for role in roles}
    cell.rss_baseline_bytes = {role: usage.rss_baseline_bytes.get(role) for role in roles}
    cell.cpu_s_per_op = {role: (usage.cpu_s[role] / ops if role in usage.cpu_s and ops else None)
                         for role in roles}
    cell.warnings.extend(_warnings(cell, throughputs, usage.lost))


def _warnings(cell: Cell, throughputs: list[float], lost: list[str]) -> list[str]:
    found = []
    if cell.samples < stats.THIN_TAIL_SAMPLES:
        beyond = stats.samples_beyond(cell.samples, 99.0)
        found.append(f"thin tail: {cell.samples} samples, so P99 rests on {beyond:.1f} of them "
                     f"and P99.9 on {stats.samples_beyond(cell.samples, 99.9):.2f}")
    if cell.batch_size > 1:
        found.append(f"calls shorter than {measure.BATCH_THRESHOLD_NS / 1000:.0f} µs were timed "
                     f"in batches of {cell.batch_size}: percentiles are of batch means")
    spread = stats.variation(throughputs)
    if spread > ROUND_SPREAD_WARNING:
        found.append(f"noisy: round throughputs vary by {spread:.0%} (standard deviation over "
                     "mean, > 10%)")
    if cell.unsent:
        found.append(f"open loop: {cell.unsent} scheduled calls were never sent: the backend "
                     f"cannot sustain {cell.rate} requests/s")
    for role in lost:
        found.append(f"the {role} process disappeared during the cell")
    return found


def _attach_cold_start(cell: Cell, payload: bytes, options: dict[str, Any],
                       cache: dict[tuple[str, str, str], float | str] | None) -> None:
    key = (cell.backend, cell.workload, cell.size)
    if cache is None or key not in cache:
        try:
            value: float | str = coldstart.measure(cell.backend, cell.workload, payload, options)
        except RuntimeError as exc:
            value = str(exc)
        if cache is not None:
            cache[key] = value
    else:
        value = cache[key]
    if isinstance(value, str):
        cell.warnings.append(f"cold start not measured: {value}")
    else:
        cell.cold_start_s = value
