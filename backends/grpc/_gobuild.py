"""Build the Go engine's server (``go/``, grpc-go) into the package, at install time.

Run by ``setup.py`` (its ``build_py`` step, so ``pip install .`` and ``pip install -e .`` both
build it) and by ``make go-server``; also runnable by hand: ``python backends/grpc/_gobuild.py``.
``go build`` fetches the module's dependencies through the Go module proxy (pinned by
``go/go.sum``) and writes ``backends/grpc/bin/hybridbench-go-server``. It builds with cgo
(``CGO_ENABLED=1``): a C compiler and libjpeg's headers (Debian's ``libjpeg-dev``) are needed
for the ``best`` engine (libjpeg-turbo) and the ``rust-cgo`` one (dlopen).

The build is optional: without ``go`` on PATH, with ``HYBRIDBENCH_SKIP_GO=1``, or when the
build fails, the install goes on and the reason is written next to where the binary would be
(``hybridbench-go-server.problem``), which ``grpc-go`` then reports as its unavailability.

This file imports nothing from hybridbench, so the build can load it by path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GO_MODULE = HERE.parent.parent / "go"
BIN_DIR = HERE / "bin"
SERVER_NAME = "hybridbench-go-server"
PROBLEM_SUFFIX = ".problem"
SKIP_ENV = "HYBRIDBENCH_SKIP_GO"
#: a first build downloads the module's dependencies and compiles grpc-go: minutes on 2 cores
BUILD_TIMEOUT_S = 900
STDERR_TAIL = 1500


def problem_path(out_dir: Path | None = None) -> Path:
    """Where the reason the server was not built is kept."""
    return (out_dir or BIN_DIR) / (SERVER_NAME + PROBLEM_SUFFIX)


def build(out_dir: Path | None = None, version: str = "devel") -> Path | None:
    """Build the server into ``out_dir`` (default: ``bin/`` of this package); return its path,
    or None (the reason is written to ``problem_path(out_dir)``). Never raises for a missing or
    failing Go toolchain."""
    out_dir = out_dir or BIN_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = out_dir / SERVER_NAME
    problem = _why_not_built(binary, version)
    if problem is None:
        problem_path(out_dir).unlink(missing_ok=True)
        return binary
    binary.unlink(missing_ok=True)  # never leave a binary of older sources behind
    problem_path(out_dir).write_text(problem + "\n")
    print(f"hybridbench: the Go server was not built: {problem}", file=sys.stderr)
    return None


def _why_not_built(binary: Path, version: str) -> str | None:
    if os.environ.get(SKIP_ENV, "") in ("1", "true", "yes"):
        return f"its build was skipped (${SKIP_ENV} was set when hybridbench was installed)"
    go = shutil.which("go")
    if go is None:
        return ("`go` was not on PATH when hybridbench was installed: install Go 1.26 or newer "
                "and reinstall (pip install -e .), or run `make go-server`")
    command = [go, "build", "-trimpath", "-buildvcs=false",
               "-ldflags", f"-X main.version={version}", "-o", str(binary),
               "./cmd/" + SERVER_NAME]
    try:
        # cgo is required, not left to Go's default: the best engine calls libjpeg-turbo and
        # the rust-cgo engine the Rust library (a C compiler and libjpeg's headers are needed)
        done = subprocess.run(command, cwd=GO_MODULE, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              env={**os.environ, "CGO_ENABLED": "1"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`go build` in {GO_MODULE} failed: {exc}"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-STDERR_TAIL:]
        return f"`go build` in {GO_MODULE} exited with {done.returncode}: {tail}"
    return None


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BIN_DIR
    built = build(target)
    print(built or problem_path(target).read_text().strip())
    sys.exit(0 if built else 1)
