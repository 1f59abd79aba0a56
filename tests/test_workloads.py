"""The workloads: deterministic inputs, sizes as named, verifiers that catch subtle mistakes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import hybridbench
from hybridbench import VerificationError, WorkloadError
from hybridbench.workloads import image, thumbnail, timeseries

ALL_SIZES = [(name, size) for name, wl in hybridbench.registry.workloads().items()
             for size in wl.size_names()]
NOMINAL_BYTES = {"1KB": 1024, "64KB": 65536, "1MB": 1024**2, "8MB": 8 * 1024**2,
                 "64B": 64, "5MB": 5 * 1024**2}


#: sizes whose generation takes seconds (a 5 MB image, 8 MB of json: 4-8 s for the three
#: payloads of the test below): in `make test`, not in the edit-test loop
HEAVY_SIZES = {"5MB", "8MB"}


@pytest.mark.parametrize(("workload", "size"), [
    pytest.param(w, s, marks=pytest.mark.slow) if s in HEAVY_SIZES and w != "echo" else (w, s)
    for w, s in ALL_SIZES])
def test_generator_is_deterministic_and_seeded(workload: str, size: str) -> None:
    wl = hybridbench.get_workload(workload)
    first = wl.generate(size, 0)
    assert wl.generate(size, 0) == first  # uncached: really recomputed
    assert wl.generate(size, 1) != first


@pytest.mark.parametrize(("workload", "size"), [(w, s) for w, s in ALL_SIZES
                                                if s in NOMINAL_BYTES and w != "echo"])
def test_named_sizes_are_within_15_percent(workload: str, size: str) -> None:
    got = len(hybridbench.make_input(workload, size))
    assert abs(got - NOMINAL_BYTES[size]) <= 0.15 * NOMINAL_BYTES[size], got


@pytest.mark.parametrize("size", ["64B", "1KB", "64KB", "1MB", "8MB"])
def test_echo_sizes_are_exact(size: str) -> None:
    assert len(hybridbench.make_input("echo", size)) == NOMINAL_BYTES.get(size, 1024)


def test_unknown_size_lists_the_known_ones() -> None:
    with pytest.raises(WorkloadError, match=r"no size '2MB'.*1KB, 64KB, 1MB, 8MB"):
        hybridbench.make_input("json", "2MB")


def test_unknown_workload_is_named() -> None:
    with pytest.raises(WorkloadError, match=r"unknown workload 'xml'.*json"):
        hybridbench.make_input("xml", "1KB")


def test_generated_image_is_photo_like_not_flat() -> None:
    pixels = image.decode_rgb(hybridbench.make_input("image", "medium"), "input")
    assert pixels.shape == (1080, 1920, 3)
    assert pixels.std() > 20  # broad tonal range
    # detail at every scale: neighbouring pixels differ, but far less than random noise would
    local = np.abs(np.diff(pixels.astype(int), axis=1)).mean()
    assert 1.0 < local < 20.0


# -- verifiers reject subtly wrong answers -------------------------------------------------------


def _reference(workload: str, size: str) -> tuple[bytes, bytes]:
    payload = hybridbench.make_input(workload, size)
    return payload, hybridbench.expected_output(workload, payload)


def test_json_verifier_rejects_one_changed_total() -> None:
    payload, expected = _reference("json", "64KB")
    doc = json.loads(expected)
    doc["orders"][5]["total"] += 0.01
    with pytest.raises(VerificationError, match=r"orders\[5\]\.total"):
        hybridbench.verify("json", payload, json.dumps(doc).encode())


def test_json_verifier_rejects_swapped_tie_order() -> None:
    payload, expected = _reference("json", "64KB")
    doc = json.loads(expected)
    totals = [o["total"] for o in doc["orders"]]
    tie = next(i for i in range(len(totals) - 1) if totals[i] == totals[i + 1])
    doc["orders"][tie], doc["orders"][tie + 1] = doc["orders"][tie + 1], doc["orders"][tie]
    with pytest.raises(VerificationError, match=r"\.id"):
        hybridbench.verify("json", payload, json.dumps(doc).encode())


def test_json_verifier_accepts_other_key_order_and_float_noise() -> None:
    payload, expected = _reference("json", "1KB")
    doc = json.loads(expected)
    doc["summary"]["revenue"] *= 1 + 1e-12
    reordered = json.dumps(dict(reversed(list(doc.items()))), indent=1).encode()
    hybridbench.verify("json", payload, reordered)


def test_json_reference_semantics_on_a_hand_made_document() -> None:
    doc = {"orders": [
        {"id": 2, "status": "paid", "customer": {"tier": "gold"},
         "items": [{"qty": 2, "price": 1.5}, {"qty": 1, "price": 7}], "tags": ["ÉCOLE", "Gift"]},
        {"id": 1, "status": "new", "customer": {"tier": "silver"},
         "items": [{"qty": 5, "price": 2.0}], "tags": []},
        {"id": 3, "status": "cancelled", "customer": {"tier": "gold"},
         "items": [{"qty": 100, "price": 100.0}], "tags": []}],
        "meta": {"kept": True}}
    out = json.loads(hybridbench.expected_output("json", json.dumps(doc).encode()))
    assert [o["id"] for o in out["orders"]] == [1, 2]  # tie at 10.0, by id
    assert out["orders"][1]["total"] == 10.0 and out["orders"][1]["item_count"] == 2
    assert out["orders"][1]["tags"] == ["école", "gift"]
    assert out["summary"] == {"count": 2, "revenue": 20.0,
                              "revenue_by_tier": {"silver": 10.0, "gold": 10.0}}
    assert out["meta"] == {"kept": True}


def test_image_verifier_rejects_one_darkened_block() -> None:
    from PIL import Image

    payload, expected = _reference("image", "small")
    pixels = image.decode_rgb(expected, "reference").copy()
    # a 32x32 patch at half brightness: globally still above 30 dB, locally far below 20
    pixels[200:232, 300:332] = pixels[200:232, 300:332] // 2
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    with pytest.raises(VerificationError, match="block"):
        hybridbench.verify("image", payload, out.getvalue())


def test_image_verifier_rejects_wrong_dimensions_and_garbage() -> None:
    from PIL import Image

    payload, expected = _reference("image", "small")
    out = io.BytesIO()
    Image.open(io.BytesIO(expected)).resize((799, 600)).save(out, "JPEG")
    with pytest.raises(VerificationError, match="799x600"):
        hybridbench.verify("image", payload, out.getvalue())
    with pytest.raises(VerificationError, match="decodable"):
        hybridbench.verify("image", payload, b"nope")


def test_image_verifier_accepts_a_re_encode() -> None:
    from PIL import Image

    payload, expected = _reference("image", "small")
    out = io.BytesIO()
    Image.open(io.BytesIO(expected)).save(out, "JPEG", quality=85)
    hybridbench.verify("image", payload, out.getvalue())


@pytest.mark.parametrize(("w", "h", "want"), [(640, 480, (800, 600)), (1920, 1080, (800, 450)),
                                              (3840, 2880, (800, 600)), (600, 800, (450, 600)),
                                              (10000, 3, (800, 1)), (1, 1, (600, 600))])
def test_fit_size(w: int, h: int, want: tuple[int, int]) -> None:
    assert image.fit_size(w, h) == want


# -- thumbnail: the legitimate variants pass, the wrong answers of its docstring fail -------------

THUMBNAIL_SIZES = ["small", "medium", pytest.param("5MB", marks=pytest.mark.slow)]


def _thumbnail_jpeg(picture) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, subsampling=2)
    return out.getvalue()


def _thumbnail_resized(payload: bytes, resample: int, draft: bool) -> bytes:
    jpeg = image.open_jpeg(payload, "thumbnail")
    size = thumbnail.fit_size(*jpeg.size)
    if draft:
        jpeg.draft("RGB", size)
    return _thumbnail_jpeg(image.load_rgb(jpeg, "thumbnail").resize(size, resample))


def _thumbnail_changed(expected: bytes, change) -> bytes:
    from PIL import Image

    pixels = change(image.decode_rgb(expected, "reference").copy())
    return _thumbnail_jpeg(Image.fromarray(np.ascontiguousarray(pixels)))


def _darkened(pixels: np.ndarray) -> np.ndarray:
    y, x = pixels.shape[0] // 2, pixels.shape[1] // 2
    pixels[y:y + 16, x:x + 16] //= 2
    return pixels


def test_thumbnail_inputs_are_images_inputs() -> None:
    wl = hybridbench.get_workload("thumbnail")
    assert wl.size_names() == hybridbench.get_workload("image").size_names()
    assert wl.make_input("small", seed=3) == hybridbench.make_input("image", "small", seed=3)
    assert wl.default_size == "5MB" and wl.pure_unsupported


@pytest.mark.parametrize("size", THUMBNAIL_SIZES)
def test_thumbnail_legitimate_variants_verify(size: str) -> None:
    from PIL import Image

    payload = hybridbench.make_input("thumbnail", size)
    wl = hybridbench.get_workload("thumbnail")
    variants = {"fast": wl.fast(payload),
                "full decode + bicubic": _thumbnail_resized(payload, Image.BICUBIC, False),
                "draft + bicubic": _thumbnail_resized(payload, Image.BICUBIC, True)}
    if wl.best_unavailable() is None:
        variants["best"] = wl.best(payload)
    for label, output in variants.items():
        try:
            hybridbench.verify("thumbnail", payload, output)
        except VerificationError as exc:
            raise AssertionError(f"{label}: {exc}") from None


@pytest.mark.parametrize("size", THUMBNAIL_SIZES)
def test_thumbnail_verifier_rejects_wrong_answers(size: str) -> None:
    from PIL import Image

    payload, expected = _reference("thumbnail", size)
    wrong = {
        "nearest-neighbour": (_thumbnail_resized(payload, Image.NEAREST, False), "PSNR"),
        "darkened patch": (_thumbnail_changed(expected, _darkened), "PSNR"),
        "one-pixel shift": (_thumbnail_changed(expected, lambda p: np.roll(p, 1, axis=1)), "PSNR"),
        "R and B swapped": (_thumbnail_changed(expected, lambda p: p[:, :, ::-1]), "PSNR"),
    }
    for label, (output, message) in wrong.items():
        with pytest.raises(VerificationError, match=message):
            hybridbench.verify("thumbnail", payload, output)
            raise AssertionError(f"{label} verified")


def test_thumbnail_verifier_wants_exactly_the_target_size() -> None:
    from PIL import Image

    payload, expected = _reference("thumbnail", "small")
    out = io.BytesIO()
    Image.open(io.BytesIO(expected)).resize((256, 191)).save(out, "JPEG")
    with pytest.raises(VerificationError, match=r"thumbnail: output is 256x191, expected 256x192"):
        hybridbench.verify("thumbnail", payload, out.getvalue())
    with pytest.raises(VerificationError, match="thumbnail: output is not a decodable JPEG"):
        hybridbench.verify("thumbnail", payload, b"nope")


@pytest.mark.parametrize(("w", "h", "want"), [(640, 480, (256, 192)), (1920, 1080, (256, 144)),
                                              (3840, 2880, (256, 192)), (600, 800, (192, 256)),
                                              (10000, 3, (256, 1)), (1, 1, (256, 256))])
def test_thumbnail_fit_size(w: int, h: int, want: tuple[int, int]) -> None:
    assert thumbnail.fit_size(w, h) == want


def test_thumbnail_messages_are_images_under_its_own_name() -> None:
    for engine in ("reference", "fast"):
        run = getattr(hybridbench.get_workload("thumbnail"), engine)
        with pytest.raises(WorkloadError, match=r"^thumbnail: input is not a JPEG \(no SOI"):
            run(b"GIF89a")
        with pytest.raises(WorkloadError, match=r"^thumbnail: corrupt or truncated JPEG"):
            run(hybridbench.make_input("thumbnail", "small")[:5000])
    with pytest.raises(WorkloadError, match=r"^image: input is not a JPEG \(no SOI"):
        hybridbench.get_workload("image").reference(b"GIF89a")


def _tables(output: bytes) -> tuple[np.ndarray, np.ndarray]:
    groups, hosts = timeseries.decode_table(output, "t")
    return groups.copy(), hosts.copy()


def _with_tables(output: bytes, groups: np.ndarray, hosts: np.ndarray) -> bytes:
    return output[:16] + groups.tobytes() + hosts.tobytes()


@pytest.mark.parametrize(("table", "field"), [("groups", "count"), ("groups", "p95_latency_ms"),
                                              ("groups", "mean_cpu"), ("hosts", "max_cpu")])
def test_timeseries_verifier_rejects_one_value_off(table: str, field: str) -> None:
    payload, expected = _reference("timeseries", "10k")
    groups, hosts = _tables(expected)
    target = groups if table == "groups" else hosts
    target[field][3] += 1 if field == "count" else 1e-6 * target[field][3]
    with pytest.raises(VerificationError, match=field):
        hybridbench.verify("timeseries", payload, _with_tables(expected, groups, hosts))


def test_timeseries_reference_semantics_on_a_hand_made_batch() -> None:
    # two points before the epoch land in window -1 (floor, not truncation)
    ts = np.array([-1, -60_000, 0, 59_999, 60_000, 5_000], dtype=np.int64)
    host = np.array([7, 7, 3, 3, 3, 9], dtype=np.uint32)
    region = np.array([1, 1, 1, 1, 1, 0], dtype=np.uint16)
    cpu = np.array([10.0, 30.0, 1.0, 2.0, 3.0, 50.0])
    latency = np.array([5.0, 1.0, 9.0, 8.0, 7.0, 4.0])
    payload = timeseries.encode_batch(ts, host, region, np.stack([cpu, latency]))
    groups, hosts = timeseries.decode_table(hybridbench.expected_output("timeseries", payload), "t")
    assert [(g["region"], g["window"], g["count"]) for g in groups] == [
        (0, 0, 1), (1, -1, 2), (1, 0, 2), (1, 1, 1)]
    assert groups[1]["mean_cpu"] == 20.0 and groups[1]["p95_latency_ms"] == 5.0
    assert groups[2]["min_cpu"] == 1.0 and groups[2]["max_cpu"] == 2.0
    assert [(h["host"], h["count"], h["max_cpu"]) for h in hosts] == [
        (3, 3, 3.0), (7, 2, 30.0), (9, 1, 50.0)]


def test_p95_rank_is_nearest_rank() -> None:
    assert [timeseries.p95_rank(n) for n in (1, 19, 20, 21, 100, 101)] == [1, 19, 19, 20, 95, 96]


def test_empty_timeseries_batch_is_valid() -> None:
    empty = timeseries.encode_batch(np.zeros(0, np.int64), np.zeros(0, np.uint32),
                                    np.zeros(0, np.uint16), np.zeros((2, 0)))
    groups, hosts = timeseries.decode_table(hybridbench.expected_output("timeseries", empty), "t")
    assert len(groups) == 0 and len(hosts) == 0


def test_echo_verifier_rejects_one_flipped_byte() -> None:
    payload = hybridbench.make_input("echo", "1KB")
    wrong = bytearray(payload)
    wrong[500] ^= 1
    with pytest.raises(VerificationError):
        hybridbench.verify("echo", payload, bytes(wrong))
