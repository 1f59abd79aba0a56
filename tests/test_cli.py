"""The command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hybridbench import results


def hb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hybridbench.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, check=False)


def test_list_shows_workloads_sizes_and_backend_availability() -> None:
    done = hb("list")
    assert done.returncode == 0, done.stderr
    for word in ("json", "8MB", "timeseries", "100k", "inproc-pure", "ffi", "available"):
        assert word in done.stdout


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


def test_sigterm_mid_run_saves_partial_results_and_exits_130(tmp_path: Path) -> None:
    import signal
    import time

    out = tmp_path / "r.json"
    child = subprocess.Popen(
        [sys.executable, "-m", "hybridbench.cli", "run", "-w", "echo", "-b", "inproc",
         "--size", "64B", "--concurrency", "1,2,3,4,5,6", "--duration", "1", "--no-cold-start",
         "-o", str(out), "--report", str(tmp_path / "i.html")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(6)  # a few cells in, well before the sixth ends
    child.send_signal(signal.SIGTERM)
    stdout, _ = child.communicate(timeout=60)
    assert child.returncode == 130, stdout
    partial = results.load(out)
    assert any("interrupted" in w for w in partial.warnings)
    assert 1 <= len(partial.cells) < 6
    assert all(cell.status == "ok" for cell in partial.cells)
