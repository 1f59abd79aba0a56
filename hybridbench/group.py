"""Client groups (``--processes N``): N worker processes that drive one backend together.

One CPython process cannot load a fast server: the client spends several times the server's
CPU per call (an echo call costs the Python client ~120-330 us of CPU and the Rust server
~35-90 us), so with threads in one process the measured limit is the client's. A group is N
fresh worker processes, started together, each with its own concurrency (closed loop) or
1/N of the rate (open loop), against one backend: a shared server (the manager spawns it
once per group and hands its address to every member) or, for in-process engines, N
copies of the engine, one per process, which is what N Python processes really get.

Members meet at a start barrier (files in a directory: no sockets, no extra dependency)
after their warm-up, so their timed rounds overlap. Their figures become one unit of the
cell's interval (``combine``): a group is to ``--processes N`` what a worker is to
``--processes 1``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from hybridbench import stats
from hybridbench.errors import BackendError

#: how long a member waits at the barrier for the others (their start-up, verification and
#: warm-up take a few seconds; the 5 MB image payload up to ~10 s on a loaded machine)
BARRIER_TIMEOUT_S = 120.0
BARRIER_POLL_S = 0.0005
ABORT_FILE = "abort"


def member_specs(spec: dict[str, Any], processes: int, barrier: Path,
                 target: str | None) -> list[dict[str, Any]]:
    """The spec of each of the ``processes`` members of one group."""
    options = dict(spec["options"])
    if target is not None:
        options["target"] = target
    rate = spec.get("rate")
    return [{**spec, "options": options, "rate": rate / processes if rate else rate,
             "group": {"barrier": str(barrier), "parties": processes, "member": member}}
            for member in range(processes)]


def await_start(spec: dict[str, Any]) -> None:
    """Block until every member of the group is ready (a no-op outside a group)."""
    group = spec.get("group")
    if not group:
        return
    barrier = Path(group["barrier"])
    (barrier / f"ready-{group['member']}").touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while len([p for p in os.listdir(barrier) if p.startswith("ready-")]) < group["parties"]:
        if (barrier / ABORT_FILE).exists():
            raise BackendError("another client process of the group failed before the start")
        if time.monotonic() > deadline:
            raise BackendError(f"the other client processes were not ready within "
                               f"{BARRIER_TIMEOUT_S:.0f} s")
        time.sleep(BARRIER_POLL_S)


def combine(outcomes: list[dict[str, Any]], shared_server: bool) -> dict[str, Any]:
    """One worker-shaped outcome from a group's members: what the runner merges as one unit.

    Rounds add their calls over the longest member's time (they ran side by side);
    histograms add; client CPU adds (the cell divides it by all calls), client memory is the
    largest process's (every process is listed in ``group``); a shared server's CPU, seen
    whole by each member, is the largest report, not the sum.
    """
    for index, outcome in enumerate(outcomes):
        if outcome.get("status") != "ok":
            return {**outcome, "error": f"client process {index + 1} of {len(outcomes)}: "
                                        f"{outcome.get('error')}"}
    first = outcomes[0]
    kept = ("pid", "verified", "status", "error", "backend_info", "batch", "batch_rule",
            "out_of_process", "harness", "cpu_affinity", "server_reported")
    combined: dict[str, Any] = {key: first[key] for key in kept if key in first}
    combined["rounds"] = _rounds(outcomes)
    combined["latency_hdr"] = _added([o["latency_hdr"] for o in outcomes])
    combined["resources"] = _resources([o["resources"] for o in outcomes], shared_server)
    combined["machine"] = _machine(outcomes)
    combined["breakdown"] = _breakdown([o["breakdown"] for o in outcomes])
    combined["group"] = [_member(o) for o in outcomes]
    combined.update(_warm_state(outcomes))
    return combined


def _warm_state(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The group's warm-up and steady-state verdict, and its allocator: the warm-up lasted
    as long as its slowest member's (calls add up), and the group is steady only if every
    member is (the first member that moved gives the evidence)."""
    found: dict[str, Any] = {}
    first = outcomes[0]
    if "allocator" in first:
        found["allocator"] = first["allocator"]
    warmups = [o["warmup"] for o in outcomes if o.get("warmup")]
    if warmups:
        found["warmup"] = {**warmups[0], "calls": sum(w["calls"] for w in warmups),
                           "seconds": max(w["seconds"] for w in warmups),
                           "extended": any(w["extended"] for w in warmups)}
    verdicts = [o["steady"] for o in outcomes if o.get("steady")]
    if verdicts:
        found["steady"] = next((v for v in verdicts if v.get("steady") is False), verdicts[0])
    return found


def _rounds(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rounds = []
    for parts in zip(*(o["rounds"] for o in outcomes), strict=True):
        rounds.append({"ops": sum(p["ops"] for p in parts),
                       "duration_ns": max(p["duration_ns"] for p in parts),
                       "unsent": sum(p["unsent"] for p in parts)})
    return rounds


def _added(encoded: list[str]) -> str:
    return stats.encode_histogram(stats.sum_histograms(encoded))


def _resources(parts: list[dict[str, Any]], shared_server: bool) -> dict[str, Any]:
    roles = dict.fromkeys(role for part in parts for role in part["cpu_s"])
    cpu: dict[str, float] = {}
    for role in roles:
        values = [part["cpu_s"][role] for part in parts if role in part["cpu_s"]]
        if len(values) == len(parts):
            cpu[role] = max(values) if role != "client" and shared_server else sum(values)
    peak = {role: max(v for part in parts if (v := part["rss_peak_bytes"].get(role)) is not None)
            for role in dict.fromkeys(r for part in parts for r in part["rss_peak_bytes"])}
    baseline = {role: min(v for part in parts
                          if (v := part["rss_baseline_bytes"].get(role)) is not None)
                for role in dict.fromkeys(r for part in parts for r in part["rss_baseline_bytes"])}
    return {"rss_baseline_bytes": baseline, "rss_peak_bytes": peak, "cpu_s": cpu,
            "lost": sorted({role for part in parts for role in part["lost"]}),
            "source": parts[0]["source"]}


def _machine(outcomes: list[dict[str, Any]]) -> dict[str, float]:
    """Each member counts its siblings as "other processes"; take them out again."""
    wall_s = sum(r["duration_ns"] for r in _rounds(outcomes)) / 1e9 or 1e-9
    clients = [o["resources"]["cpu_s"].get("client", 0.0) for o in outcomes]
    others = [max(0.0, o["machine"]["others_cores"] - (sum(clients) - mine) / wall_s)
              for o, mine in zip(outcomes, clients, strict=True)]
    return {"others_cores": float(np.mean(others)),
            "steal_cores": float(np.mean([o["machine"]["steal_cores"] for o in outcomes]))}


def _breakdown(parts: list[dict[str, Any]]) -> dict[str, Any]:
    known = all(p["kernel_ns"] is not None for p in parts)
    return {"calls": sum(p["calls"] for p in parts),
            "end_to_end_ns": [v for p in parts for v in p["end_to_end_ns"]],
            "kernel_ns": [v for p in parts for v in p["kernel_ns"]] if known else None}


def _member(outcome: dict[str, Any]) -> dict[str, Any]:
    rounds = outcome["rounds"]
    ops, duration_ns = sum(r["ops"] for r in rounds), sum(r["duration_ns"] for r in rounds)
    resources = outcome["resources"]
    return {"pid": outcome["pid"], "ops": ops,
            "throughput": ops * 1e9 / duration_ns if duration_ns else None,
            "cpu_s": resources["cpu_s"].get("client"),
            "rss_peak_bytes": resources["rss_peak_bytes"].get("client")}
