"""The stale-build notice: an installed native artefact older than a source of the checkout it
is built from (``native/`` or ``go/``; ``native.stale_build_warning``), recorded by a run as a
run-level warning."""

from __future__ import annotations

import os
from pathlib import Path

from hybridbench import native
from hybridbench.results import Kind


def _checkout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A checkout with one Rust source and one artefact built after it."""
    (tmp_path / ".git").mkdir()
    source = tmp_path / "native" / "kernels" / "src" / "lib.rs"
    source.parent.mkdir(parents=True)
    source.write_text("// kernels\n")
    artefact = tmp_path / "libkernels.so"
    artefact.write_bytes(b"\x7fELF")
    os.utime(source, (1_000, 1_000))
    os.utime(artefact, (2_000, 2_000))
    return tmp_path, source, artefact


def test_an_artefact_newer_than_every_source_is_not_stale(tmp_path: Path) -> None:
    root, _, artefact = _checkout(tmp_path)
    assert native.stale_build_warning(root, {"native": [artefact]}) is None


def test_a_source_edited_after_the_build_names_the_artefact_and_the_file(tmp_path: Path) -> None:
    root, source, artefact = _checkout(tmp_path)
    os.utime(source, (3_000, 3_000))
    message = native.stale_build_warning(root, {"native": [artefact]})
    assert message is not None
    assert "libkernels.so" in message and "native/kernels/src/lib.rs" in message
    assert "make install" in message


def test_cargo_output_and_non_sources_do_not_count(tmp_path: Path) -> None:
    root, _, artefact = _checkout(tmp_path)
    for later in (root / "native" / "target" / "release" / "build.rs",  # cargo's own output
                  root / "native" / "README.md"):  # documentation is not a build input
        later.parent.mkdir(parents=True, exist_ok=True)
        later.write_text("x")
        os.utime(later, (3_000, 3_000))
    assert native.stale_build_warning(root, {"native": [artefact]}) is None


def test_outside_a_checkout_nothing_is_judged(tmp_path: Path) -> None:
    root, source, artefact = _checkout(tmp_path)
    os.utime(source, (3_000, 3_000))
    (root / ".git").rmdir()
    assert native.stale_build_warning(root, {"native": [artefact]}) is None


def test_each_engine_is_judged_by_its_own_sources(tmp_path: Path) -> None:
    root, _, artefact = _checkout(tmp_path)
    go_source = root / "go" / "server" / "main.go"
    go_source.parent.mkdir(parents=True)
    go_source.write_text("package main\n")
    os.utime(go_source, (3_000, 3_000))
    go_server = root / "hybridbench-go-server"
    go_server.write_bytes(b"\x7fELF")
    os.utime(go_server, (2_500, 2_500))
    message = native.stale_build_warning(root, {"native": [artefact], "go": [go_server]})
    # the Go edit makes the Go server stale, not the Rust library built after native/'s edit
    assert message is not None and "hybridbench-go-server is older than go/server/main.go" in (
        message)
    assert "libkernels.so" not in message


def test_the_installed_engines_are_found() -> None:
    built = native.built_in_artefacts()
    assert set(built) == {"native", "go"}
    assert all(path.is_file() for paths in built.values() for path in paths)


def test_the_kind_has_a_title_for_the_report() -> None:
    from hybridbench.report import model

    assert Kind.STALE_BUILD in model.KIND_TITLES
