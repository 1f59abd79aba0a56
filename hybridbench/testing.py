"""Inputs every backend must reject, for the project's tests and for plug-in authors.

``bad_inputs()`` lists (case id, workload, payload, regex the error message must match). A new
backend passes when ``backend.run(workload, payload)`` raises ``WorkloadError`` with a
matching message for each case, and the process lives on::

    for case, workload, payload, pattern in hybridbench.testing.bad_inputs():
        with pytest.raises(hybridbench.WorkloadError, match=pattern):
            backend.run(workload, payload)
"""

from __future__ import annotations

import functools
import io

import numpy as np

import hybridbench
from hybridbench.workloads import text_rules, timeseries


def _jpeg_with_size(base: bytes, width: int, height: int) -> bytes:
    """Patch the SOF frame header of ``base`` to claim another size (a decompression bomb)."""
    data = bytearray(base)
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 7] = height.to_bytes(2, "big")
            data[i + 7:i + 9] = width.to_bytes(2, "big")
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker")


def _cmyk_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("CMYK", (32, 32), (10, 20, 30, 40)).save(out, "JPEG")
    return out.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def _nan_batch(value: float) -> bytes:
    n = 10
    metrics = np.ones((3, n))
    metrics[1, 7] = value
    return timeseries.encode_batch(np.arange(n, dtype=np.int64) * 1000,
                                   np.arange(n, dtype=np.uint32), np.zeros(n, np.uint16), metrics)


OVERSIZED = b" " * (64 * 1024 * 1024 + 1)


@functools.cache
def bad_inputs() -> list[tuple[str, str, bytes, str]]:
    """(id, workload, payload, regex the error message must match), built once."""
    jpeg = hybridbench.make_input("image", "small")
    good_ts = hybridbench.make_input("timeseries", "10k")
    return [
        ("json-malformed", "json", b'{"orders": [', r"(?i)json|EOF|unexpected|malformed"),
        ("json-invalid-utf8", "json", b'{"orders": [], "x": "\xff\xfe"}', r"(?i)utf-?8"),
        ("json-not-object", "json", b"[1, 2, 3]", r"orders"),
        ("json-orders-not-array", "json", b'{"orders": 5}', r"orders"),
        ("json-qty-string", "json",
         b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
         b'"items": [{"qty": "2", "price": 1.5}], "tags": []}]}', r"qty"),
        ("json-id-float", "json",
         b'{"orders": [{"id": 1.5, "status": "new", "customer": {"tier": "gold"}, '
         b'"items": [], "tags": []}]}', r"id"),
        ("json-price-bool", "json",
         b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
         b'"items": [{"qty": 1, "price": true}], "tags": []}]}', r"price"),
        ("json-nan-literal", "json", b'{"orders": [], "x": NaN}', r"(?i)nan|json|invalid|expected"),
        ("json-number-overflow", "json", b'{"orders": [], "x": [1.5, 2e400]}',
         r"(?i)range|infinity"),
        ("json-lone-surrogate", "json",
         b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
         b'"items": [], "tags": ["\\ud800"]}]}', r"(?i)surrogate|unicode|utf|escape|json"),
        ("json-too-deep", "json", b"[" * 100_000 + b"]" * 100_000,
         r"(?i)deep|recursion|depth|nest"),
        ("json-oversized", "json", OVERSIZED, r"limit"),
        ("image-truncated", "image", jpeg[: len(jpeg) // 2], r"(?i)truncat|corrupt|premature|end"),
        ("image-not-an-image", "image", b"hello, this is not a picture" * 10, r"(?i)jpeg"),
        ("image-png", "image", _png(), r"(?i)jpeg"),
        ("image-cmyk", "image", _cmyk_jpeg(), r"(?i)cmyk|colour|color|component"),
        ("image-bomb", "image", _jpeg_with_size(jpeg, 60000, 60000), r"(?i)limit|large|exceed"),
        ("image-oversized", "image", b"\xff\xd8\xff" + OVERSIZED, r"limit"),
        *_jpeg_cases("thumbnail", jpeg),
        ("ts-short", "timeseries", b"HBTS", r"header"),
        ("ts-bad-magic", "timeseries", b"XXXX" + good_ts[4:], r"magic"),
        ("ts-truncated", "timeseries", good_ts[:-3], r"expected \d+ bytes"),
        ("ts-misaligned", "timeseries", good_ts + b"\0", r"expected \d+ bytes"),
        ("ts-nan", "timeseries", _nan_batch(float("nan")), r"metric 1 of point 7 is NaN"),
        ("ts-inf", "timeseries", _nan_batch(float("inf")), r"metric 1 of point 7 is infinite"),
        ("ts-one-metric", "timeseries",
         timeseries.encode_batch(np.zeros(2, np.int64), np.zeros(2, np.uint32),
                                 np.zeros(2, np.uint16), np.ones((1, 2))), r"metric"),
        ("ts-oversized", "timeseries", OVERSIZED, r"limit"),
        ("echo-oversized", "echo", OVERSIZED, r"limit"),
        *_text_cases(),
    ]


def _jpeg_cases(workload: str, jpeg: bytes) -> list[tuple[str, str, bytes, str]]:
    """The JPEGs ``image`` rejects, which ``workload`` rejects too, with its own name first."""
    return [
        (f"{workload}-truncated", workload, jpeg[: len(jpeg) // 2],
         rf"^{workload}: (?i:.*(truncat|corrupt|premature|end))"),
        (f"{workload}-not-an-image", workload, b"hello, this is not a picture" * 10,
         rf"^{workload}: input is not a JPEG \(no SOI marker FF D8 FF at the start\)"),
        (f"{workload}-png", workload, _png(), rf"^{workload}: input is not a JPEG"),
        (f"{workload}-cmyk", workload, _cmyk_jpeg(),
         rf"^{workload}: unsupported JPEG colour mode (CMYK|YCCK)"),
        (f"{workload}-bomb", workload, _jpeg_with_size(jpeg, 60000, 60000),
         rf"^{workload}: .*(?i:limit|large|exceed)"),  # Pillow's bomb check may come first
        (f"{workload}-oversized", workload, b"\xff\xd8\xff" + OVERSIZED,
         rf"^{workload}: payload of \d+ bytes exceeds the limit"),
    ]


def _text_cases() -> list[tuple[str, str, bytes, str]]:
    good = text_rules.encode_batch([b"one", "deux \u00e9".encode(), b""])
    too_many = good[:8] + (text_rules.MAX_DOCUMENTS + 1).to_bytes(4, "little") + good[12:]
    return [
        ("text-short", "text", b"HBTX", r"shorter than the 12-byte header"),
        ("text-bad-magic", "text", b"XXXX" + good[4:], r"bad magic 58585858"),
        ("text-bad-version", "text", good[:4] + b"\x02" + good[5:], r"unsupported version 2"),
        ("text-too-many-documents", "text", too_many, r"65537 documents exceed the limit"),
        ("text-truncated", "text", good[:-1], r"expected \d+ bytes for 3 documents"),
        ("text-invalid-utf8", "text", text_rules.encode_batch([b"ok", b"fine \xc3(", b"\xff"]),
         r"document 1 is not valid UTF-8 at byte 5"),
        ("text-lone-surrogate", "text", text_rules.encode_batch([b"a \xed\xa0\x80"]),
         r"document 0 is not valid UTF-8 at byte 2"),
        ("text-oversized", "text", OVERSIZED, r"limit"),
    ]


def bad_input_params() -> list:
    """The cases of ``bad_inputs`` as ``pytest.param``s, for ``@pytest.mark.parametrize``."""
    import pytest

    return [pytest.param(w, p, rx, id=i) for i, w, p, rx in bad_inputs()]


def size_params() -> list:
    """Every (workload, size) as ``pytest.param``s, the largest size of each marked ``slow``.

    For a backend's "verifies on every workload and size" test.
    """
    import pytest

    from hybridbench.registry import workloads

    params = []
    for name, workload in workloads().items():
        sizes = workload.size_names()
        largest = sizes[-1] if name != "echo" else None  # echo's 8 MB is quick everywhere
        for size in sizes:
            marks = [pytest.mark.slow] if size == largest else []
            params.append(pytest.param(name, size, id=f"{name}-{size}", marks=marks))
    return params
