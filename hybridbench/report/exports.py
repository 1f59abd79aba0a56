"""The export formats beside the HTML report, in one table: option, help, writer.

``hybridbench run`` and ``hybridbench report`` both take their export options from
``FORMATS`` (``add_arguments``) and write them with ``write_requested``, so a new format is one
row here and both commands offer it (they had drifted: ``run`` offered ``--markdown`` only).
The terminal is not a file format: ``run`` always prints its summary, ``report`` with
``--terminal``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hybridbench.report import csv_export, html, markdown, model, openmetrics


@dataclass(frozen=True)
class Format:
    """One export: its option, its help, and how it writes a report model to a path."""

    option: str
    help: str
    #: writes the model at the path, and says what it wrote in a few words
    write: Callable[[model.Report, Path], str]
    #: a directory format writes several files: the writability check probes one in it
    directory: bool = False

    @property
    def dest(self) -> str:
        return self.option.removeprefix("--").replace("-", "_")

    def probe(self, path: Path) -> Path:
        """The file whose writability is checked before any measuring."""
        return path / "chart.png" if self.directory else path


def _markdown(report: model.Report, path: Path) -> str:
    markdown.write_report(report, path)
    return f"markdown: {path}"


def _csv(report: model.Report, path: Path) -> str:
    csv_export.write_report(report, path)
    return f"csv: {path}"


def _openmetrics(report: model.Report, path: Path) -> str:
    openmetrics.write_report(report, path)
    return f"openmetrics: {path}"


def _pngs(report: model.Report, directory: Path) -> str:
    written = html.write_pngs(report, directory)
    return f"charts: {len(written)} PNG files in {directory}"


FORMATS: tuple[Format, ...] = (
    Format("--markdown", "also write a Markdown summary here", _markdown),
    Format("--csv", "also write one row per cell, raw numbers, here (CSV)", _csv),
    Format("--openmetrics", "also write every cell as OpenMetrics text (Prometheus' "
           "exposition format: throughput, latency quantiles, CPU and memory per role) here",
           _openmetrics),
    Format("--png-dir", "also save every chart as PNG here", _pngs, directory=True),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for item in FORMATS:
        parser.add_argument(item.option, type=Path, help=item.help)


def requested(args: argparse.Namespace) -> list[tuple[Format, Path]]:
    """The formats the command line asked for, with their paths."""
    return [(item, getattr(args, item.dest)) for item in FORMATS
            if getattr(args, item.dest, None) is not None]


def check_requested(args: argparse.Namespace,
                    check_writable: Callable[[Path, str], None]) -> None:
    """Fail before measuring or rendering when a requested path cannot be written."""
    for item, path in requested(args):
        check_writable(item.probe(path), item.option)


def write_requested(report: model.Report, args: argparse.Namespace) -> list[str]:
    """Write every requested format; what was written, one line each."""
    return [item.write(report, path) for item, path in requested(args)]
