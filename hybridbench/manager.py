"""The manager side of worker processes (pyperf's manager role): spawn, wait, collect.

Each worker is ``python -m hybridbench.worker SPEC`` in a session of its own (spawned, never
forked: a fork would inherit the harness's heap, which is what workers exist to avoid). A
worker that crashes, hangs past its timeout or writes no result becomes a failure with its
reason; on Ctrl-C (KeyboardInterrupt) or any other exception the worker's whole process group
is killed before the exception goes on. Servers a worker spawned die with it: they watch their
parent (see ``backends/grpc``).

Workers measure one after another, never side by side: on a 2-core machine two workers would
measure each other. ``run_in_turns`` keeps the workers of one table alive together and gives
them their rounds in turn (``hybridbench.turns``): still one measuring at a time. The
exception is a client group (``--processes N``): N workers that together *are* the load on
one backend, started together and timed together (see ``hybridbench.group``).
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

from hybridbench import allocators, group, turns

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


def run_in_turns(specs: list[dict[str, Any]], timeout_s: float | None = None
                 ) -> list[dict[str, Any]]:
    """Run the workers of one table taking turns (``hybridbench.turns``): each started alone
    and parked after its warm-up, then round by round one turn each (the order rotating),
    then each one's breakdown in turn. Their result dicts in order; a worker that fails, dies
    or overruns the timeout in any one step drops out (killed at once if still running) and
    the others go on."""
    limit = worker_timeout(specs[0]) if timeout_s is None else timeout_s
    with tempfile.TemporaryDirectory(prefix="hb-turns-") as tmp:
        started: list[tuple[subprocess.Popen[bytes], Path]] = []
        members: list[turns.Member] = []
        try:
            for index, spec in enumerate(specs):
                members.append(_start_member(spec, Path(tmp) / str(index), started))
                _await(started[-1], members[-1], turns.READY, limit)
            for round_index in range(specs[0]["rounds"]):
                for position in turns.round_order(len(members), round_index):
                    _take_turn(started[position], members[position], turns.DONE, limit)
            for worker, member in zip(started, members, strict=True):
                _take_turn(worker, member, None, limit)  # its breakdown, then its result
                _end(worker, member, limit)
        except BaseException:
            for child, _ in started:
                _kill(child)  # Ctrl-C: no worker may outlive the harness
            raise
        finally:
            for member in members:
                member.close()
        return [_collect(child, directory, limit) for child, directory in started]


def _start_member(spec: dict[str, Any], directory: Path,
                  started: list[tuple[subprocess.Popen[bytes], Path]]) -> turns.Member:
    """Start one worker with its two pipes: the manager's ``go``, the worker's replies."""
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    fds = {"read_fd": to_worker_r, "write_fd": from_worker_w}
    try:
        started.append(_start({**spec, "turns": fds}, directory, (to_worker_r, from_worker_w)))
    finally:
        os.close(to_worker_r)  # the child has its copies
        os.close(from_worker_w)
    return turns.Member(read_fd=from_worker_r, write_fd=to_worker_w)


def _take_turn(worker: tuple[subprocess.Popen[bytes], Path], member: turns.Member,
               reply: bytes | None, timeout_s: float) -> None:
    if member.alive:
        member.give_turn()
        if reply is not None:
            _await(worker, member, reply, timeout_s)


def _await(worker: tuple[subprocess.Popen[bytes], Path], member: turns.Member,
           message: bytes, timeout_s: float) -> None:
    """Wait for the worker's ``message``; one that overran is killed now, so that it never
    runs beside the others' turns."""
    if member.alive and not member.await_message(message, timeout_s) and member.why_not:
        _kill_timed_out(worker)


def _end(worker: tuple[subprocess.Popen[bytes], Path], member: turns.Member,
         timeout_s: float) -> None:
    """Wait for a worker to exit after its last turn; kill it past the timeout. One that
    dropped out is told by the end of its pipe (it then writes why and exits)."""
    child = worker[0]
    if not member.alive:
        member.close()
    try:
        child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_timed_out(worker)


def _kill_timed_out(worker: tuple[subprocess.Popen[bytes], Path]) -> None:
    child, directory = worker
    if child.poll() is None:
        _kill(child)
        (directory / "timed-out").touch()


def _start(spec: dict[str, Any], directory: Path, pass_fds: tuple[int, ...] = ()
           ) -> tuple[subprocess.Popen[bytes], Path]:
    directory.mkdir()
    spec_path, result_path = directory / "spec.json", directory / "result.json"
    spec_path.write_text(json.dumps({**spec, "result_path": str(result_path)}))
    # The allocator acts only from a process's start (LD_PRELOAD, glibc's MALLOC_*), so it is
    # the worker's environment; the servers it spawns inherit it (allocators.spawn_env).
    env = allocators.child_env(spec["allocator"]) if spec.get("allocator") else None
    if spec.get("python_path"):  # a plug-in install of the worker's own (hybridbench ab)
        env = dict(env if env is not None else os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [*spec["python_path"], *filter(None, [env.get("PYTHONPATH")])])
    # stderr to a file, not a pipe: several workers at once could fill a pipe nobody reads.
    with open(directory / "stderr.txt", "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", "hybridbench.worker", str(spec_path)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, start_new_session=True, env=env,
                                 pass_fds=pass_fds)
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
