"""``ffi``: Rust kernels in this process through the C ABI (being built; see native/)."""

from __future__ import annotations

from hybridbench.backend import Backend


class FfiBackend(Backend):
    name = "ffi"
    summary = "Rust kernels in this process through the C ABI (cffi), GIL released"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return "the Rust C-ABI library is not built yet"

    def call(self, workload: str, payload: bytes) -> bytes:
        raise NotImplementedError
