"""The checked-in C header matches the Rust library.

* every ``#[no_mangle]`` function of native/ffi/src/lib.rs is declared in the header with the
  same number of parameters, and the status-code and workload-id macros equal the Rust
  constants (and the Python binding's ids);
* a C program compiled against the header alone (``-Wall -Werror``), linked to the built
  library, runs hb_run and hb_run_into through success and error paths and frees every buffer;
* the header loads in cffi (the API-mode extension is built from it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hybridbench.backends.ffi import library_path
from hybridbench.backends.ffi._build import cdef_source

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "native" / "ffi" / "include" / "hybridbench.h"
RUST = ROOT / "native" / "ffi" / "src" / "lib.rs"


def _rust_exports() -> dict[str, int]:
    source = RUST.read_text()
    found = {}
    for match in re.finditer(r"#\[no_mangle\]\s*pub (?:unsafe )?extern \"C\" fn (\w+)\((.*?)\)",
                             source, re.S):
        params = [p for p in match.group(2).split(",") if p.strip()]
        found[match.group(1)] = len(params)
    return found


def _header_functions() -> dict[str, int]:
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    found = {}
    for match in re.finditer(r"(\w+)\s*\(([^()]*)\)\s*;", text):
        params = [p for p in match.group(2).split(",") if p.strip() and p.strip() != "void"]
        found[match.group(1)] = len(params)
    return found


def test_every_export_is_declared_with_its_arity():
    exports = _rust_exports()
    assert {"hb_run", "hb_run_into", "hb_buffer_free", "hb_version",
            "hb_max_payload"} <= exports.keys()
    assert _header_functions() == exports


def test_status_codes_agree():
    rust = dict(re.findall(r"pub const (HB_\w+): i32 = (\d+);", RUST.read_text()))
    header = {k: v for k, v in re.findall(r"#define (HB_\w+) (\d+)", HEADER.read_text())
              if not k.startswith("HB_WORKLOAD_")}
    assert rust == header == {"HB_OK": "0", "HB_INVALID_INPUT": "1", "HB_UNSUPPORTED": "2",
                              "HB_INTERNAL": "3"}


def test_workload_ids_agree():
    from hybridbench.backends.ffi import WORKLOAD_IDS

    rust = dict(re.findall(r"pub const (HB_WORKLOAD_\w+): u32 = (\d+);", RUST.read_text()))
    header = dict(re.findall(r"#define (HB_WORKLOAD_\w+) (\d+)", HEADER.read_text()))
    python = {f"HB_WORKLOAD_{name.upper()}": str(i) for name, i in WORKLOAD_IDS.items()}
    assert rust == header == python
    assert set(WORKLOAD_IDS) == {"echo", "json", "image", "timeseries"}


def test_header_parses_in_cffi():
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(cdef_source(HEADER.read_text()))
    assert ffi.sizeof("hb_buffer") == 3 * ffi.sizeof("size_t")
    assert ffi.offsetof("hb_buffer", "cap") == 2 * ffi.sizeof("size_t")


C_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "hybridbench.h"

static int run(const char *wl, const char *in, size_t n, int want) {
    hb_buffer out, err;
    int32_t code = hb_run(wl, strlen(wl), (const uint8_t *)in, n, &out, &err);
    if (code != want) { printf("%s: code %d\n", wl, code); return 1; }
    if (code == HB_OK && (out.len != n || memcmp(out.ptr, in, n) != 0)) return 1;
    if (code != HB_OK && (err.len == 0 || out.ptr != NULL)) return 1;
    if (code != HB_OK) printf("%.*s\n", (int)err.len, (const char *)err.ptr);
    hb_buffer_free(&out);
    hb_buffer_free(&err);
    hb_buffer_free(&err); /* idempotent */
    return 0;
}

static int run_into(uint32_t wl, const char *in, size_t n, size_t cap, int want) {
    char small[16];
    hb_buffer out;
    int32_t code = hb_run_into(wl, (const uint8_t *)in, n, small, cap, &out);
    if (code != want) { printf("id %u: code %d\n", (unsigned)wl, code); return 1; }
    if (code == HB_OK && out.len != n) return 1;
    if (code == HB_OK && n <= cap && (out.ptr != NULL || memcmp(small, in, n) != 0)) return 1;
    if (code == HB_OK && n > cap && memcmp(out.ptr, in, n) != 0) return 1;
    if (code != HB_OK) printf("%.*s\n", (int)out.len, (const char *)out.ptr);
    hb_buffer_free(&out);
    return 0;
}

int main(void) {
    int bad = 0;
    bad |= run_into(HB_WORKLOAD_ECHO, "hello", 5, sizeof(char[16]), HB_OK);
    bad |= run_into(HB_WORKLOAD_ECHO, "hello, world, hello", 19, 16, HB_OK);
    bad |= run_into(HB_WORKLOAD_JSON, "[", 1, 16, HB_INVALID_INPUT);
    bad |= run_into(42, "", 0, 16, HB_UNSUPPORTED);
    bad |= run("echo", "hello", 5, HB_OK);
    bad |= run("json", "{", 1, HB_INVALID_INPUT);
    bad |= run("nope", "", 0, HB_UNSUPPORTED);
    printf("version %s max %zu\n", hb_version(), hb_max_payload());
    return bad;
}
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
@pytest.mark.skipif(library_path() is None, reason="the Rust library is not built")
def test_c_program_against_the_header_and_library(tmp_path):
    lib = library_path()
    assert lib is not None
    source = tmp_path / "main.c"
    source.write_text(C_PROGRAM)
    exe = tmp_path / "main"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(HEADER.parent),
                    str(source), str(lib), f"-Wl,-rpath,{lib.parent}", "-o", str(exe)],
                   check=True, capture_output=True)
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "json: malformed JSON" in result.stdout
    assert "unknown workload" in result.stdout
    assert "unknown workload id 42" in result.stdout
    assert "version 0.1.0 max 67108864" in result.stdout
