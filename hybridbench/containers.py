"""Cells whose server runs in a container (``hybridbench run --container IMAGE``).

A backend whose server the harness spawns can run that server in a container instead of as a
bare process (``backends/grpc/container.py``). ``--container`` does not replace the bare
cells: it adds, beside each such backend of the run, one cell per CPU limit whose label says
where its server ran (``grpc@container``, ``grpc@container-cpus0.5``), through the runner's
labels (``RunConfig.backend_kinds``, as ``hybridbench ab`` uses them). The bare and the
containerised servers of a table are then measured side by side in the same passes, so their
ratio is paired (DESIGN.md "Ratios"), and the report pairs them by the recorded container
(the profile's ``container``), never by these labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hybridbench.errors import HybridbenchError
from hybridbench.registry import backend_class, backend_names

#: docker's memory syntax: a number with an optional unit (b, k, m, g)
MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?[bkmg]?$", re.IGNORECASE)
SUFFIX = "@container"


def can_run_in_container(backend: str) -> bool:
    """Whether the backend spawns a server that can be placed in a container (it says what
    the server's command inside an image is)."""
    return hasattr(backend_class(backend), "container_command")


def parse_cpus(text: str) -> list[float | None]:
    """``none,1,0.5`` -> ``[None, 1.0, 0.5]`` (``none``: no limit)."""
    found: list[float | None] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part.lower() == "none":
            found.append(None)
            continue
        try:
            value = float(part)
        except ValueError:
            value = 0.0
        if not value > 0:
            raise HybridbenchError(f"--cpus {part!r}: a positive number of CPUs or 'none'")
        found.append(value)
    if not found:
        raise HybridbenchError("--cpus: give at least one limit (a number of CPUs, or none)")
    return found


def label(backend: str, cpus: float | None) -> str:
    return f"{backend}{SUFFIX}" + ("" if cpus is None else f"-cpus{cpus:g}")


@dataclass
class ContainerCells:
    """What ``--container`` adds to a run: labels, the backend each runs, their options."""

    labels: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


def container_cells(backends: list[str] | None, image: str, cpus: list[float | None] | None,
                    memory: str | None) -> ContainerCells:
    """A container cell per CPU limit beside each selected backend that spawns a server
    (every registered one when ``backends`` is None); an error naming the problem when none
    of them can, or the memory limit is not docker's syntax."""
    if memory is not None and not MEMORY.match(memory):
        raise HybridbenchError(f"--memory {memory!r}: a size in docker's syntax, e.g. 256m, 1g")
    known = backend_names()
    chosen = [b for b in (backends or known) if b in known and can_run_in_container(b)]
    if not chosen:
        raise HybridbenchError("--container: none of the selected backends spawns a server "
                               "(the gRPC backends do: grpc, grpc-py, grpc-go...)")
    found = ContainerCells()
    for backend in chosen:
        for limit in cpus or [None]:
            name = label(backend, limit)
            found.labels.append(name)
            found.kinds[name] = backend
            found.options[name] = {"container": image, "cpus": limit, "memory": memory}
    return found
