"""What a worker reports to the runner, typed (pyperf's ``Run``): the message of the process
boundary.

On the wire it stays the JSON object ``hybridbench.worker`` writes (and ``group.combine``
makes for a client group): ``WorkerOutcome.from_dict`` reads it, checking every field the
reduction (``hybridbench.reduce``) relies on, and ``to_dict`` writes it back. A malformed
message fails with the path of the bad field (``rounds[2].ops: expected an integer, got
'x'``) instead of a ``KeyError`` deep in the reduction; the runner turns that into a failed
worker (``WorkerOutcome.received``), so a bad worker fails its cell, not the run.

Only what the reduction reads is typed. Figures that pass through it unread into the result
file (the backend's ``describe()``, the harness costs, the CPU placement, the allocator check,
the steady-state verdict, a group's members) stay mappings, checked for their shape only:
their keys belong to their producers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: the status of a worker that measured (``results.OK``; not imported: this module is the
#: boundary and depends on nothing)
OK = "ok"


class MessageError(ValueError):
    """A worker's message lacks a field or has one of the wrong type; names its path."""


# -- reading a field, with its path in the error ------------------------------------------------

def _get(data: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in data:
        raise MessageError(f"{where}{name}: missing")
    return data[name]


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageError(f"{path}: expected an integer, got {_describe(value)}")
    return value


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageError(f"{path}: expected a number, got {_describe(value)}")
    return value


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise MessageError(f"{path}: expected a string, got {_describe(value)}")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise MessageError(f"{path}: expected true or false, got {_describe(value)}")
    return value


def _mapping(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise MessageError(f"{path}: expected an object, got {_describe(value)}")
    return dict(value)


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise MessageError(f"{path}: expected a list, got {_describe(value)}")
    return list(value)


def _numbers_by_role(value: object, path: str) -> dict[str, Any]:
    """``{role: number}``: resource figures per process role (client, server...)."""
    figures = _mapping(value, path)
    for role, number in figures.items():
        _number(number, f"{path}.{role}")
    return figures


def _ints(value: object, path: str) -> list[int]:
    return [_int(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]


# -- the parts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimedRound:
    """One timed round of a worker: its calls, their time, and open-loop calls never sent."""

    ops: int
    duration_ns: float
    unsent: int
    #: ``time.monotonic_ns()`` at its start (one clock for all processes); None for a group
    at_ns: int | None = None

    @classmethod
    def from_dict(cls, data: object, where: str) -> TimedRound:
        found = _mapping(data, where.rstrip("."))
        at_ns = found.get("at_ns")
        return cls(ops=_int(_get(found, "ops", where), f"{where}ops"),
                   duration_ns=_number(_get(found, "duration_ns", where), f"{where}duration_ns"),
                   unsent=_int(_get(found, "unsent", where), f"{where}unsent"),
                   at_ns=None if at_ns is None else _int(at_ns, f"{where}at_ns"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ops": self.ops, "duration_ns": self.duration_ns,
                                "unsent": self.unsent}
        if self.at_ns is not None:
            data["at_ns"] = self.at_ns
        return data


@dataclass(frozen=True)
class Resources:
    """Per process role, over the timed rounds: memory, CPU, page faults, how measured."""

    rss_baseline_bytes: dict[str, Any]
    rss_peak_bytes: dict[str, Any]
    cpu_s: dict[str, Any]
    #: roles whose process disappeared during the rounds
    lost: list[str]
    #: per role: "process" (the monitor's) or "self-reported" (the server's own figures)
    source: dict[str, str]
    #: absent from a group's outcome: the cell then has no fault figures
    minor_faults: dict[str, Any] = field(default_factory=dict)
    major_faults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object, where: str = "resources.") -> Resources:
        found = _mapping(data, where.rstrip("."))

        def by_role(name: str, required: bool = True) -> dict[str, Any]:
            if not required and name not in found:
                return {}
            return _numbers_by_role(_get(found, name, where), f"{where}{name}")

        lost = _list(_get(found, "lost", where), f"{where}lost")
        source = _mapping(_get(found, "source", where), f"{where}source")
        return cls(rss_baseline_bytes=by_role("rss_baseline_bytes"),
                   rss_peak_bytes=by_role("rss_peak_bytes"), cpu_s=by_role("cpu_s"),
                   lost=[_str(r, f"{where}lost[{i}]") for i, r in enumerate(lost)],
                   source={role: _str(s, f"{where}source.{role}") for role, s in source.items()},
                   minor_faults=by_role("minor_faults", required=False),
                   major_faults=by_role("major_faults", required=False))

    def to_dict(self) -> dict[str, Any]:
        return {"rss_baseline_bytes": self.rss_baseline_bytes,
                "rss_peak_bytes": self.rss_peak_bytes, "cpu_s": self.cpu_s,
                "minor_faults": self.minor_faults, "major_faults": self.major_faults,
                "lost": self.lost, "source": self.source}

    def faults(self, kind: str) -> dict[str, Any]:
        """``minor`` or ``major`` page faults per role."""
        return self.minor_faults if kind == "minor" else self.major_faults


@dataclass(frozen=True)
class Breakdown:
    """End-to-end and engine time of the same calls, after the timed rounds."""

    calls: int
    end_to_end_ns: list[int]
    #: None when the backend cannot tell its engine's time
    kernel_ns: list[int] | None

    @classmethod
    def from_dict(cls, data: object, where: str = "breakdown.") -> Breakdown:
        found = _mapping(data, where.rstrip("."))
        kernel = _get(found, "kernel_ns", where)
        return cls(calls=_int(_get(found, "calls", where), f"{where}calls"),
                   end_to_end_ns=_ints(_get(found, "end_to_end_ns", where),
                                       f"{where}end_to_end_ns"),
                   kernel_ns=None if kernel is None else _ints(kernel, f"{where}kernel_ns"))

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "end_to_end_ns": self.end_to_end_ns,
                "kernel_ns": self.kernel_ns}


@dataclass(frozen=True)
class MachineLoad:
    """Cores other processes used, and the hypervisor stole, while the rounds were timed."""

    others_cores: float
    steal_cores: float

    @classmethod
    def from_dict(cls, data: object, where: str = "machine.") -> MachineLoad:
        found = _mapping(data, where.rstrip("."))
        return cls(others_cores=_number(_get(found, "others_cores", where),
                                        f"{where}others_cores"),
                   steal_cores=_number(_get(found, "steal_cores", where),
                                       f"{where}steal_cores"))

    def to_dict(self) -> dict[str, Any]:
        return {"others_cores": self.others_cores, "steal_cores": self.steal_cores}


@dataclass(frozen=True)
class Warmup:
    """How long the worker warmed up before its rounds (``steady.warm_up``)."""

    calls: int
    seconds: float
    extended: bool
    bound_s: float
    #: what else the producer records (chunks, its own test), carried through untouched
    more: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object, where: str = "warmup.") -> Warmup:
        found = _mapping(data, where.rstrip("."))
        known = ("calls", "seconds", "extended", "bound_s")
        return cls(calls=_int(_get(found, "calls", where), f"{where}calls"),
                   seconds=_number(_get(found, "seconds", where), f"{where}seconds"),
                   extended=_bool(_get(found, "extended", where), f"{where}extended"),
                   bound_s=_number(_get(found, "bound_s", where), f"{where}bound_s"),
                   more={k: v for k, v in found.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "seconds": self.seconds, "extended": self.extended,
                "bound_s": self.bound_s, **self.more}


@dataclass(frozen=True)
class WarmState:
    """A worker's warm-up and the changepoint verdict on its timed rounds, with the machine's
    load then: what the steady-state check of the reduction reads. Either part may be absent
    (an older worker)."""

    warmup: Warmup | None = None
    #: ``steady.check_rounds``'s verdict with ``at_s`` and ``timed_s``: stored whole in the
    #: cell, so kept as the producer wrote it (``steady`` is True, False or None)
    steady: dict[str, Any] | None = None
    others_cores: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarmState:
        """From a worker's message (only ``warmup``, ``steady`` and ``machine`` are read)."""
        warmup, verdict = data.get("warmup"), data.get("steady")
        machine = data.get("machine")
        others = _mapping(machine, "machine").get("others_cores") if machine else None
        return cls(warmup=Warmup.from_dict(warmup) if warmup else None,
                   steady=_verdict(verdict) if verdict else None,
                   others_cores=None if others is None else _number(others,
                                                                    "machine.others_cores"))


def _verdict(value: object) -> dict[str, Any]:
    verdict = _mapping(value, "steady")
    state = _get(verdict, "steady", "steady.")
    if state is not None:
        _bool(state, "steady.steady")
    return verdict


# -- the message ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    """What a worker whose status is ``ok`` timed: the figures the reduction merges."""

    batch: int
    batch_rule: str
    rounds: list[TimedRound]
    #: the rounds' latencies: an encoded HDR histogram (``stats.encode_histogram``)
    latency_hdr: str
    resources: Resources
    machine: MachineLoad
    breakdown: Breakdown
    #: the harness's own cost, per figure (``worker.harness_cost``)
    harness: dict[str, float]
    #: the CPUs the client and its servers were allowed on (``worker._place_servers``)
    cpu_affinity: dict[str, Any]
    out_of_process: bool = False
    #: timed in turns with the table's other workers (``turns.py``)
    in_turns: bool = False
    #: the allocator each process really ran under; None when none was chosen
    allocator: dict[str, Any] | None = None
    #: a server's own report of its resources, at the end of the rounds
    server_reported: dict[str, Any] = field(default_factory=dict)
    warm: WarmState = field(default_factory=WarmState)
    #: a client group's members (``group.combine``); None for one worker process
    group: list[dict[str, Any]] | None = None
    #: sampled calls made as traces after the rounds (``run --trace``); written only when
    #: there were some
    traced_calls: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measured:
        rounds = _list(_get(data, "rounds", ""), "rounds")
        allocator, group = data.get("allocator"), data.get("group")
        affinity = _mapping(_get(data, "cpu_affinity", ""), "cpu_affinity")
        _get(affinity, "client", "cpu_affinity.")
        return cls(
            batch=_int(_get(data, "batch", ""), "batch"),
            batch_rule=_str(_get(data, "batch_rule", ""), "batch_rule"),
            rounds=[TimedRound.from_dict(r, f"rounds[{i}].") for i, r in enumerate(rounds)],
            latency_hdr=_str(_get(data, "latency_hdr", ""), "latency_hdr"),
            resources=Resources.from_dict(_get(data, "resources", "")),
            machine=MachineLoad.from_dict(_get(data, "machine", "")),
            breakdown=Breakdown.from_dict(_get(data, "breakdown", "")),
            harness=_numbers_by_role(_get(data, "harness", ""), "harness"),
            cpu_affinity=affinity,
            out_of_process=bool(data.get("out_of_process")),
            in_turns=bool(data.get("in_turns")),
            allocator=None if allocator is None else _mapping(allocator, "allocator"),
            server_reported=_mapping(data.get("server_reported") or {}, "server_reported"),
            warm=WarmState.from_dict(data),
            group=None if group is None else [_mapping(m, f"group[{i}]")
                                              for i, m in enumerate(_list(group, "group"))],
            traced_calls=_int(data.get("traced_calls", 0), "traced_calls"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "batch": self.batch, "batch_rule": self.batch_rule,
            "out_of_process": self.out_of_process, "harness": self.harness,
            "cpu_affinity": self.cpu_affinity, "rounds": [r.to_dict() for r in self.rounds],
            "in_turns": self.in_turns, "allocator": self.allocator,
            "latency_hdr": self.latency_hdr, "resources": self.resources.to_dict(),
            "machine": self.machine.to_dict(), "server_reported": self.server_reported,
            "breakdown": self.breakdown.to_dict()}
        if self.warm.warmup is not None:
            data["warmup"] = self.warm.warmup.to_dict()
        if self.warm.steady is not None:
            data["steady"] = self.warm.steady
        if self.group is not None:
            data["group"] = self.group
        if self.traced_calls:
            data["traced_calls"] = self.traced_calls
        return data


@dataclass(frozen=True)
class WorkerOutcome:
    """One unit of a cell's interval, as its worker (or client group) reported it.

    ``measured`` is there exactly when ``status`` is ``ok``; a failed worker has its
    ``error`` instead (and a ``backend_info`` if its backend started)."""

    status: str
    error: str | None = None
    #: its answer matched the reference (a worker can verify and then fail)
    verified: bool = False
    pid: int | None = None
    #: the backend's ``describe()``, once it started
    backend_info: dict[str, Any] | None = None
    measured: Measured | None = None

    @classmethod
    def from_dict(cls, data: object) -> WorkerOutcome:
        """The message, checked; ``MessageError`` names the first bad field."""
        found = _mapping(data, "worker outcome")
        status = _str(_get(found, "status", ""), "status")
        error, pid, info = found.get("error"), found.get("pid"), found.get("backend_info")
        return cls(status=status,
                   error=None if error is None else _str(error, "error"),
                   verified=bool(found.get("verified")),
                   pid=None if pid is None else _int(pid, "pid"),
                   backend_info=None if info is None else _mapping(info, "backend_info"),
                   measured=Measured.from_dict(found) if status == OK else None)

    @classmethod
    def received(cls, data: object) -> WorkerOutcome:
        """The message as the runner takes it: a malformed one is that worker's failure."""
        try:
            return cls.from_dict(data)
        except MessageError as exc:
            return cls(status="failed", error=f"the worker's result is malformed: {exc}")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"pid": self.pid, "verified": self.verified}
        if self.backend_info is not None:
            data["backend_info"] = self.backend_info
        if self.measured is not None:
            data.update(self.measured.to_dict())
        data["status"], data["error"] = self.status, self.error
        return data

    @property
    def ok(self) -> bool:
        return self.status == OK
