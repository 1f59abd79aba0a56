"""cffi build script of the API-mode (out-of-line) extension ``hybridbench.backends.ffi._hb_cffi``.

Used by ``setup.py`` (``cffi_modules``) and importable by hand. The extension is compiled from
the checked-in C header alone and is deliberately *not* linked against the Rust library: its
``hb_*`` symbols stay undefined until ``FfiBackend.start()`` dlopens ``libhybridbench_ffi`` with
``RTLD_GLOBAL`` and then imports the extension, whose symbols resolve against it. That keeps the
two builds independent (setuptools builds C extensions before setuptools-rust builds the
cdylib), keeps the dlopen inside ``start()`` where cold start is measured, and still gives API
mode's direct C calls.
"""

from __future__ import annotations

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
INCLUDE_DIR = HERE.parent.parent / "native" / "sdk" / "include"
HEADER = INCLUDE_DIR / "hybridbench.h"
MODULE = "hybridbench.backends.ffi._hb_cffi"


def cdef_source(header: str) -> str:
    """The header without its preprocessor guard and includes, for ``FFI.cdef``."""
    lines = []
    for line in header.splitlines():
        stripped = line.strip()
        if stripped.startswith(("#include", "#ifndef", "#endif")) or stripped.endswith("_H"):
            continue
        lines.append(line)
    return "\n".join(lines)


def make_ffi(header_path: Path = HEADER) -> FFI:
    ffi = FFI()
    ffi.cdef(cdef_source(header_path.read_text()))
    return ffi


ffibuilder = make_ffi()
ffibuilder.set_source(MODULE, '#include "hybridbench.h"', include_dirs=[str(INCLUDE_DIR)])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
