"""A worker process: measures one cell once, in a fresh interpreter (pyperf's worker role).

The manager (``hybridbench.manager``) writes a JSON spec and runs
``python -m hybridbench.worker SPEC.json``; the worker writes its figures as JSON to
``spec["result_path"]`` and exits 0, also when the cell failed (the failure is in the JSON).
A crash or a hang is the manager's to detect.

Order, as in pyperf: place the process (``--pin``); load the payload; start a backend instance
of its own; run once and verify the answer (a wrong answer is reported, never timed); measure
the harness's own cost; warm up until the engine's time per call is steady (bounded:
``steady.warm_up``); ``gc.collect(); gc.freeze()`` so that everything allocated so
far (imports, the payload, the backend) is never scanned again by the collector; then the
timed rounds inside a resource monitor, whose samples are then tested for a changepoint
(``steady.check``); then a short breakdown phase with ``run_timed`` that
records the engine's own time per call. Only what the cell needs is imported: no scipy, no
report, no CLI, so the heap the collector walks is the cell's, not the harness's.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import json
import os
import sys
import time
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from hybridbench import allocators, group, measure, pinning, stats, steady, turns
from hybridbench.backend import Backend
from hybridbench.errors import HybridbenchError, VerificationError
from hybridbench.payloads import load_payload
from hybridbench.registry import backend_class, get_workload
from hybridbench.resources import ResourceMonitor, cpu_seconds
from hybridbench.turns import Turns

#: the breakdown phase stops after this many calls or ``breakdown_s``, whichever comes first
BREAKDOWN_MAX_CALLS = 2000
#: the backend option of a tracing cost cell (``run --observability-cost``): every timed call
#: is traced as ``run --trace`` traces its sampled calls
TRACE_EVERY_CALL = "trace_every_call"


def open_backend(spec: dict[str, Any]) -> Backend:
    """The backend named in the spec (``backend_kind``: the registered backend a label stands
    for); ``backend_ref`` ("module:Class") overrides the registry so that tests and
    unregistered plug-ins can run in a worker too."""
    ref = spec.get("backend_ref")
    if ref:
        module, _, name = ref.partition(":")
        cls = getattr(importlib.import_module(module), name)
    else:
        cls = backend_class(spec.get("backend_kind") or spec["backend"])
    return cls(**spec.get("options", {}))


def out_of_process(backend: Backend) -> bool:
    """True when the work runs in another process (a spawned server, or a remote target)."""
    return bool(set(backend.processes()) - {"client"}) or bool(backend.server_resources())


def measure_cell(spec: dict[str, Any]) -> dict[str, Any]:
    """Everything one worker measures for its cell, or ``{"status": ..., "error": ...}``."""
    affinity = spec.get("cpu_affinity") or {}
    if affinity.get("pinned"):
        pinning.pin_self(affinity["client"])
    workload = spec["workload"]
    # The manager hands over the bytes it verified against (payload_path): generating the
    # 5 MB image takes ~4 s, which every worker of every backend would otherwise repeat.
    payload = load_payload(workload, spec["size"], spec["seed"],
                           spec.get("payload_path") or spec.get("input_path"))
    expected = Path(spec["expected_path"]).read_bytes()
    backend = open_backend(spec)
    result: dict[str, Any] = {"pid": os.getpid(), "verified": False}
    try:
        backend.start()
        result["backend_info"] = backend.describe()
        get_workload(workload).verify(payload, backend.run(workload, payload), expected)
        result["verified"] = True
        result.update(_timed(backend, workload, payload, spec))
        result["status"], result["error"] = "ok", None
    except VerificationError as exc:
        result["status"], result["error"] = "wrong", f"output differs from the reference: {exc}"
    except (HybridbenchError, OSError) as exc:
        result["status"], result["error"] = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        backend.stop()
    return result


def _place_servers(backend: Backend, affinity: dict[str, Any]) -> dict[str, Any]:
    servers = {role: pid for role, pid in backend.processes().items() if role != "client"}
    if affinity.get("pinned"):
        for pid in servers.values():
            pinning.pin_process_tree(pid, affinity["server"])
    return {"client": pinning.current(0),
            "server": {role: pinning.current(pid) for role, pid in servers.items()} or None}


def _timed(backend: Backend, workload: str, payload: bytes, spec: dict[str, Any]
           ) -> dict[str, Any]:
    remote = out_of_process(backend)
    affinity = _place_servers(backend, spec.get("cpu_affinity") or {})
    batch, rule = _batch(spec, len(payload), remote)
    traces = _trace_client(backend, workload, payload, spec, remote)
    call = functools.partial(backend.run, workload, payload)
    if spec["options"].get(TRACE_EVERY_CALL):  # a tracing cost cell: every call is traced
        call = traces.call
    harness = harness_cost(batch)
    warmup = _warm_up(call, spec, batch)
    gc.collect()
    gc.freeze()  # everything so far is long-lived: the collector skips it from now on
    group.await_start(spec)  # a client group's members time their rounds side by side
    taking_turns = Turns.from_spec(spec)  # or the table's workers time theirs in turn
    taking_turns.park()
    histogram = stats.new_histogram()
    rounds = []
    medians = []  # per round, its segments' medians: the rounds' steady-state test
    reported_before = backend.server_resources()
    machine = MachineLoad(backend.processes())
    with ResourceMonitor(backend.processes()) as monitor:
        for _ in range(spec["rounds"]):
            taking_turns.await_turn()
            if taking_turns.taken:  # the workers before this turn evicted its caches
                _run(call, spec, spec["round_s"] * turns.REWARM_FRACTION, batch)
            at_ns = time.monotonic_ns()  # one clock for all processes: turns can be checked
            with machine.measuring():
                done = _run(call, spec, spec["round_s"], batch)
            taking_turns.end_turn()
            stats.record_many(histogram, done.latencies_ns)
            medians.append(steady.round_medians(done, spec["rounds"]))
            rounds.append({"ops": done.ops, "duration_ns": done.duration_ns,
                           "unsent": done.unsent, "at_ns": at_ns})
    reported_after = backend.server_resources()
    taking_turns.await_turn()  # the breakdown measures too: in turn
    split = breakdown(backend, workload, payload, spec["breakdown_s"])
    traced = _traced(traces, spec)
    return {"batch": batch, "batch_rule": rule, "out_of_process": remote, "harness": harness,
            "cpu_affinity": affinity, "rounds": rounds, "in_turns": taking_turns.taken,
            "allocator": allocator_in_use(backend, spec.get("allocator")),
            "steady": _steady(medians, rounds, warmup), "warmup": warmup.as_dict(),
            "latency_hdr": stats.encode_histogram(histogram),
            "resources": _resources(monitor, reported_before, reported_after),
            "machine": machine.figures(),
            "server_reported": reported_after,
            "breakdown": split, **({"traced_calls": traced} if traced else {})}


def _traced(client: Any, spec: dict[str, Any]) -> int:
    """The sampled calls of ``run --trace``, after the breakdown (still in turn), so their
    spans never touch a timed figure; 0 when the run does not trace."""
    if client is None:
        return 0
    calls = int(spec.get("trace_calls") or 0)
    try:
        for _ in range(calls):
            client.call()
    finally:
        client.shutdown()
    return calls


def _trace_client(backend: Backend, workload: str, payload: bytes, spec: dict[str, Any],
                  remote: bool) -> Any:
    """The worker's ``tracing.Client`` when the cell traces (``run --trace``, or a tracing
    cost cell), else None (the OpenTelemetry SDK is then never imported)."""
    if not spec.get("trace_dir"):
        return None
    from hybridbench import tracing

    return tracing.Client(backend, workload, payload, Path(spec["trace_dir"]), remote)


def allocator_in_use(backend: Backend, name: str | None) -> dict[str, Any] | None:
    """The allocator each process of the cell really runs under, read from the kernel
    (``/proc/PID/maps`` and ``environ``); None when the manager chose none."""
    if not name:
        return None
    roles = {"client": os.getpid(), **backend.processes()}
    return {"name": name,
            "roles": {role: allocators.check_process(pid, name) for role, pid in roles.items()}}


def _warm_up(call: measure.Call, spec: dict[str, Any], batch: int) -> steady.Warmup:
    """Warm up until the engine's time per call is steady (``steady.warm_up``): at least
    ``warmup_s``, at most ``warmup_max_s`` or the rule of ``steady.warmup_bound``."""
    timed_s = spec["rounds"] * spec["round_s"]
    bound = spec.get("warmup_max_s") or steady.warmup_bound(spec["warmup_s"], timed_s)
    return steady.warm_up(lambda seconds: _run(call, spec, seconds, batch),
                          spec["warmup_s"], bound)


def _steady(medians: list[np.ndarray], rounds: list[dict[str, Any]], warmup: steady.Warmup
            ) -> dict[str, Any]:
    """The timed rounds' changepoint test, with where the change lies in seconds into them."""
    verdict = steady.check_rounds(np.concatenate(medians) if medians else np.empty(0),
                                  warmup.tail)
    timed_s = sum(r["duration_ns"] for r in rounds) / 1e9
    return {**verdict.as_dict(), "at_s": verdict.at * timed_s, "timed_s": timed_s}


def _batch(spec: dict[str, Any], payload_bytes: int, remote: bool) -> tuple[int, str]:
    if spec.get("rate"):
        return 1, "open loop: every call is timed from its due time"
    if spec.get("batch"):
        return int(spec["batch"]), "fixed by the caller"
    return measure.batch_for(payload_bytes, remote)


def _run(call: measure.Call, spec: dict[str, Any], seconds: float, batch: int) -> measure.Round:
    if spec.get("rate"):
        return measure.open_loop(call, spec["rate"], spec["concurrency"], seconds)
    return measure.closed_loop(call, spec["concurrency"], seconds, batch)


class MachineLoad:
    """How busy the machine was while this worker timed its rounds, in cores, from the
    kernel's counters: ``others_cores`` is CPU used by processes other than this cell's
    (client and servers), ``steal_cores`` CPU the hypervisor gave to other guests. Counted
    over the rounds only: between turns the table's other workers run, and they are not a
    load on this one. A cell measured next to a compiler gets slower in CPU time too (shared
    caches, SMT siblings), which no interval over its own workers can see; this is how the
    result says so."""

    _BUSY = ("user", "nice", "system", "irq", "softirq")

    def __init__(self, pids: dict[str, int]) -> None:
        self._ours = [psutil.Process(pid) for pid in pids.values()]
        self.wall_s = self.busy_s = self.ours_s = self.steal_s = 0.0

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        wall, times, ours = time.perf_counter(), psutil.cpu_times(), self._our_cpu()
        yield
        after = psutil.cpu_times()
        self.ours_s += self._our_cpu() - ours
        self.wall_s += time.perf_counter() - wall
        self.busy_s += self._busy(after) - self._busy(times)
        self.steal_s += getattr(after, "steal", 0.0) - getattr(times, "steal", 0.0)

    def _our_cpu(self) -> float:
        total = 0.0
        for process in self._ours:
            with contextlib.suppress(psutil.Error):  # a lost server: the cell says so
                total += cpu_seconds(process)
        return total

    def _busy(self, times: Any) -> float:
        return float(sum(getattr(times, name, 0.0) for name in self._BUSY))

    def figures(self) -> dict[str, float]:
        wall = max(self.wall_s, 1e-9)
        return {"others_cores": max(0.0, self.busy_s - self.ours_s) / wall,
                "steal_cores": max(0.0, self.steal_s) / wall}


def harness_cost(batch: int) -> dict[str, float]:
    """The harness's own cost in this process: the timer pair, and the timing loop with an
    empty call (per call, at batch 1 and at the cell's batch)."""
    timer = measure.timer_cost_ns()
    cost = {"timer_ns": timer["median"], "timer_min_ns": timer["min"],
            "empty_call_ns": measure.empty_call_cost_ns(1)}
    cost["empty_call_batched_ns"] = (measure.empty_call_cost_ns(batch) if batch > 1
                                     else cost["empty_call_ns"])
    return cost


def _resources(monitor: ResourceMonitor, before: dict[str, dict[str, float]],
               after: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Per role: the monitor's figures, completed from the server's own report for roles the
    monitor has no PID for (``--grpc-target``, a server on another machine)."""
    usage = monitor.usage
    baseline, peak = dict(usage.rss_baseline_bytes), dict(usage.rss_peak_bytes)
    cpu, source = dict(usage.cpu_s), {role: "process" for role in usage.cpu_s}
    faults = {"minor": dict(usage.minor_faults), "major": dict(usage.major_faults)}
    for role, figures in after.items():
        if role in cpu or role in usage.lost:
            continue
        start = before.get(role, {})
        if figures.get("cpu_s") is not None and start.get("cpu_s") is not None:
            cpu[role] = float(figures["cpu_s"]) - float(start["cpu_s"])
        for kind, counts in faults.items():
            name = f"{kind}_faults"
            if figures.get(name) is not None and start.get(name) is not None:
                counts[role] = int(figures[name]) - int(start[name])
        if figures.get("rss_peak_bytes") is not None:
            peak[role] = int(figures["rss_peak_bytes"])
        if start.get("rss_bytes") is not None:
            baseline[role] = int(start["rss_bytes"])
        source[role] = "self-reported"
    return {"rss_baseline_bytes": baseline, "rss_peak_bytes": peak, "cpu_s": cpu,
            "minor_faults": faults["minor"], "major_faults": faults["major"],
            "lost": list(usage.lost), "source": source}


def breakdown(backend: Backend, workload: str, payload: bytes, seconds: float
              ) -> dict[str, Any]:
    """End-to-end and engine (kernel) time of the same calls, through ``run_timed``.

    Run after the timed rounds so that its extra work never touches their figures. Bounded by
    ``seconds`` and BREAKDOWN_MAX_CALLS, and at least one call. ``kernel_ns`` is None when the
    backend cannot tell its engine's time.
    """
    clock = measure.clock
    end_to_end, kernel = array("q"), array("q")
    known = True
    deadline = clock() + int(seconds * 1e9)
    while True:
        t0 = clock()
        _, kernel_ns = backend.run_timed(workload, payload)
        end_to_end.append(clock() - t0)
        if kernel_ns is None:
            known = False
        elif known:
            kernel.append(int(kernel_ns))
        if clock() >= deadline or len(end_to_end) >= BREAKDOWN_MAX_CALLS:
            break
    return {"calls": len(end_to_end), "end_to_end_ns": list(end_to_end),
            "kernel_ns": list(kernel) if known else None}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    result = measure_cell(spec)
    # Written whole and renamed, so the manager never reads half a result.
    target = Path(spec["result_path"])
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, default=_json_default))
    os.replace(tmp, target)
    return 0


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
