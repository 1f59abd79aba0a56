"""Session-wide set-up of the test suite."""

from __future__ import annotations

import signal


def pytest_configure() -> None:
    # A non-interactive shell starts background jobs (`.ci/run &`, `nohup ... &`) with SIGINT
    # ignored, and every child inherits that: the interrupt tests would send a Ctrl-C that no
    # harness hears and fail on a machine where nothing is wrong. A Python handler here
    # becomes the default disposition in each child (exec resets handlers, not SIG_IGN), so
    # the harnesses the tests start get their KeyboardInterrupt as a user's terminal gives it.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

