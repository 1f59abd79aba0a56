"""The ``grpc`` and ``grpc-py`` backends against their real server processes (no mocks).

Each backend is skipped, with its own reason, when it cannot run here (server binary not built,
generated protobuf module missing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

import hybridbench
from hybridbench.backends.grpc import GrpcBackend, GrpcPyBackend, _proto, server_binary
from hybridbench.backends.grpc.gobackend import GrpcGoBackend, GrpcGoBestBackend, GrpcGoCgoBackend
from hybridbench.backends.grpc.gobackend import server_path as go_server_binary
from hybridbench.errors import BackendError, WorkloadError
from hybridbench.testing import bad_input_params, size_params

BACKENDS = {"grpc": GrpcBackend, "grpc-py": GrpcPyBackend, "grpc-go": GrpcGoBackend,
            "grpc-go-best": GrpcGoBestBackend, "grpc-go-cgo": GrpcGoCgoBackend}
#: the three servers (the Go one's other kernel tables share its process behaviour)
SERVERS = ("grpc", "grpc-py", "grpc-go")


def _param(name: str):
    reason = BACKENDS[name].unavailable_reason()
    return pytest.param(name, id=name,
                        marks=[pytest.mark.skipif(reason is not None, reason=str(reason))])


ALL = [_param(name) for name in SERVERS]
#: every kernel table behind a server: each verifies every workload and size, rejects bad input
TABLES = [_param(name) for name in BACKENDS]
RUST = [_param("grpc")]
GO = _param("grpc-go")

CASES = size_params()


@pytest.fixture(scope="module", params=TABLES)
def backend(request):
    with hybridbench.open_backend(request.param) as b:
        yield b


def _gone(pid: int, timeout: float = 5.0) -> bool:
    """True once ``pid`` no longer runs (gone, or a zombie nobody has reaped yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _skip_unsupported(backend, workload: str) -> None:
    """A server without a kernel for ``workload`` says why (e.g. a Go server built before it)."""
    reason = backend.unsupported_reason(workload)
    if reason:
        pytest.skip(reason)


# -- every workload and size ------------------------------------------------------------------

@pytest.mark.parametrize(("workload", "size"), CASES)
def test_every_workload_and_size_verifies(backend, workload, size):
    _skip_unsupported(backend, workload)
    payload = hybridbench.make_input(workload, size, seed=0)
    hybridbench.verify(workload, payload, backend.run(workload, payload))


def test_processes_and_describe(backend):
    procs = backend.processes()
    assert procs["client"] == os.getpid()
    server = psutil.Process(procs["server"])
    assert server.is_running() and server.ppid() == os.getpid()
    info = backend.describe()
    assert info["server_pid"] == procs["server"]
    assert info["server"] == {"grpc": "hybridbench-kernels", "grpc-py": "hybridbench-pyserver",
                              "grpc-go": "hybridbench-goengine",
                              "grpc-go-best": "hybridbench-goengine",
                              "grpc-go-cgo": "hybridbench-goengine"}[backend.name]
    assert info["target"].startswith("unix:")
    if backend.name == "grpc":  # the Rust server's version carries its build flags
        assert isinstance(info["jpeg_simd"], bool), info["server_version"]
    resources = backend.server_resources()["server"]
    assert resources["pid"] == procs["server"]
    assert 0 < resources["rss_bytes"] <= resources["rss_peak_bytes"]
    assert resources["cpu_s"] > 0 and resources["calls"] >= 0


def test_kernel_time_comes_back_from_the_server(backend):
    payload = hybridbench.make_input("json", "64KB")
    out, kernel_ns = backend.run_timed("json", payload)
    hybridbench.verify("json", payload, out)
    assert kernel_ns is not None and 0 < kernel_ns < 10**9


# -- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("workload", "payload", "pattern"), bad_input_params())
def test_bad_input_is_a_workload_error_and_the_server_lives_on(backend, workload, payload,
                                                                pattern):
    _skip_unsupported(backend, workload)
    with pytest.raises(WorkloadError, match=pattern):
        backend.run(workload, payload)
    assert backend.run("echo", b"still here") == b"still here"


def test_invalid_argument_carries_the_servers_message(backend):
    with pytest.raises(WorkloadError) as info:
        backend.run("timeseries", b"HBTS")
    # the message is the server's own, not a generic gRPC text
    assert "header" in str(info.value) and "INVALID_ARGUMENT" not in str(info.value)


# -- concurrency -------------------------------------------------------------------------------

def test_concurrent_calls_from_several_threads(backend):
    inputs = {w: hybridbench.make_input(w, s) for w, s in
              [("json", "64KB"), ("timeseries", "10k"), ("echo", "1MB"), ("image", "small")]}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for round_ in range(3):
                workload = list(inputs)[(index + round_) % len(inputs)]
                out = backend.run(workload, inputs[workload])
                hybridbench.verify(workload, inputs[workload], out)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


# -- wire agreement ------------------------------------------------------------------------------

def _raw_run(backend, workload: str, data: bytes):
    """A Run call straight to the backend's server, past the client's own checks."""
    import grpc

    with grpc.insecure_channel(backend.describe()["target"],
                               options=_proto.channel_options()) as channel:
        stub = channel.unary_unary(_proto.method_path(_proto.RUN),
                                   request_serializer=lambda d: _proto.encode_run_request(
                                       _proto.run_request_prefix(workload), d))
        return stub(data, timeout=30)


def _normalised(fdp):
    from google.protobuf import descriptor_pb2

    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fdp)
    copy.ClearField("source_code_info")
    for message in copy.message_type:
        for field in message.field:
            field.ClearField("json_name")  # protoc's Python output leaves it out
    return copy


def test_wire_agreement(backend):
    """The server was built from the same proto as the client, and every RPC answers."""
    from google.protobuf import descriptor_pb2, text_format

    pb2 = _proto.pb2()
    reply = backend.server_info()
    fds = descriptor_pb2.FileDescriptorSet.FromString(reply.file_descriptor_set)
    served = {f.name: f for f in fds.file}
    assert "hybridbench.proto" in served, sorted(served)
    ours = descriptor_pb2.FileDescriptorProto()
    pb2.DESCRIPTOR.CopyToProto(ours)
    theirs, ours = _normalised(served["hybridbench.proto"]), _normalised(ours)
    assert text_format.MessageToString(theirs) == text_format.MessageToString(ours)
    assert theirs.SerializeToString(deterministic=True) == ours.SerializeToString(
        deterministic=True)

    # every RPC of the service, for real; the server declares what it implements
    service = pb2.DESCRIPTOR.services_by_name["Kernels"]
    assert {m.name for m in service.methods} == {_proto.RUN, "Describe", "Resources"}
    assert list(reply.workloads) == list(backend.providers()[0].workloads)
    assert reply.pid == backend.processes()["server"]
    for workload in reply.workloads:
        smallest = hybridbench.registry.get_workload(workload).size_names()[0]
        payload = hybridbench.make_input(workload, smallest)
        hybridbench.verify(workload, payload, backend.run(workload, payload))
    assert backend.server_resources()["server"]["calls"] >= len(reply.workloads)

    # a workload the server does not have is UNIMPLEMENTED, named in the message
    import grpc

    with pytest.raises(grpc.RpcError) as info:
        _raw_run(backend, "no-such-workload", b"x")
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "no-such-workload" in info.value.details()

    # the standard health service, overall and for the Kernels service
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(backend.describe()["target"],
                               options=_proto.channel_options()) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        serving = health_pb2.HealthCheckResponse.SERVING
        for service_name in ("", _proto.SERVICE):
            request = health_pb2.HealthCheckRequest(service=service_name)
            assert health.Check(request, timeout=5).status == serving
            watch = health.Watch(request, timeout=5)
            assert next(watch).status == serving  # the stream opens with the current status
            watch.cancel()
        with pytest.raises(grpc.RpcError) as info:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16_383, 16_384, 1 << 21])
@pytest.mark.parametrize("workload", ["json", "", "w" * 200, "naïve"])
def test_hand_encoded_run_messages_match_the_generated_ones(size, workload):
    pb2 = _proto.pb2()
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    generated = pb2.RunRequest(workload=workload, data=data).SerializeToString()
    assert _proto.encode_run_request(_proto.run_request_prefix(workload), data) == generated
    assert _proto.decode_run_request(generated) == (workload, data)
    for kernel_ns in (0, 1, 300, 2**40):
        reply = pb2.RunReply(data=data, kernel_ns=kernel_ns).SerializeToString()
        assert _proto.encode_run_reply(data, kernel_ns) == reply
        assert _proto.decode_run_reply(reply) == (data, kernel_ns)
    # non-canonical encodings (an unknown field after the body) go through the parser
    reply = pb2.RunReply(data=data, kernel_ns=7).SerializeToString()
    assert _proto.decode_run_reply(reply + b"\x18\x01") == (data, 7)
    assert _proto.decode_run_request(generated + b"\x18\x01") == (workload, data)


# -- failures -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_killed_server_gives_backend_error(name):
    payload = hybridbench.make_input("json", "1MB")
    with hybridbench.open_backend(name) as b:
        pid = b.processes()["server"]
        errors: list[BaseException] = []

        def loop() -> None:
            try:
                for _ in range(10_000):
                    b.run("json", payload)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=loop)
        thread.start()
        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], BackendError), errors
        assert not isinstance(errors[0], WorkloadError)
        with pytest.raises(BackendError, match="SIGKILL"):
            b.run("echo", b"x")
    assert _gone(pid)


def _kill_first_server_during_the_cell(stop: threading.Event, killed: list[int]) -> None:
    """Find the first server this process (or its worker processes) spawns, let it work a
    moment, SIGKILL it."""
    me = psutil.Process()
    while not stop.is_set():
        for child in me.children(recursive=True):
            try:
                if child.name().startswith("hybridbench-ser"):
                    time.sleep(0.4)
                    child.kill()
                    killed.append(child.pid)
                    return
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.01)


@pytest.mark.slow
@pytest.mark.parametrize("name", RUST)
def test_runner_records_a_killed_server_and_keeps_the_other_cell(name):
    from hybridbench.results import FAILED, OK
    from hybridbench.runner import RunConfig, run

    # One worker timing 3 s: the kill 0.4 s after the server appears must land while that
    # worker still uses it (with 4 short workers, the first could finish before the kill).
    config = RunConfig(workloads=["json", "echo"], backends=[name],
                       sizes={"json": "1MB", "echo": "1KB"}, duration_s=3.0, workers=1,
                       rounds=2, warmup_s=0.1, cold_start=False)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_first_server_during_the_cell, args=(stop, killed))
    killer.start()
    t0 = time.monotonic()
    try:
        results = run(config)
    finally:
        stop.set()
        killer.join()
    assert time.monotonic() - t0 < 30
    assert killed
    cells = {c.workload: c for c in results.cells}
    assert set(cells) == {"json", "echo"}
    assert cells["json"].status == FAILED, cells["json"]
    assert "BackendError" in cells["json"].error and "SIGKILL" in cells["json"].error
    assert cells["echo"].status == OK and cells["echo"].verified, cells["echo"].error
    assert cells["echo"].rss_peak_bytes["server"] and cells["echo"].samples > 0
    assert _gone(killed[0])


def test_server_that_fails_to_start_gives_a_clear_error(tmp_path, monkeypatch):
    fake = tmp_path / "hybridbench-server"
    fake.write_text("#!/bin/sh\necho 'cannot frobnicate the widget' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HYBRIDBENCH_SERVER", str(fake))
    backend = GrpcBackend(startup_timeout_s=10)
    with pytest.raises(BackendError, match=r"(?s)exited with 3.*cannot frobnicate"):
        backend.start()
    backend.stop()
    backend.stop()  # idempotent


def test_server_that_never_listens_times_out(tmp_path, monkeypatch):
    fake = tmp_path / "hybridbench-server"
    fake.write_text("#!/bin/sh\n[ \"$1\" = --list-workloads ] && echo echo && exit 0\n"
                    "echo 'warming up' >&2\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HYBRIDBENCH_SERVER", str(fake))
    backend = GrpcBackend(startup_timeout_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=r"(?s)startup timeout.*warming up"):
        backend.start()
    assert time.monotonic() - t0 < 10
    assert backend.processes() == {"client": os.getpid()}


def test_missing_binary_is_unavailable_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("HYBRIDBENCH_SERVER", str(tmp_path / "nope"))
    reason = GrpcBackend.unavailable_reason()
    assert reason and "HYBRIDBENCH_SERVER" in reason
    with pytest.raises(BackendError):
        GrpcBackend().start()


# -- an already-running server (--grpc-target) ----------------------------------------------------

def _start_server(command: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode().strip()
    assert line.startswith("listening on "), (line, proc.stderr.read())
    return proc, line.removeprefix("listening on ")


def _server_command(name: str, listen: str) -> list[str]:
    if name == "grpc":
        return [str(server_binary()), "--listen", listen]
    if name == "grpc-go":
        return [str(go_server_binary()), "--listen", listen]
    return [sys.executable, "-m", "hybridbench.backends.grpc.pyserver", "--listen", listen]


@pytest.mark.parametrize("name", ALL)
def test_target_uses_a_running_tcp_server(name):
    proc, address = _start_server(_server_command(name, "127.0.0.1:0"))
    try:
        host, port = address.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        with hybridbench.open_backend(name, target=address) as b:
            assert b.processes() == {"client": os.getpid()}
            payload = hybridbench.make_input("json", "64KB")
            hybridbench.verify("json", payload, b.run("json", payload))
            assert b.describe()["spawned"] is False
        assert proc.poll() is None  # not ours to stop
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


@pytest.mark.parametrize("name", ALL)
def test_spawned_over_loopback_tcp(name):
    with hybridbench.open_backend(name, listen="tcp") as b:
        host, port = b.describe()["target"].rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        payload = hybridbench.make_input("timeseries", "10k")
        hybridbench.verify("timeseries", payload, b.run("timeseries", payload))


@pytest.mark.parametrize("name", ALL)
def test_non_loopback_listen_needs_allow_remote(name):
    result = subprocess.run(_server_command(name, "0.0.0.0:0"), capture_output=True, timeout=30)
    assert result.returncode == 2
    assert b"--allow-remote" in result.stderr
    assert b"listening" not in result.stdout


@pytest.mark.parametrize("name", ALL)
def test_sigterm_is_a_graceful_shutdown(name, tmp_path):
    sock = tmp_path / "s.sock"
    proc, address = _start_server(_server_command(name, f"unix:{sock}"))
    assert address == f"unix:{sock}" and sock.exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert not sock.exists()


# -- no server outlives the harness ----------------------------------------------------------------

# A signalled child waits in short sleeps, as the harness's own waits do (the manager's
# POLL_S, pyserver's PARENT_POLL_S), never in one long sleep: a SIGINT sent to a process is
# taken by any thread that does not block it, and grpcio's C threads (event_engine,
# lifeguard, grpc_global_timer) do not. When one of them takes it, Python's C handler only
# flags it there; the main thread's clock_nanosleep is not interrupted and the
# KeyboardInterrupt waits for the sleep to end. With time.sleep(60) a grpc-go SIGINT child
# outlived EXIT_WAIT_S so in CI (load 6), and 1 of 300 children at load 6-7 here, where the
# kernel's signal_deliver event named an event_engine thread. Each short sleep returns to
# the interpreter, which then raises the flagged KeyboardInterrupt in the main thread
# whichever thread took the signal.
CHILD = """
import os, sys, time
import hybridbench
backend = hybridbench.open_backend(sys.argv[1])
backend.start()
print(backend.processes()["server"], flush=True)
mode = sys.argv[2]
if mode in ("normal", "exception"):
    sys.stdin.readline()  # the test's go-ahead: it has seen the server alive
if mode == "exception":
    raise RuntimeError("boom")
if mode == "normal":
    sys.exit(0)
until = time.monotonic() + 60
while time.monotonic() < until:
    time.sleep(0.02)
"""

EXITS = [pytest.param("grpc", mode, id=f"grpc-{mode}", marks=RUST[0].marks)
         for mode in ("normal", "exception", "sigint", "sigterm", "sigkill")]
EXITS += [pytest.param("grpc-py", mode, id=f"grpc-py-{mode}", marks=ALL[1].marks)
          for mode in ("normal", "sigterm", "sigkill")]
EXITS += [pytest.param("grpc-go", mode, id=f"grpc-go-{mode}", marks=GO.marks)
          for mode in ("normal", "exception", "sigint", "sigterm", "sigkill")]


#: a harness stops its server within 2 x supervisor.STOP_GRACE_S; the rest is a loaded machine
EXIT_WAIT_S = 30


@pytest.mark.parametrize(("name", "mode"), EXITS)
def test_no_server_outlives_the_harness(name, mode):
    # A child that exits or raises waits for a line on stdin first: without that go-ahead a
    # loaded machine let the "normal" child exit (and stop its server) before the test had
    # looked at the server (seen 2026-12-06 at load 10). The others sleep until signalled.
    # -X faulthandler: a child still there after EXIT_WAIT_S is sent SIGABRT, and the failure
    # shows where each of its threads was (a grpc-go SIGINT child once outlived 15 s at load 6)
    child = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", CHILD, name, mode],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        line = child.stdout.readline().decode().strip()
        assert line.isdigit(), (line, child.stderr.read().decode())
        server_pid = int(line)
        assert psutil.Process(server_pid).is_running()
        child.stdin.write(b"go\n")
        child.stdin.close()
        if mode in ("sigint", "sigterm", "sigkill"):
            child.send_signal({"sigint": signal.SIGINT, "sigterm": signal.SIGTERM,
                               "sigkill": signal.SIGKILL}[mode])
        try:
            child.wait(EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGABRT)
            child.wait(EXIT_WAIT_S)  # not communicate(): it flushes the stdin closed above
            stderr = child.stderr.read().decode(errors="replace")
            pytest.fail(f"the harness ({mode}) did not exit within {EXIT_WAIT_S} s; its "
                        f"threads:\n{stderr[-6000:]}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _gone(server_pid), f"server {server_pid} outlived its harness ({mode})"
    if mode == "sigkill":  # its socket directory is swept by the next backend that starts
        leftovers = list(Path(tempfile.gettempdir()).glob(f"hybridbench-srv-{child.pid}-*"))
        with hybridbench.open_backend(name):
            pass
        assert not any(p.exists() for p in leftovers)


def test_stop_is_idempotent_and_removes_the_socket_dir():
    if GrpcBackend.unavailable_reason():
        pytest.skip(GrpcBackend.unavailable_reason())
    b = GrpcBackend()
    b.start()
    pid = b.processes()["server"]
    sock_dir = Path(b.describe()["target"].removeprefix("unix:")).parent
    assert sock_dir.is_dir()
    b.stop()
    b.stop()
    assert _gone(pid) and not sock_dir.exists()
    assert b.processes() == {"client": os.getpid()}
    # a stopped backend starts again on demand
    assert b.run("echo", b"again") == b"again"
    b.stop()


# -- a --grpc-target that is not usable fails fast, saying why ------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_fails_fast(target: str, pattern: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=pattern):
        GrpcBackend(target=target).start()
    assert time.monotonic() - t0 < 6


def test_target_refused_is_named():
    _assert_fails_fast(f"127.0.0.1:{_free_port()}", r"cannot connect \(Connection refused\)")


def test_target_missing_socket_file_is_named(tmp_path):
    _assert_fails_fast(f"unix:{tmp_path}/nope.sock", "no socket file")


def test_target_that_is_not_grpc_is_named():
    import http.server

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _assert_fails_fast(f"127.0.0.1:{server.server_address[1]}", "does not speak gRPC")
    finally:
        server.shutdown()
        server.server_close()


def test_target_that_never_answers_is_named():
    import socket

    with socket.socket() as silent:  # accepts into the backlog, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        _assert_fails_fast(f"127.0.0.1:{silent.getsockname()[1]}",
                           "no gRPC answer within 2 s")


@pytest.mark.parametrize("name", ALL)
def test_every_server_enforces_the_payload_limit_itself(name):
    """Sent past the client's own check: the server refuses it, and keeps serving."""
    import grpc

    from hybridbench.limits import MAX_PAYLOAD_BYTES

    with hybridbench.open_backend(name, workloads=["echo"]) as b:
        with pytest.raises(grpc.RpcError) as info:
            _raw_run(b, "echo", bytes(MAX_PAYLOAD_BYTES + 1))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "exceeds the limit" in info.value.details()
        assert b.run("echo", b"ok") == b"ok"


def test_a_run_against_an_unreachable_target_fails_its_cells_and_exits_1(tmp_path, capsys):
    from hybridbench import cli

    out = tmp_path / "r.json"
    code = cli.main(["run", "-w", "echo", "--size", "64B", "-b", "grpc", "--grpc-target",
                     f"127.0.0.1:{_free_port()}", "--quick", "--no-cold-start", "-o", str(out),
                     "--report", str(tmp_path / "r.html")])
    assert code == 1
    cell = json.loads(out.read_text())["cells"][0]
    assert cell["status"] == "failed" and "Connection refused" in cell["error"]
