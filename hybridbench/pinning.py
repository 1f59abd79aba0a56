"""CPU placement: client workers and servers on disjoint CPUs (``hybridbench run --pin``).

Without pinning, a client and a server on a 2-core machine share both cores and steal each
other's time, which is part of what an end-to-end figure then measures. With ``--pin`` the CPUs
this process may use are split in two halves: the client worker takes the first, every server
process of the backend (and each of its threads: affinity is per thread on Linux, and a
server's thread pool exists by the time ``start()`` returns) takes the second.
"""

from __future__ import annotations

import os
from typing import Any

import psutil


def available_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def split(cpus: list[int]) -> tuple[list[int], list[int]] | None:
    """``(client CPUs, server CPUs)``, disjoint, or None if there are fewer than two CPUs."""
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return cpus[:half], cpus[half:]


def plan(pin: bool) -> dict[str, Any]:
    """The placement recorded in ``env["cpu_affinity"]`` and handed to every worker."""
    cpus = available_cpus()
    halves = split(cpus) if pin else None
    if halves is None:
        reason = None if not pin else f"only {len(cpus)} CPU available: cannot split"
        return {"pinned": False, "available": cpus, "client": cpus, "server": cpus,
                "shared": True, "reason": reason}
    client, server = halves
    return {"pinned": True, "available": cpus, "client": client, "server": server,
            "shared": False, "reason": None}


def pin_self(cpus: list[int]) -> None:
    os.sched_setaffinity(0, cpus)


def pin_process_tree(pid: int, cpus: list[int]) -> list[int]:
    """Put every thread of ``pid`` and of its descendants on ``cpus``; returns the PIDs done."""
    done: list[int] = []
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return done
    for process in processes:
        try:
            for thread in process.threads():
                os.sched_setaffinity(thread.id, cpus)
            done.append(process.pid)
        except (psutil.Error, OSError):
            continue  # a thread that ended meanwhile needs no placement
    return done


def current(pid: int = 0) -> list[int]:
    try:
        return sorted(os.sched_getaffinity(pid))
    except OSError:
        return []
