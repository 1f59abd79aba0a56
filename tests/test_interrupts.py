"""Interrupts of a real ``hybridbench run``: what was measured is kept, whatever the moment.

Each test stops the run at a named phase through the test-only hook
(``hybridbench.testhooks``), sends its signal while the run is there, and then reads what
the run left behind: the exit code, what it said, and the result file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hybridbench import results, testhooks

HYBRIDBENCH = str(Path(sys.executable).parent / "hybridbench")
WAIT_S = 60.0


class Run:
    """``hybridbench run`` of one small cell, paused at the phases given."""

    def __init__(self, tmp_path: Path, phases: list[str], *options: str) -> None:
        self.output = tmp_path / "out.json"
        self.report = tmp_path / "report.html"
        self.markers = {phase: tmp_path / f"pause-{n}" for n, phase in enumerate(phases)}
        env = {**os.environ,
               testhooks.ENV: json.dumps({p: str(m) for p, m in self.markers.items()})}
        self.process = subprocess.Popen(
            [HYBRIDBENCH, "run", "-w", "echo", "-b", "inproc", "--size", "64B",
             "--duration", "0.2", "--rounds", "1", "--workers", "1",
             "-o", str(self.output), "--report", str(self.report), *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def _until(self, done, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not done():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended before {what}: exit "
                                     f"{self.process.returncode}, stderr {self.stderr}")
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"no {what} within {WAIT_S} s")
            time.sleep(0.01)

    def wait_for(self, phase: str) -> None:
        marker = self.markers[phase]
        self._until(lambda: marker.exists() and marker.read_text(), f"phase {phase!r}")

    def wait_for_stderr(self, text: str) -> None:
        self._until(lambda: any(text in line for line in self.stderr), f"{text!r} on stderr")

    def release(self, phase: str) -> None:
        self.markers[phase].unlink()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self) -> tuple[int, str]:
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        code = self.process.wait(timeout=WAIT_S)
        self._reader.join(timeout=WAIT_S)
        return code, stdout


def _the_measured_cell(path: Path) -> results.Cell:
    loaded = results.load(path)
    assert loaded.config["interrupted"] is True
    [cell] = loaded.cells
    assert cell.status == results.OK
    assert cell.throughput_ops and cell.throughput_ops > 0
    assert cell.samples > 0 and cell.worker_results
    return cell


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_during_cold_start_keeps_the_measured_cell(tmp_path: Path, signum) -> None:
    run = Run(tmp_path, ["cold-start"])
    run.wait_for("cold-start")
    run.signal(signum)
    code, stdout = run.finish()
    assert code == 130, (stdout, run.stderr)
    cell = _the_measured_cell(run.output)
    assert cell.cold_start_s is None
    [reason] = [w.message for w in cell.warnings
                if w.message.startswith("cold start not measured")]
    assert "interrupted" in reason
    assert str(run.output) in stdout.replace("\n", "")


@pytest.mark.slow
def test_a_second_interrupt_while_saving_is_deferred_until_the_file_is_written(
        tmp_path: Path) -> None:
    run = Run(tmp_path, ["cold-start", "write out.json"])
    run.wait_for("cold-start")
    run.signal(signal.SIGINT)  # the first: stop measuring, save what was measured
    run.wait_for("write out.json")
    run.signal(signal.SIGINT)  # the second, while the results file is being written
    run.wait_for_stderr("finishing")
    run.release("write out.json")
    code, stdout = run.finish()
    assert code == 130, (stdout, run.stderr)
    _the_measured_cell(run.output)
    said = stdout.replace("\n", " ")
    assert "saved" in said and str(run.output) in said.replace(" ", "")


@pytest.mark.slow
def test_an_interrupt_while_saving_a_complete_run_keeps_the_file(tmp_path: Path) -> None:
    run = Run(tmp_path, ["write out.json"], "--no-cold-start")
    run.wait_for("write out.json")
    run.signal(signal.SIGTERM)
    run.wait_for_stderr("finishing")
    run.release("write out.json")
    code, stdout = run.finish()
    assert code == 130, (stdout, run.stderr)
    loaded = results.load(run.output)
    assert not loaded.config.get("interrupted")  # every cell was measured in full
    assert [c.status for c in loaded.cells] == [results.OK]
    assert "report was not written" in stdout.replace("\n", " ")
    assert not run.report.exists()
