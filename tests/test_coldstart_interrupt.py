"""Cold start: an interrupt stays an interrupt even when the child is already gone."""

from __future__ import annotations

import os
import subprocess

import pytest

from hybridbench import coldstart


class _ReapedChild:
    """A child that has exited and been reaped by the time the interrupt is handled."""

    pid = 999_999_999
    returncode = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.calls = 0

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.calls += 1
        if self.calls == 1:
            raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, which the CLI turns into it)
        return "", ""


def _no_such_group(pid: int, sig: int) -> None:
    raise ProcessLookupError(3, "No such process")


def test_interrupt_after_the_child_was_reaped_stays_keyboard_interrupt(monkeypatch) -> None:
    monkeypatch.setattr(subprocess, "Popen", _ReapedChild)
    monkeypatch.setattr(os, "killpg", _no_such_group)
    with pytest.raises(KeyboardInterrupt):
        coldstart.measure("inproc", "echo", b"x", {})


def test_timeout_after_the_child_was_reaped_is_reported_as_a_timeout(monkeypatch) -> None:
    class _Late(_ReapedChild):
        def communicate(self, timeout: float | None = None) -> tuple[str, str]:
            self.calls += 1
            if self.calls == 1:
                raise subprocess.TimeoutExpired("python", timeout or 0)
            return "", ""

    monkeypatch.setattr(subprocess, "Popen", _Late)
    monkeypatch.setattr(os, "killpg", _no_such_group)
    with pytest.raises(RuntimeError, match="did not finish within"):
        coldstart.measure("inproc", "echo", b"x", {})
