"""Runs never destroy each other: each keeps its own report, the index lists them all, and
only a complete run is ever shown as the latest; plain progress lines off a terminal."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest

from hybridbench import cli, progress, run_index
from hybridbench.errors import HybridbenchError
from hybridbench.report import index as index_page
from hybridbench.results import OK, Cell, Results
from hybridbench.run_index import COMPLETE, EMPTY, PARTIAL, QUICK


def _results(created: str, *, status: str = OK, interrupted: bool = False, quick: bool = False,
             workload: str = "echo") -> Results:
    config = {"duration_s": 3.0, "workers": 3, "quick_run": quick}
    if interrupted:
        config["interrupted"] = True
    cells = [Cell(workload=workload, size="64B", backend="inproc", status=status),
             Cell(workload=workload, size="64B", backend="ffi", status="unsupported")]
    return Results(env={"git_commit": "0123456789abcdef"}, cells=cells, config=config,
                   created=created)


def _add(reports: Path, name: str, done: Results) -> Path | None:
    """What ``hybridbench run`` does after measuring: its report, then the index."""
    report = reports / f"{name}.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"<html>report {name}</html>")
    return run_index.record(done, reports.parent / "results" / f"{name}.json", report,
                            index_page.render)


def _latest_link(page: str) -> str | None:
    found = re.search(r'Latest complete report: <a href="([^"]+)"', page)
    return found.group(1) if found else None


def _listed(page: str) -> list[str]:
    """Report links of the table, in page order."""
    body = page.split("<tbody>", 1)[1]
    return re.findall(r'<td><a href="([^"]+\.html)"', body)


def test_states() -> None:
    assert run_index.state_of(_results("2026-01-01T00:00:00+00:00")) == COMPLETE
    assert run_index.state_of(_results("x", quick=True)) == QUICK
    assert run_index.state_of(_results("x", interrupted=True)) == PARTIAL
    assert run_index.state_of(_results("x", status="failed")) == EMPTY


def test_every_run_is_listed_newest_first(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _add(reports, "run-a", _results("2026-01-01T10:00:00+00:00"))
    page = _add(reports, "run-b", _results("2026-01-02T10:00:00+00:00", workload="json"))
    text = page.read_text()
    assert _listed(text) == ["run-b.html", "run-a.html"]
    assert _latest_link(text) == "run-b.html"
    assert (reports / "run-a.html").read_text() == "<html>report run-a</html>"  # untouched
    assert "2026-01-02 10:00 UTC" in text and "1 / 2" in text and "1 unsupported" in text
    assert 'href="../results/run-b.json"' in text and "0123456789" in text
    assert run_index.MARKER in text and "<script" not in text


@pytest.mark.parametrize("spoiler", [
    {"interrupted": True}, {"status": "failed"}, {"quick": True}])
def test_a_partial_empty_or_quick_run_never_becomes_the_latest(
        tmp_path: Path, spoiler: dict) -> None:
    reports = tmp_path / "reports"
    _add(reports, "run-good", _results("2026-01-01T10:00:00+00:00"))
    page = _add(reports, "run-newer", _results("2026-01-01T11:00:00+00:00", **spoiler))
    text = page.read_text()
    assert _latest_link(text) == "run-good.html"
    assert _listed(text) == ["run-newer.html", "run-good.html"]
    state = run_index.state_of(_results("x", **spoiler))
    assert "The newest run" in text and f'class="state {state}">{state}</span>' in text
    assert "not taken as the latest complete report" in text


def test_no_complete_run_says_so(tmp_path: Path) -> None:
    page = _add(tmp_path / "reports", "run-x",
                _results("2026-01-01T10:00:00+00:00", interrupted=True))
    text = page.read_text()
    assert "No complete run yet" in text and _latest_link(text) is None
    assert _listed(text) == ["run-x.html"]


def test_an_earlier_single_report_is_kept_and_listed(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    earlier = "<html><title>hybridbench report</title>an earlier version's report</html>"
    (reports / "index.html").write_text(earlier)
    page = _add(reports, "run-a", _results("2030-01-01T10:00:00+00:00"))
    kept = reports / run_index.LEGACY_NAME
    assert kept.read_text() == earlier
    assert _listed(page.read_text()) == ["run-a.html", run_index.LEGACY_NAME]
    _add(reports, "run-b", _results("2030-01-02T10:00:00+00:00"))  # the index is not legacy
    assert not (reports / "report-before-run-index-2.html").exists()


def test_someone_elses_index_page_is_left_alone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html>my home page</html>")
    assert _add(site, "run-a", _results("2026-01-01T10:00:00+00:00")) is None
    assert (site / "index.html").read_text() == "<html>my home page</html>"
    assert not (site / run_index.RECORD_NAME).exists()
    assert (site / "run-a.html").is_file()  # the run's own report is written all the same


def test_a_deleted_report_leaves_the_index(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _add(reports, "run-a", _results("2026-01-01T10:00:00+00:00"))
    (reports / "run-a.html").unlink()
    page = _add(reports, "run-b", _results("2026-01-02T10:00:00+00:00"))
    assert _listed(page.read_text()) == ["run-b.html"]
    assert [e.report for e in run_index.load_entries(reports)] == ["run-b.html"]


def test_the_same_report_path_is_listed_once(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _add(reports, "mine", _results("2026-01-01T10:00:00+00:00"))
    page = _add(reports, "mine", _results("2026-01-02T10:00:00+00:00"))
    assert _listed(page.read_text()) == ["mine.html"]


def test_runs_finishing_together_are_all_listed(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    threads = [threading.Thread(target=_add, args=(
        reports, f"run-{n}", _results(f"2026-01-01T10:{n:02d}:00+00:00"))) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(run_index.load_entries(reports)) == 12


def test_names_in_the_index_are_escaped(tmp_path: Path) -> None:
    page = _add(tmp_path / "reports", "run-a",
                _results("2026-01-01T10:00:00+00:00", workload="<b>x</b>"))
    assert "&lt;b&gt;x&lt;/b&gt;" in page.read_text()


def test_a_damaged_record_is_named(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / run_index.RECORD_NAME).write_text("{not json")
    with pytest.raises(HybridbenchError, match=r"runs\.json"):
        _add(reports, "run-a", _results("2026-01-01T10:00:00+00:00"))


def test_default_paths_pair_results_and_report(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    now = dt.datetime(2026, 11, 27, 14, 0, 5)
    output, report = run_index.run_paths(None, None, now)
    assert (output, report) == (Path("results/run-20261127-140005.json"),
                                Path("reports/run-20261127-140005.html"))
    output.parent.mkdir()
    output.write_text("{}")  # a run started in the same second
    assert run_index.run_paths(None, None, now)[0] == Path("results/run-20261127-140005-2.json")
    assert run_index.run_paths(Path("results/ffi.json"), None) == (
        Path("results/ffi.json"), Path("reports/ffi.html"))
    assert run_index.run_paths(None, Path("out/x.html"), now)[1] == Path("out/x.html")


def test_a_report_may_not_take_the_index_place(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _add(reports, "run-a", _results("2026-01-01T10:00:00+00:00"))
    with pytest.raises(HybridbenchError, match="run index"):
        run_index.check_report_path(reports / "index.html", "--report")
    run_index.check_report_path(tmp_path / "elsewhere" / "index.html", "--report")
    assert not run_index.indexed(tmp_path / "elsewhere" / "index.html")


# -- the command, measuring for real ------------------------------------------------------------

TINY_RUN = ["run", "-w", "echo", "-b", "inproc", "--size", "64B", "--duration", "0.2",
            "--rounds", "1", "--workers", "2", "--no-cold-start"]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's handlers
    return tmp_path


@pytest.mark.slow
def test_run_after_run_keeps_both_reports_and_an_interrupt_displaces_neither(
        in_tmp: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*TINY_RUN, "-o", "results/first.json"]) == 0
    assert cli.main([*TINY_RUN, "-o", "results/second.json"]) == 0
    capsys.readouterr()
    first, second = in_tmp / "reports/first.html", in_tmp / "reports/second.html"
    first_page = first.read_bytes()

    def interrupt(self: progress.RunProgress, index: int, total: int, plan: object) -> None:
        if index == total - 1:
            raise KeyboardInterrupt  # Ctrl-C before the last worker

    monkeypatch.setattr(progress.LineProgress, "slot", interrupt)
    assert cli.main([*TINY_RUN, "-o", "results/third.json"]) == 130
    said = capsys.readouterr().out
    assert "listed there as partial" in said
    assert first.read_bytes() == first_page and second.is_file()
    page = (in_tmp / "reports/index.html").read_text()
    assert _listed(page) == ["third.html", "second.html", "first.html"]
    assert _latest_link(page) == "second.html"


def test_a_report_named_index_keeps_the_single_report_behaviour(in_tmp: Path) -> None:
    assert cli.main([*TINY_RUN, "-o", "r.json", "--report", "out/index.html"]) == 0
    assert "<table>" in (in_tmp / "out/index.html").read_text()
    assert not (in_tmp / "out" / run_index.RECORD_NAME).exists()


@pytest.mark.slow
def test_report_command_refuses_to_overwrite_the_index(in_tmp: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*TINY_RUN, "-o", "results/a.json"]) == 0
    assert cli.main(["report", "results/a.json", "-o", "reports/index.html"]) == 2
    assert "run index" in capsys.readouterr().out
    assert cli.main(["report", "results/a.json"]) == 0  # default: reports/report.html
    assert (in_tmp / "reports/report.html").is_file()
    assert run_index.MARKER in (in_tmp / "reports/index.html").read_text()


@pytest.mark.slow
def test_progress_lines_when_stdout_is_not_a_terminal(in_tmp: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "-w", "echo,image", "-b", "inproc,inproc-pure", "--size",
                     "echo=64B,image=small", "--duration", "0.2", "--rounds", "1",
                     "--workers", "2", "--no-cold-start"]) == 0
    lines = capsys.readouterr().out.splitlines()
    stamp = r"\[\d+:\d\d\] "
    assert re.fullmatch(stamp + r"4 cells x 2 worker processes: preparing .*", lines[0])
    started = [ln for ln in lines if ln.endswith("started")]
    ended = [ln for ln in lines if re.search(r"worker \d/2 ok in \d+\.\d s$", ln)]
    assert len(started) == len(ended) == 6  # 3 runnable cells x 2 workers
    # a table's backends run in a shuffled order per pass (paired ratios): either comes first
    assert re.fullmatch(stamp + r"1/8 echo/64B on inproc(-pure)? c=1: worker 1/2 started",
                        started[0])
    # the last worker to run is inproc's on image (inproc-pure's slot there gets no worker)
    assert re.fullmatch(stamp + r"[78]/8 image/small on inproc c=1: worker 2/2 ok in .*",
                        ended[-1])
    unsupported = [ln for ln in lines if "image/small on inproc-pure c=1: unsupported:" in ln]
    assert len(unsupported) == 1 and "JPEG" in unsupported[0]
    assert any(re.fullmatch(stamp + "all workers done: merging cells", ln) for ln in lines)
    done = [ln for ln in lines if re.match(stamp + "done ", ln)]
    assert len(done) == 4 and any("echo/64B on inproc c=1: ok, " in ln for ln in done)
    assert not any("\r" in ln or "\x1b" in ln for ln in lines)  # no redraws, no colours
