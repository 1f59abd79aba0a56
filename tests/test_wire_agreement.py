"""Wire agreement: every side was generated from the same protocol (the articles' "version
mismatch" failure, caught before any benchmark runs).

``proto/hybridbench.proto`` is compiled here, now, with the pinned protoc of grpcio-tools; each
side's own descriptor is compared with it: the Python client's generated module, and what each
server returns from ``Describe`` (the Rust server's, built by protox; the Python server's; the
Go server's, the descriptor embedded in the committed generated code of ``go/internal/pb``).
A mismatch names the side and shows the difference.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

import hybridbench
from hybridbench.backends.grpc import _proto
from hybridbench.registry import unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "hybridbench.proto"
#: side name -> backend whose server reports it
SERVERS = {"Rust server (grpc)": "grpc", "Python server (grpc-py)": "grpc-py",
           "Go server (grpc-go)": "grpc-go"}


def normalised(fdp):
    """The parts of a FileDescriptorProto that make the wire: no source locations, no
    json_name (some generators fill it in, others leave it out)."""
    from google.protobuf import descriptor_pb2

    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fdp)
    copy.ClearField("source_code_info")
    for message in copy.message_type:
        for field in message.field:
            field.ClearField("json_name")
    return copy


def disagreement(side: str, theirs, truth) -> str | None:
    """None if ``theirs`` describes the same protocol as ``truth``, else a message naming
    ``side`` with a diff of the two descriptors."""
    from google.protobuf import text_format

    want = text_format.MessageToString(normalised(truth)).splitlines()
    got = text_format.MessageToString(normalised(theirs)).splitlines()
    if want == got:
        return None
    diff = "\n".join(difflib.unified_diff(want, got, "proto/hybridbench.proto", side,
                                          lineterm="", n=1))
    return f"{side} was generated from a different protocol than proto/hybridbench.proto:\n{diff}"


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """proto/hybridbench.proto compiled now by grpcio-tools' protoc."""
    pytest.importorskip("grpc_tools", reason="grpcio-tools (a dev dependency) compiles the proto")
    from google.protobuf import descriptor_pb2

    out = tmp_path_factory.mktemp("proto") / "set.bin"
    done = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO.parent}",
                           f"--descriptor_set_out={out}", str(PROTO)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    return next(f for f in files if f.name == "hybridbench.proto")


def test_python_client_agrees(truth):
    from google.protobuf import descriptor_pb2

    ours = descriptor_pb2.FileDescriptorProto()
    _proto.pb2().DESCRIPTOR.CopyToProto(ours)
    problem = disagreement("Python client (hybridbench_pb2)", ours, truth)
    assert problem is None, problem


@pytest.mark.parametrize("side", [
    pytest.param(side, id=backend, marks=pytest.mark.skipif(
        unavailable_reason(backend) is not None, reason=str(unavailable_reason(backend))))
    for side, backend in SERVERS.items()])
def test_server_agrees(truth, side):
    from google.protobuf import descriptor_pb2

    with hybridbench.open_backend(SERVERS[side], workloads=["echo"]) as backend:
        reply = backend.server_info("echo")
    served = {f.name: f for f in
              descriptor_pb2.FileDescriptorSet.FromString(reply.file_descriptor_set).file}
    assert "hybridbench.proto" in served, f"{side} describes no hybridbench.proto: {sorted(served)}"
    problem = disagreement(side, served["hybridbench.proto"], truth)
    assert problem is None, problem


def test_a_mismatch_names_the_side_and_the_difference(truth):
    from google.protobuf import descriptor_pb2

    drifted = descriptor_pb2.FileDescriptorProto()
    drifted.CopyFrom(truth)
    reply = next(m for m in drifted.message_type if m.name == "RunReply")
    reply.field[1].name = "kernel_us"  # an old server from before a field was renamed
    problem = disagreement("Go server (grpc-go)", drifted, truth)
    assert problem is not None
    assert problem.startswith("Go server (grpc-go) was generated from a different protocol")
    assert '-    name: "kernel_ns"' in problem and '+    name: "kernel_us"' in problem
    assert disagreement("same", truth, truth) is None
