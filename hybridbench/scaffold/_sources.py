"""The Rust sources a plug-in is built against, and how an installed package carries them.

A project written by ``hybridbench new`` depends on the Rust SDK crate by path
(``native/sdk``, with the C header in ``include/``; its ``build.rs`` reads
``../../proto/hybridbench.proto``) and starts its ``Cargo.lock`` from hybridbench's own
(``native/Cargo.lock``). A checkout has them where they are. A wheel, or a build from the sdist,
carries a copy inside the package, in ``hybridbench/data`` with the checkout's layout, so the
SDK's build script finds the proto the same way in both; setup.py's ``build_py`` makes it with
:func:`copy_into`. This module is loaded by path there, before hybridbench is importable: it
imports only the standard library.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

#: the copy's directory inside the ``hybridbench`` package
PACKAGED_DIR = "data"
#: the SDK crate, relative to a checkout or to the copy
SDK = Path("native", "sdk")
#: the C ABI's header (what a library in another language implements)
HEADER = SDK / "include" / "hybridbench.h"
#: the lock file a scaffolded crate starts from
LOCKFILE = Path("native", "Cargo.lock")
#: the workspace manifest whose ``[workspace.package]`` the SDK inherits from
WORKSPACE = Path("native", "Cargo.toml")
#: the proto the SDK's build script compiles
PROTO = Path("proto", "hybridbench.proto")
#: what a build of the SDK reads (its tests stay in the checkout)
SDK_PARTS = ("build.rs", "src", "include")
#: a manifest field inherited from the workspace: ``version.workspace = true``
INHERITED = re.compile(r"^(?P<key>[A-Za-z][\w-]*)\.workspace\s*=\s*true\s*$", re.MULTILINE)


class SourcesError(Exception):
    """The checkout lacks a file the copy needs, or the SDK's manifest cannot stand alone."""


def standalone_manifest(manifest: str, workspace: str) -> str:
    """The SDK's Cargo.toml with each ``key.workspace = true`` replaced by the workspace's
    value, as ``cargo package`` does: the copy has no workspace around it."""
    values = tomllib.loads(workspace).get("workspace", {}).get("package", {})

    def inline(match: re.Match[str]) -> str:
        key = match["key"]
        if key not in values:
            raise SourcesError(f"the SDK's Cargo.toml inherits {key} from the workspace, which "
                               f"has no [workspace.package] {key}")
        # a TOML basic string or number is written as JSON writes it
        return f"{key} = {json.dumps(values[key])}"

    return INHERITED.sub(inline, manifest)


def copy_into(checkout: Path, destination: Path) -> list[Path]:
    """Copy the SDK crate (its manifest made standalone), the proto and the lock file from a
    checkout into ``destination`` with the checkout's layout; return the files written."""
    for needed in (SDK / "Cargo.toml", WORKSPACE, LOCKFILE, PROTO, HEADER):
        if not (checkout / needed).is_file():
            raise SourcesError(f"{checkout / needed} is missing: the package cannot carry "
                               "the Rust SDK without it")
    if destination.exists():
        shutil.rmtree(destination)
    sdk = destination / SDK
    sdk.mkdir(parents=True)
    for part in SDK_PARTS:
        source = checkout / SDK / part
        if source.is_dir():
            shutil.copytree(source, sdk / part)
        elif source.is_file():
            shutil.copy2(source, sdk / part)
    manifest = standalone_manifest((checkout / SDK / "Cargo.toml").read_text(),
                                   (checkout / WORKSPACE).read_text())
    (sdk / "Cargo.toml").write_text(manifest)
    for single in (LOCKFILE, PROTO):
        (destination / single).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / single, destination / single)
    return sorted(p for p in destination.rglob("*") if p.is_file())
