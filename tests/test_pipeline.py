"""``hybridbench.pipeline``: the Python API writes what ``hybridbench run`` writes."""

from __future__ import annotations

import json
from pathlib import Path

from hybridbench import pipeline, results, run_index, runner
from hybridbench.report import exports


def _config() -> runner.RunConfig:
    return runner.RunConfig(workloads=["echo"], backends=["inproc"], sizes={"echo": "64B"},
                            duration_s=0.2, rounds=2, warmup_s=0.02, workers=1,
                            breakdown_s=0.02, cold_start=False)


def test_the_api_run_writes_results_report_exports_and_index(tmp_path: Path) -> None:
    markdown = next(f for f in exports.FORMATS if f.option == "--markdown")
    output, report = tmp_path / "results" / "run.json", tmp_path / "reports" / "run.html"
    done, published = pipeline.run(_config(), output, report,
                                   exports=[(markdown, tmp_path / "summary.md")])
    assert published.stopped == pipeline.NOT_STOPPED
    assert [c.status for c in done.cells] == [results.OK]
    saved = json.loads(output.read_text())
    assert [c["backend"] for c in saved["cells"]] == ["inproc"]
    assert "<table" in report.read_text()
    assert published.exported == [f"markdown: {tmp_path / 'summary.md'}"]
    assert "echo" in (tmp_path / "summary.md").read_text()
    assert published.index == report.parent / run_index.INDEX_NAME
    assert "run.html" in published.index.read_text()


def test_publish_without_exports_leaves_no_other_files(tmp_path: Path) -> None:
    done = runner.run(_config())
    output, report = tmp_path / "out.json", tmp_path / "elsewhere" / "report.html"
    published = pipeline.publish(done, output, report)
    assert published.model is not None and published.exported == []
    assert output.is_file() and report.is_file()
    assert {p.suffix for p in tmp_path.rglob("*") if p.is_file()} <= {".json", ".html", ".lock"}
