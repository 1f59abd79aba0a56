"""``inproc-best``: the fastest spec-correct Python found for each workload, in this process.

The engine is the workload's own ``best`` method (``Workload.best``): tuned numpy for
``timeseries``, msgspec with raw passthrough for ``json``, pyvips for ``image``...; a workload
that found nothing faster than its idiomatic engine runs ``fast``. Beside ``inproc`` (the
Python a team would keep), it answers how much of a native advantage is only a weak Python
baseline. Each workload names what it runs in ``best_engine``, and ``describe()`` records it
with every cell, so a result says which library ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hybridbench.backends.inproc.fast import InprocBackend
from hybridbench.registry import get_workload, workload_names


class InprocBestBackend(InprocBackend):
    name = "inproc-best"
    summary = "the fastest spec-correct Python found per workload, in this process"
    engine_name = "fastest Python found per workload"
    incumbent = False
    tuning = "tuned"
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Python", "article_label": "Python only (best found)",
        "article_order": 0}

    def unsupported_reason(self, workload: str) -> str | None:
        reason = get_workload(workload).best_unavailable()
        return f"{self.name}: {reason}" if reason else None

    def call(self, workload: str, payload: bytes) -> bytes:
        return get_workload(workload).best(payload)

    def engine(self, workload: str) -> Callable[[bytes], bytes]:
        return get_workload(workload).best

    def describe(self) -> dict[str, Any]:
        # which library ran each workload ("fast" where nothing beat the idiomatic engine)
        engines = {name: get_workload(name).best_engine or "fast (the inproc engine)"
                   for name in self._described_workloads()}
        return {**super().describe(), "workload_engines": engines}

    def _described_workloads(self) -> list[str]:
        opened = self.options.get("workloads")
        return list(opened) if opened else workload_names()
