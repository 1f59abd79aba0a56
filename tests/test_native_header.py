"""The checked-in C header (native/sdk/include/hybridbench.h) matches the Rust library.

* every export that ``hybridbench_sdk::kernels!`` expands (native/sdk/src/macros.rs) is declared
  in the header with the same number of parameters, and the status-code and ABI-version macros
  equal the Rust constants (native/sdk/src/abi/mod.rs);
* a C program compiled against the header alone (``-Wall -Werror``), linked to the built
  library, lists the workloads, runs hb_run and hb_run_into through success and error paths,
  switches kernel timing on and off, and frees every buffer;
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
SDK = ROOT / "native" / "sdk"
HEADER = SDK / "include" / "hybridbench.h"
EXPORTS = SDK / "src" / "macros.rs"
ABI = SDK / "src" / "abi" / "mod.rs"


def _rust_exports() -> dict[str, int]:
    source = EXPORTS.read_text()
    found = {}
    pattern = (r"#\[(?:unsafe\()?no_mangle\)?\]\s*pub (?:unsafe )?extern \"C\" fn (\w+)"
               r"\((.*?)\)")
    for match in re.finditer(pattern, source, re.S):
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
    assert {"hb_abi_version", "hb_version", "hb_library_name", "hb_max_payload",
            "hb_workloads", "hb_run", "hb_run_into", "hb_set_kernel_timing",
            "hb_last_kernel_ns", "hb_buffer_free"} == exports.keys()
    assert _header_functions() == exports


def test_status_codes_and_abi_version_agree():
    rust = dict(re.findall(r"pub const (HB_\w+): [iu]32 = (\d+);", ABI.read_text()))
    header = dict(re.findall(r"#define (HB_\w+) (\d+)", HEADER.read_text()))
    assert rust == header == {"HB_OK": "0", "HB_INVALID_INPUT": "1", "HB_UNSUPPORTED": "2",
                              "HB_INTERNAL": "3", "HB_ABI_VERSION": "2"}


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

/* The id of `name`: its 0-based position in hb_workloads(); -1 if absent. */
static long workload_id(const char *name) {
    const char *p = hb_workloads();
    size_t n = strlen(name);
    for (long id = 0;; id++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return id;
        if (!end) return -1;
        p = end + 1;
    }
}

int main(void) {
    int bad = 0;
    if (hb_abi_version() != HB_ABI_VERSION) { printf("abi %u\n", hb_abi_version()); return 1; }
    long echo = workload_id("echo"), json = workload_id("json");
    if (echo < 0 || json < 0 || workload_id("nope") != -1) return 1;
    printf("workloads %s\n", hb_workloads());
    if (hb_last_kernel_ns() != 0) return 1;
    bad |= run_into((uint32_t)echo, "hello", 5, sizeof(char[16]), HB_OK);
    if (hb_last_kernel_ns() != 0) { printf("timed while off\n"); return 1; }
    hb_set_kernel_timing(1);
    bad |= run_into((uint32_t)echo, "hello, world, hello", 19, 16, HB_OK);
    bad |= run_into((uint32_t)json, "[", 1, 16, HB_INVALID_INPUT);
    if (hb_last_kernel_ns() == 0) { printf("not timed while on\n"); return 1; }
    hb_set_kernel_timing(0);
    bad |= run_into(42, "", 0, 16, HB_UNSUPPORTED);
    bad |= run("echo", "hello", 5, HB_OK);
    bad |= run("json", "{", 1, HB_INVALID_INPUT);
    bad |= run("nope", "", 0, HB_UNSUPPORTED);
    printf("%s version %s max %zu\n", hb_library_name(), hb_version(), hb_max_payload());
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
    assert "workloads json\nimage\nthumbnail\ntimeseries\necho\ntext\n" in result.stdout
    assert "json: malformed JSON" in result.stdout
    assert 'unknown workload "nope"' in result.stdout
    assert "unknown workload id 42; known: 0 (json), 1 (image)" in result.stdout
    # the version may carry build metadata (native/sdk/src/version.rs): 0.1.0+jpeg-simd
    assert re.search(r"hybridbench-kernels version 0\.1\.0(\+[0-9A-Za-z.-]+)? max 67108864\n",
                     result.stdout), result.stdout
