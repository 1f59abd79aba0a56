"""The workloads found through entry points, and the discovery both registries share.

Split from ``registry`` (which adds the backends) so that ``backend`` can name the known
workloads without importing the module that imports it: the base class of every backend checks
"unknown workload" the same way for all of them.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from hybridbench.errors import BackendError, WorkloadError
from hybridbench.workload import Workload

WORKLOAD_GROUP = "hybridbench.workloads"
#: where plug-ins without a ``rank`` sort: after the built-ins
DEFAULT_RANK = 1000


def ordered(eps: dict[str, EntryPoint], ranks: dict[str, int]) -> list[str]:
    """Display and run order: by the ``rank`` each workload or backend class declares (the
    built-ins number themselves), then by name; no list of names is kept here."""
    return sorted(eps, key=lambda name: (ranks.get(name, DEFAULT_RANK), name))


def found_entry_points(group: str) -> dict[str, EntryPoint]:
    found = {ep.name: ep for ep in entry_points(group=group)}
    if not found:
        raise BackendError(
            f"no entry points in group {group!r}: is hybridbench installed "
            "(pip install -e .)?")
    return found


@functools.cache
def workloads() -> dict[str, Workload]:
    eps = found_entry_points(WORKLOAD_GROUP)
    loaded: dict[str, Workload] = {name: ep.load() for name, ep in eps.items()}
    order = ordered(eps, {name: wl.rank for name, wl in loaded.items()})
    return {name: loaded[name] for name in order}


def workload_names() -> list[str]:
    return list(workloads())


def get_workload(name: str) -> Workload:
    try:
        return workloads()[name]
    except KeyError:
        raise WorkloadError(
            f"unknown workload {name!r}; known: {', '.join(workload_names())}") from None
