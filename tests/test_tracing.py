"""``run --trace FILE`` (issue 24, item 1): sampled calls as traces across the boundary.

The end-to-end test runs the real Rust, Go and Python servers and the real FFI library through
``hybridbench run --trace`` and reads the merged file back: per backend, the client span and
the server (or FFI) spans of one call share a trace id, the parent links are right, the
kernel span's duration agrees with the ``kernel_ns`` the call reported within 10%, every
server span has the request's decode, the kernel and the reply's encode as its children, in
that order, and the FFI kernel span lies inside the C call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from hybridbench import cli, results, tracing
from hybridbench.registry import backend_class

TRACED = ("grpc", "grpc-py", "grpc-go", "ffi")
#: OTLP span kinds
INTERNAL, SERVER, CLIENT = 1, 2, 3


def _available(name: str) -> bool:
    return backend_class(name).unavailable_reason() is None


def _by_trace(spans: list[tracing.Span]) -> dict[str, list[tracing.Span]]:
    found: dict[str, list[tracing.Span]] = defaultdict(list)
    for span in spans:
        found[span.trace_id].append(span)
    return found


def _one(spans: list[tracing.Span], test: Callable[[tracing.Span], bool]) -> tracing.Span:
    matching = [s for s in spans if test(s)]
    assert len(matching) == 1, (matching, spans)
    return matching[0]


def _check_call(backend: str, spans: list[tracing.Span]) -> None:
    """One call's spans: linked client -> server (or FFI) -> kernel, kernel time agreeing."""
    client = _one(spans, lambda s: s.service == "hybridbench-client" and not s.parent_span_id)
    assert client.attributes["hybridbench.backend"] == backend
    reported = client.attributes[tracing.KERNEL_NS]
    if backend == "ffi":
        assert client.kind == INTERNAL
        middle = _one(spans, lambda s: s.name == "ffi hb_run_into")
    else:
        assert client.kind == CLIENT
        middle = _one(spans, lambda s: s.kind == SERVER)
        assert middle.service != client.service  # written by the server process
        assert middle.attributes["hybridbench.workload"] == client.attributes[
            "hybridbench.workload"]
    assert middle.parent_span_id == client.span_id
    kernel = _one(spans, lambda s: s.name == "kernel")
    assert kernel.parent_span_id == middle.span_id
    assert kernel.duration_ns == pytest.approx(reported, rel=0.10)
    assert middle.start_ns <= kernel.start_ns and kernel.end_ns <= middle.end_ns
    assert client.start_ns <= middle.start_ns and middle.end_ns <= client.end_ns
    if backend == "ffi":  # placed at the C call's start: the kernel began at most the slack later
        slack = kernel.attributes["hybridbench.start_slack_ns"]
        assert isinstance(slack, int) and slack >= 0
        assert kernel.end_ns + slack <= middle.end_ns
    else:
        _check_codec_spans(spans, middle, kernel)


def _check_codec_spans(spans: list[tracing.Span], server: tracing.Span,
                       kernel: tracing.Span) -> None:
    """A server span's children: the request's decode, then the kernel, then the reply's
    encode, in that order and inside it (every server: Python's in its handler, tonic's and
    grpc-go's in their codecs)."""
    children = {s.name: s for s in spans if s.parent_span_id == server.span_id}
    assert set(children) == {"decode", "kernel", "encode"}, children
    decode, encode = children["decode"], children["encode"]
    assert server.start_ns <= decode.start_ns <= decode.end_ns <= kernel.start_ns
    assert kernel.end_ns <= encode.start_ns <= encode.end_ns <= server.end_ns


@pytest.mark.slow  # four backends through `hybridbench run` (about 20 s idle)
def test_run_trace_links_client_server_and_kernel_spans(tmp_path: Path) -> None:
    backends = [name for name in TRACED if _available(name)]
    if len(backends) < len(TRACED):
        pytest.skip(f"unavailable here: {set(TRACED) - set(backends)}")
    trace_file = tmp_path / "trace.jsonl"
    code = cli.main(["run", "-w", "json", "--size", "64KB", "-b", ",".join(backends),
                     "--quick", "--workers", "1", "--no-cold-start", "--trace", str(trace_file),
                     "--trace-calls", "2", "-o", str(tmp_path / "r.json"),
                     "--report", str(tmp_path / "r.html")])
    assert code == 0
    spans = tracing.read(trace_file)
    per_backend: dict[str, int] = defaultdict(int)
    for trace_id, members in _by_trace(spans).items():
        client = next(s for s in members if not s.parent_span_id)
        backend = str(client.attributes["hybridbench.backend"])
        _check_call(backend, members)
        per_backend[backend] += 1
        assert len(trace_id) == 32
    assert dict(per_backend) == {name: 2 for name in backends}
    done = results.load(tmp_path / "r.json")
    assert done.config["trace_lines"] == len(trace_file.read_bytes().splitlines())
    assert all(cell.status == results.OK for cell in done.cells)


def test_otlp_json_ids_are_hex_and_times_are_strings(tmp_path: Path) -> None:
    """What a collector's file exporter writes: ids in lower-case hex, 64-bit integers as
    strings, kinds as numbers."""
    path = tmp_path / "spans.jsonl"
    provider = tracing.provider(path, "test-service")
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span(
            "inner", attributes={"n": 5}):
        pass
    provider.shutdown()
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    raw = [s for line in lines for r in line["resourceSpans"] for sc in r["scopeSpans"]
           for s in sc["spans"]]
    inner = next(s for s in raw if s["name"] == "inner")
    outer = next(s for s in raw if s["name"] == "outer")
    assert len(inner["traceId"]) == 32 and int(inner["traceId"], 16)
    assert len(inner["spanId"]) == 16 and inner["parentSpanId"] == outer["spanId"]
    assert isinstance(inner["startTimeUnixNano"], str) and isinstance(inner["kind"], int)
    spans = tracing.read(path)
    assert {s.service for s in spans} == {"test-service"}
    assert next(s for s in spans if s.name == "inner").attributes["n"] == 5


def test_merge_names_a_line_that_is_not_otlp_json(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "client-1.jsonl").write_text('{"resourceSpans": []}\n')
    (parts / "server-x.jsonl").write_text('{"resourceSpans": []}\nnot json\n')
    with pytest.raises(tracing.TraceFileError, match=r"server-x\.jsonl:2: not an OTLP JSON line"):
        tracing.merge([parts], tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_reading_a_file_of_the_wrong_shape_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}\n')
    with pytest.raises(tracing.TraceFileError, match=r"t\.jsonl:1: .*traceId"):
        tracing.read(path)


def test_trace_needs_a_writable_path(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = cli.main(["run", "-w", "echo", "-b", "inproc", "--quick", "--trace",
                     str(blocker / "trace.jsonl"), "-o", str(tmp_path / "r.json")])
    captured = capsys.readouterr()
    assert code != 0
    assert "--trace" in captured.err + captured.out


def test_the_otlp_json_mapping_is_the_exporters_encoder_in_json(tmp_path: Path) -> None:
    """``tracing.otlp_json`` against the reference: the OpenTelemetry exporters' OTLP message
    of the same spans in protobuf's JSON mapping, its ids turned to hex as OTLP JSON has them."""
    import base64

    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, Status, StatusCode

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("scope", "1.2")
    attributes = {"s": "x", "i": 7, "f": 0.5, "b": True}
    with tracer.start_as_current_span("call", kind=SpanKind.CLIENT, attributes=attributes), \
            tracer.start_as_current_span("kernel") as inner:
        inner.set_status(Status(StatusCode.ERROR, "bad input"))
    spans = memory.get_finished_spans()
    reference = json_format.MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in reference["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    ours = orjson.loads(tracing.otlp_json(spans))

    def normal(message: dict) -> list:
        """Spans by name, with the fields the protobuf JSON leaves out when empty dropped."""
        found = []
        for resource in message["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    status = {k: v for k, v in span.get("status", {}).items() if v}
                    span = {k: v for k, v in {**span, "status": status}.items()
                            if v not in ({}, [], "", 0)}
                    found.append((scope["scope"]["name"], span))
        return sorted(found, key=lambda item: item[1]["name"])

    assert normal(ours) == normal(reference)


class _Receiver:
    """An OTLP/HTTP receiver on loopback, as a collector's ``otlp`` receiver listens: it keeps
    what was POSTed to /v1/traces, or answers every request with ``status``."""

    def __init__(self, status: int = 200) -> None:
        import http.server
        import threading

        self.bodies: list[tuple[str, str, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append((self.path, self.headers["Content-Type"], body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _trace_file(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "t.jsonl"
    line = ('{"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": '
            '[{"traceId": "%032x", "spanId": "%016x", "name": "x", "kind": 1, '
            '"startTimeUnixNano": "1", "endTimeUnixNano": "2", "attributes": []}]}]}]}')
    path.write_text("".join(line % (n + 1, n + 1) + "\n" for n in range(lines)))
    return path


def test_send_posts_each_line_to_the_otlp_http_receiver(tmp_path: Path) -> None:
    receiver = _Receiver()
    try:
        assert tracing.send(_trace_file(tmp_path, 3), receiver.url + "/") == 3
    finally:
        receiver.close()
    assert [(path, kind) for path, kind, _ in receiver.bodies] == [
        ("/v1/traces", "application/json")] * 3
    ids = [orjson.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
           for _, _, body in receiver.bodies]
    assert ids == [f"{n:032x}" for n in (1, 2, 3)]


def test_send_names_the_endpoint_and_the_problem(tmp_path: Path) -> None:
    path = _trace_file(tmp_path, 1)
    refusing = _Receiver(status=503)
    try:
        with pytest.raises(tracing.TraceSendError, match=r"/v1/traces refused.*HTTP 503"):
            tracing.send(path, refusing.url)
    finally:
        refusing.close()
    with pytest.raises(tracing.TraceSendError, match=r"cannot send traces to "
                                                     r"http://127\.0\.0\.1:9/v1/traces"):
        tracing.send(path, "http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(tracing.TraceSendError, match="an http:// or https:// URL"):
        tracing.send(path, "grpc://127.0.0.1:4317")


@pytest.mark.slow  # two quick runs (about 6 s idle)
def test_run_sends_its_traces_and_keeps_them_when_the_receiver_is_down(tmp_path: Path) -> None:
    receiver = _Receiver()
    try:
        code = cli.main(["run", "-w", "echo", "--size", "64B", "-b", "inproc", "--quick",
                         "--workers", "1", "--no-cold-start", "--trace",
                         str(tmp_path / "t.jsonl"), "--trace-endpoint", receiver.url,
                         "-o", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")])
    finally:
        receiver.close()
    assert code == 0
    done = results.load(tmp_path / "r.json")
    assert done.config["trace_requests_sent"] == len(receiver.bodies) == \
        done.config["trace_lines"] > 0
    # a receiver that is not there: the run and its trace file stand, with a warning
    code = cli.main(["run", "-w", "echo", "--size", "64B", "-b", "inproc", "--quick",
                     "--workers", "1", "--no-cold-start", "--trace", str(tmp_path / "u.jsonl"),
                     "--trace-endpoint", "http://127.0.0.1:9", "-o", str(tmp_path / "u.json"),
                     "--report", str(tmp_path / "u.html")])
    assert code == 0
    done = results.load(tmp_path / "u.json")
    [notice] = [n for n in map(results.Notice.of, done.warnings)
                if n.kind == results.Kind.TRACE_NOT_SENT]
    assert "cannot send traces to http://127.0.0.1:9/v1/traces" in notice.message
    assert (tmp_path / "u.jsonl").stat().st_size > 0  # the spans are kept


def test_trace_endpoint_needs_trace(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["run", "-w", "echo", "-b", "inproc", "--quick", "--trace-endpoint",
                     "http://127.0.0.1:4318", "-o", str(tmp_path / "r.json")])
    assert code != 0
    captured = capsys.readouterr()
    assert "--trace-endpoint needs --trace FILE" in captured.err + captured.out
