"""``grpc`` and ``grpc-py``: the kernels behind a gRPC server (being built; see native/)."""

from __future__ import annotations

from hybridbench.backend import Backend


class GrpcBackend(Backend):
    name = "grpc"
    summary = "Rust kernels in a tonic server process, over gRPC (grpcio client)"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return "the Rust gRPC server is not built yet"

    def call(self, workload: str, payload: bytes) -> bytes:
        raise NotImplementedError


class GrpcPyBackend(GrpcBackend):
    name = "grpc-py"
    summary = "the inproc Python code in a grpcio server process, same client"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return "the Python gRPC server is not built yet"
