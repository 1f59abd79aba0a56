"""``--log-format json`` (issue 24, item 4): the real Rust, Go and Python servers write one
JSON object a line on stderr (time, level, message, and the trace id of a traced call); the
default stays text."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from hybridbench.backends.grpc import GrpcBackend, GrpcPyBackend, _proto
from hybridbench.backends.grpc.gobackend import GrpcGoBackend

BACKENDS = {"grpc": GrpcBackend, "grpc-go": GrpcGoBackend, "grpc-py": GrpcPyBackend}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _command(name: str) -> list[str]:
    backend = BACKENDS[name]
    reason = backend.unavailable_reason()
    if reason:
        pytest.skip(f"{name}: {reason}")
    return list(backend().providers()[0].command)


class Running:
    """A server started by hand (no parent watch), stopped with SIGTERM."""

    def __init__(self, command: list[str], tmp_path: Path) -> None:
        socket = tmp_path / "server.sock"
        self.proc = subprocess.Popen(
            [*command, "--listen", f"unix:{socket}", "--no-parent-watch", "--workers", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        assert line.startswith("listening on "), line
        self.channel = grpc.insecure_channel(f"unix:{socket}",
                                             options=[("grpc.default_authority", "localhost")])

    def call(self, workload: str, payload: bytes, metadata: tuple[tuple[str, str], ...] = ()
             ) -> int:
        stub = self.channel.unary_unary(
            _proto.method_path(_proto.RUN),
            request_serializer=lambda p: _proto.encode_run_request(
                _proto.run_request_prefix(workload), p),
            response_deserializer=_proto.decode_run_reply)
        data, kernel_ns = stub(payload, timeout=20, metadata=metadata)
        assert data == payload
        return int(kernel_ns)

    def stop(self) -> list[str]:
        """SIGTERM, then every stderr line."""
        self.channel.close()
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=20)
        return err.decode().splitlines()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[Running] = []

    def _start(name: str, *flags: str) -> Running:
        running = Running([*_command(name), *flags], tmp_path)
        started.append(running)
        return running

    yield _start
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait()


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_json_logs_are_one_object_a_line_with_the_trace_id(name: str, start: object) -> None:
    server = start(name, "--log-format", "json", "--log-calls")  # type: ignore[operator]
    kernel_ns = server.call("echo", b"x" * 64, (("traceparent", TRACEPARENT),))
    server.call("echo", b"y" * 64)
    lines = [json.loads(line) for line in server.stop()]
    for line in lines:
        assert {"time", "level", "message"} <= line.keys(), line
        assert dt.datetime.fromisoformat(line["time"].replace("Z", "+00:00")).tzinfo
        assert line["level"] in ("INFO", "ERROR"), line
    calls = [line for line in lines if line.get("workload") == "echo"]
    assert len(calls) == 2, lines
    assert calls[0]["trace_id"] == TRACE_ID and calls[0]["kernel_ns"] == kernel_ns
    assert calls[0]["bytes"] == 64
    assert "trace_id" not in calls[1]  # a call without a trace context has none
    assert any("shutting down" in line["message"] for line in lines)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_text_logs_stay_the_default(name: str, start: object) -> None:
    server = start(name)  # type: ignore[operator]
    server.call("echo", b"z" * 64)
    lines = server.stop()
    assert lines and all(not line.startswith("{") for line in lines), lines
    assert any(line.endswith("SIGTERM: shutting down") for line in lines), lines


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_an_unknown_log_format_is_a_clear_error(name: str) -> None:
    done = subprocess.run([*_command(name), "--listen", "unix:/nonexistent/s.sock",
                           "--log-format", "yaml"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "--log-format" in done.stderr and "yaml" in done.stderr
    assert "Traceback" not in done.stderr
