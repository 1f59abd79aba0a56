"""``hybridbench run --input FILE``: the user's own payloads instead of generated ones."""

from __future__ import annotations

import json

import pytest

import hybridbench
from hybridbench import cli
from hybridbench.errors import WorkloadError
from hybridbench.runner import RunConfig, plan


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_each_file_is_a_size_of_its_own(tmp_path):
    (tmp_path / "sub").mkdir()
    a = _write(tmp_path, "small.json", hybridbench.make_input("json", "1KB"))
    b = _write(tmp_path / "sub", "small.json", hybridbench.make_input("json", "64KB"))
    cells = plan(RunConfig(workloads=["json"], backends=["inproc"], inputs=[str(a), str(b)]))
    assert [c.size for c in cells] == ["small.json", "small.json#2"]
    assert [c.input_path for c in cells] == [str(a.resolve()), str(b.resolve())]


def test_a_directory_means_every_file_in_it(tmp_path):
    for i in range(3):
        _write(tmp_path, f"doc{i}.json", hybridbench.make_input("json", "1KB", seed=i))
    cells = plan(RunConfig(workloads=["json"], backends=["inproc", "inproc-pure"],
                           inputs=[str(tmp_path)]))
    assert sorted({c.size for c in cells}) == ["doc0.json", "doc1.json", "doc2.json"]
    assert len(cells) == 6


def test_a_file_the_reference_rejects_is_reported_before_anything_runs(tmp_path):
    bad = _write(tmp_path, "broken.json", b'{"orders": [')
    with pytest.raises(WorkloadError, match=r"broken.json: the json reference rejects it: .*"
                                            r"malformed"):
        plan(RunConfig(workloads=["json"], backends=["inproc"], inputs=[str(bad)]))


def test_missing_files_and_size_conflicts_are_clear(tmp_path):
    with pytest.raises(WorkloadError, match="no such file"):
        plan(RunConfig(workloads=["echo"], inputs=[str(tmp_path / "nope")]))
    with pytest.raises(WorkloadError, match="no files"):
        plan(RunConfig(workloads=["echo"], inputs=[str(tmp_path)]))
    f = _write(tmp_path, "x.bin", b"abc")
    with pytest.raises(WorkloadError, match="exclude each other"):
        plan(RunConfig(workloads=["echo"], sizes="64B", inputs=[str(f)]))


@pytest.mark.slow
def test_run_measures_and_verifies_the_users_file(tmp_path, capsys):
    doc = _write(tmp_path, "orders.json", hybridbench.make_input("json", "64KB", seed=7))
    out = tmp_path / "r.json"
    code = cli.main(["run", "-w", "json", "-b", "inproc,inproc-pure", "--input", str(doc),
                     "--quick", "--no-cold-start", "-o", str(out),
                     "--report", str(tmp_path / "r.html")])
    assert code == 0, capsys.readouterr().out
    cells = json.loads(out.read_text())["cells"]
    assert [(c["size"], c["status"], c["verified"]) for c in cells] == [
        ("orders.json", "ok", True), ("orders.json", "ok", True)]
    assert cells[0]["payload_bytes"] == doc.stat().st_size


def test_cli_reports_a_rejected_file_without_a_traceback(tmp_path, capsys):
    bad = _write(tmp_path, "photo.jpg", b"not a jpeg at all")
    code = cli.main(["run", "-w", "image", "-b", "inproc", "--input", str(bad), "--quick",
                     "-o", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 2 and "photo.jpg: the image reference rejects it" in out
    assert "Traceback" not in out and not (tmp_path / "r.json").exists()
