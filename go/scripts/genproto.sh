#!/usr/bin/env bash
# Regenerate go/internal/pb from proto/hybridbench.proto with pinned generators.
#
#   bash go/scripts/genproto.sh            (or: make go-proto)
#
# The compiler is the protoc bundled in grpcio-tools, pinned in pyproject.toml (the one the
# Python side is generated with), so Go and Python are compiled by the same protoc; the Go
# plugins are pinned below and installed into a private directory with `go install`.
# The generated files are committed: building the Go server needs no protoc.
set -euo pipefail
cd "$(dirname "$0")/../.."

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PYTHON="${PYTHON:-.venv/bin/python}"
GO_PACKAGE=hybridbench/goengine/internal/pb

"$PYTHON" -c "import grpc_tools.protoc" 2>/dev/null || {
  echo "genproto: $PYTHON has no grpcio-tools: pip install -e '.[dev]' first" >&2; exit 1; }

plugins="$(mktemp -d)"
trap 'rm -rf "$plugins"' EXIT
(cd go && GOBIN="$plugins" go install "$PROTOC_GEN_GO" && GOBIN="$plugins" go install "$PROTOC_GEN_GO_GRPC")

# The proto names no go_package (it is shared by every language): the M option maps it here.
"$PYTHON" -m grpc_tools.protoc -I proto \
  --plugin=protoc-gen-go="$plugins/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$plugins/protoc-gen-go-grpc" \
  --go_out=go/internal/pb --go_opt=paths=source_relative --go_opt=Mhybridbench.proto=$GO_PACKAGE \
  --go-grpc_out=go/internal/pb --go-grpc_opt=paths=source_relative \
  --go-grpc_opt=Mhybridbench.proto=$GO_PACKAGE \
  proto/hybridbench.proto
echo "generated: $(ls go/internal/pb)"
