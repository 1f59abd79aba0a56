"""The ``ffi-idiomatic`` backend against the real idiomatic Rust library (no mocks).

It is held to what ``ffi`` is held to: every workload it implements verifies at every size,
bad inputs give the messages of ``tests/test_ffi.py``'s ``BAD`` list and of
``hybridbench.testing.bad_inputs`` (the same lists, imported, so the two libraries cannot drift
apart), and the tricky JSON documents match the reference. Skipped as a whole, with the
backend's own reason, when the library is not built.
"""

from __future__ import annotations

import io

import pytest
from test_ffi import BAD, TRICKY_JSON

import hybridbench
from hybridbench.backends.ffi.idiomatic import LIBRARY_ENV, NOT_BUILT, FfiIdiomaticBackend
from hybridbench.errors import BackendError, UnsupportedError, WorkloadError
from hybridbench.testing import bad_input_params, size_params
from hybridbench.workloads import image

pytestmark = pytest.mark.skipif(FfiIdiomaticBackend.unavailable_reason() is not None,
                                reason=str(FfiIdiomaticBackend.unavailable_reason()))

#: what the library implements: every built-in workload
WORKLOADS = {"json", "image", "timeseries", "echo", "thumbnail", "text"}


@pytest.fixture(scope="module")
def backend():
    with hybridbench.open_backend("ffi-idiomatic") as b:
        yield b


def _supported(backend, workload: str) -> None:
    if workload not in WORKLOADS:
        assert backend.unsupported_reason(workload) is not None
        pytest.skip(f"ffi-idiomatic does not implement {workload}")


@pytest.mark.parametrize(("workload", "size"), size_params())
def test_every_workload_and_size_verifies(backend, workload, size):
    _supported(backend, workload)
    payload = hybridbench.make_input(workload, size, seed=0)
    hybridbench.verify(workload, payload, backend.run(workload, payload))


def test_only_the_idiomatic_library_is_loaded(backend):
    (library,) = backend.describe()["libraries"]
    assert library["name"] == "hybridbench-idiomatic"
    assert set(library["workloads"]) == WORKLOADS
    profile = backend.describe()["profile"]
    assert (profile["tuning"], profile["engine_kind"]) == ("idiomatic", "native")


def test_an_unknown_workload_is_unsupported_with_the_reason(backend):
    reason = backend.unsupported_reason("nonesuch")
    assert reason and "ffi-idiomatic" in reason and "hybridbench-idiomatic" in reason
    with pytest.raises(UnsupportedError):
        backend.call("nonesuch", b"")


@pytest.mark.parametrize(("workload", "payload", "message"), BAD,
                         ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(BAD)])
def test_bad_input_gives_the_tuned_kernels_message(backend, workload, payload, message):
    with pytest.raises(WorkloadError) as info:
        backend.call(workload, payload)  # straight to Rust, past the harness's own checks
    assert message in str(info.value)
    assert backend.run("echo", b"still here") == b"still here"


@pytest.mark.parametrize(("workload", "payload", "pattern"), bad_input_params())
def test_bad_input_matches_the_shared_patterns(backend, workload, payload, pattern):
    _supported(backend, workload)
    with pytest.raises(WorkloadError, match=pattern):
        backend.call(workload, payload)


@pytest.mark.parametrize("payload", TRICKY_JSON, ids=range(len(TRICKY_JSON)))
def test_tricky_json_matches_the_reference(backend, payload):
    out = backend.run("json", payload)
    hybridbench.verify("json", payload, out)
    assert b" " not in out.replace(b"x y", b"")


def test_image_errors_and_thumbnail_errors_differ_only_in_the_prefix(backend):
    jpeg = hybridbench.make_input("image", "small")
    for bad in (b"hello", jpeg[: len(jpeg) // 2] + bytes(8192), jpeg[:200]):
        with pytest.raises(WorkloadError) as image_error:
            backend.call("image", bad)
        with pytest.raises(WorkloadError) as thumbnail_error:
            backend.call("thumbnail", bad)
        assert str(image_error.value).startswith("image: ")
        assert str(thumbnail_error.value) == "thumbnail" + str(image_error.value)[len("image"):]


def test_unbuilt_library_is_reported_not_replaced_by_the_tuned_one(monkeypatch, tmp_path):
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path / "missing.so"))
    with pytest.raises(BackendError, match=r"missing\.so, which does not exist"):
        hybridbench.open_backend("ffi-idiomatic")
    monkeypatch.setenv(LIBRARY_ENV, "")
    monkeypatch.setattr("hybridbench.backends.ffi.idiomatic.find_library", lambda *_: None)
    assert FfiIdiomaticBackend.unavailable_reason() == NOT_BUILT
    assert hybridbench.registry.support_matrix()["json"]["ffi-idiomatic"] == NOT_BUILT
    # started anyway, it loads nothing rather than the tuned kernels ffi would load
    with pytest.raises(BackendError, match=r"^ffi-idiomatic: no kernel library.*not built"):
        FfiIdiomaticBackend().start()


def _thumbnail_reference(payload: bytes) -> bytes:
    """The reference of the ``thumbnail`` specification (workloads/thumbnail.py): Pillow full
    decode, Lanczos to fit 256x256, JPEG q85 4:2:0."""
    from PIL import Image

    src = Image.open(io.BytesIO(payload))
    w, h = src.size
    size = (256, max(1, (h * 256 + w // 2) // w)) if w >= h else (
        max(1, (w * 256 + h // 2) // h), 256)
    out = io.BytesIO()
    src.convert("RGB").resize(size, Image.LANCZOS).save(out, "JPEG", quality=85, subsampling=2)
    return out.getvalue()


@pytest.mark.parametrize("size", ["small", "medium"])
def test_thumbnail_is_within_the_specifications_floors_of_its_reference(backend, size):
    # independent of the workload's registration: inputs are image's, by the specification
    payload = hybridbench.make_input("image", size, seed=0)
    got = image.decode_rgb(backend.call("thumbnail", payload), "output")
    want = image.decode_rgb(_thumbnail_reference(payload), "reference")
    assert got.shape == want.shape
    assert image.psnr(got, want) >= 39.0  # the specification's floors (measured: 42.9 / 42.6)
    assert image.worst_block_psnr(got, want, 8) >= 25.0
