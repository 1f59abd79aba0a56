"""The ``ffi`` backend against the real Rust library (no mocks).

Skipped as a whole, with the backend's own reason, when the library is not built.
"""

from __future__ import annotations

import gc
import math
import shutil
import struct
import threading

import numpy as np
import pytest

import hybridbench
from hybridbench.backends.ffi import FfiBackend
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError
from hybridbench.limits import MAX_PAYLOAD_BYTES
from hybridbench.testing import size_params
from hybridbench.workloads import timeseries

pytestmark = pytest.mark.skipif(FfiBackend.unavailable_reason() is not None,
                                reason=str(FfiBackend.unavailable_reason()))

CASES = size_params()


@pytest.fixture(scope="module")
def backend():
    with hybridbench.open_backend("ffi") as b:
        yield b


@pytest.mark.parametrize(("workload", "size"), CASES)
def test_every_workload_and_size_verifies(backend, workload, size):
    if backend.unsupported_reason(workload):  # a library built before the workload existed
        pytest.skip(backend.unsupported_reason(workload))
    payload = hybridbench.make_input(workload, size, seed=0)
    hybridbench.verify(workload, payload, backend.run(workload, payload))


def test_describe_and_mode(backend):
    builtin = backend.describe()["libraries"][0]
    assert builtin["name"] == "hybridbench-kernels"
    assert builtin["version"].partition("+")[0] == "0.1.0"  # + build metadata
    assert builtin["cffi_mode"] == "api"
    assert builtin["call_path"] == "_hb_fast"  # the CPython extension is built with the rest
    assert "libhybridbench_ffi" in builtin["path"]


def test_the_build_says_whether_libjpeg_turbo_has_simd(backend):
    info = backend.describe()
    assert isinstance(info.get("jpeg_simd"), bool), (
        f"library version {info['libraries'][0]['version']!r} does not say whether "
        "libjpeg-turbo was built with SIMD (native/kernels/build.rs records it)")
    assert info["libraries"][0]["jpeg_simd"] is info["jpeg_simd"]


@pytest.mark.skipif(shutil.which("nasm") is None, reason="nasm is not installed: libjpeg-turbo "
                    "builds without its x86 SIMD code")
def test_libjpeg_turbo_has_simd_where_nasm_is_installed(backend):
    # catches a target directory whose libjpeg-turbo was built before nasm was installed
    assert backend.describe().get("jpeg_simd") is True, (
        "libjpeg-turbo was built without SIMD: `cargo clean -p turbojpeg-sys --release` in "
        "native/ and rebuild")


def test_the_library_declares_its_workloads(backend):
    declared = backend.describe()["libraries"][0]["workloads"]
    assert declared and len(set(declared)) == len(declared)
    for workload in declared:  # each is registered in Python too, and runs
        smallest = hybridbench.registry.get_workload(workload).size_names()[0]
        payload = hybridbench.make_input(workload, smallest)
        hybridbench.verify(workload, payload, backend.run(workload, payload))


def test_kernel_time_is_measured_inside_the_library(backend):
    payload = hybridbench.make_input("timeseries", "10k")
    out, kernel_ns = backend.run_timed("timeseries", payload)
    hybridbench.verify("timeseries", payload, out)
    assert kernel_ns is not None and 10_000 < kernel_ns < 10**9
    _, echo_ns = backend.run_timed("echo", b"x" * 64)
    assert echo_ns is not None and echo_ns < kernel_ns


def test_a_given_library_path_is_the_only_one_loaded():
    path = FfiBackend().describe()["libraries"][0]
    with hybridbench.open_backend("ffi", library=path) as b:
        assert [lib["path"] for lib in b.describe()["libraries"]] == [path]
        assert b.run("echo", b"abc") == b"abc"


def test_a_library_that_is_not_a_kernel_library_is_refused(tmp_path):
    import ctypes.util

    libm = ctypes.util.find_library("m")
    assert libm
    with pytest.raises(BackendError, match="does not export hb_abi_version"):
        hybridbench.open_backend("ffi", library=libm).start()
    with pytest.raises(BackendError, match="cannot load"):
        hybridbench.open_backend("ffi", library=tmp_path / "missing.so").start()


def _order(**over):
    order = {"id": 1, "status": "paid", "customer": {"tier": "gold"},
             "items": [{"qty": 1, "price": 2.0}], "tags": []}
    order.update(over)
    return order


def _json(doc) -> bytes:
    import json

    return json.dumps(doc).encode()


def _batch(n=4, m=2, metrics=None) -> bytes:
    ts = np.arange(n, dtype=np.int64) * 1000
    values = np.ones((m, n)) if metrics is None else metrics
    return timeseries.encode_batch(ts, np.zeros(n, np.uint32), np.zeros(n, np.uint16), values)


def _jpeg() -> bytes:
    return hybridbench.make_input("image", "small", seed=0)


BAD = [
    ("json", b'{"orders": [', "json: malformed JSON"),
    ("json", b'{"orders": [], "x": "\xff\xfe"}', "not valid UTF-8"),
    ("json", b'{"orders": [], "x": NaN}', "json: malformed JSON"),
    ("json", b'{"orders": [], "x": "\\ud800"}', "lone UTF-16 surrogate"),
    ("json", b'[1, 2]', "'orders' array"),
    ("json", _json({"orders": [_order(), _order(items=[{"qty": "2", "price": 1.0}])]}),
     "orders[1].items[0].qty: expected a number"),
    ("json", _json({"orders": [_order(id=True)]}), "orders[0].id: expected an integer"),
    *[("json", _json({"orders": [_order(id=big)]}), "orders[0].id: integer out of the 64-bit range")
      for big in (2**64, -(2**63) - 1, 10**30)],
    ("json", _json({"orders": [_order(status="cancelled", items=[{"qty": 1, "price": None}])]}),
     "orders[0].items[0].price: expected a number"),
    ("json", b'{"orders": [], "x": "a\\u0001\x01"}', "json: malformed JSON"),
    ("json", b'{"orders": [], "x": 01}', "json: malformed JSON"),
    ("json", b'{"orders": []} x', "json: malformed JSON"),
    ("json", rb'{"orders": [], "x": "\udc00"}', "lone UTF-16 surrogate"),
    ("json", _json({"orders": [_order(tags=["A", 3])]}), "orders[0].tags[1]: expected a string"),
    # finite numbers whose product or sum leaves the double range: JSON cannot write the result
    ("json", _json({"orders": [_order(), _order(items=[{"qty": 19, "price": 9.7e306}])]}),
     "orders[1].total: a number is out of range (overflows a double)"),
    ("json", _json({"orders": [_order(items=[{"qty": 1, "price": 1.5e308}])] * 2}),
     "summary.revenue: a number is out of range (overflows a double)"),
    ("image", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a JPEG"),
    ("image", b"hello, world", "not a JPEG"),
    ("image", b"", "not a JPEG"),
    ("image", _jpeg()[:-500], "truncated"),
    ("image", _jpeg()[:200], "image:"),
    # the same JPEGs, the same messages under thumbnail's name
    ("thumbnail", b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
     "thumbnail: input is not a JPEG (no SOI marker FF D8 FF at the start)"),
    ("thumbnail", b"", "thumbnail: input is not a JPEG"),
    ("thumbnail", _jpeg()[:-500], "thumbnail: corrupt or truncated JPEG"),
    ("thumbnail", _jpeg()[:200], "thumbnail:"),
    ("timeseries", b"HBTS", "shorter than the 16-byte header"),
    ("timeseries", _batch()[:-8], "truncated or misaligned"),
    ("timeseries", _batch() + b"\0", "truncated or misaligned"),
    ("timeseries", b"XXXX" + _batch()[4:], "bad magic"),
    ("timeseries", _batch(metrics=np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, math.nan, 1.0]])),
     "metric 1 of point 2 is NaN"),
    ("timeseries", _batch(metrics=np.array([[1.0, math.inf, 3.0, 4.0], [1.0] * 4])),
     "metric 0 of point 1 is infinite"),
]


@pytest.mark.parametrize(("workload", "payload", "message"), BAD,
                         ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(BAD)])
def test_bad_input_raises_workload_error_with_the_kernel_message(backend, workload, payload,
                                                                message):
    if backend.unsupported_reason(workload):  # a library built before the workload existed
        pytest.skip(backend.unsupported_reason(workload))
    with pytest.raises(WorkloadError) as info:
        backend.call(workload, payload)  # straight to Rust, past the harness's own checks
    assert message in str(info.value)
    # and the process lives on
    assert backend.run("echo", b"still here") == b"still here"


TRICKY_JSON = [
    # pretty-printed, escapes in keys and values, duplicates (last wins), existing total /
    # item_count / summary keys, unknown nested values, integer qty, huge integers passed through
    rb"""{ "summary" : 1, "meta": { "a" : [ 1 , 2 ,{"b" : "x y"} ] , "a": null },
      "orders" : [ 1 ],
      "orders" : [
        { "id" : 3, "status" : "paid", "total": "old", "item_count": -1,
          "customer" : { "tier" : "g\u006fld", "tier": "silver", "n": "\u00c9" },
          "items" : [ { "qty" : 2, "price" : 1.25, "qty": 3 } ],
          "tags" : [ "\u00c9COLE", "A\"B", "x\ny", "\ud83d\ude00" ],
          "big" : 123456789012345678901234567890, "f": 1E+2, "neg": -0.0 },
        { "id" : 1, "id": 2, "status": "cancel\u006ced", "customer": {"tier": "x"},
          "items": [], "tags": [] },
        { "\u0069d" : 5, "status" : "new", "customer": {"tier": "silver"},
          "items": [ {"qty": 1.5, "price": 2} ], "tags": ["Z"] , "tags": ["Q"]}
      ] }""",
    _json({"orders": [], "x": "\u2028\t\x01\"\\", "deep": [[[[[[[[[[1]]]]]]]]]]}),
    _json({"orders": [_order(id=i, items=[{"qty": 1, "price": 1.0}]) for i in (5, 2, 9)]}),
    '{"orders":[{"id":-9223372036854775808,"status":"ok","customer":{"tier":"ÅÉ"},'
    '"items":[{"qty":1e-3,"price":3}],"tags":["ΣΑΣ","İ"]}]}'.encode(),
]


@pytest.mark.parametrize("payload", TRICKY_JSON, ids=range(len(TRICKY_JSON)))
def test_tricky_json_matches_the_reference(backend, payload):
    out = backend.run("json", payload)
    hybridbench.verify("json", payload, out)
    assert b" " not in out.replace(b"x y", b"")  # compact (the only space is in a string)


def test_jpeg_with_long_trailing_junk_is_accepted(backend):
    good = _jpeg()
    junk = good + bytes(range(256)) * 64 + b"\xff\xd8junk" * 100  # > 4 KiB after EOI
    assert backend.run("image", junk) == backend.run("image", good)
    with pytest.raises(WorkloadError, match="image:"):
        backend.run("image", good[: len(good) // 2])
    with pytest.raises(WorkloadError, match="truncated"):
        backend.run("image", good[: len(good) // 2] + bytes(8192))


def test_outputs_around_the_small_buffer_size(backend):
    from hybridbench.backends.ffi import SMALL_OUTPUT

    for n in (0, 1, SMALL_OUTPUT - 1, SMALL_OUTPUT, SMALL_OUTPUT + 1, 3 * SMALL_OUTPUT):
        payload = bytes(i % 251 for i in range(n))
        assert backend.run("echo", payload) == payload


def test_small_outputs_from_two_threads_do_not_mix(backend):
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(byte: int) -> None:
        payload = bytes([byte]) * 64
        try:
            barrier.wait()
            for _ in range(20_000):
                if backend.run("echo", payload) != payload:
                    raise AssertionError("another thread's output")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(b,)) for b in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_rust_rejects_oversized_payloads_itself(backend):
    big = bytes(MAX_PAYLOAD_BYTES + 1)
    for workload in backend.describe()["libraries"][0]["workloads"]:
        with pytest.raises(WorkloadError, match="exceeds the limit"):
            backend.call(workload, big)  # call(), not run(): the Rust check, not the harness's
    with pytest.raises(WorkloadError, match="exceeds the limit"):
        backend.run("echo", big)


def test_unknown_workload(backend):
    with pytest.raises(WorkloadError, match="unknown workload"):
        backend.run("nope", b"")
    with pytest.raises(UnsupportedError, match="no loaded kernel library implements 'nope'"):
        backend.call("nope", b"")
    assert issubclass(UnsupportedError, BackendError)


def test_empty_and_non_bytes_inputs(backend):
    assert backend.run("echo", b"") == b""
    assert backend.call("echo", bytearray(b"abc")) == b"abc"
    assert backend.call("echo", memoryview(b"xyz")) == b"xyz"


def test_bad_calls_do_not_leak(backend):
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    bad_json = b'{"orders": [' + b'{"id": 1},' * 2000 + b"]}"  # long input, message per call
    bad_ts = _batch(n=1000)[:-8]
    good = hybridbench.make_input("json", "64KB")
    echo = bytes(256 * 1024)

    def burst(rounds: int) -> None:
        for _ in range(rounds):
            for workload, payload in (("json", bad_json), ("timeseries", bad_ts),
                                      ("image", b"\xff\xd8\xff"), ("nope", b"x")):
                with pytest.raises((WorkloadError, BackendError)):
                    backend.call(workload, payload)
            assert len(backend.call("echo", echo)) == len(echo)
            backend.call("json", good)

    burst(200)  # warm-up: allocator pools, caches
    gc.collect()
    before = process.memory_info().rss
    burst(2000)
    gc.collect()
    grown = process.memory_info().rss - before
    # 2,000 rounds leaking even only the echo output would be 500 MiB; allow 32 MiB of noise
    assert grown < 32 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"


def test_two_threads_at_once_get_their_own_answers(backend):
    inputs = {
        "json": hybridbench.make_input("json", "64KB"),
        "timeseries": hybridbench.make_input("timeseries", "10k"),
        "echo": hybridbench.make_input("echo", "64KB"),
    }
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(order: list[str]) -> None:
        try:
            barrier.wait()
            for _ in range(30):
                for workload in order:
                    out = backend.run(workload, inputs[workload])
                    hybridbench.verify(workload, inputs[workload], out)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(o,)) for o in
               (["json", "timeseries", "echo"], ["echo", "json", "timeseries"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_timeseries_bytes_match_the_reference_layout(backend):
    payload = hybridbench.make_input("timeseries", "10k")
    out = backend.run("timeseries", payload)
    magic, version, _, g, h = struct.unpack_from("<4sHHII", out)
    assert (magic, version) == (b"HBTA", 1)
    assert len(out) == 16 + 48 * g + 16 * h


def test_start_stop_are_idempotent():
    b = FfiBackend()
    b.start()
    b.start()
    assert b.run("echo", b"a") == b"a"
    b.stop()
    b.stop()


def test_abi_mode_fallback_computes_the_same(monkeypatch):
    """Without the API-mode extension the same header is bound in ABI mode, and works."""
    import hybridbench.backends.ffi as ffi_backend

    def missing():
        raise ImportError("simulated: extension not built")

    monkeypatch.setattr(ffi_backend, "_api_module", missing)
    with hybridbench.open_backend("ffi") as b:
        assert b.describe()["libraries"][0]["cffi_mode"].startswith("abi")
        payload = hybridbench.make_input("json", "64KB")
        hybridbench.verify("json", payload, b.run("json", payload))
        assert b.run("echo", b"x" * 100_000) == b"x" * 100_000  # the handed-over buffer path
        with pytest.raises(WorkloadError):
            b.run("json", b"{")
        assert b.run_timed("echo", b"abc")[1] is not None


def _same_answers_and_errors(b: FfiBackend) -> None:
    """What both call paths must do alike: outputs (in the small buffer and handed over),
    each status code's exception with the kernel's message, the timed call."""
    payload = hybridbench.make_input("timeseries", "10k")
    hybridbench.verify("timeseries", payload, b.run("timeseries", payload))
    for n in (0, 64, 64 * 1024, 64 * 1024 + 1):
        assert b.run("echo", b"e" * n) == b"e" * n
        assert b.call("echo", b"c" * n) == b"c" * n
    for call in (b.run, b.call):
        with pytest.raises(WorkloadError, match=r"^json: malformed JSON"):
            call("json", b"{")
        with pytest.raises(WorkloadError, match="exceeds the limit"):
            call("echo", bytes(MAX_PAYLOAD_BYTES + 1))
    with pytest.raises(UnsupportedError, match="no loaded kernel library implements 'nope'"):
        b.call("nope", b"")
    out, kernel_ns = b.run_timed("echo", b"abc")
    assert out == b"abc" and kernel_ns is not None


def test_the_cffi_and_fast_call_paths_agree(monkeypatch):
    import hybridbench.backends.ffi as ffi_backend

    with hybridbench.open_backend("ffi") as fast:
        assert fast.describe()["libraries"][0]["call_path"] == "_hb_fast"
        _same_answers_and_errors(fast)
    monkeypatch.setattr(ffi_backend, "_fast_run_into", lambda: None)  # as if not built
    with hybridbench.open_backend("ffi") as cffi_only:
        assert cffi_only.describe()["libraries"][0]["call_path"] == "cffi"
        _same_answers_and_errors(cffi_only)
        # a checked workload has an entry, so that run() raises no KeyError per call
        assert cffi_only._hot["echo"][0] is None


def test_the_fast_extension_checks_its_arguments():
    from hybridbench.backends.ffi import _fast_module

    fast = _fast_module()
    with hybridbench.open_backend("ffi") as b:
        library = b._libraries[0]
        run_address, free_address = library.addresses
        echo = library.workloads.index("echo")
        assert fast.run_into(run_address, free_address, echo, b"ok") == b"ok"
        with pytest.raises(TypeError, match="must be bytes"):
            fast.run_into(run_address, free_address, echo, bytearray(b"no"))
        with pytest.raises(TypeError):
            fast.run_into(run_address, free_address, echo)
        with pytest.raises(ValueError, match="null function address"):
            fast.run_into(0, free_address, echo, b"")
        with pytest.raises(OverflowError):
            fast.run_into(run_address, free_address, 2**40, b"")
        # an id out of range: the library's HB_UNSUPPORTED and its message, as a tuple
        code, message = fast.run_into(run_address, free_address, 999, b"")
        assert code == 2 and b"999" in message


def test_the_hot_path_survives_a_restart():
    b = FfiBackend()
    assert b.run("echo", b"a") == b"a"
    assert "echo" in b._hot
    b.stop()
    assert not b._hot
    assert b.run("echo", b"b") == b"b"  # checked before the stop: hot again after the start
    assert "echo" in b._hot


def test_a_plugin_whose_rust_part_failed_to_build_is_named_with_the_cause(monkeypatch):
    from hybridbench import native

    builtin = native.installed()[0]
    broken = native.NativeKernels("wordfreq", None, None,
                                  "the Rust part of wordfreq is not built (cargo not found)")
    monkeypatch.setattr(native, "installed", lambda: (builtin, broken))
    with hybridbench.open_backend("ffi") as b:
        reason = b.unsupported_reason("wordfreq")
        assert reason and "wordfreq: the Rust part of wordfreq is not built" in reason
        assert "cargo not found" in reason
        assert b.unsupported_reason("json") is None  # the built-ins still run
    from hybridbench.backends.grpc import GrpcBackend

    grpc_reason = GrpcBackend().unsupported_reason("wordfreq")
    assert grpc_reason and "cargo not found" in grpc_reason
