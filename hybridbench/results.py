"""The result file: these dataclasses *are* the JSON schema (DESIGN.md, "Python API, CLI,
result file").

Versioned by ``SCHEMA``; fields may be added, never change meaning. Files are written
atomically: a temporary file in the same directory, fsync, then ``os.replace``, so a crash or
Ctrl-C mid-write leaves the previous file intact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import os
import tempfile
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hybridbench import testhooks
from hybridbench.errors import HybridbenchError

#: 2: cells measured in worker processes; adds workers, worker_results, interval_method,
#: throughput_mean_ops, throughput_pi95, batch_rule, harness_ns, kernel_ns, kernel_hdr,
#: time_split, resource_source, server_reported, cpu_affinity; env adds harness, cpu_affinity
#: 3: warnings are typed (``Notice``: kind, message, data) in cells and at the top level;
#: later additions (no new number: files only grow): allocator, allocator_roles,
#: minor_faults_per_op, major_faults_per_op; env adds allocators
#: later grown (no new number: older readers ignore it) by the top-level ``comparisons``
SCHEMA = 3
#: older schemas this version still reads (their new fields stay at their defaults)
READABLE_SCHEMAS = (1, 2, 3)

#: what a schema-1 cell's throughput_ci95 was
SCHEMA_1_INTERVAL = "percentile bootstrap of round throughputs in one process (schema 1)"



class Status(enum.StrEnum):
    """A cell's outcome. A ``str``: files store the plain value, and ``cell.status == "ok"``
    keeps working."""

    OK = "ok"  # measured and verified
    WRONG = "wrong"  # the backend's answer differed from the reference: never timed
    FAILED = "failed"  # the backend or a worker failed (message in ``error``)
    UNSUPPORTED = "unsupported"  # the backend does not implement the workload
    UNAVAILABLE = "unavailable"  # the backend cannot run on this machine


#: the values cells hold: plain strings (JSON keys, dict keys, comparisons), checked against
#: ``Status`` when a file is read
OK, WRONG, FAILED, UNSUPPORTED, UNAVAILABLE = (s.value for s in Status)


class Kind:
    """Kinds of ``Notice``. Open: a plug-in may record kinds of its own; reporters group by
    kind and print the message, so an unknown kind still reads."""

    THIN_TAIL = "thin_tail"  # data: samples, beyond_p99, beyond_p999, threshold
    BATCHED = "batched"  # data: batch_size, rule
    NOISY = "noisy"  # data: spread, threshold
    UNSENT = "unsent"  # data: unsent, rate
    PROCESS_LOST = "process_lost"  # data: role
    BUSY_MACHINE = "busy_machine"  # data: cores_max, threshold (a cell) / when (the run)
    COLD_START_MISSING = "cold_start_missing"  # data: reason
    SHARED_CPUS = "shared_cpus"  # client and servers could share cores
    INTERRUPTED = "interrupted"  # data: cells, planned
    IMPORTED = "imported"  # converted from another tool's file; data: source
    NO_INTERVAL = "no_interval"  # the data has no spread to build an interval from
    #: a process of the cell faulted in more fresh pages per call than thresholds allows:
    #: its figure depends on the allocator; data: role, minor_per_call, threshold
    ALLOCATOR_SENSITIVE = "allocator_sensitive"
    #: a worker's timed rounds have a changepoint (``steady.py``); data: workers (worker,
    #: change, at_s, timed_s, z, warmup_s, warmup_bound_s, others_cores), threshold,
    #: z_threshold
    NO_STEADY_STATE = "no_steady_state"
    NOTE = "note"  # free text: every warning of a file older than schema 3
    #: the run: comparisons whose ratio the measured machine load moved; data: comparisons
    #: (each: label, ratio, quiet, busy, shift, others_cores_max), threshold, busy_cores
    LOAD_MOVED_RATIO = "load_moved_ratio"
    #: the run: comparisons whose every pass was busy (no quiet pass to judge a move by);
    #: data: comparisons load hits unequally (each: label, ratio, why, others_cores_max),
    #: all_passes_busy, busy_cores, cores_differ
    LOAD_THROUGHOUT = "load_throughout"
    #: the run: ``--trace-endpoint`` did not take the traces (the trace file has them);
    #: data: endpoint
    TRACE_NOT_SENT = "trace_not_sent"
    #: the run, in a checkout: an installed native artefact is older than a source it is
    #: built from (``native/``, ``go/``), so the commit recorded may not be the code measured
    STALE_BUILD = "stale_build"


@dataclass
class Notice:
    """A typed warning: what kind (``Kind``), the sentence to show, and its figures."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, value: Any) -> Notice:
        """A ``Notice`` from a stored one, or from free text (older files, a plug-in that
        appended a string): free text is a ``Kind.NOTE``."""
        if isinstance(value, Notice):
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            data = value.get("data")
            return cls(str(value.get("kind") or Kind.NOTE), value["message"],
                       data if isinstance(data, dict) else {})
        return cls(Kind.NOTE, str(value))


def notices(values: list[Any]) -> list[Notice | str]:
    return [Notice.of(v) for v in values]


class ResultFileError(HybridbenchError, ValueError):
    """A file this version cannot read as results; the message says where and what is wrong."""


@dataclass
class Cell:
    """One (workload, size, backend, concurrency, mode) measurement."""

    workload: str
    size: str
    backend: str
    concurrency: int = 1
    mode: str = "closed"  # "closed" or "open"
    rate: float | None = None  # open loop: requests per second asked for
    status: str = OK  # ok | wrong | failed | unsupported | unavailable
    verified: bool = False
    error: str | None = None
    payload_bytes: int = 0
    samples: int = 0
    batch_size: int = 1  # > 1: each sample is the mean of a timed batch of this many calls
    duration_s: float = 0.0
    throughput_ops: float | None = None  # median over rounds (of every worker)
    throughput_bytes: float | None = None  # request bytes per second, at throughput_ops
    #: 95% interval for the cell's throughput; how it was computed is in interval_method
    throughput_ci95: list[float] | None = None
    latency_ns: dict[str, float] | None = None  # p50 p90 p99 p999 max mean
    latency_hdr: str | None = None  # the whole distribution, HdrHistogram base64 encoding
    rss_peak_bytes: dict[str, int | None] = field(default_factory=dict)  # client, server
    rss_baseline_bytes: dict[str, int | None] = field(default_factory=dict)
    cpu_s_per_op: dict[str, float | None] = field(default_factory=dict)  # client, server
    cold_start_s: float | None = None
    rounds: list[dict[str, float]] = field(default_factory=list)  # ops, duration_s, throughput
    unsent: int = 0  # open loop: calls scheduled but never sent (backend too slow)
    #: typed (schema 3). Text is still accepted (older files, code that appends a string) and
    #: becomes a ``Kind.NOTE`` when read or saved: a file always holds typed notices
    warnings: list[Notice | str] = field(default_factory=list)
    backend_info: dict[str, Any] = field(default_factory=dict)
    # -- schema 2 ------------------------------------------------------------------------------
    #: worker processes whose figures make up this cell
    workers: int = 0
    #: per worker: pid, ops, duration_s, throughput, cpu_s, rss_peak_bytes...
    worker_results: list[dict[str, Any]] = field(default_factory=list)
    interval_method: str | None = None
    #: mean of the workers' throughputs: the centre of throughput_ci95 and throughput_pi95
    throughput_mean_ops: float | None = None
    #: 95% prediction interval: where a repeat run's mean throughput should land
    throughput_pi95: list[float] | None = None
    batch_rule: str | None = None
    #: the harness's own cost in this cell's workers: timer_ns, empty_call_ns...
    harness_ns: dict[str, float] = field(default_factory=dict)
    #: the engine's own time per call (reported by the backend), like latency_ns; None when
    #: the backend cannot tell
    kernel_ns: dict[str, float] | None = None
    kernel_hdr: str | None = None
    #: per call, median-based: end_to_end_ns, kernel_ns, crossing_ns (end-to-end minus
    #: kernel: transport + serialization + client), client_cpu_ns, calls
    time_split: dict[str, Any] = field(default_factory=dict)
    #: per role: "process" (sampled by PID) or "self-reported" (the server's own figures)
    resource_source: dict[str, str] = field(default_factory=dict)
    #: what the servers said about themselves at the end of the cell (server_resources())
    server_reported: dict[str, dict[str, float]] = field(default_factory=dict)
    #: CPUs the client and servers ran on; shared=True when they could share cores
    cpu_affinity: dict[str, Any] = field(default_factory=dict)
    #: how busy the machine was during the rounds, in cores: others_cores (processes not of
    #: this cell, mean and max over workers), steal_cores (taken by the hypervisor)
    machine_load: dict[str, float] = field(default_factory=dict)
    #: client processes that drove the backend together (``--processes``); each worker
    #: of the cell was then a group of this many, listed per worker in worker_results
    processes: int = 1
    #: who measured the cell: "hybridbench", or the tool a file was imported from
    #: ("pytest-benchmark 5.3.1"); imported cells have no interval, histogram or resources
    source: str = "hybridbench"
    #: an imported cell's figures as its tool computed them (times in ns: min_ns, median_ns,
    #: mean_ns, stddev_ns...; rounds, iterations); None for hybridbench's own cells
    source_stats: dict[str, Any] | None = None
    #: the allocator its processes ran under (``hybridbench.allocators``: glibc, glibc-tuned,
    #: jemalloc, mimalloc); None: not recorded (older files: the harness's own environment,
    #: glibc with its dynamic thresholds)
    allocator: str | None = None
    #: per role, what the kernel showed each process running under (``/proc/PID/maps``):
    #: "jemalloc: /usr/lib/.../libjemalloc.so.2 mapped", "not applicable: Go's runtime..."
    allocator_roles: dict[str, str] = field(default_factory=dict)
    #: page faults per call during the timed rounds, per role (client, server...): minor (a
    #: fresh page from the kernel) and major (read from disk); None where not known
    minor_faults_per_op: dict[str, float | None] = field(default_factory=dict)
    major_faults_per_op: dict[str, float | None] = field(default_factory=dict)
    # -- warm-up and steady state (added to schema 3: older files read with the defaults) --
    #: calls and seconds of warm-up, summed over the workers (each worker's in
    #: worker_results: warmup_calls, warmup_s, warmup_extended, steady_state, steady)
    warmup_calls: int = 0
    warmup_s: float = 0.0
    #: True: every worker's timed rounds passed the changepoint test (``steady.py``);
    #: False: at least one did not (warning ``no_steady_state``); None: not tested (too few
    #: calls, an older file, an imported cell)
    steady_state: bool | None = None

    def warn(self, kind: str, message: str, **data: Any) -> Notice:
        notice = Notice(kind, message, data)
        self.warnings.append(notice)
        return notice

    def has(self, kind: str) -> bool:
        return any(Notice.of(w).kind == kind for w in self.warnings)

    @property
    def key(self) -> tuple:
        """What makes two cells the same measurement: the allocator is part of it (the same
        call under two allocators is two rows)."""
        return (self.workload, self.size, self.backend, self.concurrency, self.mode, self.rate,
                self.allocator)

    @property
    def imported(self) -> bool:
        """Measured by another tool (``source``): its own statistics, no interval."""
        return self.source != "hybridbench"


@dataclass
class Comparison:
    """One backend's throughput against another's in the same table, from paired trials.

    A *table* is the cells that share ``Cell.key`` but for the backend (``paired.table_key``);
    in every pass of the run its workers ran adjacent, in a random order, so each pass gives
    one paired ratio and the ratio gets an interval of its own (``stats.paired_ratio``).
    Stored for every ordered pair of backends measured OK in a table, so a report can take
    any baseline. Added in schema 3 without changing a cell: files without it still load.
    """

    workload: str
    size: str
    backend: str
    #: the denominator
    baseline: str
    #: throughput of ``backend`` / throughput of ``baseline``: the geometric mean of passes
    ratio: float | None = None
    ratio_ci95: list[float] | None = None
    #: where a repeat run's ratio should land (95%): what ``compare`` holds a new run to
    ratio_pi95: list[float] | None = None
    method: str = ""
    #: paired passes the ratio rests on, and each one's ratio
    passes: int = 0
    pass_ratios: list[float] = field(default_factory=list)
    #: per pass: the most cores other processes used during either of its two workers
    pass_others_cores: list[float] = field(default_factory=list)
    concurrency: int = 1
    mode: str = "closed"
    rate: float | None = None
    #: the rest of the table's key as stored (``paired.table_key``: ``Cell.key`` without the
    #: backend), so that a field added to ``Cell.key`` keeps tables apart here too
    table: list[Any] = field(default_factory=list)
    #: kinds of what is doubtful about it (``Kind.LOAD_MOVED_RATIO``)
    flags: list[str] = field(default_factory=list)


@dataclass
class Results:
    env: dict[str, Any]
    cells: list[Cell] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[Notice | str] = field(default_factory=list)  # as Cell.warnings
    schema: int = SCHEMA
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    #: paired ratios between the backends of each table (empty: a file from before them, a
    #: merged or imported file, or tables of one backend)
    comparisons: list[Comparison] = field(default_factory=list)

    def warn(self, kind: str, message: str, **data: Any) -> Notice:
        notice = Notice(kind, message, data)
        self.warnings.append(notice)
        return notice

    def to_dict(self) -> dict[str, Any]:
        # Typed on the way out, whatever was appended (a plug-in may append plain text).
        self.warnings = notices(self.warnings)
        for cell in self.cells:
            cell.warnings = notices(cell.warnings)
        return _finite(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Any) -> Results:
        """Results from parsed JSON; ResultFileError naming the first field of the wrong
        shape, so that no report or comparison fails later on a half-read file."""
        if not isinstance(data, dict):
            raise ResultFileError(f"expected a JSON object with schema and cells, got "
                                  f"{type(data).__name__} {_excerpt(data)}")
        schema = data.get("schema")
        if type(schema) is not int or schema not in READABLE_SCHEMAS:  # True == 1: no bools
            raise ResultFileError(f"result file has schema {schema!r}; this hybridbench reads "
                                  f"{', '.join(map(str, READABLE_SCHEMAS))}")
        _check_fields(cls, data, required=("cells",), where="")
        known = {f.name for f in dataclasses.fields(Cell)}
        cells = []
        for index, raw in enumerate(data["cells"]):
            _check_fields(Cell, raw, required=("workload", "size", "backend"),
                          where=f"cells[{index}]")
            cell = Cell(**{k: v for k, v in raw.items() if k in known})
            cell.status = _status(cell.status, f"cells[{index}].status").value
            cell.warnings = notices(cell.warnings)
            cells.append(cell)
        if schema == 1:
            for cell in cells:
                _upgrade_schema_1(cell)
        return cls(env=data.get("env", {}), cells=cells, config=data.get("config", {}),
                   warnings=notices(data.get("warnings", [])), schema=schema,
                   created=data.get("created", ""),
                   comparisons=_comparisons(data.get("comparisons", [])))


def _comparisons(raw: Any) -> list[Comparison]:
    """The stored comparisons, each checked like a cell (unknown keys left alone)."""
    if not isinstance(raw, list):
        raise ResultFileError(f"comparisons: expected a list, got {_excerpt(raw)}")
    known = {f.name for f in dataclasses.fields(Comparison)}
    found = []
    for index, item in enumerate(raw):
        _check_fields(Comparison, item, required=("workload", "size", "backend", "baseline"),
                      where=f"comparisons[{index}]")
        found.append(Comparison(**{k: v for k, v in item.items() if k in known}))
    return found


def _status(value: str, where: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ResultFileError(f"{where}: unknown status {value!r}; known: "
                              f"{', '.join(Status)}") from None


def _check_fields(cls: type, data: Any, required: tuple[str, ...], where: str) -> None:
    """Every ``required`` key present and every known field of the type its annotation says
    (unknown keys are left alone: files only grow)."""
    if not isinstance(data, dict):
        raise ResultFileError(f"{where or 'top level'}: expected a JSON object, got "
                              f"{_excerpt(data)}")
    missing = [name for name in required if name not in data]
    if missing:
        raise ResultFileError(f"{where or 'top level'}: no {', '.join(map(repr, missing))}")
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        # cells and comparisons: checked one by one
        hint = list[Any] if item.name in ("cells", "comparisons") else hints[item.name]
        if item.name in data and not _matches(data[item.name], hint):
            name = f"{where}.{item.name}" if where else item.name
            raise ResultFileError(f"{name}: expected {_describe(hint)}, got "
                                  f"{_excerpt(data[item.name])}")


def _matches(value: Any, hint: Any) -> bool:
    """Whether parsed JSON ``value`` fits the annotation ``hint``, containers included.

    Floats accept null (NaN and infinities are written as null) and integers; no number
    accepts a bool.
    """
    if hint is Any:
        return True
    if hint is Notice:  # free text (schema < 3) or {kind, message, data}
        return isinstance(value, str) or (isinstance(value, dict)
                                          and isinstance(value.get("message"), str))
    if isinstance(hint, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float:
        return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(v, args[1]) for v in value.values())
    return isinstance(value, origin or hint)


def _describe(hint: Any) -> str:
    """An annotation in the words of JSON: ``dict[str, float] | None`` -> object or null."""
    words = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "an object", list: "a list", type(None): "null",
             Notice: "a warning (text, or an object with kind and message)"}
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    described = (words.get(typing.get_origin(o) or o, str(o)) for o in options)
    return " or ".join(dict.fromkeys(described))


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _upgrade_schema_1(cell: Cell) -> None:
    """Say what a schema-1 cell's figures were: one process, interval over its rounds."""
    if cell.status == OK:
        cell.workers = 1
        cell.interval_method = SCHEMA_1_INTERVAL


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing measurements are written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def dumps(results: Results) -> bytes:
    return orjson.dumps(results.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    A failure is an OSError naming ``path``: the temporary file is no name of the user's.
    """
    target = Path(path)
    try:
        _write_via_temporary(target, data)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def _write_via_temporary(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        testhooks.pause(f"write {target.name}")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save(results: Results, path: str | os.PathLike[str]) -> Path:
    return write_atomic(path, dumps(results))


def load(path: str | os.PathLike[str]) -> Results:
    """A result file; ResultFileError naming ``path`` when it is not JSON or not of the
    shape of results."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ResultFileError(f"{path}: not a hybridbench result file: {exc}") from None
    try:
        return Results.from_dict(data)
    except ResultFileError as exc:
        raise ResultFileError(f"{path}: not a hybridbench result file: {exc}") from None
