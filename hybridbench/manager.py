"""The manager side of worker processes (pyperf's manager role): spawn, wait, collect.

Each worker is ``python -m hybridbench.worker SPEC`` in a session of its own (spawned, never
forked: a fork would inherit the harness's heap, which is what workers exist to avoid). A
worker that crashes, hangs past its timeout or writes no result becomes a failure with its
reason; on Ctrl-C (KeyboardInterrupt) or any other exception the worker's whole process group
is killed before the exception goes on. Servers a worker spawned die with it: they watch their
parent (see ``backends/grpc``).

Workers run one after another, never side by side: on a 2-core machine two workers would
measure each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: a worker gets this long beyond its planned measuring time: interpreter start, imports,
#: payload generation, server spawn and verification (the 5 MB image takes a few seconds)
STARTUP_ALLOWANCE_S = 60.0
#: last characters of a dead worker's stderr kept in the failure message
STDERR_TAIL = 600


def worker_timeout(spec: dict[str, Any]) -> float:
    planned = spec["warmup_s"] + spec["rounds"] * spec["round_s"] + spec["breakdown_s"]
    # Open loop may give up late (measure.open_loop: twice the duration plus 5 s per round).
    if spec.get("rate"):
        planned = 3 * planned + 5 * (spec["rounds"] + 1)
    return STARTUP_ALLOWANCE_S + 3 * planned


def run_worker(spec: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
    """Run one worker on ``spec``; its result dict, or ``{"status": "failed", "error": ...}``."""
    timeout_s = worker_timeout(spec) if timeout_s is None else timeout_s
    with tempfile.TemporaryDirectory(prefix="hb-worker-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps({**spec, "result_path": str(result_path)}))
        child = subprocess.Popen([sys.executable, "-m", "hybridbench.worker", str(spec_path)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _, err = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(child)
            return _failure(f"worker timed out after {timeout_s:.0f} s and was killed")
        except BaseException:
            _kill(child)  # Ctrl-C: no worker may outlive the harness
            raise
        if child.returncode != 0 or not result_path.is_file():
            return _failure(f"worker exited with {_exit_reason(child.returncode)}: "
                            f"{_tail(err)}")
        try:
            return dict(json.loads(result_path.read_text()))
        except ValueError as exc:
            return _failure(f"worker wrote an unreadable result: {exc}")


def _kill(child: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate()


def _exit_reason(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"


def _tail(stderr: str | None) -> str:
    text = (stderr or "").strip()
    return text[-STDERR_TAIL:] if text else "no output"


def _failure(reason: str) -> dict[str, Any]:
    return {"status": "failed", "error": reason, "verified": False}
