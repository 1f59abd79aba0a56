"""How many words a reader meets before the first table of an HTML report (issue 25's measure
of "the decision at a glance").

    python3 scripts/words_before_table.py reports/report.html

Counts the words of visible text (not markup, styles or the inline SVG's text) from the start
of ``<body>`` to the first ``<table>``. Text inside a closed ``<details>`` fold is not visible
until opened, so only its ``<summary>`` counts. Standard library only.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path

_HIDDEN = {"style", "script", "svg", "title", "head"}


class _WordsBeforeTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.hidden_depth = 0
        self.fold_depth = 0  # inside a closed <details>, outside its <summary>
        self.in_summary = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.done = True
        elif tag in _HIDDEN:
            self.hidden_depth += 1
        elif tag == "details" and "open" not in dict(attrs):
            self.fold_depth += 1
        elif tag == "summary":
            self.in_summary = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag == "details" and self.fold_depth:
            self.fold_depth -= 1
        elif tag == "summary":
            self.in_summary = False

    def handle_data(self, data: str) -> None:
        if self.done or self.hidden_depth:
            return
        if self.fold_depth and not self.in_summary:
            return
        self.words.extend(data.split())


def words_before_first_table(html: str) -> list[str]:
    parser = _WordsBeforeTable()
    parser.feed(html)
    return parser.words


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    words = words_before_first_table(Path(argv[0]).read_text(encoding="utf-8"))
    print(f"{len(words)} words before the first table")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
