"""Session-wide set-up of the test suite."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import tempfile
from collections.abc import Iterator

import pytest

from hybridbench import shared_cache

#: a test's CPU seconds in its JUnit record (a ``property``): this process's and those of the
#: processes it started and waited for (a server a session fixture keeps is counted at that
#: fixture's teardown), from its setup to its teardown. `make test` is bound by CPU on 2 cores
#: (issue 22), so `.ci/run`'s table ranks the test files by CPU beside their time
#: (scripts/stages.py)
CPU_PROPERTY = "cpu_s"
_CPU_AT_SETUP = pytest.StashKey[float]()


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


def _cpu_seconds() -> float:
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_CPU_AT_SETUP] = _cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    # after the teardown, before its report: JUnit takes the properties from that report
    if _CPU_AT_SETUP in item.stash:
        item.user_properties.append(
            (CPU_PROPERTY, f"{_cpu_seconds() - item.stash[_CPU_AT_SETUP]:.3f}"))
