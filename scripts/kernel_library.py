"""One C-ABI kernel library loaded on its own, for the scripts that compare two builds.

``scripts/ab_kernels.py`` (the kernels' own time), ``json_differential.py`` and
``text_differential.py`` (the same bytes out) load an old and a new library side by side:
``RTLD_LOCAL``, so that their identical ``hb_*`` names do not collide. ctypes, not the ffi
backend's cffi binding: that one loads the installed library once per process.
"""

from __future__ import annotations

import ctypes


class Buffer(ctypes.Structure):
    """``hb_buffer`` of sdk/include/hybridbench.h."""

    _fields_ = [("ptr", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t),
                ("cap", ctypes.c_size_t)]


class KernelLibrary:
    def __init__(self, path: str, *, kernel_timing: bool = False) -> None:
        self.path = path
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        self.lib.hb_version.restype = ctypes.c_char_p
        self.lib.hb_last_kernel_ns.restype = ctypes.c_uint64
        if kernel_timing:
            self.lib.hb_set_kernel_timing(1)
        self.version = self.lib.hb_version().decode()

    def call(self, workload: str, payload: bytes) -> tuple[int, bytes]:
        """``hb_run``'s status and its output (status 0) or error message bytes."""
        out, err = Buffer(), Buffer()
        name = workload.encode()
        status = self.lib.hb_run(name, len(name), payload, len(payload), ctypes.byref(out),
                                 ctypes.byref(err))
        buffer = out if status == 0 else err
        data = ctypes.string_at(buffer.ptr, buffer.len) if buffer.len else b""
        self.lib.hb_buffer_free(ctypes.byref(buffer))
        return status, data

    def last_kernel_ns(self) -> int:
        """The kernel's own time of this thread's last call (with ``kernel_timing``)."""
        return int(self.lib.hb_last_kernel_ns())
