"""``ffi``: the Rust kernels (``native/``) in this process, through their C ABI and cffi.

The library ``libhybridbench_ffi`` is built by ``pip install`` (setuptools-rust) next to this
file. ``start()`` dlopens it (``RTLD_GLOBAL``) and imports the cffi API-mode extension
``_hb_cffi``, whose calls go straight to ``hb_run`` (about half the per-call cost of ABI mode);
if that extension is missing, the same header is loaded in ABI mode instead and ``describe()``
says so. Inputs cross without a copy (``bytes`` are passed by pointer). Calls go through
``hb_run_into`` with the workload as a small integer id: a response of at most
``SMALL_OUTPUT`` bytes is copied by Rust into a per-thread C buffer and from there once into a
``bytes`` (one C call, no free call); a larger one comes back as a Rust buffer that is copied
once and freed. cffi releases the GIL for the duration of each C call, so calls from several
threads really run in parallel (each thread has its own buffers).
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
#: workload ids of ``hb_run_into`` (``HB_WORKLOAD_*`` in the header)
WORKLOAD_IDS = {"echo": 0, "json": 1, "image": 2, "timeseries": 3}
#: responses up to this many bytes are copied into a per-thread buffer instead of handed over
SMALL_OUTPUT = 64 * 1024


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
        self._names: dict[str, bytes] = {}
        self._ids: dict[str, int] = {}

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
            if not hasattr(module.lib, "hb_run_into"):
                raise ImportError("_hb_cffi was built from an older header (no hb_run_into); "
                                  "rerun `pip install -e .`")
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
        self._ids = {w: WORKLOAD_IDS[w] for w in self.workloads if w in WORKLOAD_IDS}
        self._run_into = self._lib.hb_run_into
        self._unpack = self._ffi.unpack
        self.started = True

    def stop(self) -> None:
        # The library stays mapped (unloading a Rust cdylib is not safe while other instances
        # or threads may use it); only this instance's references go.
        self._local = threading.local()
        self.started = False

    # -- work --------------------------------------------------------------------------------

    def _buffers(self) -> Any:
        """This thread's ``(out, small)``: an ``hb_buffer`` and a ``char[SMALL_OUTPUT]``, reused
        across calls (created on the thread's first call)."""
        bufs = (self._ffi.new("hb_buffer *"), self._ffi.new("char[]", SMALL_OUTPUT))
        self._local.bufs = bufs
        return bufs

    def call(self, workload: str, payload: bytes) -> bytes:
        if not self.started:
            self.start()
        try:
            out, small = self._local.bufs
        except AttributeError:
            out, small = self._buffers()
        wid = self._ids.get(workload)
        if wid is None:
            return self._call_by_name(workload, payload)
        data = payload if type(payload) is bytes else self._ffi.from_buffer(payload)
        code = self._run_into(wid, data, len(payload), small, SMALL_OUTPUT, out)
        if code == HB_OK:
            n = out.len
            if n <= SMALL_OUTPUT:  # in `small`, nothing to free
                return self._unpack(small, n)
        return self._take(code, out)

    def _take(self, code: int, out: Any) -> bytes:
        """The output or error handed over in ``out`` (copied, then freed)."""
        ffi = self._ffi
        try:
            data = ffi.buffer(out.ptr, out.len)[:] if out.len else b""
        finally:
            self._lib.hb_buffer_free(out)
        if code == HB_OK:
            return data
        message = data.decode("utf-8", "replace")
        if code == HB_INVALID_INPUT:
            raise WorkloadError(message)
        if code == HB_UNSUPPORTED:
            raise UnsupportedError(f"ffi: {message}")
        raise BackendError(f"ffi: hb_run failed with code {code}: {message}")

    def _call_by_name(self, workload: str, payload: bytes) -> bytes:
        """``hb_run`` with the name (workloads without an id; the kernel reports unknown ones)."""
        ffi, lib = self._ffi, self._lib
        out, err = ffi.new("hb_buffer *"), ffi.new("hb_buffer *")
        name = self._names.get(workload) or workload.encode()
        data = payload if type(payload) is bytes else ffi.from_buffer(payload)
        code = lib.hb_run(name, len(name), data, len(payload), out, err)
        if code == HB_OK:
            lib.hb_buffer_free(err)
            return self._take(code, out)
        lib.hb_buffer_free(out)
        return self._take(code, err)

    # -- measurement hooks -----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"library": str(self._path or library_path())}
        if self._lib is not None:
            info["version"] = self._ffi.string(self._lib.hb_version()).decode()
            info["cffi_mode"] = self._mode
        return info
