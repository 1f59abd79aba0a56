"""``inproc``: the fastest idiomatic Python of each workload, in this process.

The engine is the workload's own ``fast`` method (orjson for ``json``, numpy for
``timeseries``, pillow-simd for ``image``; a plug-in workload without one runs its reference),
so a workload registered once in Python runs here with no code in this backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from hybridbench.backend import Backend
from hybridbench.registry import get_workload


class InprocBackend(Backend):
    name = "inproc"
    summary = "idiomatic fast Python in this process (orjson, numpy, pillow-simd)"
    placement, engine_kind, engine_name = "in-process", "python", "orjson, numpy, pillow-simd"
    tuning = "idiomatic"
    incumbent = True  # the Python a team would keep: the honest baseline
    article_column: ClassVar[dict[str, Any]] = {"engine_language": "Python",
                                           "article_label": "Python only", "article_order": 0}

    def call(self, workload: str, payload: bytes) -> bytes:
        return get_workload(workload).fast(payload)

    def engine(self, workload: str) -> Callable[[bytes], bytes]:
        return get_workload(workload).fast

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        # In process there is no boundary: the kernel is the engine call itself, timed around
        # it alone so that the split means the same as for the native backends.
        self.check_request(workload, payload)
        engine = self.engine(workload)
        start = time.perf_counter_ns()
        out = engine(payload)
        return out, time.perf_counter_ns() - start
