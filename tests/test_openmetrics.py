"""``--openmetrics``: every cell as OpenMetrics text that Prometheus' own parser reads back
(issue 24, item 3), from the committed main-job results and through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hybridbench import cli, results
from hybridbench.report import model, openmetrics

ROOT = Path(__file__).resolve().parent.parent
MAIN_JOB = ROOT / "reports" / "main-job" / "results.json"
SAMPLE_V1 = Path(__file__).parent / "data" / "sample-results.json"


@pytest.fixture(scope="module")
def main_job() -> results.Results:
    return results.load(MAIN_JOB)


def _families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(text: str, name: str) -> list[object]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == name]


def test_every_cell_parses_with_prometheus_own_parser(main_job: results.Results) -> None:
    text = openmetrics.render_report(model.build([main_job]))
    assert text.endswith("# EOF\n")  # the OpenMetrics terminator
    families = _families(text)
    for name in ("hybridbench_cell", "hybridbench_throughput_calls_per_second",
                 "hybridbench_latency_seconds", "hybridbench_cpu_seconds_per_call",
                 "hybridbench_memory_peak_bytes"):
        assert name in families, name
    info = _samples(text, "hybridbench_cell_info")
    assert len(info) == len(main_job.cells)  # one per cell, measured or not
    ok = [c for c in main_job.cells if c.status == results.OK]
    values = {(s.labels["workload"], s.labels["size"], s.labels["backend"],  # type: ignore[attr-defined]
               s.labels["allocator"]): s.value  # type: ignore[attr-defined]
              for s in _samples(text, "hybridbench_throughput_calls_per_second")
              if s.labels["estimate"] == "value"}  # type: ignore[attr-defined]
    assert len(values) == len(ok)
    for cell in ok:
        assert values[(cell.workload, cell.size, cell.backend, cell.allocator)] == \
            pytest.approx(cell.throughput_ops)


def test_figures_keep_their_cell_labels_and_base_units(main_job: results.Results) -> None:
    text = openmetrics.render_report(model.build([main_job]))
    cell = next(c for c in main_job.cells if c.status == results.OK and c.cpu_s_per_op.get(
        "server") is not None and c.latency_ns)
    labels = {"workload": cell.workload, "size": cell.size, "backend": cell.backend,
              "allocator": cell.allocator or ""}

    def find(name: str, **extra: str) -> float:
        found = [s.value for s in _samples(text, name)  # type: ignore[attr-defined]
                 if {**labels, **extra}.items() <= s.labels.items()]  # type: ignore[attr-defined]
        assert len(found) == 1, (name, extra, found)
        return float(found[0])

    assert cell.latency_ns is not None
    assert find("hybridbench_latency_seconds", quantile="0.99") == pytest.approx(
        cell.latency_ns["p99"] / 1e9)
    assert find("hybridbench_cpu_seconds_per_call", role="server") == pytest.approx(
        cell.cpu_s_per_op["server"])
    assert find("hybridbench_memory_peak_bytes", role="client") == cell.rss_peak_bytes["client"]
    assert find("hybridbench_latency_seconds_count") == cell.samples
    run = next(iter(_samples(text, "hybridbench_cell_info"))).labels["run"]  # type: ignore[attr-defined]
    assert run == main_job.created


def test_a_cell_that_was_not_measured_has_its_status_and_no_figures(
        main_job: results.Results) -> None:
    text = openmetrics.render_report(model.build([main_job]))
    skipped = next(c for c in main_job.cells if c.status != results.OK)
    key = {"workload": skipped.workload, "size": skipped.size, "backend": skipped.backend}
    statuses = [s.labels["status"] for s in _samples(text, "hybridbench_cell_info")  # type: ignore[attr-defined]
                if key.items() <= s.labels.items()]  # type: ignore[attr-defined]
    assert statuses == [skipped.status]
    assert not [s for s in _samples(text, "hybridbench_throughput_calls_per_second")
                if key.items() <= s.labels.items()]  # type: ignore[attr-defined]


def test_two_runs_of_one_moment_stay_two_series(main_job: results.Results) -> None:
    """Same cells in two files (each its own run in the report): the run label tells the
    series apart, so the parser sees no duplicate."""
    text = openmetrics.render_report(model.build([main_job, main_job]))
    runs = {s.labels["run"] for s in _samples(text, "hybridbench_cell_info")}  # type: ignore[attr-defined]
    assert len(runs) == 2


@pytest.mark.slow  # renders the HTML report too (7 s idle)
def test_cli_writes_openmetrics_beside_the_report(tmp_path: Path) -> None:
    out = tmp_path / "metrics.txt"
    code = cli.main(["report", str(SAMPLE_V1), "-o", str(tmp_path / "r.html"),
                     "--openmetrics", str(out)])
    assert code == 0
    families = _families(out.read_text())  # a schema-1 file exports too
    assert "hybridbench_throughput_calls_per_second" in families


def test_wrong_shape_input_is_a_clear_error_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 3, "cells": [{"workload": "echo", "size": "64B", '
                   '"backend": "ffi", "cpu_s_per_op": "fast"}]}')
    out = tmp_path / "metrics.txt"
    code = cli.main(["report", str(bad), "-o", str(tmp_path / "r.html"),
                     "--openmetrics", str(out)])
    captured = capsys.readouterr()
    assert code != 0
    assert "cells[0].cpu_s_per_op: expected an object" in captured.err + captured.out
    assert "Traceback" not in captured.err
    assert not out.exists()
