"""The runner: plans cells, and for each one has worker processes measure it, then merges.

Order (DESIGN.md, "Measurement rules" and "Version 2"): for every cell, load the payload and
compute the reference answer once, here; then ``workers`` passes over the cells, each running
one fresh worker process per cell, one process at a time (interleaved: see ``_passes``). A
worker starts a backend instance of its own, verifies, warms up, freezes the heap and times
``rounds`` rounds (``hybridbench.worker``, spawned by ``hybridbench.manager``). Finally each
cell's histograms and resource figures are merged (``hybridbench.reduce``), and cold starts
measured. Any failure, in this process or in a worker (exception, crash, timeout), is recorded
in its cell (which gets no further workers) and the run goes on.

Why several processes: a figure measured in one long-lived process carries that process's
garbage-collection cost and layout luck, and an interval over its rounds misses the spread
between processes (measured before version 2: 35 of 72 intervals held another run's median).
Each worker is a unit of the interval (``stats.worker_intervals``).

Servers are not shared between workers: each worker's backend spawns its own, so a server's
fresh state (allocator, caches, thread pool warm-up) is part of the between-process spread
the interval covers, and no worker measures a server another one has loaded.

Default budget (2 cores): 4 workers x 0.75 s measured each (4 rounds of 3/16 s, taken in
turns with the table's other backends: ``turns.py``), 0.25 s warm-up and 0.15 s of breakdown
calls per worker. A worker adds ~0.5-1 s of its own (interpreter and imports 0.25 s,
verification, the harness-cost probes 0.06 s, a server spawn), so the cell's 3 s are kept
and split four ways rather than three: the fourth pass costs one worker's overhead and takes
the ratio interval's t quantile from 4.30 (two degrees of freedom) to 3.18, which, with
turns, is what brings the tier table's median ratio interval under +-5% (issue 21).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hybridbench import (
    allocators,
    coldstart,
    envinfo,
    group,
    interrupts,
    manager,
    native,
    observability,
    paired,
    pinning,
    reduce,
    testhooks,
    thresholds,
)
from hybridbench.errors import BackendError, HybridbenchError, WorkloadError
from hybridbench.limits import check_payload_size
from hybridbench.messages import WorkerOutcome
from hybridbench.payloads import load_payload
from hybridbench.registry import (
    backend_names,
    get_workload,
    open_backend,
    unavailable_reason,
    workload_names,
)
from hybridbench.results import FAILED, OK, UNAVAILABLE, UNSUPPORTED, Cell, Kind, Results
from hybridbench.verification import reference_output
from hybridbench.worker import open_backend as open_worker_backend

#: workers (or rounds) disagreeing by more than this are flagged (defined in thresholds)
ROUND_SPREAD_WARNING = thresholds.NOISY_SPREAD
#: a cell timed while other processes used more cores than this is flagged
BUSY_CORES = thresholds.BUSY_CORES


@dataclass
class RunConfig:
    workloads: list[str] | None = None  # None: every workload
    backends: list[str] | None = None  # None: every registered backend
    #: None: each workload's default size (echo sweeps all); else one size for all, or per
    #: workload ``{"json": "64KB"}``
    sizes: dict[str, str] | str | None = None
    concurrency: list[int] = field(default_factory=lambda: [1])
    duration_s: float = 3.0  # measured time per cell, over all its workers
    rounds: int = 4  # rounds per worker (the turns of a pass: see turns.py)
    warmup_s: float = 0.25  # per worker
    rate: float | None = None  # open loop at this many requests per second
    seed: int = 0
    cold_start: bool = True
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: fresh processes per cell, one after another; the units of the interval
    workers: int = 4
    #: per worker, after the timed rounds: calls through ``run_timed`` for the time split
    breakdown_s: float = 0.15
    #: client workers and servers on disjoint CPUs
    pin: bool = False
    #: None: the deterministic rule of ``measure.batch_for``
    batch: int | None = None
    #: None: ``manager.worker_timeout`` (planned time x 3 + 60 s)
    worker_timeout_s: float | None = None
    #: backend name -> "module:Class" loaded by workers instead of the registry's entry
    backend_refs: dict[str, str] = field(default_factory=dict)
    #: backend label -> the registered backend it runs, with ``backend_options[label]`` as
    #: its options: one engine twice in a table, e.g. two builds of a kernel library
    #: (``hybridbench ab``: ``{"base": "ffi", "new": "ffi"}``); a cell's ``backend`` is the
    #: label, so the turns pair the two and the comparisons name them
    backend_kinds: dict[str, str] = field(default_factory=dict)
    #: backend label -> directories put first on its workers' PYTHONPATH: a plug-in install
    #: of its own (``hybridbench ab`` of two Python plug-in installs)
    python_paths: dict[str, list[str]] = field(default_factory=dict)
    #: the user's own payload files (or directories of them) instead of generated inputs;
    #: each file is a size of its own, labelled with its name
    inputs: list[str] | None = None
    #: made by ``quick()``: recorded so that the run index never takes a smoke run for the
    #: main report
    quick_run: bool = False
    #: client processes driving the backend together (a group per worker; see group.py)
    processes: int = 1
    #: open loop at each of these rates, a cell per rate (``rate`` is the one-rate case)
    rates: list[float] | None = None
    #: measure closed loop first, then open loop at SWEEP_FRACTIONS of each cell's closed-loop
    #: throughput: latency against load, up to and past saturation
    sweep: bool = False
    #: the latency objective the capacity is stated for (``capacity.py``)
    slo_p99_s: float | None = None
    #: the allocators every cell is measured under, a cell per allocator (``allocators``);
    #: None: ``allocators.DEFAULT`` only
    allocators: list[str] | None = None
    #: after the run, measure again every table that has an allocator-sensitive cell under
    #: ``allocators.second_choice()`` (the main job does: its verdicts then carry a range)
    allocator_recheck: bool = False
    #: the workers of a table take turns round by round (``hybridbench.turns``); False: each
    #: worker runs alone from start to end, one after another
    turns: bool = True
    #: ``--trace FILE``: each worker makes ``trace_calls`` sampled calls after its timed rounds
    #: as traces (client, server and kernel spans), merged into this file (OTLP JSON lines,
    #: ``hybridbench.tracing``); None: no traces
    trace: str | None = None
    trace_calls: int = 3
    #: ``--trace-endpoint URL``: the merged trace file is also sent there (OTLP/HTTP JSON)
    trace_endpoint: str | None = None
    #: the cost cells of ``--observability-cost`` (``hybridbench.observability``): label ->
    #: {"base": the backend it prices, "adds": "tracing", "unsampled tracing" or "logging"};
    #: the report states each one's cost from its paired ratio to its base
    observability: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def quick(cls, **overrides: Any) -> RunConfig:
        """Short cells for CI and smoke runs: numbers are indicative only."""
        return cls(**{"duration_s": 0.6, "rounds": 2, "warmup_s": 0.1, "workers": 2,
                      "breakdown_s": 0.05, "quick_run": True, **overrides})


@dataclass(frozen=True)
class CellPlan:
    workload: str
    size: str
    backend: str
    concurrency: int
    #: the payload comes from this file instead of the generator; ``size`` is then its name
    input_path: str | None = None
    #: open loop at this many requests per second; None: closed loop
    rate: float | None = None
    #: the allocator the cell's processes run under (``hybridbench.allocators``)
    allocator: str = allocators.DEFAULT

    @property
    def label(self) -> str:
        load = f" at {self.rate:g}/s" if self.rate else ""
        under = f" [{self.allocator}]" if self.allocator != allocators.DEFAULT else ""
        return f"{self.workload}/{self.size} on {self.backend} c={self.concurrency}{load}{under}"


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
        if backend_kind(config, name) not in known:
            raise WorkloadError(f"unknown backend {backend_kind(config, name)!r}; known: "
                                f"{', '.join(known)}")
    if any(c < 1 for c in config.concurrency):
        raise WorkloadError("concurrency must be at least 1")
    if config.workers < 1:
        raise WorkloadError("workers must be at least 1")
    if config.processes < 1:
        raise WorkloadError("processes must be at least 1")
    names = config.allocators or [allocators.DEFAULT]
    for name in names:
        allocators.get(name)
    if config.inputs:
        plans = _plan_inputs(config, workloads, backends)
    else:
        plans = [CellPlan(w, s, b, c, rate=r) for w in workloads for s in sizes_for(config, w)
                 for b in backends for c in config.concurrency for r in planned_rates(config)]
    return [replace(p, allocator=a) for a in names for p in plans]


def recheck_plan(cells: list[Cell], plans: list[CellPlan], allocator: str) -> list[CellPlan]:
    """The in-process cells (Python engines and FFI, but the standard-library control) of
    each table (workload, size, concurrency, load) that has an allocator-sensitive cell, again
    under ``allocator``.

    In-process, because that is where the headline's range lives: the strongest Python and
    the native library it is set against run in the worker's own process, under the
    allocator alone. A gRPC cell's time also holds a server, a transport and two
    processes' allocators; re-measuring them, and the echo sweep (``crossing_only``: no
    engine at stake), would cost the main job twice the time (DESIGN.md "Why only the
    in-process cells")."""
    sensitive = {_table(c.workload, c.size, c.concurrency, c.rate) for c in cells
                 if c.has(Kind.ALLOCATOR_SENSITIVE) and not _crossing_only(c.workload)}
    wanted = {(_table(c.workload, c.size, c.concurrency, c.rate), c.backend) for c in cells
              if _table(c.workload, c.size, c.concurrency, c.rate) in sensitive
              and _in_range(c.backend_info.get("profile") or {})}
    done = {(_table(p.workload, p.size, p.concurrency, p.rate), p.backend) for p in plans
            if p.allocator == allocator}
    todo = wanted - done
    chosen = [replace(p, allocator=allocator) for p in plans
              if (_table(p.workload, p.size, p.concurrency, p.rate), p.backend) in todo]
    return list(dict.fromkeys(chosen))


def _in_range(profile: dict[str, Any]) -> bool:
    """In-process, and not the standard-library Python control (``tuning`` "plain": 3-9x
    slower than the strongest Python in every table, it is never the range's baseline)."""
    plain_python = profile.get("engine_kind") == "python" and profile.get("tuning") == "plain"
    return profile.get("placement") == "in-process" and not plain_python


def _crossing_only(workload: str) -> bool:
    try:
        return get_workload(workload).crossing_only
    except WorkloadError:
        return False


#: the second allocator's pass of the main job times each cell for this share of
#: ``duration_s``, without breakdown calls or cold starts: it gives the headline its range
#: (point estimates), within issue 21's budget of 20% more time for the main job
RECHECK_DURATION_SHARE = 0.4


def recheck_config(config: RunConfig) -> RunConfig:
    """The main job's second-allocator phase: shorter cells, same workers and rounds (the
    paired ratios keep their passes)."""
    return replace(config, cold_start=False, breakdown_s=0.0,
                   duration_s=config.duration_s * RECHECK_DURATION_SHARE)


def _table(workload: str, size: str, concurrency: int, rate: float | None) -> tuple:
    return (workload, size, concurrency, rate)


def planned_rates(config: RunConfig) -> list[float | None]:
    """The open-loop rates asked for (None: closed loop). A sweep starts closed: its rates
    come from the closed-loop throughputs (``sweep_plan``)."""
    if config.sweep:
        return [None]
    if config.rates:
        return list(config.rates)
    return [config.rate]


#: a sweep's open-loop rates, as fractions of the cell's closed-loop throughput: from light
#: load to just past saturation (the closed loop is the most the client got through)
SWEEP_FRACTIONS = (0.25, 0.5, 0.7, 0.85, 1.0, 1.15)


def sweep_plan(closed: list[Cell], plans: list[CellPlan]) -> list[CellPlan]:
    """Open-loop cells at SWEEP_FRACTIONS of each measured closed-loop cell's throughput."""
    by_key = {(p.workload, p.size, p.backend, p.concurrency): p for p in plans}
    swept: list[CellPlan] = []
    for cell in closed:
        base = by_key.get((cell.workload, cell.size, cell.backend, cell.concurrency))
        if base is None or cell.status != OK or not cell.throughput_ops:
            continue
        swept.extend(replace(base, rate=round(cell.throughput_ops * f, 1))
                     for f in SWEEP_FRACTIONS)
    return swept


def input_files(paths: list[str]) -> list[Path]:
    """The files named, with each directory replaced by the regular files in it (sorted)."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise WorkloadError(f"--input {name}: no such file or directory")
    if not found:
        raise WorkloadError(f"--input {', '.join(paths)}: no files in it")
    return found


def _labels(files: list[Path]) -> list[str]:
    """A size label per file: its name, made unique where two files share one."""
    labels: list[str] = []
    for file in files:
        label, n = file.name, 2
        while label in labels:
            label, n = f"{file.name}#{n}", n + 1
        labels.append(label)
    return labels


def _plan_inputs(config: RunConfig, workloads: list[str], backends: list[str]
                 ) -> list[CellPlan]:
    """Cells over the user's files; every file is checked against each workload's reference
    first, so a file the reference rejects is reported (with its message) before anything
    is timed."""
    if config.sizes is not None:
        raise WorkloadError("--input and --size exclude each other: a file is its own size")
    files = input_files(config.inputs or [])
    for file in files:
        payload = file.read_bytes()  # once per file, checked against every workload
        for workload in workloads:
            try:
                check_payload_size(workload, len(payload))
                reference_output(workload, payload)
            except WorkloadError as exc:
                raise WorkloadError(f"--input {file}: the {workload} reference rejects it: "
                                    f"{exc}") from None
    return [CellPlan(w, label, b, c, input_path=str(file.resolve()), rate=r)
            for w in workloads for file, label in zip(files, _labels(files), strict=True)
            for b in backends for c in config.concurrency for r in planned_rates(config)]


def backend_kind(config: RunConfig, backend: str) -> str:
    """The registered backend a cell's ``backend`` runs: itself, or what its label stands
    for (``RunConfig.backend_kinds``)."""
    return config.backend_kinds.get(backend, backend)


def backend_options(config: RunConfig, cell_plan: CellPlan) -> dict[str, Any]:
    """The backend's options for this cell: the user's, plus the workload it is opened for
    (so a gRPC backend spawns exactly the server that serves it)."""
    return {**config.backend_options.get(cell_plan.backend, {}),
            "workloads": [cell_plan.workload]}


#: a cell's trace directory, in its directory of the run's temporary directory: its workers
#: and their servers write their spans there, each to a file of its own
TRACE_DIR = "trace"


def _trace_spec(config: RunConfig, directory: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the cell's trace directory, for its workers (their sampled calls) and
    their backends (the servers' ``--trace-file``), when the run traces. An unsampled-tracing
    cost cell's servers trace but its workers make no traced call: the directory goes to its
    backend only (unless the run traces: then it makes its sampled calls as every cell)."""
    options = spec["options"]
    server_only = options.get(observability.TRACE_SERVER_ONLY)
    if not (config.trace or options.get("trace_every_call") or server_only):
        return spec
    traces = directory / TRACE_DIR
    traces.mkdir(exist_ok=True)
    spec = {**spec, "options": {**options, "trace_dir": str(traces)}}
    if server_only and not config.trace:
        return spec
    return {**spec, "trace_dir": str(traces),
            "trace_calls": config.trace_calls if config.trace else 0}


def _send_traces(results: Results, config: RunConfig) -> None:
    """The trace file to ``--trace-endpoint``; a receiver that fails is a warning of the run,
    never a lost result (the file has every span)."""
    if not config.trace or not config.trace_endpoint:
        return
    from hybridbench import tracing  # the OpenTelemetry SDK only when tracing

    try:
        results.config["trace_requests_sent"] = tracing.send(Path(config.trace),
                                                             config.trace_endpoint)
    except tracing.TraceSendError as exc:
        results.warn(Kind.TRACE_NOT_SENT, f"{exc}; the spans are in {config.trace}",
                     endpoint=config.trace_endpoint)


def _merge_traces(run_directory: Path, output: Path) -> int:
    """The spans every cell's workers and servers wrote, into ``output``; the lines."""
    from hybridbench import tracing  # the OpenTelemetry SDK only when tracing

    return tracing.merge(sorted(run_directory.glob(f"*/*/{TRACE_DIR}")), output)


ProgressFn = Callable[[int, int, CellPlan], None]


@dataclass(frozen=True)
class WorkerEvent:
    """A worker slot of the run starting or ending (for progress lines).

    ``start`` events come only for workers that will run; an ``end`` event comes for every
    slot: ``status`` is the worker's outcome, or, when no worker ran, the cell's status
    (``unsupported``, ``unavailable``, ``failed`` before any worker) or ``skipped`` (an
    earlier worker of the cell failed); ``detail`` is the error or reason.
    """

    phase: str  # "start" or "end"
    slot: int  # 0-based position among all worker slots of the run
    total: int
    plan: CellPlan
    worker: int  # 1-based
    workers: int
    status: str | None = None
    detail: str | None = None
    seconds: float = 0.0
    ran: bool = False


def run(config: RunConfig, progress: ProgressFn | None = None,
        on_cell: Callable[[Cell], None] | None = None,
        cells_plan: list[CellPlan] | None = None,
        on_worker: Callable[[WorkerEvent], None] | None = None) -> Results:
    """Run every planned cell, its workers interleaved with the other cells' (see
    ``_passes``); ``progress(i, total, plan)`` is called before each worker slot,
    ``on_worker`` as each worker starts and ends, ``on_cell`` when a cell is complete.
    ``cells_plan`` is ``plan(config)`` when the caller has it already (planning checks
    ``--input`` files against the references: not worth doing twice).

    An interrupt (KeyboardInterrupt: Ctrl-C, or SIGTERM in the CLI) stops the measuring and
    returns what was measured, with ``config["interrupted"]``; further interrupts are held
    until then (``interrupts.deferred``), so that stopping never loses a measured cell."""
    if cells_plan is None:
        cells_plan = plan(config)
    affinity = pinning.plan(config.pin)
    results = Results(env=envinfo.capture(), config=_config_dict(config))
    results.env["cpu_affinity"] = affinity
    results.env["allocators"] = {name: allocators.get(name).describe()
                                 for name in allocators.NAMES}
    busy = envinfo.busy_warning()
    if busy:
        results.warn(Kind.BUSY_MACHINE, f"at start: {busy}", when="start")
    stale = native.stale_build_warning()
    if stale:
        results.warn(Kind.STALE_BUILD, stale)
    with contextlib.ExitStack() as stopping:
        with tempfile.TemporaryDirectory(prefix="hb-run-") as tmp:
            measure = _Phase(config, affinity, results, progress, on_cell, on_worker, stopping)
            measure(cells_plan, Path(tmp) / "closed")
            if config.allocator_recheck and not results.config.get("interrupted"):
                second = allocators.second_choice()
                again = recheck_plan(list(results.cells), cells_plan, second)
                results.config["allocator_rechecked"] = {
                    "allocator": second, "cells": len(again),
                    "rule": f"the in-process cells of tables with a cell faulting more than "
                            f"{thresholds.FAULTS_PER_CALL} pages per call"}
                cells_plan = [*cells_plan, *again]
                # A cold start is a process's first call; the first phase measured it, under
                # the allocator the report's figures default to.
                measure.config = recheck_config(config)
                measure(again, Path(tmp) / "allocator")
                measure.config = config
            if config.sweep and not results.config.get("interrupted"):
                swept = sweep_plan(list(results.cells), cells_plan)
                cells_plan = [*cells_plan, *swept]
                # The cold start is the closed-loop cell's; the sweep measures load only.
                measure.config = replace(config, cold_start=False)
                measure(swept, Path(tmp) / "sweep")
            if config.trace:
                results.config["trace_lines"] = _merge_traces(Path(tmp), Path(config.trace))
                _send_traces(results, config)
        if results.config.get("interrupted"):
            results.warn(
                Kind.INTERRUPTED,
                f"interrupted: {len(results.cells)} of {len(cells_plan)} cells have figures, "
                "some possibly from fewer workers than asked (see each cell's workers): the "
                "results are partial", cells=len(results.cells), planned=len(cells_plan))
        _finish(results, config, affinity)
    return results


@dataclass
class _Phase:
    """Prepare, measure and settle a list of cells into ``results``, then their cold starts
    (a run has one phase, a sweep two: closed loop, then the rates derived from it)."""

    config: RunConfig
    affinity: dict[str, Any]
    results: Results
    progress: ProgressFn | None
    on_cell: Callable[[Cell], None] | None
    on_worker: Callable[[WorkerEvent], None] | None
    #: where a further interrupt is held once the first one has stopped the run
    stopping: contextlib.ExitStack

    def __call__(self, cells_plan: list[CellPlan], directory: Path) -> None:
        pending: list[PendingCell] = []
        try:
            for index, cell_plan in enumerate(cells_plan):
                pending.append(prepare_cell(cell_plan, self.config, self.affinity,
                                            directory / f"cell-{index}"))
            _passes(pending, self.config, self.progress, self.on_worker)
            _settle(pending, self.results)
            paired.record(pending, self.results, self.config.seed, self.config.workers)
            _cold_starts(pending, self.config, self.on_cell)
        except KeyboardInterrupt as exc:
            # Keep what was measured: the caller saves it, marked as partial, and exits. A
            # further interrupt is held until the run returns: stopping must not lose it.
            self.stopping.enter_context(interrupts.deferred(
                "already stopping: keeping what was measured"))
            self.results.config["interrupted"] = True
            _settle(pending, self.results)
            if not self.results.comparisons:  # not recorded yet (interrupted before then)
                paired.record(pending, self.results, self.config.seed, self.config.workers)
            reason = f"the run was interrupted {interrupts.stopped_by(exc)}"
            for item in pending:
                if self.config.cold_start and item.cell.status == OK and item.cold_start_pending:
                    item.cell.warn(Kind.COLD_START_MISSING, f"cold start not measured: {reason}",
                                   reason=reason)


@dataclass
class PendingCell:
    """A cell between planning and merging: its workers' outcomes so far."""

    plan: CellPlan
    cell: Cell
    #: what each worker gets; None when the cell was settled without one (unavailable...)
    spec: dict[str, Any] | None = None
    #: the workers' messages as received; read into ``messages.WorkerOutcome`` for the
    #: reduction (``_merge``), while the pairing of backends (``paired``) reads their rounds
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    #: merged and in the results
    settled: bool = False
    #: its cold start is still to come (measured, failed or not wanted: False)
    cold_start_pending: bool = True

    @property
    def wants_worker(self) -> bool:
        return self.spec is not None and all(o.get("status") == OK for o in self.outcomes)


def _passes(pending: list[PendingCell], config: RunConfig, progress: ProgressFn | None,
            on_worker: Callable[[WorkerEvent], None] | None = None) -> None:
    """Worker 1 of every cell, then worker 2 of every cell, and so on: a pass per worker.

    Interleaved rather than cell by cell so that each cell's workers are spread over the whole
    run: a slow drift of the machine (another job starting, thermal state, a noisy
    neighbour) then shows in the spread between a cell's workers, which is what its interval
    is built from, instead of shifting whole cells, which no interval could see and which
    would bias the comparison of backends measured minutes apart. Within a pass the cells of
    one table (the same key but for the backend) run adjacent, in an order shuffled per pass
    (``paired.pass_order``): each pass gives each pair of backends a paired observation.
    """
    total = len(pending) * config.workers
    for worker in range(config.workers):
        order = paired.pass_order([p.cell for p in pending], config.seed, worker)
        position = 0
        for table in _tables_in(order, pending):
            slots = [(worker * len(pending) + position + offset, pending[index])
                     for offset, index in enumerate(table)]
            position += len(table)
            _run_table(slots, config, worker, total, progress, on_worker)


def _tables_in(order: list[int], pending: list[PendingCell]) -> list[list[int]]:
    """The pass order cut into its tables (``paired.pass_order`` keeps each one adjacent)."""
    tables: list[list[int]] = []
    for index in order:
        key = paired.table_key(pending[index].cell)
        if tables and paired.table_key(pending[tables[-1][0]].cell) == key:
            tables[-1].append(index)
        else:
            tables.append([index])
    return tables


@dataclass
class _Slot:
    """One worker slot of a pass: its place in the run, its cell, and its start event."""

    event: WorkerEvent
    item: PendingCell
    ran: bool
    started: float = 0.0


def _run_table(slots: list[tuple[int, PendingCell]], config: RunConfig, worker: int,
               total: int, progress: ProgressFn | None,
               on_worker: Callable[[WorkerEvent], None] | None) -> None:
    """One pass's workers of one table: in turns (``manager.run_in_turns``) when two or more
    run and each is a single process; otherwise one after another."""
    turns = _in_turns(slots, config)
    begun = []
    for slot, item in slots:
        if progress:
            progress(slot, total, item.plan)
        event = WorkerEvent("start", slot, total, item.plan, worker + 1, config.workers)
        one = _Slot(event, item, item.wants_worker and item.spec is not None,
                    time.perf_counter())
        if one.ran and on_worker:
            on_worker(event)
        if one.ran and item.spec is not None and not turns:
            item.outcomes.append(run_unit(item.spec, config))
        if not turns:
            _worker_ended(one, on_worker)
        begun.append(one)
    if turns:
        running = [one.item for one in begun if one.ran]
        outcomes = manager.run_in_turns([item.spec or {} for item in running],
                                        config.worker_timeout_s)
        for item, outcome in zip(running, outcomes, strict=True):
            item.outcomes.append(outcome)
        for one in begun:
            _worker_ended(one, on_worker)


def _in_turns(slots: list[tuple[int, PendingCell]], config: RunConfig) -> bool:
    running = [item for _, item in slots if item.wants_worker and item.spec is not None]
    return config.turns and config.processes == 1 and len(running) > 1


def _worker_ended(one: _Slot, on_worker: Callable[[WorkerEvent], None] | None) -> None:
    if one.ran:
        testhooks.pause("worker done")
    if on_worker:
        on_worker(_ended(one.event, one.item, one.ran, time.perf_counter() - one.started))


def run_unit(spec: dict[str, Any], config: RunConfig) -> dict[str, Any]:
    """One unit of a cell's interval: a worker, or with ``--processes N`` a group of N workers
    driving one backend together (the manager spawns the group's server)."""
    if config.processes == 1:
        return manager.run_worker(spec, config.worker_timeout_s)
    try:
        with _group_server(spec) as (target, shared), \
                tempfile.TemporaryDirectory(prefix="hb-group-") as barrier:
            specs = group.member_specs(spec, config.processes, Path(barrier), target)
            outcomes = manager.run_workers_together(specs, config.worker_timeout_s)
    except (HybridbenchError, OSError) as exc:
        return {"status": FAILED, "verified": False,
                "error": f"the group's server did not start: {type(exc).__name__}: {exc}"}
    combined = group.combine(outcomes, shared_server=shared)
    if target is not None and combined.get("backend_info"):
        combined["backend_info"]["server_shared_by"] = (
            f"{config.processes} client processes (spawned once per group by the harness)")
    return combined


@contextlib.contextmanager
def _group_server(spec: dict[str, Any]) -> Iterator[tuple[str | None, bool]]:
    """``(address for the members, whether they share a server)``: a backend that spawns a
    server spawns it once here; a --grpc-target is shared already; in-process engines are
    not shared (each member runs its own)."""
    backend = open_worker_backend(spec)
    with allocators.selected(spec.get("allocator")):
        backend.start()
    try:
        info = backend.describe()
        spawned = bool(set(backend.processes()) - {"client"})
        if spawned and info.get("target"):
            yield str(info["target"]), True
        else:
            yield None, info.get("spawned") is False
    finally:
        backend.stop()


def _ended(event: WorkerEvent, item: PendingCell, ran: bool, seconds: float) -> WorkerEvent:
    """The end of a worker slot: the worker's outcome, or why no worker ran."""
    if ran:
        outcome = item.outcomes[-1]
        status, detail = outcome.get("status") or FAILED, outcome.get("error")
    elif item.spec is None:
        status, detail = item.cell.status, item.cell.error
    else:
        status, detail = "skipped", "an earlier worker of this cell failed"
    return replace(event, phase="end", status=status, detail=detail, seconds=seconds, ran=ran)


def _settle(pending: list[PendingCell], results: Results) -> None:
    """Merge each cell's workers into ``results`` (once: this runs again after an interrupt
    that came while it ran)."""
    for item in pending:
        if item.settled or (item.spec is not None and not item.outcomes):
            continue  # settled already, or interrupted before its first worker: no figures
        if item.spec is not None:
            _reduce(item)
        results.cells.append(item.cell)
        item.settled = True


def _reduce(item: PendingCell) -> None:
    """The cell's figures from its workers' messages (read at the boundary: a malformed one
    fails its worker, and so the cell, with the bad field named)."""
    reduce.reduce_workers(item.cell, [WorkerOutcome.received(o) for o in item.outcomes])


def _cold_starts(pending: list[PendingCell], config: RunConfig,
                 on_cell: Callable[[Cell], None] | None) -> None:
    """Each measured cell's cold start (one per backend, workload and size); ``on_cell`` as
    each cell is complete."""
    cold_cache: ColdCache = {}
    for item in pending:
        if not item.settled:
            continue
        if config.cold_start and item.cell.status == OK and item.spec is not None:
            _attach_cold_start(item.cell, Path(item.spec["payload_path"]).read_bytes(),
                               backend_options(config, item.plan), cold_cache,
                               backend_kind(config, item.plan.backend))
        item.cold_start_pending = False
        if on_cell:
            on_cell(item.cell)


def _finish(results: Results, config: RunConfig, affinity: dict[str, Any]) -> None:
    busy = envinfo.busy_warning()
    if busy:
        results.warn(Kind.BUSY_MACHINE, f"at end: {busy}", when="end")
    results.env["load_average_end"] = envinfo.load_average()
    results.env["harness"] = run_harness(results.cells, config)
    if not affinity["pinned"] and any(c.cpu_affinity.get("shared") for c in results.cells):
        results.warn(Kind.SHARED_CPUS, "client and server processes shared CPU cores (no "
                     "--pin): their figures include competing for them")


def run_harness(cells: list[Cell], config: RunConfig) -> dict[str, Any]:
    """The run's harness cost: the median over the cells measured (each the median of its
    workers), with how the figures were obtained."""
    measured = [c.harness_ns for c in cells if c.harness_ns]
    keys = ("timer_ns", "timer_min_ns", "empty_call_ns")
    figures: dict[str, Any] = {
        key: (statistics.median(m[key] for m in measured) if measured else None)
        for key in keys}
    figures.update({"cells_measured": len(measured), "workers_per_cell": config.workers,
                    "measured_in": "each worker process, after verification and before "
                                   "warm-up: 20,000 perf_counter_ns pairs, and the closed "
                                   "loop with an empty call for 30 ms (batch 1)"})
    return figures


def _config_dict(config: RunConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(config)


def prepare_cell(cell_plan: CellPlan, config: RunConfig, affinity: dict[str, Any],
                 directory: Path) -> PendingCell:
    """The manager's part before any worker: availability, support, the payload and its
    reference answer (written to ``directory`` for the workers, so neither stays in memory)."""
    payload = load_payload(cell_plan.workload, cell_plan.size, config.seed,
                           cell_plan.input_path)
    cell = Cell(workload=cell_plan.workload, size=cell_plan.size, backend=cell_plan.backend,
                concurrency=cell_plan.concurrency, mode="open" if cell_plan.rate else "closed",
                rate=cell_plan.rate, payload_bytes=len(payload), processes=config.processes,
                allocator=cell_plan.allocator)
    pending = PendingCell(cell_plan, cell)
    kind = backend_kind(config, cell_plan.backend)
    options = backend_options(config, cell_plan)
    reason = unavailable_reason(kind, options) or _allocator_missing(cell_plan.allocator)
    if reason:
        cell.status, cell.error = UNAVAILABLE, reason
        return pending
    # Not started: only asked what it implements; the workers start their own.
    backend = open_backend(kind, **options)
    try:
        reason = backend.unsupported_reason(cell_plan.workload)
    except BackendError as exc:  # the engine cannot even be asked (an unreachable target)
        cell.status, cell.error = FAILED, f"BackendError: {exc}"
        return pending
    finally:
        backend.stop()
    if reason:
        cell.status, cell.error = UNSUPPORTED, reason
        return pending
    try:
        expected = reference_output(cell_plan.workload, payload)
    except WorkloadError as exc:
        cell.status, cell.error = "failed", f"the input is not valid: {exc}"
        return pending
    directory.mkdir(parents=True, exist_ok=True)
    expected_path, payload_path = directory / "expected.bin", directory / "payload.bin"
    expected_path.write_bytes(expected)
    payload_path.write_bytes(payload)
    pending.spec = _trace_spec(config, directory, {
        **worker_spec(cell_plan, config, affinity),
        "expected_path": str(expected_path), "payload_path": str(payload_path)})
    return pending


def _allocator_missing(name: str) -> str | None:
    reason = allocators.get(name).unavailable
    return f"allocator {name} unavailable: {reason}" if reason else None


def run_cell(cell_plan: CellPlan, config: RunConfig,
             cold_cache: ColdCache | None = None,
             affinity: dict[str, Any] | None = None) -> Cell:
    """One cell on its own, its workers one after another (``run`` interleaves cells)."""
    affinity = affinity or pinning.plan(config.pin)
    with tempfile.TemporaryDirectory(prefix="hb-cell-") as tmp:
        pending = prepare_cell(cell_plan, config, affinity, Path(tmp))
        if pending.spec is None:
            return pending.cell
        while len(pending.outcomes) < config.workers and pending.wants_worker:
            pending.outcomes.append(run_unit(pending.spec, config))
        _reduce(pending)
        if pending.cell.status == OK and config.cold_start:
            _attach_cold_start(pending.cell, Path(pending.spec["payload_path"]).read_bytes(),
                               backend_options(config, cell_plan), cold_cache,
                               backend_kind(config, cell_plan.backend))
    return pending.cell


def worker_spec(cell_plan: CellPlan, config: RunConfig, affinity: dict[str, Any]
                ) -> dict[str, Any]:
    """What a worker needs to measure its share of the cell (JSON)."""
    return {"workload": cell_plan.workload, "size": cell_plan.size, "seed": config.seed,
            "input_path": cell_plan.input_path, "backend": cell_plan.backend,
            "backend_kind": backend_kind(config, cell_plan.backend),
            "backend_ref": config.backend_refs.get(cell_plan.backend),
            "options": backend_options(config, cell_plan),
            "concurrency": cell_plan.concurrency, "rate": cell_plan.rate,
            "rounds": config.rounds,
            "round_s": config.duration_s / config.workers / config.rounds,
            "warmup_s": config.warmup_s, "breakdown_s": config.breakdown_s,
            "batch": config.batch, "cpu_affinity": affinity,
            "allocator": cell_plan.allocator,
            "python_path": config.python_paths.get(cell_plan.backend, [])}


#: cold starts measured so far, by backend, workload, size and allocator
ColdCache = dict[tuple[str, str, str, str | None], float | str]


def _attach_cold_start(cell: Cell, payload: bytes, options: dict[str, Any],
                       cache: ColdCache | None, kind: str | None = None) -> None:
    key = (cell.backend, cell.workload, cell.size, cell.allocator)
    if cache is None or key not in cache:
        try:
            value: float | str = coldstart.measure(kind or cell.backend, cell.workload, payload,
                                                   options, cell.allocator)
        except RuntimeError as exc:
            value = str(exc)
        if cache is not None:
            cache[key] = value
    else:
        value = cache[key]
    if isinstance(value, str):
        cell.warn(Kind.COLD_START_MISSING, f"cold start not measured: {value}", reason=value)
    else:
        cell.cold_start_s = value
