"""The session's shared inputs and answers (hybridbench.shared_cache): written once, read by
the next process, keyed by where a workload's code lives, and absent outside a test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hybridbench
from hybridbench import shared_cache


class _Counter:
    def __init__(self, value: bytes) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.value


def test_the_first_caller_makes_the_value_and_the_next_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared_cache.ENV, str(tmp_path))
    make = _Counter(b"abc")
    assert shared_cache.load_or_make("input", ("w", "1KB", 0), make) == b"abc"
    assert shared_cache.load_or_make("input", ("w", "1KB", 0), _Counter(b"other")) == b"abc"
    assert shared_cache.load_or_make("input", ("w", "1KB", 1), _Counter(b"seed 1")) == b"seed 1"
    assert make.calls == 1
    assert not list(tmp_path.glob(".*partial"))  # written under a private name, then renamed


def test_without_the_variable_nothing_is_kept(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(shared_cache.ENV, raising=False)
    make = _Counter(b"x")
    shared_cache.load_or_make("input", ("w",), make)
    shared_cache.load_or_make("input", ("w",), make)
    assert make.calls == 2


def test_a_vanished_directory_costs_the_cache_not_the_caller(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared_cache.ENV, str(tmp_path / "gone"))
    assert shared_cache.load_or_make("input", ("w",), _Counter(b"x")) == b"x"


def test_a_workload_is_named_by_its_file_and_class() -> None:
    json_workload = hybridbench.get_workload("json")
    key = shared_cache.workload_fingerprint(json_workload)
    assert "json_orders.py@" in key and key.endswith(":" + type(json_workload).__qualname__)
    assert key != shared_cache.workload_fingerprint(hybridbench.get_workload("text"))


def test_another_process_reads_what_this_one_generated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared_cache.ENV, str(tmp_path))
    from hybridbench.workload import _cached_input

    _cached_input.cache_clear()  # this process's own cache must not answer first
    first = hybridbench.make_input("json", "64KB", 7)
    assert len(list(tmp_path.glob("input-*"))) == 1
    for entry in tmp_path.glob("input-*"):  # what the other process then reads is the file
        entry.write_bytes(b"from the shared file")
    read = subprocess.run(
        [sys.executable, "-c", "import sys, hybridbench; "
         "sys.stdout.buffer.write(hybridbench.make_input('json', '64KB', 7))"],
        capture_output=True, check=True).stdout
    assert read == b"from the shared file" and first != read
