"""``grpc`` and ``grpc-py``: a workload server in another process, reached with grpcio.

``grpc`` spawns ``hybridbench-server`` (native/server: the Rust kernels behind tonic);
``grpc-py`` spawns ``python -m hybridbench.backends.grpc.pyserver`` (the ``inproc`` Python
engines behind grpcio). Both speak ``proto/hybridbench.proto`` and are driven by the same client,
so ``grpc`` vs ``grpc-py`` compares engines over one transport and ``grpc-py`` vs ``inproc``
isolates the transport.

Options (``open_backend("grpc", **options)``; the CLI's ``--grpc-target ADDR`` sets ``target``):

* ``target="unix:/path"`` / ``"HOST:PORT"``: use a server that is already running (nothing is
  spawned; ``processes()`` then has no ``server``).
* ``listen="unix"`` (default: a socket in a private temp dir) or ``"tcp"`` (127.0.0.1, port 0).
* ``timeout_s=60``: deadline of each call; ``startup_timeout_s=20``: spawn to healthy.
* ``workers=N``: the server's kernel threads (default: the number of CPUs).

Binary: ``$HYBRIDBENCH_SERVER`` if set, else ``hybridbench-server`` in this interpreter's
``bin/`` (where ``pip install`` puts it), else a cargo build in the checkout
(``native/target/release``), else ``PATH``.

Spawned servers never outlive the harness: each runs in its own session/process group with the
parent's PID (``--parent-pid``), sets ``PR_SET_PDEATHSIG`` itself and polls ``getppid()``, and
``stop()`` (also run by ``atexit`` and a weakref finalizer) sends SIGTERM, waits 3 s, then
SIGKILLs the group. When ``start()`` runs on a thread other than the main thread the death signal
is not used (it would fire when that thread ends); the watchdog still is.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, ClassVar

import grpc

from hybridbench.backend import Backend
from hybridbench.backends.grpc import _proto
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError

HERE = Path(__file__).resolve().parent
SERVER_ENV = "HYBRIDBENCH_SERVER"
SERVER_NAME = "hybridbench-server"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_STARTUP_TIMEOUT_S = 20.0
STOP_GRACE_S = 3.0
STDERR_TAIL = 2000
#: private directories of spawned servers: TMP_PREFIX + "<harness pid>-<backend>-<random>"
TMP_PREFIX = "hybridbench-srv-"


def server_binary() -> Path | None:
    """Where ``hybridbench-server`` is (see the module docstring), or None."""
    override = os.environ.get(SERVER_ENV)
    if override:
        return Path(override)
    exe = SERVER_NAME + (".exe" if os.name == "nt" else "")
    candidates = [shutil.which(exe, path=str(Path(sys.executable).parent))]
    checkout = HERE.parent.parent / "native" / "target" / "release" / exe
    if checkout.is_file() and os.access(checkout, os.X_OK):
        candidates.append(str(checkout))
    candidates.append(shutil.which(exe))
    for candidate in candidates:
        if candidate:
            return Path(candidate)
    return None


# -- server processes: bookkeeping so that none outlives the harness ----------------------------

_LIVE: set[_Server] = set()
_LIVE_LOCK = threading.Lock()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Server:
    """One spawned server process, its private directory and its stderr log."""

    def __init__(self, command: list[str], tmpdir: str, stderr_path: Path) -> None:
        self.tmpdir = tmpdir
        self.stderr_path = stderr_path
        self.command = command
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True, close_fds=True)
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self) -> str:
        try:
            data = self.stderr_path.read_bytes()[-STDERR_TAIL:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()

    def exit_status(self, wait_s: float = 0.0) -> int | None:
        try:
            return self.proc.wait(wait_s) if wait_s else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def wait_listening(self, deadline: float) -> str:
        """Read the ``listening on ADDR`` line; return ADDR."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.failure("did not report its address within the startup timeout")
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:  # stdout closed: the process exited
                    self.exit_status(1.0)
                    raise self.failure("exited before listening")
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            raise self.failure(f"printed {line!r} instead of 'listening on ADDR'")
        return line[len(prefix):]

    def failure(self, what: str) -> BackendError:
        status = self.exit_status()
        state = f"; {_describe_exit(status)}" if status is not None else ""
        tail = self.stderr_tail()
        return BackendError(f"server {self.command[0]} (pid {self.pid}) {what}{state}"
                            + (f"; stderr:\n{tail}" if tail else ""))

    def stop(self) -> None:
        """SIGTERM, wait up to STOP_GRACE_S, then SIGKILL the process group. Never raises."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(STOP_GRACE_S)
            if self.proc.poll() is None:
                # still not reaped, so its process group id cannot have been reused
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(STOP_GRACE_S)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        except Exception:
            pass
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            with _LIVE_LOCK:
                _LIVE.discard(self)


@atexit.register
def _stop_all_servers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.stop()


def _sweep_stale_dirs() -> None:
    """Remove the socket directories of harness processes that died without cleaning up
    (SIGKILL): their servers exit by themselves, their directories stay behind."""
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{TMP_PREFIX}*"))
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
            continue  # its owner (or a process with its pid) is alive: leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        if entry.is_dir() and entry.stat().st_uid == os.getuid():
            shutil.rmtree(entry, ignore_errors=True)


def _finalize(server: _Server | None, channel: grpc.Channel | None) -> None:
    if channel is not None:
        with contextlib.suppress(Exception):
            channel.close()
    if server is not None:
        server.stop()


# -- the backends -----------------------------------------------------------------------------

class GrpcBackend(Backend):
    name = "grpc"
    summary = "Rust kernels in a tonic server process, over gRPC (grpcio client)"
    parallel_calls: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.target: str | None = options.get("target") or None
        self.listen_kind: str = options.get("listen", "unix")
        if self.listen_kind not in ("unix", "tcp"):
            raise ValueError(f"{self.name}: listen must be 'unix' or 'tcp', "
                             f"not {self.listen_kind!r}")
        self.timeout_s = float(options.get("timeout_s", DEFAULT_TIMEOUT_S))
        self.startup_timeout_s = float(options.get("startup_timeout_s",
                                                   DEFAULT_STARTUP_TIMEOUT_S))
        self.workers: int | None = options.get("workers")
        self._server: _Server | None = None
        self._channel: grpc.Channel | None = None
        self._address: str | None = None
        self._calls: dict[str, Any] = {}
        self._pb2: Any = None
        self._finalizer: weakref.finalize | None = None
        self._lock = threading.Lock()
        self._info: dict[str, Any] = {}

    # -- discovery ---------------------------------------------------------------------------

    @classmethod
    def unavailable_reason(cls) -> str | None:
        reason = _proto.unavailable_reason()
        if reason:
            return reason
        binary = server_binary()
        if binary is None:
            return (f"the Rust gRPC server {SERVER_NAME} is not built (not in "
                    f"{Path(sys.executable).parent}, native/target/release or PATH); run "
                    f"`pip install -e .` with a Rust toolchain (cargo) on PATH, or set "
                    f"{SERVER_ENV}")
        if not binary.is_file() or not os.access(binary, os.X_OK):
            return f"{SERVER_ENV} points to {binary}, which is not an executable file"
        return None

    def server_command(self, listen: str) -> list[str]:
        binary = server_binary()
        if binary is None:
            raise BackendError(self.unavailable_reason() or "server binary not found")
        return [str(binary), "--listen", listen]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self.started:
                return
            try:
                self._start()
            except BaseException:
                self._release()
                raise
            self.started = True

    def _start(self) -> None:
        try:
            self._pb2 = _proto.pb2()
        except ImportError as exc:
            raise BackendError(str(exc)) from None
        deadline = time.monotonic() + self.startup_timeout_s
        if self.target:
            address = self.target
        else:
            reason = self.unavailable_reason()
            if reason:
                raise BackendError(f"{self.name}: {reason}")
            _sweep_stale_dirs()
            tmpdir = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{self.name}-")
            listen = (f"unix:{tmpdir}/server.sock" if self.listen_kind == "unix"
                      else "127.0.0.1:0")
            command = [*self.server_command(listen), "--parent-pid", str(os.getpid())]
            if self.workers:
                command += ["--workers", str(int(self.workers))]
            if threading.current_thread() is not threading.main_thread():
                command.append("--no-death-signal")
            try:
                self._server = _Server(command, tmpdir, Path(tmpdir) / "stderr.log")
            except OSError as exc:
                shutil.rmtree(tmpdir, ignore_errors=True)
                raise BackendError(f"{self.name}: cannot start {command[0]}: {exc}") from None
            address = self._server.wait_listening(deadline)
        self._address = address
        self._channel = grpc.insecure_channel(address, options=_proto.channel_options())
        self._finalizer = weakref.finalize(self, _finalize, self._server, self._channel)
        self._wait_healthy(deadline)
        self._calls = {
            workload: self._channel.unary_unary(
                _proto.method_path(method), request_serializer=_proto.encode_payload,
                response_deserializer=_proto.decode_payload, _registered_method=True)
            for workload, method in _proto.WORKLOAD_METHODS.items()}

    def _wait_healthy(self, deadline: float) -> None:
        assert self._channel is not None
        check = self._channel.unary_unary(_proto.HEALTH_CHECK)
        request = _proto.encode_health_request(_proto.SERVICE)
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            if self._server is not None and self._server.exit_status() is not None:
                raise self._server.failure("exited before it was healthy")
            if remaining <= 0:
                message = (f"{self.name}: server at {self._address} not healthy within "
                           f"{self.startup_timeout_s:g} s ({last})")
                if self._server is not None:
                    raise self._server.failure(f"not healthy within "
                                               f"{self.startup_timeout_s:g} s ({last})")
                raise BackendError(message)
            try:
                reply = check(request, timeout=min(max(remaining, 0.05), 2.0),
                              wait_for_ready=True)
                status = _proto.decode_health_response(reply)
                if status == _proto.SERVING:
                    return
                last = f"health status {status}"
            except grpc.RpcError as exc:
                last = f"{exc.code().name}: {exc.details()}"
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE,
                                      grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise BackendError(f"{self.name}: health check of {self._address} failed: "
                                       f"{last}") from None
            time.sleep(0.005)

    def _release(self) -> None:
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer()  # closes the channel, stops the server (once)
        else:
            _finalize(self._server, self._channel)
        self._server = None
        self._channel = None
        self._calls = {}

    def stop(self) -> None:
        try:
            with self._lock:
                self._release()
                self.started = False
        except Exception:
            pass

    # -- work --------------------------------------------------------------------------------

    def call(self, workload: str, payload: bytes) -> bytes:
        if not self.started:
            self.start()
        stub = self._calls[workload]
        try:
            return stub(payload, timeout=self.timeout_s)
        except grpc.RpcError as exc:
            raise self._error(workload, exc) from None

    def _error(self, workload: str, exc: grpc.RpcError) -> Exception:
        code, details = exc.code(), exc.details() or ""
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return WorkloadError(details)
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return UnsupportedError(f"{self.name}: {details}")
        server = self._server
        if server is not None:
            # a dead server shows up as UNAVAILABLE; give the exit status a moment to appear
            status = server.exit_status(0.5 if code == grpc.StatusCode.UNAVAILABLE else 0.0)
            if status is not None:
                return server.failure(f"died during a {workload} call "
                                      f"({code.name}: {details})")
        where = f" at {self._address}" if self._address else ""
        return BackendError(f"{self.name}: {workload} call{where} failed: {code.name}: {details}")

    # -- measurement hooks -------------------------------------------------------------------

    def processes(self) -> dict[str, int]:
        procs = {"client": os.getpid()}
        if self._server is not None:
            procs["server"] = self._server.pid
        return procs

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"target": self._address or self.target,
                                "spawned": self.target is None,
                                "timeout_s": self.timeout_s}
        if self._server is not None:
            info["server_command"] = " ".join(self._server.command)
        if self.started and not self._info:
            try:
                reply = self.server_info(timeout_s=5.0)
                self._info = {"server": reply.server, "server_version": reply.version,
                              "server_workers": reply.workers, "server_pid": reply.pid}
            except BackendError:
                pass
        info.update(self._info)
        info["grpcio"] = grpc.__version__
        return info

    def server_info(self, timeout_s: float | None = None) -> Any:
        """The server's ``DescribeReply`` (the wire-agreement test uses it)."""
        if not self.started:
            self.start()
        assert self._channel is not None
        call = self._channel.unary_unary(
            _proto.method_path("Describe"),
            request_serializer=self._pb2.DescribeRequest.SerializeToString,
            response_deserializer=self._pb2.DescribeReply.FromString)
        try:
            return call(self._pb2.DescribeRequest(), timeout=timeout_s or self.timeout_s)
        except grpc.RpcError as exc:
            raise self._error("Describe", exc) from None


class GrpcPyBackend(GrpcBackend):
    name = "grpc-py"
    summary = "the inproc Python code in a grpcio server process, same client"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _proto.unavailable_reason()

    def server_command(self, listen: str) -> list[str]:
        return [sys.executable, "-m", "hybridbench.backends.grpc.pyserver", "--listen", listen]
