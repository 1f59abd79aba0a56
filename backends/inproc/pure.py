"""``inproc-pure``: the workloads in the Python standard library only.

This runs each workload's reference implementation, which is written with the standard library
on purpose: it is what a team gets by writing the hot path plainly in Python. A workload whose
reference needs more (``image`` needs a JPEG codec) says so in ``pure_unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hybridbench.backends.inproc.fast import InprocBackend
from hybridbench.registry import get_workload


class InprocPureBackend(InprocBackend):
    name = "inproc-pure"
    summary = "Python standard library only, in this process (json, struct, array)"
    engine_name = "Python standard library"
    incumbent = False
    tuning = "plain"
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Python", "article_label": "Python only (standard library)",
        "article_order": 0}

    def unsupported_reason(self, workload: str) -> str | None:
        reason = get_workload(workload).pure_unsupported
        return f"{self.name}: {reason}" if reason else None

    def call(self, workload: str, payload: bytes) -> bytes:
        return get_workload(workload).reference(payload)

    def engine(self, workload: str) -> Callable[[bytes], bytes]:
        return get_workload(workload).reference
