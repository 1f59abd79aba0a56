"""``inproc-pure``: the workloads in the Python standard library only.

This runs each workload's reference implementation, which is written with the standard library
on purpose: it is what a team gets by writing the hot path plainly in Python. A workload whose
reference needs more (``image`` needs a JPEG codec) says so in ``pure_unsupported``.
"""

from __future__ import annotations

import time

from hybridbench.backend import Backend
from hybridbench.registry import get_workload


class InprocPureBackend(Backend):
    name = "inproc-pure"
    summary = "Python standard library only, in this process (json, struct, array)"

    def unsupported_reason(self, workload: str) -> str | None:
        reason = get_workload(workload).pure_unsupported
        return f"{self.name}: {reason}" if reason else None

    def call(self, workload: str, payload: bytes) -> bytes:
        return get_workload(workload).reference(payload)

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        self.check_request(workload, payload)
        engine = get_workload(workload).reference
        start = time.perf_counter_ns()
        out = engine(payload)
        return out, time.perf_counter_ns() - start
