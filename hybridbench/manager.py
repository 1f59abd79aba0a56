"""The manager side of worker processes (pyperf's manager role): spawn, wait, collect.

Each worker is ``python -m hybridbench.worker SPEC`` in a session of its own (spawned, never
forked: a fork would inherit the harness's heap, which is what workers exist to avoid). A
worker that crashes, hangs past its timeout or writes no result becomes a failure with its
reason; on Ctrl-C (KeyboardInterrupt) or any other exception the worker's whole process group
is killed before the exception goes on. Servers a worker spawned die with it: they watch their
parent (see ``backends/grpc``).

Workers run one after another, never side by side: on a 2-core machine two workers would
measure each other. The exception is a client group (``--processes N``): N workers that
together *are* the load on one backend, started together and timed together (see
``hybridbench.group``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hybridbench import allocators, group

#: a worker gets this long beyond its planned measuring time: interpreter start, imports,
#: payload generation, server spawn and verification (the 5 MB image takes a few seconds)
STARTUP_ALLOWANCE_S = 60.0
#: last characters of a dead worker's stderr kept in the failure message
STDERR_TAIL = 600
#: how often the manager looks at its running workers
POLL_S = 0.01



def worker_timeout(spec: dict[str, Any]) -> float:
    planned = spec["warmup_s"] + spec["rounds"] * spec["round_s"] + spec["breakdown_s"]
    # Open loop may give up late (measure.open_loop: twice the duration plus 5 s per round).
    if spec.get("rate"):
        planned = 3 * planned + 5 * (spec["rounds"] + 1)
    return STARTUP_ALLOWANCE_S + 3 * planned


def run_worker(spec: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
    """Run one worker on ``spec``; its result dict, or ``{"status": "failed", "error": ...}``."""
    return run_workers_together([spec], timeout_s)[0]


def run_workers_together(specs: list[dict[str, Any]], timeout_s: float | None = None
                         ) -> list[dict[str, Any]]:
    """Run one worker per spec at the same time (a client group: ``--processes``); their
    result dicts in order. Workers of a group meet at the start barrier of ``group``; when
    one fails before it, the others are told to give up (the ``abort`` file) instead of
    waiting for it until they time out."""
    timeout_s = worker_timeout(specs[0]) if timeout_s is None else timeout_s
    with tempfile.TemporaryDirectory(prefix="hb-worker-") as tmp:
        started = [_start(spec, Path(tmp) / str(index)) for index, spec in enumerate(specs)]
        try:
            _wait_all(started, timeout_s, Path(tmp))
        except BaseException:
            for child, _ in started:
                _kill(child)  # Ctrl-C: no worker may outlive the harness
            raise
        return [_collect(child, directory, timeout_s) for child, directory in started]


def _start(spec: dict[str, Any], directory: Path) -> tuple[subprocess.Popen[bytes], Path]:
    directory.mkdir()
    spec_path, result_path = directory / "spec.json", directory / "result.json"
    spec_path.write_text(json.dumps({**spec, "result_path": str(result_path)}))
    # The allocator acts only from a process's start (LD_PRELOAD, glibc's MALLOC_*), so it is
    # the worker's environment; the servers it spawns inherit it (allocators.spawn_env).
    env = allocators.child_env(spec["allocator"]) if spec.get("allocator") else None
    # stderr to a file, not a pipe: several workers at once could fill a pipe nobody reads.
    with open(directory / "stderr.txt", "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", "hybridbench.worker", str(spec_path)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, start_new_session=True, env=env)
    return child, directory


def _wait_all(started: list[tuple[subprocess.Popen[bytes], Path]], timeout_s: float,
              tmp: Path) -> None:
    deadline = time.monotonic() + timeout_s
    barrier = _barrier_dir(started)
    while any(child.poll() is None for child, _ in started):
        if barrier and any(_failed_early(child, directory) for child, directory in started):
            (barrier / group.ABORT_FILE).touch()
        if time.monotonic() > deadline:
            for child, directory in started:
                if child.poll() is None:
                    _kill(child)
                    (directory / "timed-out").touch()
            return
        time.sleep(POLL_S)


def _barrier_dir(started: list[tuple[subprocess.Popen[bytes], Path]]) -> Path | None:
    spec = json.loads((started[0][1] / "spec.json").read_text())
    members = spec.get("group")
    return Path(members["barrier"]) if members else None


def _failed_early(child: subprocess.Popen[bytes], directory: Path) -> bool:
    """A group member that ended without a good result: the others cannot meet it."""
    if child.poll() is None:
        return False
    result = directory / "result.json"
    if child.returncode != 0 or not result.is_file():
        return True
    return json.loads(result.read_text()).get("status") != "ok"


def _collect(child: subprocess.Popen[bytes], directory: Path, timeout_s: float
             ) -> dict[str, Any]:
    if (directory / "timed-out").exists():
        return _failure(f"worker timed out after {timeout_s:.0f} s and was killed")
    result_path = directory / "result.json"
    if child.returncode != 0 or not result_path.is_file():
        err = (directory / "stderr.txt").read_text(errors="replace")
        return _failure(f"worker exited with {_exit_reason(child.returncode)}: {_tail(err)}")
    try:
        return dict(json.loads(result_path.read_text()))
    except ValueError as exc:
        return _failure(f"worker wrote an unreadable result: {exc}")


def _kill(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _exit_reason(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"


def _tail(stderr: str | None) -> str:
    text = (stderr or "").strip()
    return text[-STDERR_TAIL:] if text else "no output"


def _failure(reason: str) -> dict[str, Any]:
    return {"status": "failed", "error": reason, "verified": False}
