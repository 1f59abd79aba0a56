"""Generate the Python protobuf module from ``proto/hybridbench.proto`` (build time).

Run by ``setup.py`` (a ``build_py`` step, so ``pip install .`` and ``pip install -e .`` both do
it) with the grpcio-tools pinned in ``pyproject.toml``'s ``[build-system] requires``; also
runnable by hand: ``python backends/grpc/_codegen.py``. Writes ``hybridbench_pb2.py`` next to
this file (not committed: see .gitignore). Only the messages and the service descriptor are
generated: the client and the Python server build their stubs and handlers from the service
descriptor (``_proto.py``), which avoids ``*_pb2_grpc.py``'s top-level
``import hybridbench_pb2``.

This file imports nothing from hybridbench, so the build can load it by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROTO_DIR = ROOT / "proto"
PROTO_FILE = "hybridbench.proto"
OUTPUT = HERE / "hybridbench_pb2.py"


def generate(out_dir: Path = HERE) -> Path:
    """Compile the proto with grpcio-tools' bundled protoc; return the generated file."""
    try:
        from grpc_tools import protoc
    except ImportError as exc:  # pragma: no cover - build requirement missing
        raise RuntimeError(
            "grpcio-tools is needed to generate the gRPC code from proto/ (it is a build "
            "requirement in pyproject.toml)") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = ["grpc_tools.protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={out_dir}",
            str(PROTO_DIR / PROTO_FILE)]
    if protoc.main(args) != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on {PROTO_DIR / PROTO_FILE}")
    return out_dir / (Path(PROTO_FILE).stem + "_pb2.py")


if __name__ == "__main__":
    print(generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
