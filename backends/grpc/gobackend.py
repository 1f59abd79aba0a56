"""``grpc-go``: the Go engine, idiomatic Go kernels in a grpc-go server (``go/``), reached with
the same client, supervision and measurement as ``grpc`` (spawned on a private Unix socket,
parent-death handling, memory and CPU sampled, cold start timed).

Only where the server comes from differs: the binary ``pip install`` built into this package
with ``go build`` (see ``_gobuild.py``), or ``$HYBRIDBENCH_GO_SERVER``. It declares its
workloads itself (``--list-workloads``), like the Rust servers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from hybridbench import native
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


class GrpcGoBackend(GrpcBackend):
    name = "grpc-go"
    summary = "the Go engine: idiomatic Go kernels in a grpc-go server process, same client"
    engine_name = "Go kernels"  # a native service like grpc's, another engine: no FFI twin
    tuning = "idiomatic"  # the standard library and x/image, as a Go team writes them
    placement: ClassVar[dict[str, Any]] = {
        "engine_language": "Go",
        "article_label": "Go only",
        "article_order": 0,
        "article_note": ("the articles' orchestrator-only column: the work done in Go; "
                         "reached over the same gRPC crossing as 'Rust via gRPC', so its "
                         "kernel_ns is the Go-only time and end-to-end compares the two "
                         "engines over one transport"),
    }

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _proto.unavailable_reason() or unbuilt_reason()

    def providers(self) -> list[Provider]:
        self._problems = []
        path = server_path()
        if path is None:
            self._problems.append(unbuilt_reason() or "no Go server")
            return []
        try:
            workloads = native.server_workloads(path)
        except RuntimeError as exc:
            self._problems.append(f"go: {exc}")
            return []
        return [Provider("go", (str(path),), workloads)]
