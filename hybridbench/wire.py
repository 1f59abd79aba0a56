"""The wire form of the generic ``Run`` request (``proto/hybridbench.proto``), encoded by hand.

``RunRequest{workload = 1, data = 2}`` in canonical field order: the workload's field is
encoded once per workload (``run_request_prefix``), and the body is copied once. The gRPC
client sends it, and ``hybridbench payload --format proto`` writes it for other load generators
(ghz ``--binary-file``); the generated messages parse it (tests/test_grpc.py checks both
directions). Kept in the core, not in the grpc backend, because the proto is the project's
contract and the core must not import a plug-in's modules; the backend's decoders, which fall
back to the generated parser, stay with it.
"""

from __future__ import annotations


def run_request_prefix(workload: str) -> bytes:
    """The encoded ``workload`` field, computed once per workload."""
    name = workload.encode()
    return b"\x0a" + varint(len(name)) + name if name else b""


def encode_run_request(prefix: bytes, data: bytes) -> bytes:
    """Serialize ``RunRequest``: one copy of the body."""
    if not len(data):
        return prefix  # proto3 leaves an empty bytes field out
    return prefix + b"\x12" + varint(len(data)) + data

# -- protobuf varints ----------------------------------------------------------------------

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
