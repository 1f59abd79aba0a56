"""``ffi``: native kernels in this process, through their C ABI and cffi.

Every installed kernel package (``hybridbench.native``: the built-ins and each plug-in) brings a
C-ABI library built by the Rust SDK (``native/sdk``, contract ``native/sdk/include/
hybridbench.h``). ``start()`` dlopens each privately and asks it what it implements
(``hb_workloads()``: names, id = position); a call goes to the library that declared the
workload, by id. ``open_backend("ffi", library=PATH)`` (CLI ``--ffi-library``) loads only that
library: one written in C, C++, Go or anything else against the same header works too.

Per call: the input crosses without a copy (``bytes`` are passed by pointer); a response of at
most ``SMALL_OUTPUT`` bytes is copied by the library into a per-thread C buffer and from there
once into a ``bytes`` (one C call, no free call); a larger one comes back as a library buffer
that is copied once and freed. The GIL is released during each C call, so calls from several
threads run in parallel.

Two bindings do that. The hot path is ``_hb_fast`` (``_hb_fast.c``, a plain CPython extension):
``run`` makes ``Backend.run``'s checks and then ONE C call that runs ``hb_run_into`` with the
GIL released and returns the ``bytes`` (echo 64B ~0.2 us per call where the cffi path below
took ~0.6 us: that cost seven cffi arguments, a ``threading.local``, reading ``out.len`` and
``ffi.unpack``, each a Python-level step). cffi binds everything else (``hb_buffer_free``,
``hb_last_kernel_ns``; see ``_build.py`` for how one API-mode extension calls many libraries)
and is the whole call path when ``_hb_fast`` is not built or the payload is not ``bytes``.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hybridbench import native
from hybridbench.backend import Backend
from hybridbench.backends.builtin_native import LIBRARY_ENV, library_path
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError
from hybridbench.limits import MAX_PAYLOAD_BYTES

__all__ = ["LIBRARY_ENV", "FfiBackend", "library_path"]

#: status codes (native/sdk/include/hybridbench.h)
HB_OK, HB_INVALID_INPUT, HB_UNSUPPORTED, HB_INTERNAL = 0, 1, 2, 3
#: the ABI this binding speaks (``HB_ABI_VERSION``)
ABI_VERSION = 2
#: responses up to this many bytes are copied into a per-thread buffer instead of handed over
SMALL_OUTPUT = 64 * 1024


def _api_module() -> Any:
    """The API-mode extension, or raise ImportError saying why it cannot be used."""
    module = importlib.import_module("hybridbench.backends.ffi._hb_cffi")
    if not hasattr(module.lib, "hb_call_run_into"):
        raise ImportError("_hb_cffi was built from an older _build.py (no hb_call_run_into); "
                          "rerun `pip install -e .`")
    return module


def _fast_module() -> Any:
    """The CPython extension of the hot path (``_hb_fast.c``), or raise ImportError."""
    module = importlib.import_module("hybridbench.backends.ffi._hb_fast")
    if module.SMALL_OUTPUT != SMALL_OUTPUT:
        raise ImportError(f"_hb_fast was built with SMALL_OUTPUT {module.SMALL_OUTPUT}, this "
                          f"binding uses {SMALL_OUTPUT}: rerun `pip install -e .`")
    return module


def _fast_run_into() -> Any:
    """``_hb_fast.run_into``, or None (with the reason in ``describe()``) if not built."""
    try:
        return _fast_module().run_into
    except ImportError:
        return None


@dataclass
class Library:
    """One loaded kernel library and the functions the hot path calls."""

    path: Path
    name: str
    version: str
    workloads: list[str]
    mode: str
    #: ``call_into(fn, wid, data, len, dst, cap, out) -> code``: in API mode the extension's
    #: trampoline and ``fn`` the library's ``hb_run_into``; kept apart so the hot path makes
    #: one C call and no Python-level wrapper call
    call_into: Any
    fn: Any
    buffer_free: Any  # (out) -> None
    last_kernel_ns: Any  # () -> int
    set_timing: Any  # (int) -> None
    #: the addresses of ``hb_run_into`` and ``hb_buffer_free`` (for ``_hb_fast``)
    addresses: tuple[int, int] = (0, 0)
    timing: bool = field(default=False)

    def enable_timing(self) -> None:
        if not self.timing:
            self.set_timing(1)
            self.timing = True


def _symbols(handle: ctypes.CDLL, path: Path) -> dict[str, Any]:
    names = ("hb_abi_version", "hb_version", "hb_library_name", "hb_workloads", "hb_run_into",
             "hb_buffer_free", "hb_last_kernel_ns", "hb_set_kernel_timing")
    found = {}
    for name in names:
        try:
            found[name] = getattr(handle, name)
        except AttributeError:
            raise BackendError(f"{path} does not export {name}: it is not a hybridbench kernel "
                               f"library of ABI version {ABI_VERSION} (rebuild it with the "
                               f"SDK in native/sdk)") from None
    return found


def load_library(path: Path) -> Library:
    """dlopen ``path`` privately, check its ABI version and read its workload table."""
    try:
        handle = ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)
    except OSError as exc:
        raise BackendError(f"cannot load {path}: {exc}") from None
    sym = _symbols(handle, path)
    sym["hb_abi_version"].restype = ctypes.c_uint32
    abi = sym["hb_abi_version"]()
    if abi != ABI_VERSION:
        raise BackendError(f"{path} speaks C ABI version {abi}; this hybridbench speaks "
                           f"{ABI_VERSION}: rebuild it against native/sdk")
    for name in ("hb_version", "hb_library_name", "hb_workloads"):
        sym[name].restype = ctypes.c_char_p
    listed = (sym["hb_workloads"]() or b"").decode("utf-8", "replace")
    common = {"path": path, "name": sym["hb_library_name"]().decode("utf-8", "replace"),
              "version": sym["hb_version"]().decode("utf-8", "replace"),
              "workloads": [w for w in listed.split("\n") if w]}
    common["addresses"] = (_address(handle, "hb_run_into"), _address(handle, "hb_buffer_free"))
    try:
        return _bind_api(handle, common)
    except ImportError as exc:
        return _bind_abi(path, common, f"abi (API-mode extension unavailable: {exc})")


def _address(handle: ctypes.CDLL, name: str) -> int:
    address = ctypes.cast(getattr(handle, name), ctypes.c_void_p).value
    assert address is not None
    return address


def _bind_api(handle: ctypes.CDLL, common: dict[str, Any]) -> Library:
    module = _api_module()
    ffi, lib = module.ffi, module.lib
    run_into = ffi.cast("void *", _address(handle, "hb_run_into"))
    free = ffi.cast("void *", _address(handle, "hb_buffer_free"))
    last = ffi.cast("void *", _address(handle, "hb_last_kernel_ns"))
    call_into, call_free, call_last = (lib.hb_call_run_into, lib.hb_call_buffer_free,
                                       lib.hb_call_last_kernel_ns)
    set_timing = handle.hb_set_kernel_timing
    set_timing.argtypes = [ctypes.c_int32]
    return Library(**common, mode="api", call_into=call_into, fn=run_into,
                   buffer_free=lambda out: call_free(free, out),
                   last_kernel_ns=lambda: call_last(last),
                   set_timing=set_timing)


@functools.cache
def _abi_ffi() -> Any:
    """One ABI-mode FFI for every library: cffi refuses buffers of another FFI instance."""
    from hybridbench.backends.ffi._build import make_abi_ffi

    return make_abi_ffi()


def _bind_abi(path: Path, common: dict[str, Any], mode: str) -> Library:
    try:
        lib = _abi_ffi().dlopen(str(path))
    except Exception as exc:
        raise BackendError(f"cannot bind {path} with cffi: {exc}") from None
    run_into = lib.hb_run_into
    return Library(**common, mode=mode, call_into=lambda _fn, *args: run_into(*args), fn=None,
                   buffer_free=lib.hb_buffer_free, last_kernel_ns=lib.hb_last_kernel_ns,
                   set_timing=lib.hb_set_kernel_timing)


class FfiBackend(Backend):
    name = "ffi"
    summary = "native kernels in this process through the C ABI (cffi), GIL released"
    placement, engine_kind, engine_name, transport = "in-process", "native", "Rust kernels", "FFI"
    tuning = "tuned"
    #: the built-in and SDK kernels are Rust (an --ffi-library of another language is named in
    #: "libraries")
    article_column: ClassVar[dict[str, Any]] = {"engine_language": "Rust",
                                           "article_label": "Rust via FFI", "article_order": 2}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.library_option: Path | None = (Path(options["library"]) if options.get("library")
                                            else None)
        self._libraries: list[Library] = []
        self._problems: list[str] = []
        #: workload -> (call_into, fn, id, library): everything the cffi path needs, one lookup
        self._routes: dict[str, tuple[Any, Any, int, Library]] = {}
        #: workload -> (_hb_fast.run_into or None, run address, free address, id): the hot
        #: path of ``run``, for the workloads that passed ``check_request``
        self._hot: dict[str, tuple[Any, int, int, int]] = {}
        self._fast: Any = None
        self._local = threading.local()
        self._ffi: Any = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return native.unbuilt_reason("library", "native kernel library")

    # -- lifecycle ---------------------------------------------------------------------------

    def _paths(self) -> list[tuple[str, Path]]:
        if self.library_option is not None:
            return [(str(self.library_option), self.library_option)]
        installed = native.installed()
        self._problems = native.describe_problems(installed, "library")
        return [(k.name, k.library) for k in installed if k.library is not None]

    def start(self) -> None:
        if self.started:
            return
        libraries: list[Library] = []
        routes: dict[str, tuple[Any, Any, int, Library]] = {}
        for package, path in self._paths():
            try:
                library = load_library(path)
            except BackendError as exc:
                if self.library_option is not None:
                    raise
                self._problems.append(f"{package}: {exc}")
                continue
            libraries.append(library)
            for wid, workload in enumerate(library.workloads):
                # built-ins first, then plug-ins by name: the first to declare a name wins
                routes.setdefault(workload, (library.call_into, library.fn, wid, library))
        if not libraries:
            raise BackendError(f"{self.name}: no kernel library could be loaded: "
                               + "; ".join(self._problems))
        self._libraries, self._routes = libraries, routes
        self._ffi = self._cffi()
        self._fast = _fast_run_into()
        self.started = True
        for workload in self._checked & routes.keys():  # checked before a stop()
            self._make_hot(workload)

    def _cffi(self) -> Any:
        try:
            return _api_module().ffi
        except ImportError:
            return _abi_ffi()

    def stop(self) -> None:
        # Libraries stay mapped (unloading a Rust cdylib is not safe while other instances or
        # threads may use it); only this instance's references go.
        self._local = threading.local()
        self._hot = {}
        self.started = False

    # -- discovery ---------------------------------------------------------------------------

    def unsupported_reason(self, workload: str) -> str | None:
        if not self.started:
            try:
                self.start()
            except BackendError as exc:
                return str(exc)
        if workload in self._routes:
            return None
        declared = "; ".join(f"{lib.name} ({lib.path.name}): {', '.join(lib.workloads)}"
                             for lib in self._libraries)
        problems = "".join(f"; {p}" for p in self._problems)
        return (f"{self.name}: no loaded kernel library implements {workload!r} (libraries: "
                f"{declared}{problems})")

    # -- work --------------------------------------------------------------------------------

    def _buffers(self) -> tuple[Any, Any]:
        """This thread's ``(out, small)``: an ``hb_buffer`` and a ``char[SMALL_OUTPUT]``,
        reused across calls (created on the thread's first call)."""
        bufs = (self._ffi.new("hb_buffer *"), self._ffi.new("char[]", SMALL_OUTPUT))
        self._local.bufs = bufs
        return bufs

    def run(self, workload: str, payload: bytes) -> bytes:
        """``Backend.run`` in one frame when it can be: a checked workload, a ``bytes``
        payload within the limit (the checks ``Backend.run`` makes), then one ``_hb_fast``
        call; anything else goes through ``Backend.run``."""
        try:
            fast, run_address, free_address, wid = self._hot[workload]
        except KeyError:  # not checked yet: raising costs ~1 us, so only until it is
            return super().run(workload, payload)
        if type(payload) is not bytes or len(payload) > MAX_PAYLOAD_BYTES:
            return super().run(workload, payload)
        if fast is None:  # no _hb_fast: the cffi path, Backend.run's checks made above
            return self.call(workload, payload)
        result = fast(run_address, free_address, wid, payload)
        if type(result) is bytes:
            return result
        raise self._error(self._routes[workload][3], *result)

    def check_request(self, workload: str, payload: bytes) -> None:
        super().check_request(workload, payload)
        if self.started and workload not in self._hot:  # checked, so in _routes
            self._make_hot(workload)

    def _make_hot(self, workload: str) -> None:
        """Let ``run`` take its one-call path for ``workload``; without ``_hb_fast`` the entry
        (``fast`` None) only spares ``run`` a ``KeyError`` per call."""
        _, _, wid, library = self._routes[workload]
        self._hot[workload] = (self._fast, *library.addresses, wid)

    def call(self, workload: str, payload: bytes) -> bytes:
        if not self.started:
            self.start()
        if self._fast is not None and type(payload) is bytes:
            return self._call_fast(workload, payload)
        try:
            out, small = self._local.bufs
        except AttributeError:
            out, small = self._buffers()
        try:
            call_into, fn, wid, library = self._routes[workload]
        except KeyError:
            raise UnsupportedError(self.unsupported_reason(workload) or workload) from None
        data = payload if type(payload) is bytes else self._ffi.from_buffer(payload)
        code = call_into(fn, wid, data, len(payload), small, SMALL_OUTPUT, out)
        if code == HB_OK:
            n = out.len
            if n <= SMALL_OUTPUT:  # in `small`, nothing to free
                return self._ffi.unpack(small, n)  # type: ignore[no-any-return]
        return self._take(library, code, out)

    def _call_fast(self, workload: str, payload: bytes) -> bytes:
        """``call`` through ``_hb_fast``: one C call, the output as ``bytes``."""
        try:
            _, _, wid, library = self._routes[workload]
        except KeyError:
            raise UnsupportedError(self.unsupported_reason(workload) or workload) from None
        result = self._fast(*library.addresses, wid, payload)
        if type(result) is bytes:
            return result
        raise self._error(library, *result)

    def _take(self, library: Library, code: int, out: Any) -> bytes:
        """The output or error handed over in ``out`` (copied, then freed)."""
        try:
            data = self._ffi.buffer(out.ptr, out.len)[:] if out.len else b""
        finally:
            library.buffer_free(out)
        if code == HB_OK:
            return data  # type: ignore[no-any-return]
        raise self._error(library, code, data)

    def _error(self, library: Library, code: int, data: bytes) -> Exception:
        """The exception of a failed call: status ``code``, the library's message ``data``."""
        message = data.decode("utf-8", "replace")
        if code == HB_INVALID_INPUT:
            return WorkloadError(message)
        if code == HB_UNSUPPORTED:
            return UnsupportedError(f"{self.name}: {library.name}: {message}")
        return BackendError(f"{self.name}: {library.name} ({library.path.name}) failed with code "
                            f"{code}: {message}")

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        self.check_request(workload, payload)
        if not self.started:
            self.start()
        library = self._routes[workload][3]
        library.enable_timing()  # the library reads its clock from now on (breakdown phase)
        out = self.call(workload, payload)
        return out, int(library.last_kernel_ns())

    def run_traced(self, workload: str, payload: bytes, headers: dict[str, str]
                   ) -> tuple[bytes, int | None]:
        """The C call in a span of its own, and the kernel's time as the library reports it
        (``hb_last_kernel_ns``) as a child span. The library reports a duration, not when the
        kernel started; the wall clock is read right before and right after the C call, so the
        kernel lies between the two: its span starts at the call's start and its
        ``hybridbench.start_slack_ns`` says how much later it can have started (the call's
        time less the kernel's: what the library does before the kernel, checks and a table
        lookup in the SDK's, plus what it does after, copying the output)."""
        from opentelemetry import trace

        self.check_request(workload, payload)
        if not self.started:
            self.start()
        library = self._routes[workload][3]
        tracer = trace.get_tracer("hybridbench.ffi")
        with tracer.start_as_current_span("ffi hb_run_into", attributes={
                "hybridbench.library": library.name}):
            library.enable_timing()  # the library reads its clock from now on
            data, entered, left = self._call_clocked(workload, payload)
            kernel_ns = int(library.last_kernel_ns())
            kernel = tracer.start_span("kernel", start_time=entered, attributes={
                "hybridbench.kernel_ns": kernel_ns,
                "hybridbench.start_slack_ns": max(0, left - entered - kernel_ns),
                "hybridbench.placed": "at the start of the C call: the library reports the "
                                      "kernel's duration, not its start, which is at most "
                                      "hybridbench.start_slack_ns later"})
            kernel.end(end_time=entered + kernel_ns)
        return data, kernel_ns

    def _call_clocked(self, workload: str, payload: bytes) -> tuple[bytes, int, int]:
        """``call`` with the wall clock (``time.time_ns``, the spans' clock) read right before
        and right after the C call: ``(output, entered, left)``. Apart from ``call`` so that
        the untraced path reads no clock and makes no extra Python call."""
        try:
            out, small = self._local.bufs
        except AttributeError:
            out, small = self._buffers()
        call_into, fn, wid, library = self._routes[workload]
        data = payload if type(payload) is bytes else self._ffi.from_buffer(payload)
        entered = time.time_ns()
        code = call_into(fn, wid, data, len(payload), small, SMALL_OUTPUT, out)
        left = time.time_ns()
        if code == HB_OK and out.len <= SMALL_OUTPUT:
            return self._ffi.unpack(small, out.len), entered, left
        return self._take(library, code, out), entered, left

    # -- measurement hooks -------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        if not self._libraries:
            return {**super().describe(), "libraries": [str(p) for _, p in self._paths()]}
        return {
            **super().describe(),
            # build flags (e.g. jpeg_simd) of the first library, the one the built-ins are in
            **native.build_flags(self._libraries[0].version),
            "libraries": [{"name": lib.name, "version": lib.version, "path": str(lib.path),
                           "workloads": lib.workloads, "cffi_mode": lib.mode,
                           "call_path": "_hb_fast" if self._fast is not None else "cffi",
                           **native.build_flags(lib.version)}
                          for lib in self._libraries],
            "problems": self._problems,
        }
