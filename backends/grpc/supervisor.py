"""Spawned gRPC servers: start, wait for the address, stop, and make sure none outlives the
harness.

Each server runs in its own session/process group with the parent's PID (``--parent-pid``),
sets ``PR_SET_PDEATHSIG`` itself and polls ``getppid()``; ``stop()`` (also run by ``atexit``
and the client's weakref finalizer) sends SIGTERM, waits 3 s, then SIGKILLs the group. Socket
directories of harnesses that died without cleaning up are swept on the next spawn.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from hybridbench import allocators
from hybridbench.errors import BackendError

STOP_GRACE_S = 3.0
STDERR_TAIL = 2000
#: private directories of spawned servers: TMP_PREFIX + "<harness pid>-<backend>-<random>"
TMP_PREFIX = "hybridbench-srv-"


_LIVE: set[Server] = set()
_LIVE_LOCK = threading.Lock()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Server:
    """One spawned server process, its private directory and its stderr log."""

    def __init__(self, command: list[str], tmpdir: str, stderr_path: Path) -> None:
        self.tmpdir = tmpdir
        self.stderr_path = stderr_path
        self.command = command
        with open(stderr_path, "wb") as err:
            # under the allocator this process was started for (None: inherit, unchanged)
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True, close_fds=True, env=allocators.spawn_env())
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self) -> str:
        try:
            data = self.stderr_path.read_bytes()[-STDERR_TAIL:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()

    def exit_status(self, wait_s: float = 0.0) -> int | None:
        try:
            return self.proc.wait(wait_s) if wait_s else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def wait_listening(self, deadline: float) -> str:
        """Read the ``listening on ADDR`` line; return ADDR."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.failure("did not report its address within the startup timeout")
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:  # stdout closed: the process exited
                    self.exit_status(1.0)
                    raise self.failure("exited before listening")
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            raise self.failure(f"printed {line!r} instead of 'listening on ADDR'")
        return line[len(prefix):]

    def failure(self, what: str) -> BackendError:
        status = self.exit_status()
        state = f"; {_describe_exit(status)}" if status is not None else ""
        tail = self.stderr_tail()
        return BackendError(f"server {self.command[0]} (pid {self.pid}) {what}{state}"
                            + (f"; stderr:\n{tail}" if tail else ""))

    def stop(self) -> None:
        """SIGTERM, wait up to STOP_GRACE_S, then SIGKILL the process group. Never raises."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(STOP_GRACE_S)
            if self.proc.poll() is None:
                # still not reaped, so its process group id cannot have been reused
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(STOP_GRACE_S)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        except Exception:
            pass
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            with _LIVE_LOCK:
                _LIVE.discard(self)


@atexit.register
def _stop_all_servers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.stop()


def sweep_stale_dirs() -> None:
    """Remove the socket directories of harness processes that died without cleaning up
    (SIGKILL): their servers exit by themselves, their directories stay behind."""
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{TMP_PREFIX}*"))
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
            continue  # its owner (or a process with its pid) is alive: leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        if entry.is_dir() and entry.stat().st_uid == os.getuid():
            shutil.rmtree(entry, ignore_errors=True)


def spawn(command: list[str], label: str, listen_kind: str, deadline: float,
          workers: int | None = None) -> tuple[Server, str]:
    """Start ``command`` (a server taking ``--listen`` etc.) on a private Unix socket or a free
    loopback port; return it and the address it reported once listening."""
    sweep_stale_dirs()
    tmpdir = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{label}-")
    listen = f"unix:{tmpdir}/server.sock" if listen_kind == "unix" else "127.0.0.1:0"
    command = [*command, "--listen", listen, "--parent-pid", str(os.getpid())]
    if workers:
        command += ["--workers", str(int(workers))]
    if threading.current_thread() is not threading.main_thread():
        # the death signal follows the parent *thread*: the getppid watchdog still runs
        command.append("--no-death-signal")
    try:
        server = Server(command, tmpdir, Path(tmpdir) / "stderr.log")
    except OSError as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise BackendError(f"cannot start {command[0]}: {exc}") from None
    try:
        return server, server.wait_listening(deadline)
    except BaseException:
        server.stop()
        raise
