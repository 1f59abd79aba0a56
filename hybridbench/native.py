"""Native kernel packages: where the C-ABI libraries and gRPC servers of installed plug-ins are.

A kernel crate written with the Rust SDK (``native/sdk``) builds two artefacts from one table
of kernels: a C-ABI library (``ffi`` loads it) and a tonic server binary (``grpc`` spawns it).
A Python package makes them known through the entry-point group ``hybridbench.native``: the
entry point is a callable returning a :class:`NativeKernels`. The built-in kernels register
the same way (``hybridbench`` in ``pyproject.toml``), so the path plug-ins take is the one CI
tests every day.

Neither artefact lists its workloads here: ``ffi`` asks the library (``hb_workloads()``) and
``grpc`` asks the server binary (``--list-workloads``) or a running server (``Describe``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from hybridbench import envinfo

NATIVE_GROUP = "hybridbench.native"
#: how long ``SERVER --list-workloads`` may take (it prints and exits, no listening)
LIST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class NativeKernels:
    """The artefacts of one kernel crate, as installed."""

    #: the plug-in's name (its entry point), e.g. ``hybridbench`` for the built-ins
    name: str
    #: the C-ABI library, or None if it was not built
    library: Path | None
    #: the gRPC server binary, or None if it was not built
    server: Path | None
    #: why an artefact is missing (e.g. "cargo was not on PATH when it was installed")
    problem: str | None = None


def build_flags(version: str) -> dict[str, bool]:
    """How a native artefact was built, from the build metadata of its version string
    (``hb_version()``, ``Describe.version``; see ``native/sdk/src/version.rs``): each
    dot-separated identifier after ``+`` is a flag, ``no-`` in front of one says it is off,
    dashes become underscores. ``"0.1.0+jpeg-simd"`` gives ``{"jpeg_simd": True}``,
    ``"0.1.0+no-jpeg-simd"`` ``{"jpeg_simd": False}``, a version without metadata ``{}``."""
    _, plus, metadata = version.partition("+")
    flags: dict[str, bool] = {}
    for ident in metadata.split(".") if plus else ():
        on = not ident.startswith("no-")
        name = ident if on else ident[3:]
        if name:
            flags[name.replace("-", "_")] = on
    return flags


def find_library(package_dir: Path, stem: str) -> Path | None:
    """The cdylib ``stem*.so`` (or ``.dylib``) that setuptools-rust installed in a package."""
    for pattern in (f"{stem}*.so", f"{stem}*.dylib"):
        found = sorted(package_dir.glob(pattern))
        if found:
            return found[0]
    return None


def find_executable(name: str, near: Iterable[Path] = ()) -> Path | None:
    """A server binary: in this interpreter's ``bin/`` (where ``pip install`` puts it), in the
    given directories (e.g. ``TARGET/bin`` of a ``pip install --target``), else on PATH."""
    exe = name + (".exe" if os.name == "nt" else "")
    for directory in (Path(sys.executable).parent, *near):
        candidate = directory / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(exe)
    return Path(found) if found else None


#: what a build of the built-in engines is made from, under ``native/`` (Rust) and ``go/``
#: (the Go engine) of a checkout
SOURCE_SUFFIXES = frozenset({".rs", ".toml", ".lock", ".h", ".proto", ".go", ".mod", ".sum"})


def newest_source(source_dir: Path) -> tuple[float, Path] | None:
    """The most recently modified build input under ``source_dir`` (cargo's ``target/``
    directories skipped), as ``(mtime, path)``; None if there is none."""
    newest: tuple[float, Path] | None = None
    for directory, subdirs, files in os.walk(source_dir):
        subdirs[:] = [d for d in subdirs if d != "target" and not d.startswith(".")]
        for name in files:
            path = Path(directory, name)
            if path.suffix not in SOURCE_SUFFIXES:
                continue
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if newest is None or mtime > newest[0]:
                newest = (mtime, path)
    return newest


def built_in_artefacts() -> dict[str, list[Path]]:
    """The built-in engines' installed artefacts by the checkout directory they are built
    from: the Rust library and server from ``native``, the Go server from ``go``."""
    rust = [p for k in installed() if k.name == "hybridbench"
            for p in (k.library, k.server) if p is not None]
    try:
        from hybridbench.backends.grpc import gobackend
    except ImportError:  # an install without the Go engine's package
        go = None
    else:
        go = gobackend.server_path()
    return {"native": rust, "go": [go] if go is not None else []}


def stale_build_warning(root: Path = envinfo.PROJECT_ROOT,
                        artefacts: dict[str, list[Path]] | None = None) -> str | None:
    """In a checkout, why the installed built-in engines may not be the sources' code: an
    artefact older than the newest build input of the directory it is built from
    (``artefacts``: directory -> artefacts, :func:`built_in_artefacts` unless given), after an
    edit, a checkout or a reset since the last ``make install``, as make itself would judge
    it. Results record the checkout's commit, so a stale build would be measured under
    another commit's name. None outside a checkout and when every artefact is newer."""
    if not (root / ".git").exists():
        return None
    if artefacts is None:
        artefacts = built_in_artefacts()
    stale = []
    for directory, built in artefacts.items():
        source = newest_source(root / directory) if (root / directory).is_dir() else None
        if source is None:
            continue
        for artefact in built:
            try:
                if artefact.stat().st_mtime < source[0]:
                    stale.append(f"{artefact.name} is older than {source[1].relative_to(root)}")
            except OSError:
                continue
    if not stale:
        return None
    return (f"stale native build: {'; '.join(stale)}; the measured engines may not be this "
            "checkout's code (rebuild with `make install`)")


def installed() -> tuple[NativeKernels, ...]:
    """Every registered kernel package, built-ins first, then plug-ins by name. Not cached:
    it is cheap, and the paths may follow the environment (``$HYBRIDBENCH_SERVER``)."""
    found = []
    for ep in sorted(entry_points(group=NATIVE_GROUP), key=lambda e: (e.name != "hybridbench",
                                                                      e.name)):
        try:
            kernels = ep.load()()
        except Exception as exc:  # a broken plug-in is reported, never fatal
            kernels = NativeKernels(ep.name, None, None,
                                    f"its entry point {ep.value} failed: "
                                    f"{type(exc).__name__}: {exc}")
        found.append(kernels)
    return tuple(found)


@functools.cache
def _server_workloads(path: Path, mtime_ns: int) -> tuple[str, ...]:
    del mtime_ns  # part of the cache key only: a rebuilt binary is asked again
    try:
        done = subprocess.run([str(path), "--list-workloads"], capture_output=True, text=True,
                              timeout=LIST_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{path} --list-workloads failed: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{path} --list-workloads exited with {done.returncode}: {tail}")
    return tuple(line.strip() for line in done.stdout.splitlines() if line.strip())


def server_workloads(path: Path) -> tuple[str, ...]:
    """What a server binary implements, from ``SERVER --list-workloads`` (cached per build);
    raises RuntimeError with the reason if the binary cannot tell."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise RuntimeError(f"server binary {path}: {exc}") from None
    return _server_workloads(path, mtime)


def unbuilt_reason(artefact: str, what: str) -> str | None:
    """None if some installed package has its ``artefact`` (``library``/``server``), else
    why none has: what a backend that needs one reports as its unavailability."""
    kernels = installed()
    if any(getattr(k, artefact) is not None for k in kernels):
        return None
    problems = describe_problems(kernels, artefact) or ["no kernel package is registered"]
    return f"no {what} is built (" + "; ".join(problems) + ")"


def describe_problems(kernels: Iterable[NativeKernels], artefact: str) -> list[str]:
    """One line per package whose ``artefact`` (``library``/``server``) is missing."""
    lines = []
    for k in kernels:
        if getattr(k, artefact) is None:
            why = k.problem or f"no {artefact} was built"
            lines.append(f"{k.name}: {why}")
    return lines
