"""Every run keeps its own report; one index page lists them all (DESIGN.md, "Runs and the
run index").

Layout (the defaults; ``-o`` and ``--report`` move them):

* ``results/run-YYYYmmdd-HHMMSS.json``: the run's results;
* ``reports/run-YYYYmmdd-HHMMSS.html``: its report (named after its results file);
* ``reports/index.html``: the run index, every run of that directory newest first, with a
  link to the latest complete one on top;
* ``reports/runs.json``: the index's record (one entry per run), from which the page is
  rendered.

No run writes over another run's report, and an interrupted, quick or empty run is listed
but never shown as "latest complete": a smoke test or a Ctrl-C can no longer replace the
main report. The record is updated under an exclusive lock (two runs finishing at once both
get listed) and written atomically. An ``index.html`` found in a directory without a record
is, when hybridbench wrote it, a report from before the index existed: it is kept under
another name and listed; any other ``index.html`` is left alone, and no index is written there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from hybridbench.errors import HybridbenchError
from hybridbench.results import OK, Results, write_atomic

INDEX_NAME = "index.html"
RECORD_NAME = "runs.json"
LOCK_NAME = ".runs.lock"
RECORD_FORMAT = 1
DEFAULT_RESULTS_DIR = Path("results")
DEFAULT_REPORTS_DIR = Path("reports")
#: where an ``index.html`` from before the run index is kept
LEGACY_NAME = "report-before-run-index.html"
#: text in the index page by which it is told from a report of the same name
MARKER = '<meta name="generator" content="hybridbench run index">'

#: run states, and what each means on the index page
COMPLETE, QUICK, PARTIAL, EMPTY, EARLIER = "complete", "quick", "partial", "empty", "earlier"
STATE_MEANING = {
    COMPLETE: "every planned cell ran",
    QUICK: "--quick: short cells, indicative numbers only",
    PARTIAL: "interrupted: only the cells measured before the stop",
    EMPTY: "no cell could be measured",
    EARLIER: "a report from before the run index (no details recorded)",
}


@dataclass
class RunEntry:
    """One run on the index page. Paths are relative to the index's directory where they
    can be (so the page works when the directory is moved or served), else absolute."""

    report: str
    results: str | None
    created: str  # when the run started (ISO 8601, UTC)
    state: str
    workloads: list[str] = field(default_factory=list)
    backends: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    #: cell status -> how many
    cells: dict[str, int] = field(default_factory=dict)
    #: measured seconds per cell, worker processes per cell
    duration_s: float | None = None
    workers: int | None = None
    git_commit: str | None = None

    @property
    def measured(self) -> int:
        return self.cells.get(OK, 0)

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunEntry:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def state_of(results: Results) -> str:
    """complete, quick, partial (interrupted) or empty (nothing measured)."""
    if results.config.get("interrupted"):
        return PARTIAL
    if not any(cell.status == OK for cell in results.cells):
        return EMPTY
    return QUICK if results.config.get("quick_run") else COMPLETE


def _relative(path: Path, directory: Path) -> str:
    """``path`` as seen from ``directory`` (for a link), or absolute when on another drive."""
    try:
        return os.path.relpath(path.resolve(), directory.resolve())
    except ValueError:
        return str(path.resolve())


def entry_for(results: Results, results_path: Path | None, report_path: Path) -> RunEntry:
    directory = report_path.parent
    config = results.config
    return RunEntry(
        report=_relative(report_path, directory),
        results=_relative(results_path, directory) if results_path else None,
        created=results.created, state=state_of(results),
        workloads=list(dict.fromkeys(c.workload for c in results.cells)),
        backends=list(dict.fromkeys(c.backend for c in results.cells)),
        sizes=list(dict.fromkeys(c.size for c in results.cells)),
        cells=dict(Counter(c.status for c in results.cells)),
        duration_s=config.get("duration_s"), workers=config.get("workers"),
        git_commit=results.env.get("git_commit"))


# -- where a run's files go -------------------------------------------------------------------

def _stamp(now: dt.datetime | None = None) -> str:
    return f"{(now or dt.datetime.now()):%Y%m%d-%H%M%S}"


def run_paths(output: Path | None, report: Path | None,
              now: dt.datetime | None = None) -> tuple[Path, Path]:
    """The run's results file and report: ``-o`` and ``--report`` as given; by default
    ``results/run-STAMP.json`` and ``reports/<the results file's name>.html``. A default
    name already taken (two runs in one second) gets ``-2``, ``-3``..."""
    if output is None:
        stem, n = f"run-{_stamp(now)}", 2
        base = stem
        while ((DEFAULT_RESULTS_DIR / f"{stem}.json").exists()
               or (report is None and (DEFAULT_REPORTS_DIR / f"{stem}.html").exists())):
            stem, n = f"{base}-{n}", n + 1
        output = DEFAULT_RESULTS_DIR / f"{stem}.json"
    if report is None:
        report = DEFAULT_REPORTS_DIR / f"{output.stem}.html"
    return output, report


def indexed(report: Path) -> bool:
    """Whether a report at this path is listed in its directory's run index: always, except
    a report explicitly named ``index.html`` where there is no index (the single report of
    earlier versions, kept working)."""
    return report.name != INDEX_NAME


def check_report_path(report: Path, option: str) -> None:
    """A report may not take the run index's place: that would hide every run listed."""
    if report.name == INDEX_NAME and (report.parent / RECORD_NAME).exists():
        raise HybridbenchError(
            f"{option} {report}: that is the run index of {report.parent} (every run is listed "
            f"there); name the report otherwise, e.g. {report.parent / 'mine.html'}")


# -- the record -------------------------------------------------------------------------------

def load_entries(directory: Path) -> list[RunEntry]:
    """The runs recorded in ``directory``; a damaged record is an error naming it."""
    path = directory / RECORD_NAME
    if not path.exists():
        return []
    try:
        data = orjson.loads(path.read_bytes())
        return [RunEntry.from_dict(item) for item in data["runs"]]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise HybridbenchError(f"{path}: not a run index record hybridbench can read ({exc}); "
                               "move it away and the index starts afresh") from None


def _save_entries(directory: Path, entries: list[RunEntry]) -> None:
    data = {"format": RECORD_FORMAT, "runs": [asdict(entry) for entry in entries]}
    write_atomic(directory / RECORD_NAME,
                 orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time reads, changes and writes the record of ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def foreign_index(directory: Path) -> bool:
    """Whether ``directory`` holds an ``index.html`` hybridbench did not write (someone's web
    page): it is left alone, and the directory gets no run index."""
    index = directory / INDEX_NAME
    if (directory / RECORD_NAME).exists() or not index.is_file():
        return False
    return "hybridbench" not in index.read_text(errors="replace").lower()


def _keep_legacy_report(directory: Path) -> RunEntry | None:
    """An ``index.html`` that is a hybridbench report, not an index (written before the run
    index existed): moved to ``LEGACY_NAME`` and listed, so the first indexed run loses
    nothing."""
    index = directory / INDEX_NAME
    if not index.is_file() or MARKER in index.read_text(errors="replace"):
        return None
    kept, n = directory / LEGACY_NAME, 2
    while kept.exists():
        kept, n = directory / f"report-before-run-index-{n}.html", n + 1
    modified = dt.datetime.fromtimestamp(index.stat().st_mtime, dt.UTC)
    os.replace(index, kept)
    return RunEntry(report=kept.name, results=None, state=EARLIER,
                    created=modified.isoformat(timespec="seconds"))


def newest_first(entries: list[RunEntry]) -> list[RunEntry]:
    return sorted(entries, key=lambda entry: _instant(entry.created), reverse=True)


def _instant(created: str) -> dt.datetime:
    """A sortable moment from an ISO date; an unreadable one sorts last."""
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def latest_complete(entries: list[RunEntry]) -> RunEntry | None:
    """The newest run whose every planned cell ran at full length, with at least one
    measured: the report the index points to first."""
    return next((e for e in newest_first(entries) if e.state == COMPLETE), None)


def record(results: Results, results_path: Path | None, report_path: Path,
           render: Callable[[list[RunEntry]], str]) -> Path | None:
    """List this run in the index of its report's directory and write the index page that
    ``render`` makes of the entries, newest first (storage never imports a renderer: the CLI
    passes ``report.index.render``); the page's path, or None when the directory's
    ``index.html`` is not hybridbench's. Runs whose report has since been deleted are dropped
    from the list."""
    directory = report_path.parent
    with _locked(directory):
        if foreign_index(directory):
            return None
        entries = load_entries(directory)
        if not (directory / RECORD_NAME).exists():
            legacy = _keep_legacy_report(directory)
            entries += [legacy] if legacy else []
        new = entry_for(results, results_path, report_path)
        entries = [e for e in entries if e.report != new.report] + [new]
        entries = [e for e in entries if (directory / e.report).exists()]
        _save_entries(directory, entries)
        page = directory / INDEX_NAME
        write_atomic(page, render(newest_first(entries)).encode("utf-8"))
    return page
