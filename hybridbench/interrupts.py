"""Ctrl-C and SIGTERM while the harness keeps what it measured.

The first interrupt stops the measuring (the CLI turns SIGTERM into the same
KeyboardInterrupt as Ctrl-C). From then on the run only settles, saves and reports what it
has; a further interrupt must not cut that short and lose the file. ``deferred()`` holds
SIGINT and SIGTERM for a short stretch of work: each one is noted (and said on stderr), none
raises, and the caller decides afterwards what the late interrupt means.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Held:
    """The interrupts that came while deferred, in order."""

    signals: list[signal.Signals] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.signals)


def stopped_by(exc: KeyboardInterrupt) -> str:
    """How the user stopped the run, for messages: SIGTERM is raised with its name."""
    return f"by {exc.args[0]}" if exc.args else "by Ctrl-C"


@contextmanager
def deferred(doing: str) -> Iterator[Held]:
    """Hold SIGINT and SIGTERM until the block ends, saying on stderr ``doing`` goes on.

    Only the main thread can set signal handlers; elsewhere (the API called from a thread)
    the block runs as it is and signals reach that program's own handlers.
    """
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        held.signals.append(signal.Signals(signum))
        # os.write, not print: the handler may run in the middle of a write to sys.stderr
        os.write(2, f"{signal.Signals(signum).name} received: {doing}\n".encode())

    previous = {signum: signal.signal(signum, hold) for signum in SIGNALS}
    try:
        yield held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
