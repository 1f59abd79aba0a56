"""The two errors every backend raises, so callers can tell bad input from a broken backend."""

from __future__ import annotations


class HybridbenchError(Exception):
    """Base class of every error hybridbench raises on purpose."""


class WorkloadError(HybridbenchError, ValueError):
    """The input is not valid for the workload; the message says what is wrong.

    Raised alike by every backend (the Python code, the Rust kernels through FFI, the gRPC
    servers), so a caller never needs to know which engine rejected the input.
    """


class BackendError(HybridbenchError, RuntimeError):
    """The backend itself failed: transport error, dead server, library missing."""


class VerificationError(HybridbenchError, AssertionError):
    """A backend's output differs from the reference output."""


class UnsupportedError(BackendError):
    """The backend does not implement this workload; the message says why."""
