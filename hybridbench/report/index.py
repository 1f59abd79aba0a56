"""The run index page (``reports/index.html``): every run of a directory, newest first,
with the latest complete report on top. What is listed and why is ``hybridbench.run_index``;
this module only renders it. One self-contained file, no scripts, autoescaped."""

from __future__ import annotations

import datetime as dt

import jinja2
from markupsafe import Markup

from hybridbench import run_index
from hybridbench.run_index import RunEntry

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hybridbench.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)


def when(created: str) -> str:
    """``2026-11-27 14:06 UTC`` from an ISO date; the text as it is when unreadable."""
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return created or "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def render(entries: list[RunEntry]) -> str:
    """The page for ``entries``, given newest first."""
    return _ENV.get_template("index.html.j2").render(
        entries=entries, newest=entries[0] if entries else None,
        latest=run_index.latest_complete(entries), meaning=run_index.STATE_MEANING,
        when=when, marker=Markup(run_index.MARKER))
