"""Build glue for the native parts; the project metadata lives in pyproject.toml.

``pip install .`` and ``pip install -e .`` build, with no manual cargo step:

* the Rust C-ABI library ``native/ffi`` (crate ``hybridbench-ffi``, a ``cdylib``), through
  setuptools-rust, installed as ``hybridbench/backends/ffi/libhybridbench_ffi.so`` (release
  profile of ``native/Cargo.toml``: opt-level 3, fat LTO, one codegen unit);
* the cffi API-mode extension ``hybridbench.backends.ffi._hb_cffi`` from the checked-in header
  ``native/ffi/include/hybridbench.h`` (see ``backends/ffi/_build.py``).

Set ``HYBRIDBENCH_SKIP_NATIVE=1`` to install the pure-Python parts only (the ``ffi`` backend then
reports itself unavailable with the reason).
"""

from __future__ import annotations

import os

from setuptools import setup

native = os.environ.get("HYBRIDBENCH_SKIP_NATIVE", "") not in ("1", "true", "yes")

kwargs: dict = {}
if native:
    from setuptools_rust import Binding, RustExtension

    kwargs["rust_extensions"] = [
        RustExtension(
            "hybridbench.backends.ffi.libhybridbench_ffi",
            path="native/ffi/Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
        ),
        # The tonic gRPC server (native/server) goes here when it exists, as
        #   RustBin("hybridbench-server", path="native/server/Cargo.toml", debug=False)
        # (setuptools_rust.RustBin installs it into the environment's bin/ directory).
    ]
    kwargs["cffi_modules"] = ["backends/ffi/_build.py:ffibuilder"]

setup(**kwargs)
