"""Result files: round trip, schema check, and atomic writes that survive interruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hybridbench import results
from hybridbench.results import Cell, Results


def _sample() -> Results:
    cell = Cell(workload="json", size="1KB", backend="inproc", verified=True, samples=12_000,
                throughput_ops=1234.5, throughput_ci95=[1200.0, 1250.0],
                latency_ns={"p50": 800.0, "p90": 900.0, "p99": 1500.0, "p999": 4000.0,
                            "max": 9000.0, "mean": float("nan")},
                rss_peak_bytes={"client": 100, "server": None},
                rounds=[{"ops": 10, "duration_s": 0.1, "throughput": 100.0}])
    return Results(env={"python": "3.11"}, cells=[cell], warnings=["w"])


def test_round_trip(tmp_path: Path) -> None:
    path = results.save(_sample(), tmp_path / "r.json")
    loaded = results.load(path)
    assert loaded.cells[0].throughput_ops == 1234.5
    assert loaded.cells[0].latency_ns["mean"] is None  # NaN is written as null
    assert loaded.cells[0].key == _sample().cells[0].key
    assert loaded.schema == results.SCHEMA
    assert loaded.warnings == [results.Notice(results.Kind.NOTE, "w")]  # free text: a note


def test_unknown_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"schema": 999, "cells": []}')
    with pytest.raises(ValueError, match="schema 999"):
        results.load(path)


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    path = results.save(_sample(), tmp_path / "r.json")
    before = path.read_bytes()

    def explode(*args: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C between writing and renaming

    monkeypatch.setattr(os, "replace", explode)
    with pytest.raises(KeyboardInterrupt):
        results.write_atomic(path, b"{ half")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_process_killed_mid_write_leaves_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b'{"old": true}')
    # A child writes 200 MB slowly through write_atomic; we SIGKILL it halfway through.
    script = textwrap.dedent(f"""
        import os, time
        from hybridbench import results
        real_fdopen = os.fdopen
        def slow_fdopen(fd, mode):
            handle = real_fdopen(fd, mode)
            write = handle.write
            def slow_write(data):
                print("writing", flush=True)
                for i in range(0, len(data), 1 << 20):
                    write(data[i:i + (1 << 20)])
                    time.sleep(0.01)
            handle.write = slow_write
            return handle
        os.fdopen = slow_fdopen
        results.write_atomic({str(path)!r}, b"y" * (200 << 20))
    """)

    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"writing"
    time.sleep(0.3)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert path.read_bytes() == b'{"old": true}'


def test_schema_1_files_are_read_and_labelled() -> None:
    sample = Path(__file__).parent / "data" / "sample-results.json"
    loaded = results.load(sample)
    assert loaded.schema == 1
    ok = [c for c in loaded.cells if c.status == results.OK]
    assert ok and all(c.interval_method == results.SCHEMA_1_INTERVAL for c in ok)
    assert all(c.workers == 1 and c.kernel_ns is None for c in ok)


def test_schema_2_fields_round_trip(tmp_path: Path) -> None:
    sample = _sample()
    cell = sample.cells[0]
    cell.workers, cell.interval_method = 3, "student-t over worker-process means"
    cell.throughput_pi95 = [1100.0, 1300.0]
    cell.kernel_ns = {"p50": 500.0}
    cell.time_split = {"kernel_ns": 500.0, "crossing_ns": None, "calls": 10}
    cell.cpu_affinity = {"client": [0], "server": {"server": [1]}, "shared": False}
    loaded = results.load(results.save(sample, tmp_path / "r.json")).cells[0]
    assert loaded.workers == 3 and loaded.throughput_pi95 == [1100.0, 1300.0]
    assert loaded.time_split == cell.time_split and loaded.cpu_affinity == cell.cpu_affinity
    assert loaded.interval_method == cell.interval_method


@pytest.mark.parametrize(("content", "what"), [
    (b"[1, 2]", "expected a JSON object with schema and cells, got list"),
    (b'{"schema": 1}', "top level: no 'cells'"),
    (b'{"schema": true, "cells": []}', "schema True"),
    (b'{"schema": 2, "cells": {}}', "cells: expected a list"),
    (b'{"schema": 2, "cells": [7]}', "cells[0]: expected a JSON object, got 7"),
    (b'{"schema": 2, "cells": [{"workload": 1}]}', "cells[0]: no 'size', 'backend'"),
    (b'{"schema": 2, "cells": [{"workload": 1, "size": "s", "backend": "b"}]}',
     "cells[0].workload: expected a string, got 1"),
    (b'{"schema": 2, "cells": [{"workload": "w", "size": "s", "backend": "b", '
     b'"latency_ns": {"p50": "fast"}}]}',
     "cells[0].latency_ns: expected an object or null, got {'p50': 'fast'}"),
    (b'{"schema": 2, "env": [], "cells": []}', "env: expected an object"),
    (b"not json", "not a hybridbench result file"),
    (b"", "not a hybridbench result file"),
])
def test_wrong_shape_is_refused_naming_file_and_field(tmp_path: Path, content: bytes,
                                                      what: str) -> None:
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    with pytest.raises(results.ResultFileError) as caught:
        results.load(path)
    assert str(path) in str(caught.value) and what in str(caught.value)


def test_nulls_where_numbers_were_nan_and_unknown_keys_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b'{"schema": 2, "future": 1, "cells": [{"workload": "w", "size": "s", '
                     b'"backend": "b", "throughput_ops": null, "latency_ns": {"mean": null}, '
                     b'"new_field": [1]}]}')
    cell = results.load(path).cells[0]
    assert cell.throughput_ops is None and cell.latency_ns == {"mean": None}


def test_failed_write_names_the_target_not_the_temporary_file(tmp_path: Path,
                                                              monkeypatch) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    target = tmp_path / "r.json"
    with pytest.raises(OSError) as caught:
        results.save(_sample(), target)
    assert str(target) in str(caught.value) and "No space left" in str(caught.value)
    assert ".tmp" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []
