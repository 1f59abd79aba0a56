"""Interleaved rounds: the workers of one table alive together, timing their rounds in turns.

Why: on a shared machine the speed available to a process drifts over seconds (measured on
this 2-core VM, idle: a whole pass of the json table ran 15-20% slower than the passes before
and after it, and one worker's rounds moved 5% between each other). When each backend's
worker runs its ~1 s alone, one after another, such a drift lands on some backends of a pass
and not on others, and the pass's ratio carries it. With turns, the table's workers start one
at a time (each alone through its start-up, verification and warm-up), park, and then time
their rounds in turn: round 1 of every backend, then round 2 of every backend, and so on, so
a backend's round r and its baseline's round r ran within a fraction of a second of each
other. Duet benchmarking (Bulej et al., ICPE 2020) and randomized multiple interleaved trials
(Abedi & Brecht, ICPE 2017) pair trials the same way; here the machine has two cores, so the
turns are taken one at a time rather than side by side.

The order within a round rotates by one each round, so no backend always follows the same
one. A parked worker blocks on a pipe read (no CPU), and takes a short untimed re-warm at
the start of each turn (``REWARM_FRACTION`` of a round), since the workers before it evicted
its caches. After the last round the workers run their breakdown phase in turn too, so that
no two ever measure at once.

The protocol is one line per message over two pipes per worker, passed as file descriptors
(``spec["turns"]``): the worker says ``ready`` when parked and ``done`` after each turn; the
manager says ``go`` for each turn (the rounds, then the breakdown).
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from dataclasses import dataclass, field
from typing import Any

from hybridbench.errors import BackendError

#: the untimed re-warm at the start of each turn, as a fraction of the round's duration
REWARM_FRACTION = 0.1
READY, DONE, GO = b"ready", b"done", b"go"


class Turns:
    """The worker's side: a no-op when the worker runs alone (no ``turns`` in its spec)."""

    def __init__(self, read_fd: int | None = None, write_fd: int | None = None) -> None:
        self._read_fd, self._write_fd = read_fd, write_fd
        self._pending = b""

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Turns:
        fds = spec.get("turns")
        return cls(int(fds["read_fd"]), int(fds["write_fd"])) if fds else cls()

    @property
    def taken(self) -> bool:
        """True when this worker times its rounds in turns with others."""
        return self._read_fd is not None

    def park(self) -> None:
        """Say that set-up and warm-up are over."""
        self._say(READY)

    def await_turn(self) -> None:
        """Block until the manager gives this worker its next turn."""
        if self._read_fd is None:
            return
        while b"\n" not in self._pending:
            chunk = os.read(self._read_fd, 64)
            if not chunk:
                raise BackendError("the harness ended the interleaved pass before this "
                                   "worker's turn")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        if line != GO:
            raise BackendError(f"unexpected message from the harness: {line!r}")

    def end_turn(self) -> None:
        self._say(DONE)

    def _say(self, message: bytes) -> None:
        if self._write_fd is not None:
            os.write(self._write_fd, message + b"\n")


@dataclass
class Member:
    """The manager's side of one worker taking turns."""

    read_fd: int
    write_fd: int
    alive: bool = True
    why_not: str | None = None
    _pending: bytes = field(default=b"", repr=False)
    _closed: bool = field(default=False, repr=False)

    def give_turn(self) -> None:
        try:
            os.write(self.write_fd, GO + b"\n")
        except (BrokenPipeError, OSError):
            self.alive = False

    def await_message(self, expected: bytes, timeout_s: float) -> bool:
        """Wait for ``expected``; False (and the member dead) on EOF, anything else, or a
        timeout (``why_not`` then says so, for the manager to kill it)."""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                self.alive, self.why_not = False, "timed out"
                return False
            chunk = os.read(self.read_fd, 64)
            if not chunk:
                self.alive = False  # the worker ended: its result file says why
                return False
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        self.alive = line == expected
        return self.alive

    def close(self) -> None:
        """Close both pipes, once (a second close could hit a descriptor reused since)."""
        if self._closed:
            return
        self._closed = True
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def round_order(members: int, round_index: int) -> list[int]:
    """The members' order in one round: the pass's order, rotated by one each round."""
    shift = round_index % members if members else 0
    return list(range(shift, members)) + list(range(shift))
