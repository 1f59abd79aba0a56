"""Generated inputs and reference answers shared by the processes of one test session.

Every process computes its own: a pytest worker, and each harness and worker process a test
starts, generates the 5MB image or the 8MB document and computes its reference answer again
(about 6 s of CPU per pytest worker for the large sizes, issue 22). When
``$HYBRIDBENCH_SHARED_CACHE`` names a directory (``tests/conftest.py`` makes a fresh one per
session and removes it after), the first process to need a value writes it there and the
others read it.

A key names the workload by the file and class that define it (and the file's modification
time), so two plug-ins of one name in different projects, or an edited workload, never share
an entry. Without the variable nothing is read or written: a measurement run generates its
own inputs, as it always has.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

ENV = "HYBRIDBENCH_SHARED_CACHE"


def workload_fingerprint(workload: object) -> str:
    """Where the workload's code lives: its module's file, that file's mtime, its class."""
    cls = type(workload)
    module_file = getattr(sys.modules.get(cls.__module__), "__file__", None) or ""
    with contextlib.suppress(OSError):
        module_file += f"@{os.stat(module_file).st_mtime_ns}"
    return f"{module_file}:{cls.__qualname__}"


def load_or_make(kind: str, parts: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
    """The cached bytes for ``(kind, *parts)``, else ``make()``, stored for the next process."""
    directory = os.environ.get(ENV)
    if not directory:
        return make()
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    path = Path(directory) / f"{kind}-{digest}"
    with contextlib.suppress(OSError):
        return path.read_bytes()
    data = make()
    _write_atomically(path, data)
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the whole file or none: written under a private name, then renamed."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:  # a full disk or a removed directory costs the cache, never the caller
        with contextlib.suppress(OSError):
            partial.unlink()
