"""``ffi``: the Rust kernels (``native/``) in this process, through their C ABI and cffi.

The library ``libhybridbench_ffi`` is built by ``pip install`` (setuptools-rust) next to this
file. ``start()`` dlopens it (``RTLD_GLOBAL``) and imports the cffi API-mode extension
``_hb_cffi``, whose calls go straight to ``hb_run`` (about half the per-call cost of ABI mode);
if that extension is missing, the same header is loaded in ABI mode instead and ``describe()``
says so. Inputs cross without a copy (``bytes`` are passed by pointer); the response is copied
once out of the Rust buffer, which is then freed. cffi releases the GIL for the duration of each
C call, so calls from several threads really run in parallel.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from hybridbench.backend import Backend
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError

HERE = Path(__file__).resolve().parent
LIBRARY_ENV = "HYBRIDBENCH_FFI_LIB"

#: status codes of ``hb_run`` (native/ffi/include/hybridbench.h)
HB_OK, HB_INVALID_INPUT, HB_UNSUPPORTED, HB_INTERNAL = 0, 1, 2, 3


def library_path() -> Path | None:
    """The built library: ``$HYBRIDBENCH_FFI_LIB`` if set, else the one next to this file."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override)
    candidates = sorted(HERE.glob("libhybridbench_ffi*.so")) + sorted(
        HERE.glob("libhybridbench_ffi*.dylib"))
    return candidates[0] if candidates else None


def _header_path() -> Path:
    return HERE.parent.parent / "native" / "ffi" / "include" / "hybridbench.h"


class FfiBackend(Backend):
    name = "ffi"
    summary = "Rust kernels in this process through the C ABI (cffi), GIL released"
    parallel_calls: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._ffi: Any = None
        self._lib: Any = None
        self._handle: ctypes.CDLL | None = None
        self._path: Path | None = None
        self._mode = ""
        self._local = threading.local()
        self._names = {}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        path = library_path()
        if path is None:
            return (f"the Rust C-ABI library libhybridbench_ffi is not built (no "
                    f"libhybridbench_ffi*.so in {HERE}); run `pip install -e .` with a Rust "
                    f"toolchain (cargo) on PATH")
        if not path.exists():
            return f"{LIBRARY_ENV} points to {path}, which does not exist"
        return None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.started:
            return
        reason = self.unavailable_reason()
        if reason:
            raise BackendError(reason)
        path = library_path()
        assert path is not None
        try:
            # RTLD_GLOBAL: the API-mode extension's hb_* symbols resolve against this library
            self._handle = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise BackendError(f"cannot load {path}: {exc}") from None
        try:
            module = importlib.import_module("hybridbench.backends.ffi._hb_cffi")
            self._ffi, self._lib, self._mode = module.ffi, module.lib, "api"
        except ImportError as api_error:
            # No compiled extension (or built for another interpreter): ABI mode, same header.
            try:
                from hybridbench.backends.ffi._build import make_ffi

                ffi = make_ffi(_header_path())
                self._ffi, self._lib = ffi, ffi.dlopen(str(path))
                self._mode = f"abi (API-mode extension unavailable: {api_error})"
            except Exception as exc:
                raise BackendError(f"cannot bind {path} with cffi: {exc}") from None
        self._path = path
        self._names = {w: w.encode() for w in self.workloads}
        self.started = True

    def stop(self) -> None:
        # The library stays mapped (unloading a Rust cdylib is not safe while other instances
        # or threads may use it); only this instance's references go.
        self._local = threading.local()
        self.started = False

    # -- work --------------------------------------------------------------------------------

    def _buffers(self) -> Any:
        """This thread's (out, err) pair of ``hb_buffer`` structs, reused across calls."""
        try:
            return self._local.bufs
        except AttributeError:
            array = self._ffi.new("hb_buffer[2]")
            self._local.bufs = (array + 0, array + 1, array)
            return self._local.bufs

    def call(self, workload: str, payload: bytes) -> bytes:
        if not self.started:
            self.start()
        ffi, lib = self._ffi, self._lib
        out, err, _ = self._buffers()
        name = self._names.get(workload) or workload.encode()
        data = payload if type(payload) is bytes else ffi.from_buffer(payload)
        code = lib.hb_run(name, len(name), data, len(payload), out, err)
        try:
            if code == HB_OK:
                return ffi.buffer(out.ptr, out.len)[:] if out.len else b""
            message = ffi.buffer(err.ptr, err.len)[:].decode("utf-8", "replace")
        finally:
            lib.hb_buffer_free(out)
            lib.hb_buffer_free(err)
        if code == HB_INVALID_INPUT:
            raise WorkloadError(message)
        if code == HB_UNSUPPORTED:
            raise UnsupportedError(f"ffi: {message}")
        raise BackendError(f"ffi: hb_run failed with code {code}: {message}")

    # -- measurement hooks -----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"library": str(self._path or library_path())}
        if self._lib is not None:
            info["version"] = self._ffi.string(self._lib.hb_version()).decode()
            info["cffi_mode"] = self._mode
        return info
