"""The in-process backends agree with the reference on every size, and reject bad input."""

from __future__ import annotations

import pytest

import hybridbench
from hybridbench import UnsupportedError, WorkloadError
from hybridbench.testing import bad_input_params, size_params

INPROC = ("inproc", "inproc-best", "inproc-pure")
CASES = [pytest.param(b, *case.values, id=f"{b}-{case.id}", marks=case.marks)
         for b in INPROC for case in size_params()
         if not (b == "inproc-pure"
                 and hybridbench.get_workload(case.values[0]).pure_unsupported)]


@pytest.mark.parametrize(("backend", "workload", "size"), CASES)
def test_matches_reference(backend: str, workload: str, size: str) -> None:
    payload = hybridbench.make_input(workload, size)
    with hybridbench.open_backend(backend) as b:
        out = b.run(workload, payload)
    hybridbench.verify(workload, payload, out)


@pytest.mark.parametrize("backend", INPROC)
@pytest.mark.parametrize(("workload", "payload", "pattern"), bad_input_params())
def test_bad_input_raises_workload_error(backend: str, workload: str, payload: bytes,
                                         pattern: str) -> None:
    with hybridbench.open_backend(backend) as b:
        if b.unsupported_reason(workload):
            pytest.skip(b.unsupported_reason(workload))
        with pytest.raises(WorkloadError, match=pattern):
            b.run(workload, payload)
        # and the backend keeps working afterwards
        good = hybridbench.make_input(workload,
                                      hybridbench.get_workload(workload).size_names()[0])
        hybridbench.verify(workload, good, b.run(workload, good))


def test_pure_says_why_image_is_unsupported() -> None:
    with hybridbench.open_backend("inproc-pure") as b:
        assert "no JPEG codec" in (b.unsupported_reason("image") or "")
        with pytest.raises(UnsupportedError, match="no JPEG codec"):
            b.run("image", hybridbench.make_input("image", "small"))


def test_unknown_backend_and_workload_names() -> None:
    with pytest.raises(hybridbench.BackendError, match=r"unknown backend 'cuda'.*inproc"):
        hybridbench.open_backend("cuda")
    with hybridbench.open_backend("inproc") as b, pytest.raises(WorkloadError, match="'xml'"):
        b.run("xml", b"")


def test_design_md_api_example() -> None:
    payload = hybridbench.make_input("json", "1KB", seed=0)
    with hybridbench.open_backend("inproc") as b:
        out = b.run("json", payload)
    hybridbench.verify("json", payload, out)
    assert issubclass(WorkloadError, ValueError)
