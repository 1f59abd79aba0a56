"""The Go engines: one grpc-go server (``go/``), reached with the same client, supervision and
measurement as ``grpc`` (spawned on a private Unix socket, parent-death handling, memory and
CPU sampled, cold start timed), its kernel table chosen with ``--engine``:

* ``grpc-go``: idiomatic Go kernels (the standard library, x/image, encoding/json v2);
* ``grpc-go-best``: the fastest spec-correct Go found per workload (``--engine best``): a
  hand-written JSON scanner, libjpeg-turbo through cgo for the JPEG workloads (Go calling C,
  recorded so in ``workload_engines``), a tuned timeseries;
* ``grpc-go-cgo``: Go calling the Rust kernels through cgo (``--engine rust-cgo``), the
  founding articles' "Rust via FFI" from a Go service: the server dlopens the very C-ABI
  library ``ffi`` loads (``--ffi-library``).

Only where the server comes from differs from ``grpc``: the binary ``pip install`` built into
this package with ``go build`` (see ``_gobuild.py``), or ``$HYBRIDBENCH_GO_SERVER``. It
declares its workloads itself (``--list-workloads``), like the Rust servers, and, per engine,
what computes each one (``--list-engines``).
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import Any, ClassVar

from hybridbench import native
from hybridbench.backends.builtin_native import library_path
from hybridbench.backends.grpc import GrpcBackend, Provider, _gobuild, _proto

SERVER_ENV = "HYBRIDBENCH_GO_SERVER"


def server_path() -> Path | None:
    """The Go server binary: ``$HYBRIDBENCH_GO_SERVER``, else the one built into this package."""
    override = os.environ.get(SERVER_ENV)
    if override:
        return Path(override)
    built = _gobuild.BIN_DIR / _gobuild.SERVER_NAME
    return built if built.is_file() and os.access(built, os.X_OK) else None


def unbuilt_reason() -> str | None:
    """None if the Go server binary is there, else why it is not."""
    path = server_path()
    if path is not None:
        if not path.is_file():
            return f"${SERVER_ENV} points to {path}, which does not exist"
        return None
    try:
        why = _gobuild.problem_path().read_text().strip()
    except OSError:
        why = ("it was not built: reinstall with `go` (1.26 or newer) on PATH "
               "(pip install -e .), or run `make go-server`")
    return f"the Go server is not available: {why}"


@functools.cache
def _engines(command: tuple[str, ...], mtime_ns: int) -> dict[str, str]:
    del mtime_ns  # part of the cache key only: a rebuilt binary is asked again
    try:
        done = subprocess.run([*command, "--list-engines"], capture_output=True, text=True,
                              timeout=native.LIST_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{command[0]} --list-engines failed: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"{' '.join(command)} --list-engines exited with "
                           f"{done.returncode}: {tail}")
    pairs = (line.split("\t", 1) for line in done.stdout.splitlines() if line.strip())
    return {name.strip(): engine.strip() for name, engine in pairs}


def server_engines(command: tuple[str, ...]) -> dict[str, str]:
    """workload -> what computes it, from ``SERVER [engine args] --list-engines`` (cached per
    build); raises RuntimeError with the reason if the server cannot tell."""
    try:
        mtime = Path(command[0]).stat().st_mtime_ns
    except OSError as exc:
        raise RuntimeError(f"server binary {command[0]}: {exc}") from None
    return _engines(command, mtime)


class GrpcGoBackend(GrpcBackend):
    name = "grpc-go"
    summary = "the Go engine: idiomatic Go kernels in a grpc-go server process, same client"
    engine_name = "Go kernels"  # a native service like grpc's, another engine: no FFI twin
    tuning = "idiomatic"  # the standard library and x/image, as a Go team writes them
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Go",
        "host_language": "Go",
        "article_label": "Go only",
        "article_order": 0,
        "article_note": ("the articles' orchestrator-only column: the work done in Go; "
                         "reached over the same gRPC crossing as 'Rust via gRPC', so its "
                         "kernel_ns is the Go-only time and end-to-end compares the two "
                         "engines over one transport"),
    }

    #: the server's --engine and what else it needs on its command line
    go_engine: ClassVar[str] = "idiomatic"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _proto.unavailable_reason() or unbuilt_reason()

    def engine_args(self) -> tuple[str, ...]:
        """The arguments after the binary that choose the kernel table (none: idiomatic)."""
        return () if self.go_engine == "idiomatic" else ("--engine", self.go_engine)

    def providers(self) -> list[Provider]:
        self._problems = []
        path = server_path()
        if path is None:
            self._problems.append(unbuilt_reason() or "no Go server")
            return []
        command = (str(path), *self.engine_args())
        try:
            workloads = (native.server_workloads(path) if len(command) == 1
                         else tuple(server_engines(command)))
        except RuntimeError as exc:
            self._problems.append(f"go: {exc}")
            return []
        return [Provider("go", command, workloads)]

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.go_engine != "idiomatic":
            info["go_engine"] = self.go_engine
            path = server_path()
            if path is not None:
                try:
                    engines = server_engines((str(path), *self.engine_args()))
                except RuntimeError:
                    engines = {}
                opened = self.options.get("workloads")
                info["workload_engines"] = {w: e for w, e in engines.items()
                                            if e and (not opened or w in opened)}
        return info


class GrpcGoBestBackend(GrpcGoBackend):
    name = "grpc-go-best"
    summary = ("the fastest spec-correct Go found per workload in the grpc-go server "
               "(JPEG workloads: Go calling C, libjpeg-turbo through cgo)")
    engine_name = "fastest Go found per workload"
    tuning = "tuned"
    go_engine = "best"
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Go",
        "host_language": "Go",
        "article_label": "Go only (best found)",
        "article_order": 0,
        "article_note": ("the articles' orchestrator-only column at its best: per workload "
                         "the fastest spec-correct Go engine found (a hand-written JSON "
                         "scanner, a tuned timeseries); image and thumbnail are Go calling C "
                         "(libjpeg-turbo through cgo), see workload_engines"),
    }


class GrpcGoCgoBackend(GrpcGoBackend):
    name = "grpc-go-cgo"
    summary = ("Go calling the Rust kernels through cgo (the ffi library) in the grpc-go "
               "server: the articles' Rust via FFI from Go")
    engine_name = "Rust kernels called from Go through cgo"
    tuning = "tuned"
    go_engine = "rust-cgo"
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Rust",
        # the service is Go, the kernels Rust: the report's kernel ladder reads this pair
        "host_language": "Go",
        "article_label": "Go calling Rust via FFI (cgo)",
        "article_order": 2,
        "article_note": ("the articles' 'Rust via FFI' as they built it: a Go service calling "
                         "the Rust kernels' C ABI through cgo (the library ffi loads); its "
                         "kernel_ns is measured in Go around the cgo call, one crossing "
                         "included"),
    }

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return super().unavailable_reason() or (
            None if library_path() else native.unbuilt_reason("library",
                                                              "native kernel library")
            or "the Rust kernel library is not built")

    def engine_args(self) -> tuple[str, ...]:
        library = self.options.get("library") or library_path()
        return ("--engine", self.go_engine, *(("--ffi-library", str(library)) if library
                                               else ()))
