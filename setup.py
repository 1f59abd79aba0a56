"""Build glue for the native parts; the project metadata lives in pyproject.toml.

``pip install .`` and ``pip install -e .`` build, with no manual cargo step:

* from the one Rust kernel crate ``native/kernels`` (crate ``hybridbench-kernels``, built on the
  SDK ``native/sdk``), through setuptools-rust, with the release profile of
  ``native/Cargo.toml`` (opt-level 3, no LTO, one codegen unit; its comment has the A/B):

  * its ``cdylib``, the C-ABI library, installed as
    ``hybridbench/backends/ffi/libhybridbench_ffi<EXT_SUFFIX>`` (setuptools-rust copies the
    crate's only cdylib artefact, ``libhybridbench_kernels.so``, to the extension's name);
  * its binary ``hybridbench-server``, the tonic gRPC server, installed into the environment's
    ``bin/`` through ``RustBin``;
* from the idiomatic kernel crate ``native/idiomatic`` (``hybridbench-idiomatic``: serde, the
  image crate, std collections), its ``cdylib``, installed as
  ``hybridbench/backends/ffi/libhybridbench_idiomatic<EXT_SUFFIX>``: the library of the
  ``ffi-idiomatic`` backend (``backends/ffi/idiomatic.py``);
* the cffi API-mode extension ``hybridbench.backends.ffi._hb_cffi`` from the checked-in header
  ``native/sdk/include/hybridbench.h`` (see ``backends/ffi/_build.py``), and the CPython
  extension ``hybridbench.backends.ffi._hb_fast`` (``backends/ffi/_hb_fast.c``: ``ffi``'s
  per-call hot path, one C call per ``run``);
* the Python protobuf module ``hybridbench.backends.grpc.hybridbench_pb2`` from
  ``proto/hybridbench.proto``, with the grpcio-tools pinned in ``[build-system] requires`` (a
  ``build_py`` step, so it runs for editable installs too; see ``backends/grpc/_codegen.py``);
* the Go engine's gRPC server from the Go module ``go/`` (``go build``, when ``go`` is on PATH),
  installed as ``hybridbench/backends/grpc/bin/hybridbench-go-server`` (the same ``build_py``
  step; see ``backends/grpc/_gobuild.py``). Optional: without Go, or if the build fails, the
  install goes on and ``grpc-go`` reports why it is unavailable;
* for a wheel (not an editable install), a copy of what ``hybridbench new`` and a plug-in's
  build need: the SDK crate with its C header, the proto and ``native/Cargo.lock``, in
  ``hybridbench/data`` with the checkout's layout (``hybridbench/scaffold/_sources.py``).
  ``MANIFEST.in`` says what the sdist holds.

All the Rust artefacts come from ONE ``cargo build`` of the workspace (``build_rust_once``): one
dependency graph, each crate compiled once. setuptools-rust alone runs cargo once per artefact
(``cargo rustc --crate-type cdylib`` for each library, ``cargo build`` for the binary), which
compiled the kernel crate twice and linked its library twice; its copying and installing of
each artefact is kept.

Set ``HYBRIDBENCH_SKIP_NATIVE=1`` to skip the Rust parts (the ``ffi`` and ``grpc`` backends then
report themselves unavailable with the reason; ``grpc-py`` still works), and
``HYBRIDBENCH_SKIP_GO=1`` to skip the Go server (``grpc-go`` then says so). ``make install``
sets ``HYBRIDBENCH_SKIP_GO=separate``: it builds the Go server in a step of its own, beside the
Rust build, so this build leaves ``backends/grpc/bin/`` untouched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, Extension, setup
from setuptools.command.build_py import build_py


def _load(name: str, folder: str = "backends/grpc"):
    """A build helper of the package, loaded by path (the package is not importable yet)."""
    path = Path(__file__).resolve().parent / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_hybridbench{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class build_py_with_proto(build_py):
    """Generate the protobuf module from proto/ and build the Go server before the package's
    files are collected (both land in the source tree, so editable installs see them too);
    then, for a wheel, copy the Rust sources `hybridbench new` builds plug-ins against into
    the package (an editable install finds them in the checkout)."""

    def run(self) -> None:
        _load("_codegen").generate()
        if os.environ.get("HYBRIDBENCH_SKIP_GO") != "separate":
            _load("_gobuild").build(version=self.distribution.get_version())
        super().run()
        if not getattr(self, "editable_mode", False):
            sources = _load("_sources", "hybridbench/scaffold")
            sources.copy_into(ROOT, Path(self.build_lib) / "hybridbench" / sources.PACKAGED_DIR)


class BinaryDistribution(Distribution):
    """A wheel holding the Go server binary is platform-specific even without the Rust parts."""

    def has_ext_modules(self) -> bool:
        return True


ROOT = Path(__file__).resolve().parent
#: the workspace whose members setup.py builds, in one cargo invocation
WORKSPACE = ROOT / "native" / "Cargo.toml"
PACKAGES = ("hybridbench-kernels", "hybridbench-idiomatic")


def cargo_build_once(cargo: str = "cargo") -> dict[tuple[Path, str], str]:
    """Build every shipped Rust artefact with one ``cargo build --release``; return
    ``{(crate manifest, "cdylib" or "bin"): artefact path}`` from cargo's own messages."""
    command = [cargo, "build", "--release", "--manifest-path", str(WORKSPACE),
               "--message-format=json-render-diagnostics", "--lib", "--bins"]
    for package in PACKAGES:
        command += ["-p", package]
    print(" ".join(command), file=sys.stderr, flush=True)
    # stderr (cargo's progress and diagnostics) passes through; stdout is the JSON messages
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"hybridbench: `{' '.join(command)}` failed (exit {done.returncode}); "
                         "cargo's messages are above")
    built: dict[tuple[Path, str], str] = {}
    for line in done.stdout.splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("reason") != "compiler-artifact":
            continue
        manifest = Path(message["manifest_path"]).resolve()
        kinds = message["target"]["kind"]
        if "bin" in kinds and message.get("executable"):
            built[(manifest, "bin:" + message["target"]["name"])] = message["executable"]
        elif "cdylib" in kinds:
            (so,) = [f for f in message["filenames"] if f.endswith((".so", ".dylib", ".dll"))]
            built[(manifest, "cdylib")] = so
    return built


native = os.environ.get("HYBRIDBENCH_SKIP_NATIVE", "") not in ("1", "true", "yes")
go = shutil.which("go") and os.environ.get("HYBRIDBENCH_SKIP_GO", "") not in (
    "1", "true", "yes", "separate")

kwargs: dict = {"cmdclass": {"build_py": build_py_with_proto}}
if go:
    kwargs["distclass"] = BinaryDistribution
if native:
    from setuptools_rust import Binding, RustBin, RustExtension
    from setuptools_rust import build as rust_build

    # a private name of setuptools-rust: without it, its own per-artefact cargo calls
    _BuiltModule = getattr(rust_build, "_BuiltModule", None)

    class build_rust_once(rust_build.build_rust):
        """setuptools-rust's build_rust, with the cargo step replaced by one invocation for
        every extension (see the module docstring); installing is setuptools-rust's own."""

        built: dict[tuple[Path, str], str] | None = None

        def build_extension(self, ext):
            if self.built is None:
                type(self).built = cargo_build_once(self.cargo)
            assert self.built is not None
            manifest = Path(ext.path).resolve()
            if isinstance(ext, RustBin):
                modules = [_BuiltModule(dest, self.built[(manifest, "bin:" + (name or dest))])
                           for name, dest in ext.target.items()]
            else:
                modules = [_BuiltModule(ext.name, self.built[(manifest, "cdylib")])]
            return modules, None

    if _BuiltModule is not None:
        kwargs["cmdclass"]["build_rust"] = build_rust_once

    kwargs["rust_extensions"] = [
        RustExtension(
            "hybridbench.backends.ffi.libhybridbench_ffi",
            path="native/kernels/Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
        ),
        # installed into the environment's bin/, where backends/grpc looks for it first
        RustBin("hybridbench-server", path="native/kernels/Cargo.toml", debug=False),
        # ffi-idiomatic's library (not a hybridbench.native package: ffi must not load it)
        RustExtension(
            "hybridbench.backends.ffi.libhybridbench_idiomatic",
            path="native/idiomatic/Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
        ),
    ]
    kwargs["cffi_modules"] = ["backends/ffi/_build.py:ffibuilder"]
    kwargs["ext_modules"] = [
        Extension("hybridbench.backends.ffi._hb_fast", sources=["backends/ffi/_hb_fast.c"],
                  include_dirs=["native/sdk/include"],
                  depends=["native/sdk/include/hybridbench.h"]),
    ]

setup(**kwargs)
