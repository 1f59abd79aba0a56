"""The built-in kernels (``native/kernels``) as a native kernel package, registered like any
plug-in under ``hybridbench.native`` (see ``hybridbench.native``).

``pip install`` builds the C-ABI library next to ``backends/ffi/`` and the server binary into
the environment's ``bin/``. ``$HYBRIDBENCH_FFI_LIB`` and ``$HYBRIDBENCH_SERVER`` override
either (a library or server built elsewhere, e.g. in C or Go against the same contract).
"""

from __future__ import annotations

import os
from pathlib import Path

from hybridbench.native import NativeKernels, find_executable, find_library

HERE = Path(__file__).resolve().parent
LIBRARY_ENV = "HYBRIDBENCH_FFI_LIB"
SERVER_ENV = "HYBRIDBENCH_SERVER"
LIBRARY_STEM = "libhybridbench_ffi"
SERVER_NAME = "hybridbench-server"
#: a cargo build in the checkout, for working on the Rust side without reinstalling
CHECKOUT_RELEASE = HERE.parent / "native" / "target" / "release"
NOT_BUILT = ("the Rust parts are not built: run `pip install -e .` with a Rust toolchain (cargo) "
             "on PATH")


def library_path() -> Path | None:
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override)
    return find_library(HERE / "ffi", LIBRARY_STEM)


def server_path() -> Path | None:
    override = os.environ.get(SERVER_ENV)
    if override:
        return Path(override)
    return find_executable(SERVER_NAME, near=[CHECKOUT_RELEASE])


def kernels() -> NativeKernels:
    library, server = library_path(), server_path()
    problem = None if library and server else NOT_BUILT
    if library is not None and not library.is_file():
        library, problem = None, f"${LIBRARY_ENV} points to {library}, which does not exist"
    if server is not None and not server.is_file():
        server, problem = None, f"${SERVER_ENV} points to {server}, which does not exist"
    return NativeKernels("hybridbench", library, server, problem)
