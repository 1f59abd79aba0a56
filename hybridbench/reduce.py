"""The reduction: a cell's figures from its workers' outcomes (statistics, resources, time
split, warnings, steady state).

The runner orchestrates (plans, passes, turns) and hands each cell's outcomes here once its
workers are done; nothing here spawns, times or writes a file, so a change to what a cell
records from its workers (a statistic, a warning) is made in this module alone, and can be
tested on made-up outcomes without a worker process.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from hybridbench import stats, thresholds
from hybridbench.messages import Measured, Resources, TimedRound, WarmState, WorkerOutcome
from hybridbench.results import FAILED, Cell, Kind


def reduce_workers(cell: Cell, outcomes: Sequence[WorkerOutcome]) -> None:
    """One cell from its workers' figures; the first failure, if any, fails it."""
    cell.verified = bool(outcomes) and all(o.verified for o in outcomes)
    measured: list[Measured] = []
    for index, outcome in enumerate(outcomes):
        if outcome.backend_info:
            cell.backend_info = outcome.backend_info
        if outcome.measured is None or not outcome.ok:
            cell.status = outcome.status or FAILED
            cell.error = f"{outcome.error} (worker {index + 1} of {len(outcomes)})"
            cell.verified = any(o.verified for o in outcomes)
            return
        measured.append(outcome.measured)
    _summarise(cell, measured, [o.pid for o in outcomes])


def _summarise(cell: Cell, workers: list[Measured], pids: list[int | None]) -> None:
    histogram = stats.sum_histograms([w.latency_hdr for w in workers])
    cell.rounds = [_round(index, r) for index, w in enumerate(workers) for r in w.rounds]
    cell.worker_results = [_worker_summary(w, pid) for w, pid in zip(workers, pids, strict=True)]
    cell.workers = len(workers)
    ops = int(sum(r["ops"] for r in cell.rounds))
    cell.samples = int(histogram.get_total_count())
    cell.batch_size, cell.batch_rule = workers[0].batch, workers[0].batch_rule
    cell.duration_s = sum(r["duration_s"] for r in cell.rounds)
    cell.throughput_ops = float(np.median([r["throughput"] for r in cell.rounds]))
    cell.throughput_bytes = cell.throughput_ops * cell.payload_bytes
    _interval(cell)
    cell.latency_ns = stats.latency_summary(histogram)
    cell.latency_hdr = stats.encode_histogram(histogram)
    cell.unsent = int(sum(r["unsent"] for r in cell.rounds))
    lost = _reduce_resources(cell, workers, ops)
    cell.harness_ns = {key: statistics.median(w.harness[key] for w in workers)
                       for key in workers[0].harness}
    _time_split(cell, workers)
    cell.cpu_affinity = _affinity(workers[0].cpu_affinity)
    cell.allocator_roles = dict((workers[0].allocator or {}).get("roles") or {})
    cell.machine_load = _machine_load(workers)
    _warn(cell, lost)
    _steady_state(cell, [w.warm for w in workers])


def _machine_load(workers: list[Measured]) -> dict[str, float]:
    others = [w.machine.others_cores for w in workers]
    return {"others_cores": float(np.mean(others)), "others_cores_max": float(max(others)),
            "steal_cores": float(np.mean([w.machine.steal_cores for w in workers]))}


def _round(worker: int, timed: TimedRound) -> dict[str, Any]:
    duration_ns = timed.duration_ns
    return {"worker": worker, "ops": timed.ops, "duration_s": duration_ns / 1e9,
            "throughput": timed.ops * 1e9 / duration_ns if duration_ns else float("nan"),
            "unsent": timed.unsent, "at_ns": timed.at_ns}


def _worker_summary(worker: Measured, pid: int | None) -> dict[str, Any]:
    ops = sum(r.ops for r in worker.rounds)
    duration_s = sum(r.duration_ns for r in worker.rounds) / 1e9
    summary: dict[str, Any] = {
        "pid": pid, "ops": ops, "duration_s": duration_s,
        "throughput": ops / duration_s if duration_s else float("nan"),
        "cpu_s": worker.resources.cpu_s, "rss_peak_bytes": worker.resources.rss_peak_bytes,
        "cpu_affinity": worker.cpu_affinity, "in_turns": worker.in_turns}
    if worker.group is not None:
        summary["processes"] = worker.group  # every client process of the group
    return summary


def _interval(cell: Cell) -> None:
    """Between workers when there are several; else over one worker's rounds, labelled so."""
    throughputs = [w["throughput"] for w in cell.worker_results]
    cell.throughput_mean_ops = float(np.mean(throughputs))
    if len(throughputs) >= 2:
        ci, pi = stats.worker_intervals(throughputs)
        cell.throughput_ci95 = [max(0.0, ci[0]), ci[1]]
        cell.throughput_pi95 = [max(0.0, pi[0]), pi[1]]
        cell.interval_method = stats.WORKER_T_METHOD
    else:
        cell.throughput_ci95 = list(stats.bootstrap_ci([r["throughput"] for r in cell.rounds]))
        cell.throughput_pi95 = None
        cell.interval_method = stats.ROUNDS_BOOTSTRAP_METHOD


def _reduce_resources(cell: Cell, workers: list[Measured], ops: int) -> list[str]:
    """Peak: the highest of any worker; baseline: the lowest; CPU: total over total ops.
    Returns the roles whose process was lost."""
    resources = [w.resources for w in workers]
    roles = dict.fromkeys(["client", "server", *(r for res in resources
                                                 for r in res.rss_peak_bytes)])
    for role in roles:
        _reduce_role(cell, role, resources, ops)
    cell.server_reported = workers[-1].server_reported
    return sorted({role for r in resources for role in r.lost})


def _reduce_role(cell: Cell, role: str, resources: list[Resources], ops: int) -> None:
    peaks = [r.rss_peak_bytes[role] for r in resources if role in r.rss_peak_bytes]
    bases = [r.rss_baseline_bytes[role] for r in resources if role in r.rss_baseline_bytes]
    cpus = [r.cpu_s[role] for r in resources if role in r.cpu_s]
    cell.rss_peak_bytes[role] = max(peaks) if peaks else None
    cell.rss_baseline_bytes[role] = min(bases) if bases else None
    # per call only when every worker measured the role: a partial sum would understate it
    complete = len(cpus) == len(resources) and ops
    cell.cpu_s_per_op[role] = sum(cpus) / ops if complete else None
    for kind, per_op in (("minor", cell.minor_faults_per_op),
                         ("major", cell.major_faults_per_op)):
        counts = [r.faults(kind)[role] for r in resources if role in r.faults(kind)]
        per_op[role] = sum(counts) / ops if len(counts) == len(resources) and ops else None
    sources = [r.source[role] for r in resources if role in r.source]
    if sources:
        cell.resource_source[role] = sources[0]


def _time_split(cell: Cell, workers: list[Measured]) -> None:
    """Kernel time (the engine's own), crossing + serialization (end-to-end minus kernel,
    the median of the per-call differences), and client CPU per call."""
    parts = [w.breakdown for w in workers]
    end_to_end = np.concatenate([np.asarray(p.end_to_end_ns, dtype=np.int64) for p in parts])
    client_cpu = cell.cpu_s_per_op.get("client")
    split: dict[str, Any] = {
        "calls": int(end_to_end.size), "end_to_end_ns": float(np.median(end_to_end)),
        "kernel_ns": None, "crossing_ns": None,
        "client_cpu_ns": client_cpu * 1e9 if client_cpu is not None else None}
    kernels = [p.kernel_ns for p in parts]
    if end_to_end.size and all(k is not None for k in kernels):
        kernel = np.concatenate([np.asarray(k, dtype=np.int64) for k in kernels])
        histogram = stats.new_histogram()
        stats.record_many(histogram, kernel)
        cell.kernel_ns = stats.latency_summary(histogram)
        cell.kernel_hdr = stats.encode_histogram(histogram)
        split["kernel_ns"] = float(np.median(kernel))
        split["crossing_ns"] = float(np.median(end_to_end - kernel))
    cell.time_split = split


def _affinity(placed: dict[str, Any]) -> dict[str, Any]:
    """CPUs the client and its servers were allowed on; ``shared`` is None without a server
    process to share with (in-process, or a remote target)."""
    servers = placed.get("server") or {}
    server_cpus = {cpu for cpus in servers.values() for cpu in cpus}
    shared = bool(server_cpus & set(placed["client"])) if servers else None
    return {"client": placed["client"], "server": servers or None, "shared": shared}


def thin_tail_message(samples: int) -> str:
    """How many samples lie beyond P99 and P99.9, in words a reader can weigh (``fewer than
    one`` rather than ``0.4 of them``)."""
    def beyond(percentile: float) -> str:
        n = stats.samples_beyond(samples, percentile)
        return "fewer than one sample" if n < 1 else f"{n:,.0f} samples"
    return (f"thin tail: {samples:,} samples, so P99 rests on {beyond(99.0)} beyond it and "
            f"P99.9 on {beyond(99.9)}: read those percentiles as indicative")


def _warn(cell: Cell, lost: list[str]) -> None:
    """The cell's typed warnings, each with the figures it was decided on."""
    if cell.samples < thresholds.THIN_TAIL_SAMPLES:
        cell.warn(Kind.THIN_TAIL, thin_tail_message(cell.samples), samples=cell.samples,
                  threshold=thresholds.THIN_TAIL_SAMPLES)
    if cell.batch_size > 1:
        cell.warn(Kind.BATCHED, f"batched: timed in batches of {cell.batch_size} calls "
                  f"({cell.batch_rule}): percentiles are of batch means",
                  batch_size=cell.batch_size, rule=cell.batch_rule)
    spread = stats.variation([w["throughput"] for w in cell.worker_results])
    if spread > thresholds.NOISY_SPREAD:
        cell.warn(Kind.NOISY, f"noisy: worker throughputs vary by {spread:.0%} (standard "
                  f"deviation over mean, > {thresholds.NOISY_SPREAD:.0%})", spread=spread,
                  threshold=thresholds.NOISY_SPREAD)
    if cell.unsent:
        cell.warn(Kind.UNSENT, f"open loop: {cell.unsent} scheduled calls were never sent: the "
                  f"backend cannot sustain {cell.rate} requests/s", unsent=cell.unsent,
                  rate=cell.rate)
    for role in lost:
        cell.warn(Kind.PROCESS_LOST, f"the {role} process disappeared during the cell",
                  role=role)
    _warn_faults(cell)
    busiest = cell.machine_load.get("others_cores_max", 0.0)
    if busiest > thresholds.BUSY_CORES:
        cell.warn(Kind.BUSY_MACHINE, f"busy machine: other processes used up to {busiest:.1f} "
                  "cores while this cell was timed; its figures and interval carry that load",
                  cores_max=busiest, threshold=thresholds.BUSY_CORES)


def _warn_faults(cell: Cell) -> None:
    """Allocator-sensitive: a process got more fresh pages from the kernel per call than
    FAULTS_PER_CALL, so its figure depends on whether the allocator keeps freed memory."""
    faulting = {role: n for role, n in cell.minor_faults_per_op.items()
                if n is not None and n > thresholds.FAULTS_PER_CALL}
    if not faulting:
        return
    role, worst = max(faulting.items(), key=lambda item: item[1])
    cell.warn(Kind.ALLOCATOR_SENSITIVE,
              f"allocator-sensitive: the {role} process faulted in {worst:,.0f} fresh pages per "
              f"call under {cell.allocator or 'its allocator'} (> "
              f"{thresholds.FAULTS_PER_CALL}): the figure depends on whether the allocator "
              "keeps freed memory (see --allocator)", role=role, minor_per_call=worst,
              threshold=thresholds.FAULTS_PER_CALL, allocator=cell.allocator)


def _steady_state(cell: Cell, states: Sequence[WarmState]) -> None:
    """Each worker's warm-up and the changepoint test of its timed rounds, into its
    ``worker_results`` entry and the cell; a typed warning naming the workers whose rounds
    moved. Workers without the figures (an older worker) leave them unset."""
    tested: list[bool | None] = []
    for summary, state in zip(cell.worker_results, states, strict=True):
        warmup, verdict = state.warmup, state.steady
        if warmup is None or verdict is None:
            continue
        summary.update(warmup_calls=warmup.calls, warmup_s=warmup.seconds,
                       warmup_extended=warmup.extended, warmup_bound_s=warmup.bound_s,
                       steady_state=verdict["steady"],
                       steady={**verdict, "others_cores": state.others_cores})
        cell.warmup_calls += int(warmup.calls)
        cell.warmup_s += float(warmup.seconds)
        tested.append(verdict["steady"])
    if not tested:
        return
    cell.steady_state = (False if False in tested
                         else True if all(t is True for t in tested) else None)
    moved = [(index + 1, w) for index, w in enumerate(cell.worker_results)
             if w.get("steady_state") is False]
    if moved:
        _warn_no_steady_state(cell, moved)


def _warn_no_steady_state(cell: Cell, moved: list[tuple[int, dict[str, Any]]]) -> None:
    """``no steady state``: per worker, by how much its time per call moved, and where."""
    evidence = [{"worker": number, "change": w["steady"]["change"], "at_s": w["steady"]["at_s"],
                 "timed_s": w["steady"]["timed_s"], "z": w["steady"]["z"],
                 "warmup_s": w["warmup_s"], "warmup_bound_s": w["warmup_bound_s"],
                 "others_cores": w["steady"].get("others_cores")}
                for number, w in moved]
    parts = [f"worker {e['worker']}: {e['change']:+.0%} from {e['at_s']:.2f} s into its "
             f"{e['timed_s']:.2f} s of timed rounds, after {e['warmup_s']:.2f} s of warm-up"
             + (" (its bound)" if e["warmup_s"] >= e["warmup_bound_s"] else "")
             + (f", other processes using {e['others_cores']:.1f} cores"
                if e["others_cores"] is not None else "")
             for e in evidence]
    cell.warn(Kind.NO_STEADY_STATE,
              "no steady state: the time per call moved during the timed rounds ("
              + "; ".join(parts) + f"; a change of at least {thresholds.STEADY_CHANGE:.0%} "
              "at a clear changepoint): the figures mix two states, of the engine or of the "
              "machine around it (see its load)",
              workers=evidence, threshold=thresholds.STEADY_CHANGE,
              z_threshold=thresholds.STEADY_Z)
