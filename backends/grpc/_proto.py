"""What the client and the Python server share: the generated messages, method paths and
message limits.

The messages come from ``hybridbench_pb2`` (generated at build time by ``_codegen.py``). Stubs
and handlers are built from its service descriptor, so a method added to the proto shows up
here without hand-written tables. The standard health protocol is grpcio-health-checking's
(``grpc_health.v1``: messages, stub and servicer), on both sides.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from hybridbench.limits import MAX_PAYLOAD_BYTES
from hybridbench.wire import (  # noqa: F401 (the client's encoders, re-exported)
    encode_run_request,
    read_varint,
    run_request_prefix,
    varint,
)

SERVICE = "hybridbench.v1.Kernels"
#: the generic method: ``RunRequest{workload, data}`` -> ``RunReply{data, kernel_ns}``
RUN = "Run"

#: bodies go up to 64 MiB; the protobuf framing adds a few bytes: 80 MiB on both sides
MAX_MESSAGE_BYTES = 80 * 1024 * 1024
assert MAX_MESSAGE_BYTES > MAX_PAYLOAD_BYTES + 1024

_pb2: ModuleType | None = None
_import_error: str | None = None


def pb2() -> ModuleType:
    """The generated module; raises ImportError with the reason if it is missing."""
    global _pb2, _import_error
    if _pb2 is None:
        try:
            _pb2 = importlib.import_module("hybridbench.backends.grpc.hybridbench_pb2")
        except Exception as exc:  # ImportError, or protobuf's runtime-version check
            _import_error = (f"the generated protobuf module hybridbench_pb2 cannot be imported "
                             f"({type(exc).__name__}: {exc}); it is generated from "
                             f"proto/hybridbench.proto by `pip install -e .` (grpcio-tools)")
            raise ImportError(_import_error) from exc
    return _pb2


def unavailable_reason() -> str | None:
    try:
        pb2()
    except ImportError as exc:
        return str(exc)
    return None


def method_path(method: str) -> str:
    return f"/{SERVICE}/{method}"


def channel_options() -> list[tuple[str, Any]]:
    """grpcio channel options: large messages both ways, a channel of its own."""
    return [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        # every backend instance gets its own connection, never a shared global subchannel
        ("grpc.use_local_subchannel_pool", 1),
        ("grpc.enable_retries", 0),
        # over a Unix socket grpcio would send the socket path as :authority, which tonic's
        # HTTP/2 stack rejects (RST_STREAM PROTOCOL_ERROR); a plain name works everywhere
        ("grpc.default_authority", "localhost"),
    ]


def server_options() -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 0),
    ]


# -- RunRequest{string workload = 1; bytes data = 2} and RunReply{bytes data = 1;
#    uint64 kernel_ns = 2}: the body of every workload call --------------------------------------
#
# Encoded by hand on the hot path: the generated messages cost three extra copies of the body
# (into the message, out of it, into the wire buffer), about 1.2 ms per MiB round trip with the
# upb runtime, which would be charged to "the transport". The bytes on the wire are exactly the
# generated messages' (tests/test_grpc.py checks both directions); anything but the canonical
# field order falls back to the generated parser. The request's encoders are in
# hybridbench/wire.py (the core writes requests for other load generators too).

def decode_run_request(raw: bytes) -> tuple[str, bytes]:
    """``(workload, data)`` of a ``RunRequest``, one copy of the body in the common case."""
    if raw[:1] == b"\x0a":
        try:
            n, i = read_varint(raw, 1)
            workload = raw[i:i + n].decode()
            i += n
            if i == len(raw):
                return workload, b""
            if raw[i] == 0x12:
                length, start = read_varint(raw, i + 1)
                if start + length == len(raw):
                    return workload, raw[start:]
        except (ValueError, UnicodeDecodeError):
            pass
    message = pb2().RunRequest.FromString(raw)
    return message.workload, message.data


def encode_run_reply(data: bytes, kernel_ns: int) -> bytes:
    out = b"\x0a" + varint(len(data)) + data if len(data) else b""
    return out + b"\x10" + varint(kernel_ns) if kernel_ns else out


def decode_run_reply(raw: bytes) -> tuple[bytes, int]:
    """``(data, kernel_ns)`` of a ``RunReply``: one copy of the body in the common case."""
    try:
        data, i = b"", 0
        if raw[:1] == b"\x0a":
            length, start = read_varint(raw, 1)
            i = start + length
            data = raw[start:i]
        if i == len(raw):
            return data, 0
        if raw[i] == 0x10:
            kernel_ns, end = read_varint(raw, i + 1)
            if end == len(raw):
                return data, kernel_ns
    except ValueError:
        pass
    message = pb2().RunReply.FromString(raw)
    return message.data, message.kernel_ns
