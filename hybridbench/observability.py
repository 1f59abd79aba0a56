"""The cost of observability as cells of its own (issue 24, item 2): ``run
--observability-cost``.

Each backend B of the run gets, in the same tables, a cell ``B+trace`` (every timed call
traced as ``run --trace`` traces its sampled ones: a client span whose W3C ``traceparent``
travels with the call, the server's span with its children, every span written to a file by
the SDKs' batch processors) and, for a backend whose work runs in a server,
``B+trace-unsampled`` (the server runs with ``--trace-file`` but the calls carry no trace
context: what a server with tracing on pays on the calls that are not sampled, the common
case in production) and ``B+log`` (the server writes a JSON log line per call,
``--log-format json --log-calls``). All are the registered backend B under another label
(``RunConfig.backend_kinds``, the mechanism the A/B gate uses), so the runner's passes and
turns pair them with B and the stored comparisons give each ratio its own interval
(``stats.paired_ratio``); no new statistics. The report turns a variant's paired ratio into
"tracing adds X us per call (Y%, 95% interval)" (``report.costs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hybridbench.errors import HybridbenchError
from hybridbench.registry import backend_class

#: what each variant adds, its label suffix and the backend options that switch it on
TRACING, UNSAMPLED, LOGGING = "tracing", "unsampled tracing", "logging"
#: the backend option of an unsampled-tracing cell: its servers trace (the runner gives the
#: cell a trace directory), its worker's calls carry no trace context
TRACE_SERVER_ONLY = "trace_server_only"
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    TRACING: ("+trace", {"trace_every_call": True}),
    UNSAMPLED: ("+trace-unsampled", {TRACE_SERVER_ONLY: True}),
    LOGGING: ("+log", {"log_format": "json", "log_calls": True}),
}


@dataclass(frozen=True)
class Variant:
    label: str
    base: str
    adds: str

    def as_dict(self) -> dict[str, str]:
        return {"base": self.base, "adds": self.adds}


def variants(backends: list[str], options: dict[str, dict[str, Any]]) -> list[Variant]:
    """The cost cells of ``backends``: tracing for each; unsampled tracing and logging for
    those with a server (an in-process backend's untraced call never looks at tracing)."""
    if not backends:
        raise HybridbenchError("--observability-cost needs the backends to price (-b)")
    found = []
    for base in backends:
        adds = [TRACING]
        if backend_class(base).placement == "service":
            adds += [UNSAMPLED, LOGGING]
        found += [Variant(f"{base}{VARIANTS[what][0]}", base, what) for what in adds]
    return found


def config_fields(backends: list[str], options: dict[str, dict[str, Any]]
                  ) -> dict[str, Any]:
    """``RunConfig`` fields that add the cost cells to a run of ``backends``."""
    found = variants(backends, options)
    return {
        "backends": [*backends, *(v.label for v in found)],
        "backend_kinds": {v.label: v.base for v in found},
        "backend_options": {**options, **{
            v.label: {**options.get(v.base, {}), **VARIANTS[v.adds][1]} for v in found}},
        "observability": {v.label: v.as_dict() for v in found},
    }
