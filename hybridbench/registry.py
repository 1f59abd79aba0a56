"""Discovery of workloads and backends through entry points (the workloads' half lives in
``workload_registry``, re-exported here).

Built-ins register exactly like outside packages do (see ``pyproject.toml``), so there is one
path for both and a plug-in is never second class.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint
from typing import Any

from hybridbench.backend import Backend
from hybridbench.errors import BackendError
from hybridbench.workload_registry import (  # noqa: F401 (the workloads' half, re-exported)
    DEFAULT_RANK,
    WORKLOAD_GROUP,
    found_entry_points,
    get_workload,
    ordered,
    workload_names,
    workloads,
)

BACKEND_GROUP = "hybridbench.backends"
#: display order of the built-in backends (plug-in backends follow by name)
BUILTIN_BACKEND_ORDER = ["inproc", "inproc-best", "inproc-pure", "ffi", "ffi-idiomatic", "grpc",
                         "grpc-py", "grpc-go", "grpc-go-best", "grpc-go-cgo"]


@functools.cache
def _backend_entry_points() -> dict[str, EntryPoint]:
    eps = found_entry_points(BACKEND_GROUP)
    # Ranked by name, not by a class attribute: ranking by class would import every backend
    # (grpc, cffi) wherever a name is looked up, including in lean worker processes.
    ranks = {name: i for i, name in enumerate(BUILTIN_BACKEND_ORDER)}
    return {name: eps[name] for name in ordered(eps, ranks)}


def backend_names() -> list[str]:
    return list(_backend_entry_points())


@functools.cache
def backend_class(name: str) -> type[Backend]:
    eps = _backend_entry_points()
    if name not in eps:
        raise BackendError(f"unknown backend {name!r}; known: {', '.join(eps)}")
    try:
        cls = eps[name].load()
    except Exception as exc:  # a plug-in that cannot even be imported is unavailable
        raise BackendError(f"backend {name!r} cannot be loaded: {exc}") from exc
    return cls


def unavailable_reason(name: str, options: dict[str, Any] | None = None) -> str | None:
    """None if backend ``name`` can run here (with these options), else why not."""
    try:
        return backend_class(name).unavailable_reason_for(options or {})
    except BackendError as exc:
        return str(exc)


def open_backend(name: str, **options: Any) -> Backend:
    """An unstarted backend instance; use it as a context manager to start and stop it."""
    cls = backend_class(name)
    reason = cls.unavailable_reason_for(options)
    if reason:
        raise BackendError(f"backend {name!r} is unavailable: {reason}")
    return cls(**options)


def support_matrix() -> dict[str, dict[str, str | None]]:
    """``{workload: {backend: None if it runs there, else why not}}`` for ``hybridbench list``.

    Each backend is asked (its library, server binary or engine says what it implements); an
    unavailable backend gives its reason for every workload.
    """
    matrix: dict[str, dict[str, str | None]] = {w: {} for w in workload_names()}
    for name in backend_names():
        reason = unavailable_reason(name)
        backend = None if reason else open_backend(name)
        try:
            for workload in matrix:
                matrix[workload][name] = reason or _unsupported(backend, workload)
        finally:
            if backend is not None:
                backend.stop()
    return matrix


def _unsupported(backend: Backend | None, workload: str) -> str | None:
    assert backend is not None
    try:
        return backend.unsupported_reason(workload)
    except BackendError as exc:  # e.g. a --grpc-target that cannot be reached
        return str(exc)
