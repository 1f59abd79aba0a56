"""What follows a run, in one function for the CLI and the Python API: save the results file,
render the report and the requested exports from one model, and list the run in the index.

``hybridbench run`` measures (with its progress display) and calls ``publish``;
``hybridbench.pipeline.run`` (the API) measures without a display and calls the same
``publish``, so a script gets the very files the command writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hybridbench import interrupts, results, run_index, runner
from hybridbench.report import html, model
from hybridbench.report import index as index_page
from hybridbench.report.exports import Format

#: where an interrupt stopped ``publish``: nowhere, or while saving the results (the file is
#: whole: saving finishes first), or while the reports were written (the results file is whole)
NOT_STOPPED, STOPPED_SAVING, STOPPED_REPORTING = "", "saving", "reporting"


@dataclass(frozen=True)
class Published:
    results: Path
    report: Path
    #: the model every format rendered; None when an interrupt came before the reports
    model: model.Report | None = None
    #: one line per export written ("markdown: PATH")
    exported: list[str] = field(default_factory=list)
    #: the run index page, or None (not indexed, or the directory's index.html is not ours)
    index: Path | None = None
    stopped: str = NOT_STOPPED


def publish(done: results.Results, output: Path, report: Path, *, baseline: str | None = None,
            exports: Sequence[tuple[Format, Path]] = ()) -> Published:
    """Save ``done`` to ``output``, then the HTML report, the exports and the index entry.

    The results file is what a run exists for: an interrupt while it is written waits until
    the write is complete, and stops there. The reports can be made again from it
    (``hybridbench report``), so an interrupt while they are written stops them."""
    with interrupts.deferred(f"finishing writing {output} first") as late:
        results.save(done, output)
    if late:
        return Published(output, report, stopped=STOPPED_SAVING)
    try:
        shown = model.build([done], baseline)  # once: every format renders it
        html.write_report(shown, report)
        exported = [item.write(shown, path) for item, path in exports]
        index = (run_index.record(done, output, report, index_page.render)
                 if run_index.indexed(report) else None)
    except KeyboardInterrupt:
        return Published(output, report, stopped=STOPPED_REPORTING)
    return Published(output, report, shown, exported, index)


def run(config: runner.RunConfig, output: Path | None = None, report: Path | None = None, *,
        baseline: str | None = None, exports: Sequence[tuple[Format, Path]] = ()
        ) -> tuple[results.Results, Published]:
    """Measure ``config`` and publish it as ``hybridbench run`` does (default paths:
    ``results/run-STAMP.json``, ``reports/run-STAMP.html`` and the index beside it)."""
    output, report = run_index.run_paths(output, report)
    done = runner.run(config)
    return done, publish(done, output, report, baseline=baseline, exports=exports)
