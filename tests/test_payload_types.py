"""A request body that is not bytes is the same clear ``WorkloadError`` from every backend;
bytes-like bodies (bytearray, memoryview) are accepted by every backend alike."""

from __future__ import annotations

import pytest

import hybridbench
from hybridbench.errors import WorkloadError
from hybridbench.registry import backend_names, unavailable_reason

BACKENDS = [pytest.param(name, marks=pytest.mark.skipif(unavailable_reason(name) is not None,
                                                        reason=str(unavailable_reason(name))))
            for name in backend_names()]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    with hybridbench.open_backend(request.param, workloads=["echo"]) as opened:
        yield opened


@pytest.mark.parametrize("payload", ["text", None, 42, ["a"]])
def test_a_body_that_is_not_bytes_is_a_workload_error(backend, payload):
    with pytest.raises(WorkloadError, match=f"must be bytes.*not {type(payload).__name__}"):
        backend.run("echo", payload)
    with pytest.raises(WorkloadError, match="must be bytes"):
        backend.run_timed("echo", payload)
    assert backend.run("echo", b"still fine") == b"still fine"


@pytest.mark.parametrize("payload", [bytearray(b"abc"), memoryview(b"abc")])
def test_bytes_like_bodies_are_accepted(backend, payload):
    assert backend.run("echo", payload) == b"abc"
