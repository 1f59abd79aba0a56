"""The command line, run as a user runs it."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hybridbench import cli, results
from hybridbench.report import exports


def hb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hybridbench.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, check=False)


def test_list_shows_workloads_sizes_and_backend_availability() -> None:
    done = hb("list")
    assert done.returncode == 0, done.stderr
    for word in ("json", "8MB", "timeseries", "100k", "inproc-pure", "ffi", "available"):
        assert word in done.stdout


@pytest.mark.slow
def test_run_writes_results_and_report(tmp_path: Path) -> None:
    out, report = tmp_path / "r.json", tmp_path / "index.html"
    done = hb("run", "-w", "echo,json", "-b", "inproc,inproc-pure", "--size", "echo=64B,json=1KB",
              "--duration", "0.3", "--rounds", "2", "--workers", "2", "--no-cold-start",
              "-o", str(out), "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = results.load(out)
    assert len(loaded.cells) == 4 and all(c.status == "ok" for c in loaded.cells)
    assert all(c.workers == 2 and len(c.rounds) == 4 for c in loaded.cells)
    assert "where the time goes" in done.stdout and "Student t over 2 worker" in done.stdout
    assert "hybridbench results" in done.stdout and "P99" in done.stdout
    page = report.read_text()
    assert "<table>" in page and "inproc-pure" in page

    again = tmp_path / "again.html"
    assert hb("report", str(out), "-o", str(again)).returncode == 0
    assert "inproc-pure" in again.read_text()


def test_bad_arguments_are_named_and_exit_2() -> None:
    for args, needle in ((("run", "-w", "xml"), "unknown workload 'xml'"),
                         (("run", "-b", "cuda"), "unknown backend 'cuda'"),
                         (("run", "-w", "image", "--size", "1MB"), "small, medium, 5MB")):
        done = hb(*args)
        assert done.returncode == 2 and needle in done.stdout, done.stdout


@pytest.mark.slow
def test_sigterm_mid_run_saves_partial_results_and_exits_130(tmp_path: Path) -> None:
    import json
    import os
    import signal
    import time

    from hybridbench import testhooks

    out, marker = tmp_path / "r.json", tmp_path / "paused"
    child = subprocess.Popen(
        [sys.executable, "-m", "hybridbench.cli", "run", "-w", "echo", "-b", "inproc",
         "--size", "64B", "--concurrency", "1,2,3,4,5,6", "--duration", "1", "--no-cold-start",
         "-o", str(out), "--report", str(tmp_path / "i.html")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, testhooks.ENV: json.dumps({"worker done": str(marker)})})
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text()):  # one cell in, five to go
        assert child.poll() is None and time.monotonic() < deadline, "never reached a worker"
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    stdout, _ = child.communicate(timeout=60)
    assert child.returncode == 130, stdout
    partial = results.load(out)
    assert any("interrupted" in str(w) for w in partial.warnings)
    assert 1 <= len(partial.cells) < 6
    assert all(cell.status == "ok" for cell in partial.cells)


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str]]:
    """``cli.main`` in this process, failing the test if anything gets measured; returns
    (exit code, everything printed)."""
    def measured(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cell was measured before the arguments were checked")

    monkeypatch.setattr(cli.runner, "run", measured)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's handlers

    def call(*args: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse
                code = int(exc.code or 0)
        return code, out.getvalue() + err.getvalue()
    return call


QUICK = ("run", "-w", "echo", "-b", "inproc", "--size", "64B", "--no-cold-start")


@pytest.mark.parametrize(("args", "needles"), [
    (("--rate", "0"), ["--rate", "positive number", "'0'"]),
    (("--rate", "-5"), ["--rate", "positive number", "'-5'"]),
    (("--rate", "nan"), ["--rate", "positive number"]),
    (("--concurrency", "0"), ["--concurrency", "positive integers"]),
    (("--concurrency", "1,-2"), ["--concurrency", "positive integers"]),
    (("--duration", "0"), ["--duration", "positive number"]),
    (("--duration", "-1"), ["--duration", "positive number"]),
    (("--rounds", "0"), ["--rounds", "positive integer"]),
    (("--workers", "0"), ["--workers", "positive integer"]),
    (("--workers", "two"), ["--workers", "positive integer"]),
    (("--size", "json="), ["--size", "WORKLOAD=SIZE"]),
])
def test_non_positive_values_are_refused_before_anything_runs(
        in_process: Callable[..., tuple[int, str]], args: tuple[str, ...],
        needles: list[str]) -> None:
    code, text = in_process(*QUICK, *args)
    assert code == 2, text
    assert all(needle in text for needle in needles), text
    assert "Traceback" not in text


def test_size_for_an_unknown_workload_names_the_known_ones(
        in_process: Callable[..., tuple[int, str]]) -> None:
    code, text = in_process("run", "-w", "echo", "-b", "inproc", "--size", "nosuch=1MB")
    assert code == 2
    assert "unknown workload 'nosuch'" in text
    assert "json, image, thumbnail, timeseries, echo" in text


def test_unknown_size_lists_the_workloads_sizes_even_when_not_selected(
        in_process: Callable[..., tuple[int, str]]) -> None:
    code, text = in_process("run", "-w", "echo", "-b", "inproc", "--size", "json=XL")
    assert code == 2
    assert "--size json=XL" in text and "1KB, 64KB, 1MB, 8MB" in text


@pytest.mark.parametrize("option", ["-o", "--report", "--markdown", "--csv", "--png-dir"])
@pytest.mark.parametrize("where", ["/proc/hb-x.json", "file/x.json"])
def test_unwritable_output_fails_at_once_naming_the_users_path(
        in_process: Callable[..., tuple[int, str]], tmp_path: Path, option: str,
        where: str) -> None:
    (tmp_path / "file").write_text("a file, so no directory can be made here")
    target = where if where.startswith("/") else str(tmp_path / where)
    outputs = {"-o": str(tmp_path / "r.json"), "--report": str(tmp_path / "i.html"),
               option: target}
    code, text = in_process(*QUICK, *(part for pair in outputs.items() for part in pair))
    assert code == 2, text
    assert f"{option}" in text and target in text and "cannot write" in text
    assert ".probe" not in text and ".tmp" not in text and "Traceback" not in text
    assert not (tmp_path / "r.json").exists()


def test_report_refuses_an_unwritable_output_before_reading(
        in_process: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    code, text = in_process("report", str(tmp_path / "missing.json"), "-o", "/proc/hb.html")
    assert code == 2 and "/proc/hb.html" in text and "missing.json" not in text


def test_run_whose_cells_all_failed_exits_1_and_still_saves(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "r.json"  # parents are created, not an error
    done = hb("run", "-w", "image", "-b", "inproc-pure", "--size", "image=small",
              "--no-cold-start", "-o", str(out), "--report", str(tmp_path / "deep" / "i.html"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no cell was measured (1 unsupported)" in done.stdout
    assert [c.status for c in results.load(out).cells] == ["unsupported"]
    assert (tmp_path / "deep" / "i.html").is_file()


@pytest.mark.slow
def test_run_with_one_cell_measured_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = hb("run", "-w", "image,echo", "-b", "inproc-pure", "--size", "image=small,echo=64B",
              "--quick", "--workers", "1", "--no-cold-start", "-o", str(out),
              "--report", str(tmp_path / "i.html"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(c.status for c in results.load(out).cells) == ["ok", "unsupported"]
    assert "no cell was measured" not in done.stdout


@pytest.mark.parametrize(("content", "what"), [
    (b"[1,2]", "got list"),
    (b'{"schema":1}', "no 'cells'"),
    (b'{"schema":2,"cells":[{"workload":1}]}', "cells[0]: no 'size', 'backend'"),
    (b"not json", "not a hybridbench result file"),
    (b"", "not a hybridbench result file"),
    (b'{"benchmarks": [{"name": "x"}], "machine_info": {}}', "not a pytest-benchmark file"),
])
def test_report_and_compare_refuse_wrong_shape_files_naming_them(
        in_process: Callable[..., tuple[int, str]], tmp_path: Path, content: bytes,
        what: str) -> None:
    odd, good = tmp_path / "odd.json", tmp_path / "good.json"
    odd.write_bytes(content)
    results.save(results.Results(env={}), good)
    for args in (("report", str(odd), "-o", str(tmp_path / "i.html")),
                 ("compare", str(good), str(odd)), ("compare", str(odd), str(good))):
        code, text = in_process(*args)
        assert code == 2, text
        assert str(odd) in text and what in text and "Traceback" not in text


@pytest.mark.parametrize("threshold", ["-10%", "ten", "nan%"])
def test_regression_threshold_must_be_a_percentage(in_process: Callable[..., tuple[int, str]],
                                                   tmp_path: Path, threshold: str) -> None:
    good = tmp_path / "good.json"
    results.save(results.Results(env={}), good)
    code, text = in_process("compare", str(good), str(good), f"--fail-on-regression={threshold}")
    assert code == 2 and "--fail-on-regression" in text and "percentage like 10%" in text


def _options(command: str) -> set[str]:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {o for action in commands.choices[command]._actions for o in action.option_strings}


def test_run_and_report_offer_the_same_export_formats() -> None:
    """One table of formats (``report.exports``) for both commands: they had drifted."""
    formats = {item.option for item in exports.FORMATS}
    assert formats >= {"--markdown", "--csv", "--png-dir"}
    assert formats <= _options("run") and formats <= _options("report")


@pytest.mark.slow
def test_report_writes_every_export_format(in_process: Callable[..., tuple[int, str]],
                                          tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "data" / "sample-results.json"
    code, text = in_process("report", str(fixture), "-o", str(tmp_path / "r.html"),
                            "--markdown", str(tmp_path / "s.md"), "--csv", str(tmp_path / "c.csv"),
                            "--png-dir", str(tmp_path / "charts"))
    assert code == 0, text
    assert (tmp_path / "s.md").read_text().startswith("## Headline")
    assert (tmp_path / "c.csv").read_text().startswith("run,")
    assert (tmp_path / "charts" / "speedups.png").is_file()
    assert f"markdown: {tmp_path / 's.md'}" in text and "PNG files in" in text


def test_the_cli_starts_without_matplotlib() -> None:
    """matplotlib is a third of the CLI's start-up; only drawing a chart may import it."""
    probe = "import sys, hybridbench.cli; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
