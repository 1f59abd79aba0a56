"""``inproc-pure``: the workloads in the Python standard library only.

This runs the workload modules' reference implementations, which are written with the
standard library on purpose: it is what a team gets by writing the hot path plainly in Python.
``image`` is unsupported because the standard library has no JPEG codec.
"""

from __future__ import annotations

from typing import ClassVar

from hybridbench.backend import Backend
from hybridbench.workloads import echo, json_orders, timeseries

_ENGINES = {"json": json_orders.reference, "timeseries": timeseries.reference,
            "echo": echo.reference}


class InprocPureBackend(Backend):
    name = "inproc-pure"
    summary = "Python standard library only, in this process (json, struct, array)"
    workloads: ClassVar[frozenset[str]] = frozenset(_ENGINES)

    def unsupported_reason(self, workload: str) -> str | None:
        if workload == "image":
            return "inproc-pure: the Python standard library has no JPEG codec"
        return super().unsupported_reason(workload)

    def call(self, workload: str, payload: bytes) -> bytes:
        return _ENGINES[workload](payload)
