"""Session-wide set-up of the test suite."""

from __future__ import annotations

import signal

import pytest


def pytest_configure() -> None:
    # A non-interactive shell starts background jobs (`.ci/run &`, `nohup ... &`) with SIGINT
    # ignored, and every child inherits that: the interrupt tests would send a Ctrl-C that no
    # harness hears and fail on a machine where nothing is wrong. A Python handler here
    # becomes the default disposition in each child (exec resets handlers, not SIG_IGN), so
    # the harnesses the tests start get their KeyboardInterrupt as a user's terminal gives it.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that build with cargo in the install's target directory go first. They are the
    # suite's longest (a minute each), and longest-first is what keeps both xdist workers busy
    # to the end: collected last, the wheel's test ran alone for its last minute. They wait
    # first for the lock of `make test`'s cargo test build beside pytest, but that build then
    # has both cores and is done sooner (issue 22). A stable sort keeps the rest in order.
    items.sort(key=lambda item: item.get_closest_marker("cargo_build") is None)
