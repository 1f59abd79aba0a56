"""The ``grpc-py`` server's logs and spans (issue 24), as the Rust and Go servers have them.

Logs: ``--log-format text`` (the default: ``hybridbench-pyserver: message``, as before) or
``json`` (one object a line on stderr: ``time`` (RFC 3339, UTC), ``level``, ``message``, and
``trace_id`` when the line is about a call that carried a trace context). ``--log-calls``
adds one line per ``Run`` call.

Spans: with ``--trace-file PATH``, a ``Run`` call whose metadata carries a sampled W3C
``traceparent`` gets a server span (a child of the caller's) with ``decode``, ``kernel`` and
``encode`` children, written to PATH as OTLP JSON lines (``hybridbench.tracing``). The kernel
span is made of the very clock readings the reply's ``kernel_ns`` comes from. Calls without
a trace context cost one metadata lookup.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROGRAM = "hybridbench-pyserver"
LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, message and, when the record has one, trace_id."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="microseconds").replace("+00:00", "Z"),
            "level": record.levelname, "message": record.getMessage()}
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            line["trace_id"] = trace_id
        line.update(getattr(record, "fields", {}))
        return json.dumps(line)


def logger(log_format: str) -> logging.Logger:
    """The server's logger on stderr, in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(f"{PROGRAM}: %(message)s"))
    found = logging.getLogger(PROGRAM)
    found.handlers[:] = [handler]
    found.setLevel(logging.INFO)
    found.propagate = False
    return found


#: a W3C traceparent: version, trace id, parent span id, flags (lower-case hex)
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def caller_trace_id(metadata: Any) -> str | None:
    """The trace id of the caller's context (a valid W3C ``traceparent`` in the metadata), for
    a call's log line when no span is made (tracing off); None without one."""
    for key, value in metadata or ():
        if key == "traceparent":
            found = _TRACEPARENT.fullmatch(value.strip())
            if found and found.group(1) != "0" * 32:
                return found.group(1)
    return None


class Tracer:
    """Server spans for traced calls, written to one file (``--trace-file``)."""

    def __init__(self, path: Path) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        from hybridbench import tracing

        self.provider = tracing.provider(path, PROGRAM)
        self.tracer = self.provider.get_tracer("hybridbench.pyserver")
        self.propagator = TraceContextTextMapPropagator()

    def context(self, metadata: Any) -> Any | None:
        """The caller's span context from the call's metadata, or None (no sampled one)."""
        from opentelemetry import trace

        carrier = {key: value for key, value in metadata or () if key == "traceparent"}
        if not carrier:
            return None
        found = self.propagator.extract(carrier)
        span = trace.get_current_span(found).get_span_context()
        return found if span.is_valid and span.trace_flags.sampled else None

    @contextmanager
    def server_span(self, parent: Any) -> Iterator[tuple[Any, Callable[..., Any]]]:
        """The call's server span; yields it and ``child(name, start_ns, end_ns)``, which
        records a child span from clock readings already taken."""
        from opentelemetry.trace import SpanKind

        with self.tracer.start_as_current_span(
                "hybridbench.v1.Kernels/Run", context=parent, kind=SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.service": "hybridbench.v1.Kernels",
                            "rpc.method": "Run"}) as span:
            def child(name: str, start_ns: int, end_ns: int, **attributes: Any) -> None:
                span = self.tracer.start_span(name, start_time=start_ns,
                                              attributes=attributes)
                span.end(end_time=end_ns)
            yield span, child

    def trace_id(self, parent: Any) -> str:
        from opentelemetry import trace

        return f"{trace.get_current_span(parent).get_span_context().trace_id:032x}"

    def shutdown(self) -> None:
        self.provider.shutdown()
