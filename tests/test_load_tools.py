"""Other load generators on the same contract: ``hybridbench payload`` writes what ghz and k6
send, and ghz drives a real server with it (DESIGN.md, "Other load generators")."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

import hybridbench
from hybridbench.backends.grpc import _proto, server_binary
from hybridbench.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "hybridbench.proto"
#: pinned: the version whose JSON output this test reads
GHZ_MODULE = "github.com/bojand/ghz/cmd/ghz@v0.93.0"


@pytest.mark.parametrize("form", ["raw", "proto", "json"])
def test_payload_formats_carry_the_generated_body(tmp_path, form):
    out = tmp_path / f"echo.{form}"
    assert main(["payload", "echo", "1KB", "--format", form, "-o", str(out)]) == 0
    expected = hybridbench.make_input("echo", "1KB")
    written = out.read_bytes()
    if form == "raw":
        assert written == expected
    elif form == "proto":
        assert _proto.decode_run_request(written) == ("echo", expected)
    else:
        message = orjson.loads(written)
        assert message["workload"] == "echo"
        assert base64.b64decode(message["data"]) == expected


def test_payload_defaults_to_the_workload_default_size(tmp_path):
    out = tmp_path / "ts.bin"
    assert main(["payload", "timeseries", "-o", str(out)]) == 0
    workload = hybridbench.get_workload("timeseries")
    assert out.read_bytes() == hybridbench.make_input("timeseries", workload.default_size)


@pytest.mark.parametrize("args, message", [
    (["nosuch"], "unknown workload"),
    (["echo", "3GB"], "has no size '3GB'"),
])
def test_payload_bad_values_are_named(tmp_path, capsys, args, message):
    assert main(["payload", *args, "-o", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "x").exists()


def _ghz() -> str | None:
    """ghz from PATH or Go's bin directory, installed with ``go install`` when Go is here."""
    gobin = Path(os.environ.get("GOBIN") or Path.home() / "go" / "bin")
    found = shutil.which("ghz") or (str(gobin / "ghz") if (gobin / "ghz").is_file() else None)
    if found or not shutil.which("go"):
        return found
    subprocess.run(["go", "install", GHZ_MODULE], check=True, timeout=600,
                   capture_output=True)
    return str(gobin / "ghz")


@pytest.fixture(scope="module")
def ghz() -> str:
    found = _ghz()
    if found is None:
        pytest.skip("ghz is not installed and Go is not on PATH to `go install` it")
    return found


@pytest.fixture
def server(tmp_path):
    binary = server_binary()
    if binary is None:
        pytest.skip("the Rust server is not built")
    socket = tmp_path / "hb.sock"
    proc = subprocess.Popen([str(binary), "--listen", f"unix:{socket}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"listening on ")
    yield socket
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("workload, size, form, flag", [
    ("echo", "64B", "proto", "--binary-file"),
    ("json", "64KB", "json", "--data-file"),
])
def test_ghz_drives_the_server_with_the_payload_file(tmp_path, ghz, server, workload, size,
                                                     form, flag):
    body = tmp_path / f"{workload}.{form}"
    assert main(["payload", workload, size, "--format", form, "-o", str(body)]) == 0
    done = subprocess.run(
        [ghz, "--insecure", "--proto", str(PROTO), "--call", "hybridbench.v1.Kernels/Run",
         flag, str(body), "--total", "200", "--concurrency", "2", "--format", "json",
         f"unix://{server}"], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout)
    assert report["count"] == 200
    assert report["statusCodeDistribution"] == {"OK": 200}, report.get("errorDistribution")
