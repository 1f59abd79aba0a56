"""What ``hybridbench run`` shows while it measures.

On a terminal, a bar redrawn in place (rich). Anywhere else (a pipe, ``tee``, a CI log) a
redrawn bar is either invisible or a mess, so plain lines instead, flushed as they are
written: one when a worker starts, one when it ends (status and time), one per cell that
cannot run (and why), and one per cell when it is complete. Each line carries the run's
elapsed time, so a log shows where the time went.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hybridbench.report import formatting as fmt
from hybridbench.results import OK, Cell
from hybridbench.runner import CellPlan, WorkerEvent


def elapsed(seconds: float) -> str:
    """``0:07`` or ``1:02:03``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunProgress:
    """The interface ``cmd_run`` talks to; both displays implement it."""

    def __init__(self, console: Console, cells: int, workers: int, cold_start: bool) -> None:
        self.console, self.cells, self.workers = console, cells, workers
        self.started = time.monotonic()
        #: what follows the last worker
        self.finishing = ("merging cells and measuring cold starts (a fresh process per cell)"
                          if cold_start else "merging cells")

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def slot(self, index: int, total: int, plan: CellPlan) -> None:
        """Before each worker slot (``runner.run``'s ``progress``)."""

    def worker(self, event: WorkerEvent) -> None:
        """A worker starting or ending (``runner.run``'s ``on_worker``)."""

    def cell(self, cell: Cell) -> None:
        """A cell complete, cold start included (``runner.run``'s ``on_cell``)."""


class BarProgress(RunProgress):
    """The terminal's bar: one line redrawn in place, gone when the run ends."""

    def __enter__(self) -> BarProgress:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        self._bar = Progress(*columns, console=self.console, transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("preparing inputs and reference answers",
                                        total=self.cells * self.workers)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._bar.__exit__(exc_type, exc, tb)

    def slot(self, index: int, total: int, plan: CellPlan) -> None:
        self._bar.update(self._task, completed=index, total=total, description=plan.label)

    def worker(self, event: WorkerEvent) -> None:
        if event.phase == "end" and event.slot + 1 == event.total:
            self._bar.update(self._task, completed=event.total, description=self.finishing)

    def cell(self, cell: Cell) -> None:
        self._bar.update(self._task, description=f"{self.finishing}: done {cell.workload}/"
                                                 f"{cell.size} on {cell.backend}")


class LineProgress(RunProgress):
    """Plain lines for logs: never redrawn, each one complete when written."""

    def __enter__(self) -> LineProgress:
        self._say(f"{self.cells} cells x {self.workers} worker processes: preparing inputs "
                  "and reference answers")
        return self

    def _say(self, text: str) -> None:
        self.console.print(f"[{elapsed(time.monotonic() - self.started)}] {text}",
                           markup=False, highlight=False, soft_wrap=True)
        self.console.file.flush()

    def _where(self, event: WorkerEvent) -> str:
        width = len(str(event.total))
        return f"{event.slot + 1:>{width}}/{event.total} {event.plan.label}"

    def worker(self, event: WorkerEvent) -> None:
        where = self._where(event)
        if event.phase == "start":
            self._say(f"{where}: worker {event.worker}/{event.workers} started")
        elif event.ran:
            detail = f": {event.detail}" if event.status != OK and event.detail else ""
            self._say(f"{where}: worker {event.worker}/{event.workers} {event.status} in "
                      f"{event.seconds:.1f} s{detail}")
        elif event.worker == 1 and event.status != "skipped":
            # a cell that gets no worker at all: said once, with why
            self._say(f"{where}: {event.status}: {event.detail}")
        if event.phase == "end" and event.slot + 1 == event.total:
            self._say(f"all workers done: {self.finishing}")

    def cell(self, cell: Cell) -> None:
        label = f"{cell.workload}/{cell.size} on {cell.backend} c={cell.concurrency}"
        if cell.rate:
            label += f" at {cell.rate:g}/s"
        if cell.status != OK:
            self._say(f"done {label}: {cell.status}")
            return
        cold = (f", cold start {fmt.seconds(cell.cold_start_s)}"
                if cell.cold_start_s is not None else "")
        self._say(f"done {label}: ok, {fmt.count(cell.throughput_ops)} ops/s from "
                  f"{cell.workers} workers{cold}")


def for_console(console: Console, cells: int, workers: int, cold_start: bool) -> RunProgress:
    """The bar on a terminal, lines anywhere else."""
    kind = BarProgress if console.is_terminal else LineProgress
    return kind(console, cells, workers, cold_start)
