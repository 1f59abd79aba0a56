"""The result file: these dataclasses *are* the JSON schema (DESIGN.md, "Result file").

Versioned by ``SCHEMA``; fields may be added, never change meaning. Files are written
atomically: a temporary file in the same directory, fsync, then ``os.replace``, so a crash or
Ctrl-C mid-write leaves the previous file intact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SCHEMA = 1

#: cell status values
OK, WRONG, FAILED, UNSUPPORTED, UNAVAILABLE = "ok", "wrong", "failed", "unsupported", "unavailable"


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
    throughput_ops: float | None = None  # median over rounds
    throughput_bytes: float | None = None  # request bytes per second, at throughput_ops
    throughput_ci95: list[float] | None = None  # bootstrap 95% CI of the median
    latency_ns: dict[str, float] | None = None  # p50 p90 p99 p999 max mean
    latency_hdr: str | None = None  # the whole distribution, HdrHistogram base64 encoding
    rss_peak_bytes: dict[str, int | None] = field(default_factory=dict)  # client, server
    rss_baseline_bytes: dict[str, int | None] = field(default_factory=dict)
    cpu_s_per_op: dict[str, float | None] = field(default_factory=dict)  # client, server
    cold_start_s: float | None = None
    rounds: list[dict[str, float]] = field(default_factory=list)  # ops, duration_s, throughput
    unsent: int = 0  # open loop: calls scheduled but never sent (backend too slow)
    warnings: list[str] = field(default_factory=list)
    backend_info: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.workload, self.size, self.backend, self.concurrency, self.mode, self.rate)


@dataclass
class Results:
    env: dict[str, Any]
    cells: list[Cell] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    schema: int = SCHEMA
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return _finite(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        schema = data.get("schema")
        if schema != SCHEMA:
            raise ValueError(f"result file has schema {schema!r}; this hybridbench reads {SCHEMA}")
        known = {f.name for f in dataclasses.fields(Cell)}
        cells = [Cell(**{k: v for k, v in c.items() if k in known}) for c in data["cells"]]
        return cls(env=data.get("env", {}), cells=cells, config=data.get("config", {}),
                   warnings=data.get("warnings", []), schema=schema,
                   created=data.get("created", ""))


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
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save(results: Results, path: str | os.PathLike[str]) -> Path:
    return write_atomic(path, dumps(results))


def load(path: str | os.PathLike[str]) -> Results:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a hybridbench result file: {exc}") from None
    return Results.from_dict(data)
