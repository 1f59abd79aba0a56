"""hybridbench: should this hot path stay in Python, go native over gRPC, or be called via FFI?

The Python API (a contract, see DESIGN.md)::

    import hybridbench
    payload = hybridbench.make_input("json", "1MB", seed=0)
    with hybridbench.open_backend("ffi") as backend:
        out = backend.run("json", payload)
    hybridbench.verify("json", payload, out)

A whole run, with the files ``hybridbench run`` writes (results, report, index)::

    from hybridbench import pipeline, runner
    done, published = pipeline.run(runner.RunConfig(workloads=["json"], backends=["ffi"]))
"""

from __future__ import annotations

from hybridbench.errors import (
    BackendError,
    HybridbenchError,
    UnsupportedError,
    VerificationError,
    WorkloadError,
)
from hybridbench.registry import backend_names, get_workload, open_backend, workload_names

__version__ = "0.1.0"
__all__ = [
    "BackendError", "HybridbenchError", "UnsupportedError", "VerificationError", "WorkloadError",
    "backend_names", "expected_output", "get_workload", "make_input", "open_backend", "verify",
    "workload_names",
]


def make_input(workload: str, size: str | None = None, seed: int = 0) -> bytes:
    """The deterministic request body of ``workload`` at ``size`` (default size if None)."""
    wl = get_workload(workload)
    return wl.make_input(size or wl.default_size, seed)


def expected_output(workload: str, payload: bytes) -> bytes:
    """The reference answer for ``payload`` (cached for the last few payloads)."""
    from hybridbench.verification import reference_output

    return reference_output(workload, payload)


def verify(workload: str, payload: bytes, output: bytes) -> None:
    """Raise ``VerificationError`` unless ``output`` is the right answer for ``payload``."""
    get_workload(workload).verify(payload, output, expected_output(workload, payload))
