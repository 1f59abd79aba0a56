"""Session-wide set-up of the test suite."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile

import pytest

from hybridbench import shared_cache


def pytest_configure(config: pytest.Config) -> None:
    # A non-interactive shell starts background jobs (`.ci/run &`, `nohup ... &`) with SIGINT
    # ignored, and every child inherits that: the interrupt tests would send a Ctrl-C that no
    # harness hears and fail on a machine where nothing is wrong. A Python handler here
    # becomes the default disposition in each child (exec resets handlers, not SIG_IGN), so
    # the harnesses the tests start get their KeyboardInterrupt as a user's terminal gives it.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    _share_inputs(config)


def _share_inputs(config: pytest.Config) -> None:
    """One directory of generated inputs and reference answers for the whole session: the
    xdist workers and every harness process a test starts inherit it (hybridbench.shared_cache).
    Made by the process that starts the workers (they have ``workerinput``), removed at its end;
    a directory already given by the caller is used and left alone."""
    if hasattr(config, "workerinput") or os.environ.get(shared_cache.ENV):
        return
    directory = tempfile.mkdtemp(prefix="hybridbench-test-cache-")
    os.environ[shared_cache.ENV] = directory
    config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
