"""``grpc`` and ``grpc-py``: workload servers in other processes, reached with grpcio.

``grpc`` runs native kernels in the servers that kernel packages build with the Rust SDK
(``hybridbench-server`` for the built-ins, one per plug-in; see ``hybridbench.native``);
``grpc-py`` runs every registered workload's Python engine (``Workload.fast``) in
``python -m hybridbench.backends.grpc.pyserver``. All speak ``proto/hybridbench.proto``: one
generic ``Run(workload, data)`` method, so ``grpc`` vs ``grpc-py`` compares engines over one
transport and ``grpc-py`` vs ``inproc`` isolates the transport.

Which server runs a workload: spawned servers say what they implement before they are started
(``SERVER --list-workloads``); the first call of a workload spawns the server that declares it
(so a cell starts exactly one server, and cold start includes its spawn). With ``target`` the
server already runs, possibly on another machine, and its ``Describe`` says what it has.

Options (``open_backend("grpc", **options)``; the CLI's ``--grpc-target ADDR`` sets ``target``):

* ``target="unix:/path"`` / ``"HOST:PORT"``: use a server that is already running (nothing is
  spawned; ``processes()`` then has no ``server``, ``server_resources()`` still does).
* ``listen="unix"`` (default: a socket in a private temp dir) or ``"tcp"`` (127.0.0.1, port 0).
* ``timeout_s=60``: deadline of each call; ``startup_timeout_s=20``: spawn to healthy.
* ``workers=N``: the server's kernel threads (default: the number of CPUs).
* ``server="/path/to/binary"``: spawn only this server binary (any build of a kernel crate's
  server, e.g. a branch's, for ``hybridbench ab``) instead of the installed packages' servers;
  it runs what its ``--list-workloads`` declares.
* ``container="IMAGE"`` (``cpus=``, ``memory=``): spawn the server in a container of IMAGE
  instead, as a sidecar (``container.py``): the image's own server
  (``container_command()``), a Unix socket on a bind-mounted host directory, no network,
  non-root, with these CPU and memory limits; recorded as the profile's ``container``.
* ``trace_dir=DIR`` (``run --trace``): spawned servers write their spans (OTLP JSON lines) to a
  file of their own in DIR, and sampled calls carry the caller's ``traceparent``.
* ``log_format="json"``: spawned servers log one JSON object a line on stderr;
  ``log_calls=True``: a line per ``Run`` call.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hybridbench import native
from hybridbench.backend import Backend
from hybridbench.backends.builtin_native import SERVER_ENV
from hybridbench.backends.builtin_native import server_path as server_binary
from hybridbench.backends.grpc import _proto, container, supervisor
from hybridbench.backends.grpc._channel import Tls, open_channel
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError

__all__ = ["SERVER_ENV", "GrpcBackend", "GrpcPyBackend", "server_binary"]

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_STARTUP_TIMEOUT_S = 20.0
#: how long a server that should already be running (``target``) gets to show it is one
TARGET_PROBE_S = 2.0


@dataclass(frozen=True)
class Provider:
    """A server that can be spawned: its command (without ``--listen``) and its workloads."""

    name: str
    command: tuple[str, ...]
    workloads: tuple[str, ...]


class Endpoint:
    """One connection to one server (spawned or given), with a call stub per workload."""

    def __init__(self, backend: str, address: str, server: supervisor.Server | None,
                 tls: Tls | None = None) -> None:
        self.backend, self.address, self.server = backend, address, server
        self.channel = open_channel(address, tls)
        self.info: dict[str, Any] = {}
        self.workloads: tuple[str, ...] = ()
        #: the kernel package whose server this is ("" for a given target)
        self.provider = ""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.channel.close()
        if self.server is not None:
            self.server.stop()

    def wait_healthy(self, deadline: float, startup_timeout_s: float) -> None:
        check = health_pb2_grpc.HealthStub(self.channel).Check
        request = health_pb2.HealthCheckRequest(service=_proto.SERVICE)
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            if self.server is not None and self.server.exit_status() is not None:
                raise self.server.failure("exited before it was healthy")
            if remaining <= 0:
                what = f"not healthy within {startup_timeout_s:g} s ({last})"
                if self.server is not None:
                    raise self.server.failure(what)
                raise BackendError(f"{self.backend}: server at {self.address} {what}")
            try:
                reply = check(request, timeout=min(max(remaining, 0.05), 2.0),
                              wait_for_ready=True)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = f"health status {health_pb2.HealthCheckResponse.Name(reply.status)}"
            except grpc.RpcError as exc:
                last = f"{exc.code().name}: {exc.details()}"
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE,
                                      grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise BackendError(f"{self.backend}: health check of {self.address} "
                                       f"failed: {last}") from None
            time.sleep(0.005)

    def stub(self, workload: str) -> Any:
        """``stub(payload, timeout=...) -> (data, kernel_ns)`` for ``workload`` (the backend
        keeps one per workload)."""
        return self.channel.unary_unary(
            _proto.method_path(_proto.RUN),
            request_serializer=functools.partial(_proto.encode_run_request,
                                                 _proto.run_request_prefix(workload)),
            response_deserializer=_proto.decode_run_reply, _registered_method=True)

    def unary(self, method: str, request: Any, reply_type: Any, timeout_s: float) -> Any:
        call = self.channel.unary_unary(_proto.method_path(method),
                                        request_serializer=type(request).SerializeToString,
                                        response_deserializer=reply_type.FromString)
        return call(request, timeout=timeout_s)


def diagnose_target(address: str, timeout_s: float, tls: Tls | None = None) -> str | None:
    """Why a server that should already run cannot be used, within ``timeout_s``, or None:
    no such socket file, nothing listening, an answer that is not gRPC, or no answer."""
    problem = _probe_socket(address, timeout_s)
    if problem:
        return problem
    with open_channel(address, tls) as channel:
        check = health_pb2_grpc.HealthStub(channel).Check
        try:
            check(health_pb2.HealthCheckRequest(service=""), timeout=timeout_s)
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return f"it accepted the connection but gave no gRPC answer within {timeout_s:g} s"
            if code == grpc.StatusCode.UNAVAILABLE and tls is not None:
                return f"no TLS gRPC session (plaintext server, or a certificate the CA does " \
                       f"not vouch for?): {details}"
            if code == grpc.StatusCode.UNAVAILABLE:
                return f"something listens there, but it does not speak gRPC ({details})"
            if code != grpc.StatusCode.UNIMPLEMENTED:  # no health service: Describe decides
                return f"its health check failed: {code.name}: {details}"
    return None


def _probe_socket(address: str, timeout_s: float) -> str | None:
    """A plain connect first: refused and missing sockets are named at once."""
    if address.startswith("unix:"):
        path = address.removeprefix("unix:")
        if not os.path.exists(path):
            return f"no socket file {path}"
        family, target = socket.AF_UNIX, path
    else:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            return "the address is not unix:PATH or HOST:PORT"
        try:
            connection = socket.create_connection((host.strip("[]"), int(port)), timeout_s)
        except TimeoutError:
            return f"no connection within {timeout_s:g} s"
        except OSError as exc:
            return f"cannot connect ({exc.strerror or exc})"
        connection.close()
        return None
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(target)
        except OSError as exc:
            return f"cannot connect ({exc.strerror or exc})"
    return None


def _close_all(endpoints: list[Endpoint]) -> None:
    for endpoint in endpoints:
        endpoint.close()


class GrpcBackend(Backend):
    name = "grpc"
    summary = "native kernels in a gRPC server process (tonic), grpcio client"
    placement, engine_kind, engine_name, transport = "service", "native", "Rust kernels", "gRPC"
    tuning = "tuned"
    article_column: ClassVar[dict[str, Any]] = {"engine_language": "Rust",
                                        "article_label": "Rust via gRPC", "article_order": 1}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.target: str | None = options.get("target") or None
        #: TLS to a --grpc-target (servers the harness spawns are local and plaintext)
        self.tls = Tls.from_options(options)
        if self.tls is not None and self.target is None:
            raise BackendError(f"{self.name}: TLS options need a target (--grpc-target)")
        self.listen_kind: str = options.get("listen", "unix")
        if self.listen_kind not in ("unix", "tcp"):
            raise ValueError(f"{self.name}: listen must be 'unix' or 'tcp', "
                             f"not {self.listen_kind!r}")
        self.timeout_s = float(options.get("timeout_s", DEFAULT_TIMEOUT_S))
        self.startup_timeout_s = float(options.get("startup_timeout_s",
                                                   DEFAULT_STARTUP_TIMEOUT_S))
        self.workers: int | None = options.get("workers")
        #: the sidecar placement (None: a bare process, as always)
        self.container = container.ContainerSpec.from_options(options)
        if self.container is not None and options.get("server"):
            raise BackendError(f"{self.name}: a container runs the image's own server; it "
                               f"excludes a server binary")
        # container and target together: a client group's member (--processes), whose shared
        # server the manager spawned in the container; it connects, and records the container
        self._endpoints: list[Endpoint] = []
        self._by_workload: dict[str, Endpoint] = {}
        #: workload -> the call stub of the endpoint serving it (the hot path's one lookup)
        self._calls: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_all, self._endpoints)
        self._problems: list[str] = []

    # -- discovery ---------------------------------------------------------------------------

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _proto.unavailable_reason() or native.unbuilt_reason("server",
                                                                    "native gRPC server")

    @classmethod
    def unavailable_reason_for(cls, options: dict[str, Any]) -> str | None:
        if options.get("target"):  # the server runs elsewhere: only the client is needed
            return _proto.unavailable_reason()
        if options.get("container"):  # the image's server, not one built here
            return _proto.unavailable_reason() or container.unavailable_reason(
                str(options["container"]))
        return cls.unavailable_reason()

    def container_command(self) -> tuple[str, ...]:
        """The server's command inside a container image (``deploy/server.Dockerfile``
        installs it on PATH); ``--listen`` and the rest are added at spawn."""
        return ("hybridbench-server",)

    def container_workloads(self, image: str) -> tuple[str, ...]:
        """What the image's server implements (its ``--list-workloads``, asked once in a
        throwaway container); RuntimeError with the reason if it cannot tell."""
        listed = container.list_output(image, (*self.container_command(), "--list-workloads"))
        return tuple(line.strip() for line in listed.splitlines() if line.strip())

    def _container_providers(self, spec: container.ContainerSpec) -> list[Provider]:
        self._problems = []
        problem = container.unavailable_reason(spec.image)
        if problem is None:
            try:
                command = self.container_command()
                return [Provider(f"container {spec.image}", command,
                                 self.container_workloads(spec.image))]
            except (RuntimeError, BackendError) as exc:
                problem = str(exc)
        self._problems = [problem]
        return []

    def providers(self) -> list[Provider]:
        """The servers this backend can spawn, each with what it declares."""
        if self.container is not None:
            return self._container_providers(self.container)
        if self.options.get("server"):
            return self._given_server(str(self.options["server"]))
        installed = native.installed()
        found, self._problems = [], native.describe_problems(installed, "server")
        for kernels in installed:
            if kernels.server is None:
                continue
            try:
                workloads = native.server_workloads(kernels.server)
            except RuntimeError as exc:
                self._problems.append(f"{kernels.name}: {exc}")
                continue
            found.append(Provider(kernels.name, (str(kernels.server),), workloads))
        return found

    def _given_server(self, path: str) -> list[Provider]:
        """The one binary of the ``server`` option; none (and why, in the problems) when it
        cannot say what it implements."""
        self._problems = []
        try:
            workloads = native.server_workloads(Path(path))
        except RuntimeError as exc:
            self._problems = [str(exc)]
            return []
        return [Provider(Path(path).name, (path,), workloads)]

    def unsupported_reason(self, workload: str) -> str | None:
        if self.target:
            # An unreachable target is a failure (BackendError), not a missing feature.
            endpoint = self._target_endpoint()
            if workload in endpoint.workloads:
                return None
            return (f"{self.name}: the server at {self.target} does not implement "
                    f"{workload!r} (it has: {', '.join(endpoint.workloads)})")
        providers = self.providers()
        if any(workload in p.workloads for p in providers):
            return None
        if self.container is not None:
            why = "; ".join(self._problems) or (
                "it has: " + ", ".join(w for p in providers for w in p.workloads))
            return (f"{self.name}: the server of container image {self.container.image} "
                    f"cannot run {workload!r} ({why})")
        declared = "; ".join(f"{p.name}: {', '.join(p.workloads)}" for p in providers)
        problems = "".join(f"; {p}" for p in self._problems)
        return (f"{self.name}: no installed server implements {workload!r} (servers: "
                f"{declared or 'none'}{problems})")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        try:
            _proto.pb2()
        except ImportError as exc:
            raise BackendError(str(exc)) from None
        try:
            if self.target:
                self._target_endpoint()
            elif not self.started:
                self._spawn_wanted()
        except BaseException:
            self.stop()  # no half-started server or channel is left behind
            raise
        self.started = True

    def _spawn_wanted(self) -> None:
        """Spawn the servers of the workloads this instance was opened for (the ``workloads``
        option, e.g. the cell's one workload), or of every installed provider without it, so
        that ``start()`` is where the servers start (cold start and ``processes()`` see them).
        A workload whose server is not up yet is still served: its first call spawns it."""
        wanted = self.options.get("workloads")
        providers = self.providers()
        if not providers:
            raise BackendError(f"{self.name}: no usable server: "
                               + "; ".join(self._problems or ["no kernel package is registered"]))
        with self._lock:
            for provider in providers:
                if provider.workloads and (wanted is None
                                           or any(w in provider.workloads for w in wanted)):
                    self._spawn(provider)

    def _target_endpoint(self) -> Endpoint:
        with self._lock:
            if not self._endpoints:
                assert self.target is not None
                problem = diagnose_target(self.target, min(self.startup_timeout_s,
                                                           TARGET_PROBE_S), self.tls)
                if problem:
                    raise BackendError(f"{self.name}: cannot use the server at {self.target}: "
                                       f"{problem}")
                self._connect(self.target, None, time.monotonic() + self.startup_timeout_s)
            return self._endpoints[0]

    def _connect(self, address: str, server: supervisor.Server | None, deadline: float,
                 provider: str = "") -> Endpoint:
        endpoint = Endpoint(self.name, address, server, self.tls if server is None else None)
        endpoint.provider = provider
        self._endpoints.append(endpoint)  # closed by stop() or the finalizer, even on failure
        endpoint.wait_healthy(deadline, self.startup_timeout_s)
        reply = self._describe(endpoint)
        endpoint.workloads = tuple(reply.workloads)
        endpoint.info = {"server": reply.server, "server_version": reply.version,
                         "server_workers": reply.workers, "server_pid": reply.pid,
                         "workloads": list(reply.workloads),
                         **native.build_flags(reply.version)}
        for workload in endpoint.workloads:
            self._by_workload.setdefault(workload, endpoint)
        return endpoint

    def _describe(self, endpoint: Endpoint) -> Any:
        pb2 = _proto.pb2()
        try:
            return endpoint.unary("Describe", pb2.DescribeRequest(), pb2.DescribeReply,
                                  min(self.timeout_s, 10.0))
        except grpc.RpcError as exc:
            raise self._error(endpoint, "Describe", exc) from None

    def _endpoint_for(self, workload: str) -> Endpoint:
        """The endpoint serving ``workload``, spawning its server on first use."""
        if self.target:
            return self._target_endpoint()
        with self._lock:
            found = self._by_workload.get(workload)
            if found is not None:
                return found
            provider = next((p for p in self.providers() if workload in p.workloads), None)
            if provider is None:
                raise UnsupportedError(self.unsupported_reason(workload) or workload)
            if any(e.provider == provider.name for e in self._endpoints):
                # its server is up but did not declare this workload after all
                raise UnsupportedError(f"{self.name}: the {provider.name} server does not "
                                       f"implement {workload!r}")
            return self._spawn(provider)

    def _spawn(self, provider: Provider) -> Endpoint:
        """Spawn ``provider``'s server and connect to it (the caller holds the lock)."""
        deadline = time.monotonic() + self.startup_timeout_s
        server: supervisor.Server
        if self.container is not None:
            # a containerised server sees no host path: it is not traced and logs as it does
            server, address = container.spawn(list(provider.command), self.name,
                                              self.container, deadline, self.workers)
        else:
            server, address = supervisor.spawn(
                [*provider.command, *self._observability(provider)],
                f"{self.name}-{provider.name}", self.listen_kind, deadline, self.workers)
        return self._connect(address, server, deadline, provider.name)

    def _observability(self, provider: Provider) -> list[str]:
        """The server flags of the ``trace_dir`` option (``run --trace``: the server writes
        its spans to a file of its own there), ``log_format`` (``json``: structured logs on
        its stderr) and ``log_calls`` (a line per call)."""
        flags = []
        if self.options.get("trace_dir"):
            from hybridbench import tracing  # the OpenTelemetry SDK only when tracing

            path = tracing.server_trace_file(self.options["trace_dir"], provider.name)
            flags += ["--trace-file", str(path)]
        if self.options.get("log_format"):
            flags += ["--log-format", str(self.options["log_format"])]
        if self.options.get("log_calls"):
            flags.append("--log-calls")
        return flags

    def stop(self) -> None:
        with self._lock:
            endpoints = list(self._endpoints)
            self._endpoints.clear()
            self._by_workload.clear()
            self._calls.clear()
            self.started = False
        _close_all(endpoints)

    # -- work --------------------------------------------------------------------------------

    def _stub(self, workload: str) -> Any:
        stub = self._calls.get(workload)
        if stub is None:
            if not self.started:
                self.start()
            stub = self._calls[workload] = self._endpoint_for(workload).stub(workload)
        return stub

    def call(self, workload: str, payload: bytes) -> bytes:
        stub = self._calls.get(workload) or self._stub(workload)
        try:
            return stub(payload, timeout=self.timeout_s)[0]  # type: ignore[no-any-return]
        except grpc.RpcError as exc:
            raise self._error(self._by_workload.get(workload), workload, exc) from None

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        self.check_request(workload, payload)
        stub = self._stub(workload)
        try:
            data, kernel_ns = stub(payload, timeout=self.timeout_s)
        except grpc.RpcError as exc:
            raise self._error(self._by_workload.get(workload), workload, exc) from None
        return data, int(kernel_ns)

    def run_traced(self, workload: str, payload: bytes, headers: dict[str, str]
                   ) -> tuple[bytes, int | None]:
        """``run_timed`` with the caller's trace context as call metadata (W3C
        ``traceparent``): a server started with ``--trace-file`` writes its span under it."""
        self.check_request(workload, payload)
        stub = self._stub(workload)
        try:
            data, kernel_ns = stub(payload, timeout=self.timeout_s,
                                   metadata=tuple(headers.items()))
        except grpc.RpcError as exc:
            raise self._error(self._by_workload.get(workload), workload, exc) from None
        return data, int(kernel_ns)

    def _error(self, endpoint: Endpoint | None, workload: str, exc: grpc.RpcError) -> Exception:
        code, details = exc.code(), exc.details() or ""
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return WorkloadError(details)
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return UnsupportedError(f"{self.name}: {details}")
        server = endpoint.server if endpoint else None
        if server is not None:
            # a dead server shows up as UNAVAILABLE; give the exit status a moment to appear
            status = server.exit_status(0.5 if code == grpc.StatusCode.UNAVAILABLE else 0.0)
            if status is not None:
                return server.failure(f"died during a {workload} call "
                                      f"({code.name}: {details})")
        where = f" at {endpoint.address}" if endpoint else ""
        return BackendError(f"{self.name}: {workload} call{where} failed: {code.name}: {details}")

    # -- measurement hooks -------------------------------------------------------------------

    def processes(self) -> dict[str, int]:
        procs = {"client": os.getpid()}
        spawned = [e.server for e in self._endpoints if e.server is not None]
        for i, server in enumerate(spawned):
            procs["server" if i == 0 else f"server{i + 1}"] = server.pid
        return procs

    def server_resources(self) -> dict[str, dict[str, float]]:
        pb2 = _proto.pb2()
        found: dict[str, dict[str, float]] = {}
        for i, endpoint in enumerate(self._endpoints):
            try:
                reply = endpoint.unary("Resources", pb2.ResourcesRequest(), pb2.ResourcesReply,
                                       5.0)
            except grpc.RpcError:
                continue  # an older server without the method: nothing self-reported
            found["server" if i == 0 else f"server{i + 1}"] = {
                "pid": reply.pid, "rss_bytes": reply.rss_bytes,
                "rss_peak_bytes": reply.rss_peak_bytes,
                "cpu_s": reply.cpu_user_s + reply.cpu_system_s, "calls": reply.calls,
                "minor_faults": reply.minor_faults, "major_faults": reply.major_faults,
                **self._cgroup_figures(endpoint)}
        return found

    def _cgroup_figures(self, endpoint: Endpoint) -> dict[str, float]:
        """A container's CFS throttling counters (since it started), read from the host."""
        if self.container is None or endpoint.server is None:
            return {}
        return container.cfs_throttling(endpoint.server.pid) or {}

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {**super().describe(), "spawned": self.target is None,
                                "timeout_s": self.timeout_s, "grpcio": grpc.__version__}
        if self.target:
            info["target"] = self.target
        if self.tls is not None:
            info["tls"] = "mutual" if self.tls.cert else "server certificate"
        if self.container is not None:
            # where the server ran is part of the pattern: the report pairs it with its bare
            # twin by this (Profile.container), never by the backend's name
            placed = self.container.describe()
            info["container"] = placed
            info["profile"] = {**info["profile"], "container": placed}
        for i, endpoint in enumerate(self._endpoints):
            entry = {"target": endpoint.address, **endpoint.info}
            if endpoint.server is not None:
                entry["server_command"] = " ".join(endpoint.server.command)
            if i == 0:
                info.update(entry)
            else:
                info.setdefault("more_servers", []).append(entry)
        return info

    def server_info(self, workload: str | None = None, timeout_s: float | None = None) -> Any:
        """The ``DescribeReply`` of the server serving ``workload`` (default: the first one
        this backend can reach); the wire-agreement test uses it."""
        if not self.started:
            self.start()
        if self.target:
            return self._describe(self._target_endpoint())
        return self._describe(self._endpoint_for(workload or self.providers()[0].workloads[0]))


class GrpcPyBackend(GrpcBackend):
    name = "grpc-py"
    summary = "the inproc Python engines in a grpcio server process, same client"
    engine_kind, engine_name = "python", "orjson, numpy, pillow-simd"
    tuning = "idiomatic"
    article_column: ClassVar[dict[str, Any]] = {"engine_language": "Python",
                                        "article_label": "Python via gRPC", "article_order": 3}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _proto.unavailable_reason()

    def container_command(self) -> tuple[str, ...]:
        return ("python", "-m", "hybridbench.backends.grpc.pyserver")

    def container_workloads(self, image: str) -> tuple[str, ...]:
        listed = container.list_output(image, (
            "python", "-c", "from hybridbench.registry import workload_names; "
                            "print('\\n'.join(workload_names()))"))
        return tuple(line.strip() for line in listed.splitlines() if line.strip())

    def providers(self) -> list[Provider]:
        from hybridbench.registry import workload_names

        if self.container is not None:
            return self._container_providers(self.container)
        self._problems = []
        command = (sys.executable, "-m", "hybridbench.backends.grpc.pyserver")
        return [Provider("python", command, tuple(workload_names()))]

