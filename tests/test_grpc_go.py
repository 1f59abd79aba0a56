"""What is particular to ``grpc-go``: how its server is built and found, and what it says when
it is not there. Everything it shares with the other gRPC backends (every workload and size,
bad input, wire agreement, supervision, no server outliving the harness) is in test_grpc.py,
against the real Go server."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

import hybridbench
from hybridbench.backends.grpc import _gobuild, gobackend
from hybridbench.errors import BackendError
from hybridbench.registry import support_matrix, unavailable_reason


def _fake_go(directory, script: str) -> None:
    go = directory / "go"
    go.write_text("#!/bin/sh\n" + script)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)


def test_without_go_the_install_goes_on_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv(_gobuild.SKIP_ENV, raising=False)
    assert _gobuild.build(tmp_path) is None
    problem = _gobuild.problem_path(tmp_path).read_text()
    assert "`go` was not on PATH" in problem
    assert "was not built" in capsys.readouterr().err


def test_a_failed_build_is_recorded_and_leaves_no_stale_binary(tmp_path, monkeypatch):
    stale = tmp_path / _gobuild.SERVER_NAME
    stale.write_text("old")
    _fake_go(tmp_path, "echo 'undefined: frobnicate' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(_gobuild.SKIP_ENV, raising=False)
    assert _gobuild.build(tmp_path) is None
    problem = _gobuild.problem_path(tmp_path).read_text()
    assert "exited with 1" in problem and "undefined: frobnicate" in problem
    assert not stale.exists()


def test_skip_env_skips_the_build(tmp_path, monkeypatch):
    _fake_go(tmp_path, "exit 0\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(_gobuild.SKIP_ENV, "1")
    assert _gobuild.build(tmp_path) is None
    assert _gobuild.SKIP_ENV in _gobuild.problem_path(tmp_path).read_text()


def test_unbuilt_server_is_unavailable_with_the_build_problem(tmp_path, monkeypatch):
    monkeypatch.delenv(gobackend.SERVER_ENV, raising=False)
    monkeypatch.setattr(_gobuild, "BIN_DIR", tmp_path)
    _gobuild.problem_path().write_text("`go build` in go/ exited with 1: no space left\n")
    reason = gobackend.GrpcGoBackend.unavailable_reason()
    assert reason == ("the Go server is not available: `go build` in go/ exited with 1: "
                      "no space left")
    assert unavailable_reason("grpc-go") == reason
    assert support_matrix()["json"]["grpc-go"] == reason  # what `hybridbench list` shows
    with pytest.raises(BackendError, match="no space left"):
        hybridbench.open_backend("grpc-go")
    _gobuild.problem_path().unlink()
    assert "not built" in (gobackend.unbuilt_reason() or "")


def test_missing_override_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(gobackend.SERVER_ENV, str(tmp_path / "nope"))
    reason = gobackend.GrpcGoBackend.unavailable_reason()
    assert reason and gobackend.SERVER_ENV in reason and "does not exist" in reason


@pytest.mark.skipif(gobackend.unbuilt_reason() is not None,
                    reason=str(gobackend.unbuilt_reason()))
def test_the_built_server_declares_its_workloads_and_its_command_line():
    binary = str(gobackend.server_path())
    listed = subprocess.run([binary, "--list-workloads"], capture_output=True, text=True,
                            timeout=30, check=True).stdout.split()
    assert listed[:5] == ["json", "image", "thumbnail", "timeseries", "echo"]
    helped = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "--list-workloads" in helped.stdout
    bad = subprocess.run([binary, "--listen", "127.0.0.1:0", "--workers", "0"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "--workers" in bad.stderr and not bad.stdout


@pytest.mark.skipif(gobackend.unbuilt_reason() is not None,
                    reason=str(gobackend.unbuilt_reason()))
def test_describe_places_the_engine_where_the_articles_do():
    with hybridbench.open_backend("grpc-go", workloads=["echo"]) as backend:
        info = backend.describe()
        assert backend.run("echo", b"x") == b"x"
    assert info["engine_language"] == "Go" and info["article_label"] == "Go only"
    assert info["article_order"] == 0
    assert info["server"] == "hybridbench-goengine"
    assert "grpc-go" in info["server_version"] and "go1." in info["server_version"]
    assert info["server_pid"] != os.getpid()


def test_every_builtin_backend_says_where_the_articles_place_it():
    from hybridbench.registry import BUILTIN_BACKEND_ORDER, backend_class

    for name in BUILTIN_BACKEND_ORDER:
        column = backend_class(name).article_column
        assert set(column) >= {"engine_language", "article_label", "article_order"}, name
    labels = {name: backend_class(name).article_column["article_label"]
              for name in ("grpc-go", "grpc", "ffi")}
    assert labels == {"grpc-go": "Go only", "grpc": "Rust via gRPC", "ffi": "Rust via FFI"}
    orders = [backend_class(name).article_column["article_order"] for name in labels]
    assert orders == sorted(orders)  # "Go only" beside, and before, the Rust columns
    with hybridbench.open_backend("inproc") as backend:  # recorded without a server too
        assert backend.describe()["article_label"] == "Python only"


@pytest.mark.skipif(gobackend.unbuilt_reason() is not None,
                    reason=str(gobackend.unbuilt_reason()))
def test_the_engine_flag_chooses_the_kernel_table():
    binary = str(gobackend.server_path())

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)

    best = run("--engine", "best", "--list-engines")
    engines = dict(line.split("\t") for line in best.stdout.splitlines())
    assert best.returncode == 0 and list(engines)[:5] == ["json", "image", "thumbnail",
                                                          "timeseries", "echo"]
    assert "Go calling C" in engines["image"] and "Go calling C" in engines["thumbnail"]
    assert "Go calling C" not in engines["json"]
    bad = run("--engine", "fastest", "--list-workloads")
    assert bad.returncode == 2 and "expected one of idiomatic, best, rust-cgo" in bad.stderr
    no_library = run("--engine", "rust-cgo", "--list-workloads")
    assert no_library.returncode == 2 and "--ffi-library" in no_library.stderr
    wrong = run("--engine", "best", "--ffi-library", "/x.so", "--list-workloads")
    assert wrong.returncode == 2 and "only for --engine rust-cgo" in wrong.stderr
    missing = run("--engine", "rust-cgo", "--ffi-library", "/nonexistent.so", "--list-workloads")
    assert missing.returncode == 2 and "cannot load the Rust kernel library" in missing.stderr


@pytest.mark.skipif(gobackend.GrpcGoCgoBackend.unavailable_reason() is not None,
                    reason=str(gobackend.GrpcGoCgoBackend.unavailable_reason()))
def test_the_go_engines_record_what_they_are():
    with hybridbench.open_backend("grpc-go-best", workloads=["json", "image"]) as backend:
        info = backend.describe()
        assert backend.run("echo", b"x") == b"x"
    assert info["profile"]["tuning"] == "tuned" and info["engine_language"] == "Go"
    assert info["go_engine"] == "best" and "engine best" in info["server_version"]
    assert set(info["workload_engines"]) == {"json", "image"}
    assert "Go calling C" in info["workload_engines"]["image"]
    with hybridbench.open_backend("grpc-go-cgo", workloads=["echo"]) as backend:
        info = backend.describe()
        assert backend.run("echo", b"y") == b"y"
    assert info["engine_language"] == "Rust" and info["profile"]["tuning"] == "tuned"
    assert "--ffi-library" in info["server_command"]
    assert "Go calling Rust" in info["workload_engines"]["echo"]
