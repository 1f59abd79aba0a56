"""``hybridbench new NAME``: a working plug-in project for a team's own hot path.

The project holds one workload in two languages: a Python package (generator, size presets,
reference, verifier: what ``inproc``, ``inproc-pure`` and ``grpc-py`` run) and a Rust crate
written with the SDK (``native/sdk``), from which ``pip install`` builds both the C-ABI
library ``ffi`` loads and the gRPC server ``grpc`` spawns. The example kernel counts words, a
small but real kernel whose two implementations must agree byte for byte; the user replaces
it with their own function.

The files are in ``template/``: ``__pkg__`` in a path and ``${...}`` placeholders in a file
(``string.Template``; a literal dollar is ``$$``) are filled in here.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hybridbench.errors import HybridbenchError
from hybridbench.scaffold import _sources

TEMPLATE = Path(__file__).resolve().parent / "template"
#: a workload name that is also a valid Rust crate stem and, with - as _, a Python package
NAME_RULE = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")


class ScaffoldError(HybridbenchError):
    """The project cannot be written (bad name, existing directory, SDK not found)."""


@dataclass(frozen=True)
class Names:
    workload: str  # as typed: my-kernel
    package: str  # Python package: my_kernel
    crate: str  # Rust package: my-kernel-kernels
    lib: str  # Rust library: my_kernel_kernels
    server: str  # server binary: my-kernel-server

    @classmethod
    def of(cls, name: str) -> Names:
        if not NAME_RULE.fullmatch(name) or "--" in name:
            raise ScaffoldError(
                f"invalid name {name!r}: use 2-32 lowercase letters, digits and single "
                f"hyphens, starting with a letter (it names the workload, the Python package "
                f"and the Rust crate)")
        package = name.replace("-", "_")
        return cls(name, package, f"{name}-kernels", f"{package}_kernels", f"{name}-server")


def sources_root() -> Path:
    """Where the Rust sources a plug-in builds against are (``_sources``' layout): the copy
    inside the installed package (a wheel, or a build from the sdist), else the checkout of an
    editable install."""
    places = [_packaged_root(), _checkout_root()]
    for root in places:
        if root is not None and (root / _sources.SDK / "Cargo.toml").is_file():
            return root
    looked = [str(p / _sources.SDK) for p in places if p is not None]
    where = f"in neither {looked[0]} nor {looked[1]}" if len(looked) == 2 else f"not in {looked[0]}"
    raise ScaffoldError(
        f"the Rust SDK crate is {where}: this hybridbench was installed without it "
        f"(reinstall it from its wheel or sdist, or with pip install -e . in its checkout)")


def _checkout_root() -> Path:
    """The checkout this module would be in, were hybridbench installed from one."""
    return Path(__file__).resolve().parents[2]


def _packaged_root() -> Path | None:
    """The package's own copy, if it is a directory on disk (not inside a zip)."""
    data = resources.files("hybridbench") / _sources.PACKAGED_DIR
    return data if isinstance(data, Path) else None


def sdk_dir() -> Path:
    """The SDK crate a scaffolded crate depends on by path."""
    return sources_root() / _sources.SDK


def _lockfile() -> str | None:
    """hybridbench's own Cargo.lock: the plug-in starts from the same dependency versions, so
    a shared CARGO_TARGET_DIR reuses the compiled dependencies and the build needs no new
    downloads."""
    lock = sources_root() / _sources.LOCKFILE
    return lock.read_text() if lock.is_file() else None


def create(name: str, directory: Path | None = None) -> Path:
    """Write the project for ``name`` into ``directory`` (default ``./NAME``); return it."""
    names = Names.of(name)
    target = (directory or Path(name)).resolve()
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty; choose another --dir")
    values = {"workload": names.workload, "package": names.package, "crate": names.crate,
              "lib": names.lib, "server": names.server, "sdk": str(sdk_dir())}
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or source.suffix == ".pyc" or "__pycache__" in source.parts:
            continue
        relative = str(source.relative_to(TEMPLATE)).replace("__pkg__", names.package)
        relative = relative.removesuffix(".tmpl")
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(source.read_text()).substitute(values)
        destination.write_text(text)
    lock = _lockfile()
    if lock is not None:
        (target / "rust" / "Cargo.lock").write_text(lock)
    return target
