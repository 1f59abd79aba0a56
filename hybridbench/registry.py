"""Discovery of workloads and backends through entry points.

Built-ins register exactly like outside packages do (see ``pyproject.toml``), so there is one
path for both and a plug-in is never second class.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from hybridbench.backend import Backend
from hybridbench.errors import BackendError, WorkloadError
from hybridbench.workload import Workload

WORKLOAD_GROUP = "hybridbench.workloads"
BACKEND_GROUP = "hybridbench.backends"
#: display and run order of the built-ins; plug-ins follow in name order
_PREFERRED = ["json", "image", "timeseries", "echo",
              "inproc", "inproc-pure", "ffi", "grpc", "grpc-py"]


def _ordered(names: list[str]) -> list[str]:
    rank = {n: i for i, n in enumerate(_PREFERRED)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def _entry_points(group: str) -> dict[str, EntryPoint]:
    found = {ep.name: ep for ep in entry_points(group=group)}
    if not found:
        raise BackendError(
            f"no entry points in group {group!r}: is hybridbench installed "
            "(pip install -e .)?")
    return found


@functools.cache
def workloads() -> dict[str, Workload]:
    eps = _entry_points(WORKLOAD_GROUP)
    return {name: eps[name].load() for name in _ordered(list(eps))}


def workload_names() -> list[str]:
    return list(workloads())


def get_workload(name: str) -> Workload:
    try:
        return workloads()[name]
    except KeyError:
        raise WorkloadError(
            f"unknown workload {name!r}; known: {', '.join(workload_names())}") from None


@functools.cache
def _backend_entry_points() -> dict[str, EntryPoint]:
    eps = _entry_points(BACKEND_GROUP)
    return {name: eps[name] for name in _ordered(list(eps))}


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


def unavailable_reason(name: str) -> str | None:
    """None if backend ``name`` can run here, else why not."""
    try:
        return backend_class(name).unavailable_reason()
    except BackendError as exc:
        return str(exc)


def open_backend(name: str, **options: object) -> Backend:
    """An unstarted backend instance; use it as a context manager to start and stop it."""
    cls = backend_class(name)
    reason = cls.unavailable_reason()
    if reason:
        raise BackendError(f"backend {name!r} is unavailable: {reason}")
    return cls(**options)
