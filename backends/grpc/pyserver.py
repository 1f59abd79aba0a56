"""The ``grpc-py`` server: the ``inproc`` Python implementations behind a grpcio server.

It speaks the same ``proto/hybridbench.proto`` as the Rust server and behaves the same way, so
that ``grpc`` vs ``grpc-py`` compares engines over one transport and ``grpc-py`` vs ``inproc``
shows what the transport costs::

    python -m hybridbench.backends.grpc.pyserver --listen unix:/tmp/hb.sock
    python -m hybridbench.backends.grpc.pyserver --listen 127.0.0.1:0 [--workers N]

* prints ``listening on ADDR`` (the bound port for port 0) on stdout once it serves;
* ``hybridbench.v1.Kernels`` (``Run`` for every registered workload, through its Python engine
  ``Workload.fast``; ``Describe``; ``Resources``) and the standard ``grpc.health.v1.Health``
  (``Check`` and ``Watch``, grpcio-health-checking's servicer);
* messages up to 80 MiB both ways; bad input is INVALID_ARGUMENT with the ``WorkloadError``
  message, an unsupported workload UNIMPLEMENTED, anything else INTERNAL;
* loopback or Unix socket only unless ``--allow-remote``;
* SIGTERM/SIGINT: graceful stop (5 s grace); exits when its parent dies
  (``PR_SET_PDEATHSIG`` through ctypes, and a ``getppid()`` watchdog).

Thread pool: ``--workers`` defaults to the number of CPUs. The GIL serialises the Python parts
of every call, so more threads than cores only add contention; up to one call per core can
overlap where the engines release the GIL (Pillow's decoder/resampler/encoder, numpy's sorts
and reductions). orjson and the JSON transform hold the GIL, so ``json`` does not scale with
threads here: that is a property of the Python engine the report should show, not hide.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ipaddress
import logging
import os
import signal
import socket
import sys
import time
from concurrent import futures
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from hybridbench.backends.grpc import _observe, _proto
from hybridbench.errors import UnsupportedError, WorkloadError
from hybridbench.limits import check_payload_size

PR_SET_PDEATHSIG = 1
GRACE_S = 5.0
PARENT_POLL_S = 0.1


class ListenError(ValueError):
    """``--listen`` is malformed or not allowed."""


def parse_listen(spec: str, allow_remote: bool) -> str:
    """Check ``--listen`` and return the grpcio address for ``add_insecure_port``."""
    if spec.startswith("unix:"):
        if not spec[5:]:
            raise ListenError("--listen unix: needs a path, e.g. unix:/tmp/hb.sock")
        return spec
    host, sep, port = spec.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ListenError(f"--listen {spec!r}: not unix:PATH or HOST:PORT")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(bare, int(port))}
    except OSError as exc:
        raise ListenError(f"--listen {spec!r}: cannot resolve {bare!r} ({exc})") from None
    if not allow_remote:
        for address in sorted(addresses):
            if not ipaddress.ip_address(str(address).split("%")[0]).is_loopback:
                raise ListenError(
                    f"refusing to listen on {spec} ({address} is not a loopback address): pass "
                    f"--allow-remote to serve other machines (the server has no authentication)")
    return spec


class Kernels:
    """``Run`` and ``Resources``: the registered workloads' Python engines, timed where they run."""

    def __init__(self, log: logging.Logger | None = None, log_calls: bool = False,
                 tracer: _observe.Tracer | None = None) -> None:
        from hybridbench.registry import workloads

        self.engines = {name: wl.fast for name, wl in workloads().items()}
        self.calls = 0
        self.log = log or logging.getLogger(_observe.PROGRAM)
        self.log_calls = log_calls
        self.tracer = tracer

    def run(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        parent = (self.tracer.context(context.invocation_metadata())
                  if self.tracer is not None else None)
        if parent is not None:
            return self._run_traced(request, context, parent)
        workload, data = _proto.decode_run_request(request)
        out, _, kernel_ns = self._kernel(workload, data, context)
        if self.log_calls:
            self._log_call(workload, data, kernel_ns,
                           _observe.caller_trace_id(context.invocation_metadata()))
        return _proto.encode_run_reply(out, kernel_ns)

    def _run_traced(self, request: bytes, context: grpc.ServicerContext, parent: Any) -> bytes:
        """``run`` in a server span with decode, kernel and encode children."""
        assert self.tracer is not None
        with self.tracer.server_span(parent) as (span, child):
            start = time.time_ns()
            workload, data = _proto.decode_run_request(request)
            span.set_attribute("hybridbench.workload", workload)
            child("decode", start, time.time_ns(), **{"hybridbench.request_bytes": len(request)})
            out, kernel_start, kernel_ns = self._kernel(workload, data, context)
            child("kernel", kernel_start, kernel_start + kernel_ns,
                  **{"hybridbench.workload": workload, "hybridbench.kernel_ns": kernel_ns})
            start = time.time_ns()
            reply = _proto.encode_run_reply(out, kernel_ns)
            child("encode", start, time.time_ns(), **{"hybridbench.reply_bytes": len(reply)})
        if self.log_calls:
            self._log_call(workload, data, kernel_ns, self.tracer.trace_id(parent))
        return reply

    def _log_call(self, workload: str, data: bytes, kernel_ns: int, trace_id: str | None
                  ) -> None:
        self.log.info(f"Run {workload}: {len(data)} bytes, kernel {kernel_ns} ns",
                      extra={"trace_id": trace_id, "fields": {
                          "workload": workload, "bytes": len(data), "kernel_ns": kernel_ns}})

    def _kernel(self, workload: str, data: bytes, context: grpc.ServicerContext
                ) -> tuple[bytes, int, int]:
        """The engine's answer, the wall-clock time it started (for a span) and its own time:
        the span and ``kernel_ns`` come from the same clock readings."""
        engine = self.engines.get(workload)
        if engine is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED,
                          f"unknown workload {workload!r}; known: {', '.join(self.engines)}")
            raise AssertionError("unreachable: context.abort raises")
        self.calls += 1  # a racy count is fine: it is informational
        try:
            # enforced here too, not only by the client: a server may be reached by anyone
            check_payload_size(workload, len(data))
            wall = time.time_ns()
            start = time.perf_counter_ns()
            out = engine(data)
            kernel_ns = time.perf_counter_ns() - start
        except WorkloadError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except UnsupportedError as exc:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, str(exc))
        except Exception as exc:
            context.abort(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")
        return out, wall, kernel_ns

    def resources(self, request: object, context: grpc.ServicerContext) -> object:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        status = _proc_status()
        return _proto.pb2().ResourcesReply(
            pid=os.getpid(), rss_bytes=status.get("VmRSS", 0),
            rss_peak_bytes=status.get("VmHWM", usage.ru_maxrss * 1024),
            cpu_user_s=usage.ru_utime, cpu_system_s=usage.ru_stime, calls=self.calls,
            minor_faults=usage.ru_minflt, major_faults=usage.ru_majflt)


def _proc_status() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process in bytes (Linux), else empty."""
    found = {}
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) * 1024
    return found


def _describe_handler(pb2, workers: int, workloads: list[str]):
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet()
    pb2.DESCRIPTOR.CopyToProto(fds.file.add())
    try:
        version = metadata.version("hybridbench")
    except metadata.PackageNotFoundError:
        version = "unknown"
    reply = pb2.DescribeReply(server="hybridbench-pyserver", version=version,
                              workloads=workloads,
                              file_descriptor_set=fds.SerializeToString(), workers=workers,
                              pid=os.getpid())

    def handle(request, context):
        return reply

    return handle


def build_server(workers: int, kernels: Kernels | None = None
                 ) -> tuple[grpc.Server, health.HealthServicer]:
    pb2 = _proto.pb2()
    kernels = kernels or Kernels()
    handlers = {
        _proto.RUN: grpc.unary_unary_rpc_method_handler(kernels.run),
        "Describe": grpc.unary_unary_rpc_method_handler(
            _describe_handler(pb2, workers, list(kernels.engines)),
            request_deserializer=pb2.DescribeRequest.FromString,
            response_serializer=pb2.DescribeReply.SerializeToString),
        "Resources": grpc.unary_unary_rpc_method_handler(
            kernels.resources, request_deserializer=pb2.ResourcesRequest.FromString,
            response_serializer=pb2.ResourcesReply.SerializeToString),
    }
    # the standard health service: the server as a whole ("", serving from the start) and the
    # Kernels service by name
    health_servicer = health.HealthServicer()
    health_servicer.set(_proto.SERVICE, health_pb2.HealthCheckResponse.SERVING)
    # one more thread than workers, so a health check or Describe is answered even while every
    # worker runs a kernel (the health servicer answers Watch without holding a thread)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers + 1,
                                                    thread_name_prefix="hb-pyserver"),
                         options=_proto.server_options())
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(_proto.SERVICE, handlers),
    ))
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    return server, health_servicer


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the getppid watchdog still covers it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hybridbench.backends.grpc.pyserver",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, help="unix:PATH or HOST:PORT (port 0: any)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback address (no authentication!)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="threads running kernels (default: number of CPUs)")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit when this process is no longer the parent (default: the "
                             "parent at start)")
    parser.add_argument("--no-death-signal", action="store_true",
                        help="do not set PR_SET_PDEATHSIG (the watchdog still runs)")
    parser.add_argument("--no-parent-watch", action="store_true",
                        help="keep running when the parent exits (a server started by hand)")
    parser.add_argument("--log-format", choices=_observe.LOG_FORMATS, default="text",
                        help="stderr lines as text (default) or one JSON object a line")
    parser.add_argument("--log-calls", action="store_true", help="log every Run call")
    parser.add_argument("--trace-file", type=Path, default=None,
                        help="write the spans of calls that carry a sampled W3C traceparent "
                             "here (OTLP JSON lines)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be positive")
    log = _observe.logger(args.log_format)
    try:
        address = parse_listen(args.listen, args.allow_remote)
    except ListenError as exc:
        log.error(f"error: {exc}")
        return 2

    # Why the server stops; appending is the only thing the signal handler does. (Setting a
    # threading.Event there can deadlock: the handler runs on the main thread, which may hold
    # the Event's lock at that moment.)
    reason: list[str] = []

    def on_signal(signum, frame):
        reason.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not args.no_parent_watch:
        parent = args.parent_pid or os.getppid()
        if not args.no_death_signal:
            _set_parent_death_signal()
        if os.getppid() != parent:
            log.info("parent already gone; exiting")
            return 0
    else:
        parent = 0

    tracer = _observe.Tracer(args.trace_file) if args.trace_file else None
    server, health_servicer = build_server(args.workers,
                                           Kernels(log, args.log_calls, tracer))
    if address.startswith("unix:"):
        path = address[5:]
        if os.path.exists(path):
            import stat

            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        log.error(f"error: cannot listen on {address}: {exc}")
        return 1
    server.start()
    if address.startswith("unix:"):
        bound = address
    else:
        host = address.rpartition(":")[0]
        bound = f"{host}:{port}"
    print(f"listening on {bound}", flush=True)

    # The main thread polls: signal handlers run here at once, and the getppid() watchdog (the
    # fallback for the death signal) needs no thread of its own.
    while not reason:
        time.sleep(PARENT_POLL_S)
        if parent > 1 and os.getppid() != parent:
            reason.append("parent process exited")
    log.info(f"{reason[0] if reason else 'stop'}: shutting down")
    health_servicer.enter_graceful_shutdown()  # every service NOT_SERVING, watchers told
    done = server.stop(GRACE_S)
    done.wait(GRACE_S + 1)
    if address.startswith("unix:"):
        with contextlib.suppress(OSError):
            os.unlink(address[5:])
    if tracer is not None:
        tracer.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
