"""Traces across the boundary (issue 24): a few sampled calls per worker, after its timed
rounds, as OpenTelemetry spans in OTLP JSON.

The client (this module, in each worker) opens one span per sampled call and hands its W3C
``traceparent`` to the backend (``Backend.run_traced``): gRPC backends send it as call
metadata, and the Rust, Go and Python servers, started with ``--trace-file``, write their own
server span with its children (``kernel``, and ``decode``/``encode`` where the server does
them itself) to a file of their own; the FFI backend wraps the library call in a span with the
kernel's time (as the library reports it) as a child. ``merge`` then puts every file of the
run into one. Each file, and the merged one, holds what an OpenTelemetry collector's file
exporter writes: one ``{"resourceSpans": [...]}`` object (OTLP's ExportTraceServiceRequest in
its JSON mapping) a line, so any OTLP-capable viewer or collector reads it.

The spans, their ids, context propagation and the batch processor are the OpenTelemetry
SDK's; only the JSON mapping of a finished span is written here (``otlp_json`` says why).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hybridbench.errors import HybridbenchError

if TYPE_CHECKING:
    from hybridbench.backend import Backend

#: sampled calls per worker (after its timed rounds): enough to see a call whole, few enough
#: that the file stays small and the run's time does not move
DEFAULT_CALLS = 3
#: the attribute on the client span that holds the call's kernel time as the engine reported it
KERNEL_NS = "hybridbench.kernel_ns"


class TraceFileError(HybridbenchError, ValueError):
    """A trace file that is not OTLP JSON lines; the message says which line and why."""


def otlp_json(spans: Sequence[ReadableSpan]) -> bytes:
    """One line of OTLP JSON (``{"resourceSpans": [...]}``) for ``spans``.

    Mapped here from the SDK's spans and written by orjson, the mapping OTLP's JSON encoding
    specifies (ids in lower-case hex, 64-bit integers as strings, enums as numbers). The
    exporters' encoder (``encode_spans``) and protobuf's ``json_format`` give the same text
    but cost 86 us a span here (pure-Python JSON of a protobuf message), three spans a traced
    FFI call: that would be the file format's cost, not tracing's, in the cost cells.
    """
    resources: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        scope = span.instrumentation_scope
        scope_key = (scope.name, scope.version) if scope else ("", None)
        resources.setdefault(span.resource, {}).setdefault(scope_key, []).append(_span(span))
    message = {"resourceSpans": [
        {"resource": {"attributes": _attributes(resource.attributes)},
         "scopeSpans": [{"scope": {"name": name, **({"version": version} if version else {})},
                         "spans": members} for (name, version), members in scopes.items()]}
        for resource, scopes in resources.items()]}
    return orjson.dumps(message) + b"\n"


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    found: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}", "spanId": f"{context.span_id:016x}",
        "name": span.name, "kind": span.kind.value + 1,  # the SDK counts from INTERNAL = 0
        "startTimeUnixNano": str(span.start_time), "endTimeUnixNano": str(span.end_time),
        "attributes": _attributes(span.attributes or {}),
        "status": {"code": span.status.status_code.value}}
    # OTLP's span flags: bit 8 says whether the parent is remote is known, bit 9 that it is
    found["flags"] = 0x100 | (0x200 if span.parent is not None and span.parent.is_remote else 0)
    if span.parent is not None:
        found["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.status.description:
        found["status"]["message"] = span.status.description
    return found


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in attributes.items()]


def _value(value: Any) -> dict[str, Any]:
    """An attribute value in OTLP JSON's ``AnyValue`` form."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"arrayValue": {"values": [_value(v) for v in value]}}


def provider(path: Path, service: str) -> TracerProvider:
    """A tracer provider writing the spans to ``path`` (OTLP JSON lines) from the SDK's batch
    processor (a thread of its own, off the call's path: what services deploy), installed as
    the process's global one (a worker traces for one cell). ``shutdown()`` flushes."""
    made = TracerProvider(resource=Resource.create({"service.name": service,
                                                    "process.pid": os.getpid()}))
    made.add_span_processor(BatchSpanProcessor(_FileExporter(path)))
    trace.set_tracer_provider(made)
    return made


class _FileExporter(SpanExporter):
    """An OpenTelemetry ``SpanExporter`` appending OTLP JSON lines to a file."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "ab")  # noqa: SIM115 (closed by shutdown)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.handle.write(otlp_json(spans))
        self.handle.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.handle.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class Client:
    """A worker's traced calls: each in a client span whose context travels with the call
    (``Backend.run_traced``), the spans going to a file of the worker's own in ``trace_dir``.

    Used for the few sampled calls after the timed rounds (``run --trace``) and, in a cost
    cell (``run --observability-cost``), for every timed call."""

    def __init__(self, backend: Backend, workload: str, payload: bytes, trace_dir: Path,
                 remote: bool) -> None:
        self.backend, self.workload, self.payload = backend, workload, payload
        self.provider = provider(trace_dir / f"client-{os.getpid()}.jsonl",
                                 "hybridbench-client")
        self.tracer = self.provider.get_tracer("hybridbench")
        self.kind = SpanKind.CLIENT if remote else SpanKind.INTERNAL
        self.name = f"{backend.name} {workload}"
        self.attributes: dict[str, str | int] = {
            "hybridbench.workload": workload, "hybridbench.backend": backend.name,
            "hybridbench.payload_bytes": len(payload)}
        self.inject = TraceContextTextMapPropagator().inject

    def call(self) -> bytes:
        with self.tracer.start_as_current_span(self.name, kind=self.kind,
                                               attributes=self.attributes) as span:
            headers: dict[str, str] = {}
            self.inject(headers)
            data, kernel_ns = self.backend.run_traced(self.workload, self.payload, headers)
            if kernel_ns is not None:
                span.set_attribute(KERNEL_NS, kernel_ns)
        return data

    def shutdown(self) -> None:
        """Write what the batch processor holds and close the file."""
        self.provider.shutdown()


def server_trace_file(trace_dir: str | os.PathLike[str], name: str) -> Path:
    """Where a spawned server writes its spans: a file of its own in the run's trace
    directory (the harness merges them)."""
    return Path(trace_dir) / f"server-{name}-{os.getpid()}-{os.urandom(3).hex()}.jsonl"


def merge(trace_dirs: Sequence[Path], output: Path) -> int:
    """Every span file of ``trace_dirs`` (clients' and servers') into ``output``, one OTLP
    JSON object a line, each checked; returns the lines written."""
    from hybridbench.results import write_atomic

    lines = [line for directory in trace_dirs for path in sorted(directory.glob("*.jsonl"))
             for line in _checked_lines(path)]
    write_atomic(output, b"".join(line + b"\n" for line in lines))
    return len(lines)


def send(path: Path, endpoint: str, timeout_s: float = 10.0) -> int:
    """POST every line of the OTLP JSON file ``path`` to ``endpoint`` (an OTLP/HTTP receiver,
    e.g. a collector's ``http://127.0.0.1:4318``) at ``/v1/traces``, each line one
    ``ExportTraceServiceRequest``, as the OTLP/HTTP JSON protocol carries it; returns the
    requests sent. A ``TraceSendError`` names the endpoint and what went wrong (the file is
    written first, so nothing measured depends on the receiver)."""
    url = endpoint.rstrip("/") + "/v1/traces"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise TraceSendError(f"--trace-endpoint {endpoint!r}: an http:// or https:// URL of "
                             "an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318")
    sent = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        request = urllib.request.Request(url, data=line, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as reply:
                reply.read()
        except urllib.error.HTTPError as exc:
            raise TraceSendError(f"the OTLP receiver at {url} refused a request: HTTP "
                                 f"{exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TraceSendError(f"cannot send traces to {url}: {reason}") from None
        sent += 1
    return sent


class TraceSendError(HybridbenchError):
    """Traces could not be sent to the OTLP endpoint (the trace file is still written)."""


def _checked_lines(path: Path) -> list[bytes]:
    found = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if line.strip():
            _parse_line(line, f"{path}:{number}")
            found.append(line)
    return found


@dataclass(frozen=True)
class Span:
    """One span as read back from a trace file (what the tests and a reader need)."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def read(path: Path) -> list[Span]:
    """Every span of an OTLP JSON lines file; ``TraceFileError`` naming the line otherwise."""
    spans = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), start=1):
        if line.strip():
            spans.extend(_parse_line(line, f"{path}:{number}"))
    return spans


def _parse_line(line: bytes, where: str) -> list[Span]:
    try:
        message = orjson.loads(line)
        return [_read_span(resource, span) for resource in message["resourceSpans"]
                for scope in resource.get("scopeSpans", []) for span in scope.get("spans", [])]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TraceFileError(f"{where}: not an OTLP JSON line ({type(exc).__name__}: "
                             f"{exc})") from None


def _read_span(resource: dict[str, Any], span: dict[str, Any]) -> Span:
    service = _read_attributes(resource.get("resource", {}).get("attributes", [])).get(
        "service.name", "")
    return Span(service=str(service), name=span["name"], trace_id=span["traceId"],
                span_id=span["spanId"], parent_span_id=span.get("parentSpanId", ""),
                kind=int(span.get("kind", 0)), start_ns=int(span["startTimeUnixNano"]),
                end_ns=int(span["endTimeUnixNano"]),
                attributes=_read_attributes(span.get("attributes", [])))


def _read_attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    """OTLP ``[{key, value: {stringValue|intValue|...}}]`` as a plain dict (intValue is a
    string in OTLP JSON: 64-bit)."""
    found: dict[str, Any] = {}
    for item in items:
        value = item.get("value", {})
        if "intValue" in value:
            found[item["key"]] = int(value["intValue"])
        elif value:
            found[item["key"]] = next(iter(value.values()))
    return found
