"""cffi build script of the API-mode (out-of-line) extension ``hybridbench.backends.ffi._hb_cffi``.

Used by ``setup.py`` (``cffi_modules``) and importable by hand. Several kernel libraries can be
loaded side by side (the built-ins and every plug-in), and they all export the same ``hb_*``
names, so the extension cannot link against any one of them. Instead it holds tiny C
trampolines that call a function *pointer*: ``FfiBackend`` dlopens each library privately
(``RTLD_LOCAL``), takes the address of its ``hb_run_into`` etc., and passes it to the
trampoline. A call then costs an API-mode C call plus one indirect jump (ABI mode, through
libffi, costs about twice as much), and the extension has no undefined symbols, so it loads
whatever is installed. Without the extension the backend falls back to ABI mode on the same
header (``make_abi_ffi``).
"""

from __future__ import annotations

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
INCLUDE_DIR = HERE.parent.parent / "native" / "sdk" / "include"
HEADER = INCLUDE_DIR / "hybridbench.h"
MODULE = "hybridbench.backends.ffi._hb_cffi"

#: the trampolines: (declaration for cdef, definition for the C source)
_TRAMPOLINES = """
int32_t hb_call_run_into(void *fn, uint32_t workload, const uint8_t *input, size_t len,
                         char *dst, size_t dst_cap, hb_buffer *out);
void hb_call_buffer_free(void *fn, hb_buffer *buf);
uint64_t hb_call_last_kernel_ns(void *fn);
"""
_TRAMPOLINE_SOURCE = """
#include "hybridbench.h"
typedef int32_t (*hb_run_into_fn)(uint32_t, const uint8_t *, size_t, char *, size_t,
                                  hb_buffer *);
typedef void (*hb_buffer_free_fn)(hb_buffer *);
typedef uint64_t (*hb_last_kernel_ns_fn)(void);

static int32_t hb_call_run_into(void *fn, uint32_t workload, const uint8_t *input, size_t len,
                                char *dst, size_t dst_cap, hb_buffer *out) {
    return ((hb_run_into_fn)fn)(workload, input, len, dst, dst_cap, out);
}
static void hb_call_buffer_free(void *fn, hb_buffer *buf) { ((hb_buffer_free_fn)fn)(buf); }
static uint64_t hb_call_last_kernel_ns(void *fn) { return ((hb_last_kernel_ns_fn)fn)(); }
"""
_BUFFER = "typedef struct hb_buffer { uint8_t *ptr; size_t len; size_t cap; } hb_buffer;"


def cdef_source(header: str) -> str:
    """The header without its preprocessor guard and includes, for ``FFI.cdef``."""
    lines = []
    for line in header.splitlines():
        stripped = line.strip()
        if stripped.startswith(("#include", "#ifndef", "#endif")) or stripped.endswith("_H"):
            continue
        lines.append(line)
    return "\n".join(lines)


def make_abi_ffi(header_path: Path = HEADER) -> FFI:
    """ABI mode: the whole header, for ``ffi.dlopen`` of one library."""
    ffi = FFI()
    ffi.cdef(cdef_source(header_path.read_text()))
    return ffi


def make_api_builder() -> FFI:
    builder = FFI()
    builder.cdef(_BUFFER + _TRAMPOLINES)
    builder.set_source(MODULE, _TRAMPOLINE_SOURCE, include_dirs=[str(INCLUDE_DIR)])
    return builder


ffibuilder = make_api_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
