"""The HTML report, Markdown export and PNG charts, from a committed results fixture."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from hybridbench import results
from hybridbench.report import charts, html, markdown, model
from hybridbench.results import OK

FIXTURE = Path(__file__).parent / "data" / "sample-results.json"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def sample() -> results.Results:
    return results.load(FIXTURE)


@pytest.fixture(scope="module")
def page(sample: results.Results) -> str:
    return html.render([sample])


def test_every_cell_is_in_the_report(sample: results.Results, page: str) -> None:
    for cell in sample.cells:
        assert f"{cell.workload} {cell.size}" in page
        if cell.status == OK:
            # the throughput as the table prints it
            from hybridbench.report.formatting import count

            assert f"{count(cell.throughput_ops)} ops/s" in page
        else:
            assert cell.error in page
    assert page.count("<svg") >= 4 * len({c.workload for c in sample.cells})


def test_sections_the_report_promises(page: str) -> None:
    for needle in ("What the numbers say", "Crossing cost against payload size", "Environment",
                   "Warnings", "client peak RSS (growth)", "server peak RSS", "P99.9",
                   "cold start", "Headline",
                   "concurrency scaling", "thin tail", "PIL loaded"):
        assert needle in page, needle


def test_no_external_resources(page: str) -> None:
    references = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page)
    assert references, "the page should at least link its own sections"
    assert all(ref.startswith("#") for ref in references), references
    assert "@import" not in page
    urls = re.findall(r"url\(([^)]*)\)", page)  # matplotlib clip paths: url(#p1234)
    assert all(u.strip("'\"").startswith("#") for u in urls), urls


@pytest.mark.slow
def test_labels_are_escaped_in_tables_and_charts(sample: results.Results) -> None:
    hostile = copy.deepcopy(sample)
    hostile.cells[0].backend = "<script>alert(1)</script>"
    hostile.cells[1].workload = '"><img src=x onerror=alert(2)>'
    page = html.render([hostile])
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<script", page, re.IGNORECASE)


def test_markdown_has_the_articles_table(sample: results.Results) -> None:
    text = markdown.render([sample])
    assert ("| backend | pattern | throughput (±95% CI) | vs inproc "
            "| peak RSS client (growth) + server | P50 | P99 | request bytes/s |") in text
    assert text.startswith("## Headline")
    assert "### json 64KB" in text and "- Fastest:" in text
    assert text.count("| ffi |") >= 3


@pytest.mark.slow
def test_png_export(sample: results.Results, tmp_path: Path) -> None:
    written = html.write_pngs(model.build([sample]), tmp_path)
    assert (tmp_path / "echo-crossing-cost.png") in written
    assert (tmp_path / "speedups.png") in written  # the headline's chart
    from PIL import Image

    with Image.open(written[0]) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_decision_sentences_follow_the_numbers(sample: results.Results) -> None:
    ts = [c for c in sample.cells if c.workload == "timeseries"]
    group = next(g for g in model.build_run(sample).groups if g.workload == "timeseries")
    best = max((c for c in ts if c.status == OK and c.concurrency == 1),
               key=lambda c: c.throughput_ops)
    assert group.sentences[0].startswith(f"Fastest: {best.backend}")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    report = tmp_path / "index.html"
    report.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*common, "--window-size=1280,1600", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    # the browser built the page we meant: title, tables and inline charts are in its DOM
    assert "Python, a native service, or native code in-process?" in dom
    assert dom.count("<svg") == page.count("<svg") and "<table>" in dom
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.shape == (1600, 1280)
    # a real page: mostly white background, plenty of dark text and coloured chart ink
    assert (pixels > 240).mean() > 0.5
    assert (pixels < 100).mean() > 0.005
    top, bottom = pixels[:400], pixels[800:]
    assert top.std() > 20 and bottom.std() > 20  # content at the top and further down


def _without_xdist() -> dict[str, str]:
    """This process's environment minus pytest-xdist's worker variables: a pytest started
    from a test run under ``-n`` would otherwise take itself for a worker, and pytest-benchmark
    switches itself off in workers."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


def test_pytest_benchmark_json_renders(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "pb.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(Path(__file__).parent / "test_pytest_benchmark.py"), "-k", "inproc and echo",
         "--benchmark-enable", "--benchmark-max-time=0.05", f"--benchmark-json={out}"],
        capture_output=True, text=True, timeout=300, check=False, env=_without_xdist())
    assert done.returncode == 0, done.stdout
    from hybridbench.cli import load_any

    loaded = load_any(out)
    assert {c.backend for c in loaded.cells} >= {"inproc", "inproc-pure"}
    assert all(c.workload == "echo" and c.size == "64B" and c.throughput_ops for c in loaded.cells)
    page = html.render([loaded])
    assert "echo 64B" in page and "pytest-benchmark" in page


def _schema_2(sample: results.Results) -> results.Results:
    """The fixture with schema-2 figures on two cells: one whose backend times its kernel and
    whose server reports itself, one that cannot tell (kernel not measured)."""
    upgraded = copy.deepcopy(sample)
    timed, untimed = [c for c in upgraded.cells if c.status == OK][:2]
    for cell in (timed, untimed):
        cell.workers, cell.interval_method = 3, "student-t over worker-process means"
        cell.cpu_affinity = {"client": [0], "server": {"server": [0, 1]}, "shared": True}
    timed.time_split = {"calls": 300, "end_to_end_ns": 107_000.0, "kernel_ns": 12_000.0,
                        "crossing_ns": 95_000.0, "client_cpu_ns": 150_000.0}
    timed.rss_peak_bytes = {**timed.rss_peak_bytes, "server": 9 * 2**20}
    timed.cpu_s_per_op = {**timed.cpu_s_per_op, "server": 20e-6}
    timed.resource_source = {"client": "process", "server": "self-reported"}
    timed.machine_load = {"others_cores": 0.7, "others_cores_max": 1.2, "steal_cores": 0.0}
    untimed.time_split = {"calls": 300, "end_to_end_ns": 5_000.0, "kernel_ns": None,
                          "crossing_ns": None, "client_cpu_ns": 4_000.0}
    upgraded.env["harness"] = {"timer_ns": 81.0, "timer_min_ns": 60.0, "empty_call_ns": 150.0,
                               "measured_in": "each worker"}
    upgraded.env["cpu_affinity"] = {"pinned": False, "available": [0, 1], "reason": None}
    return upgraded


@pytest.mark.slow
def test_report_shows_interval_time_split_and_server_source(sample: results.Results,
                                                           page: str) -> None:
    upgraded = _schema_2(sample)
    upgraded_page = html.render([upgraded])
    markdown_text = markdown.render([upgraded])
    assert "9 MiB peak, 20 µs CPU/op (self-reported)" in markdown_text
    assert "9 MiB <span class=\"small muted\">(self-reported)</span>" in upgraded_page
    for text in (upgraded_page, markdown_text):
        assert "Student t over 3 worker processes" in text
        assert "12 µs" in text and "95 µs" in text and "150 µs" in text  # kernel, crossing, CPU
        assert "not measured" in text
        assert "shared cores" in text
        assert "0.7 cores (max 1.2)" in text
    assert "harness cost" in upgraded_page and "81 ns" in upgraded_page
    assert "not pinned" in upgraded_page
    # a schema-1 file says what its interval was
    assert "bootstrap of round throughputs in one process (schema 1)" in page


def _table_columns(line: str) -> int:
    """Columns of a Markdown table row: the ``|`` not escaped by a backslash, minus one."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_escapes_hostile_labels_and_messages(sample: results.Results) -> None:
    hostile = copy.deepcopy(sample)
    ok = next(c for c in hostile.cells if c.status == OK)
    broken = next(c for c in hostile.cells if c.status != OK)
    ok.backend = "<script>alert(1)</script>|`x`"
    broken.error = "<img src=x onerror=alert(2)> a|b\n## not a heading `code` [l](javascript:1)"
    hostile.warnings.append("<b>bold</b>\n| fake | row |")
    text = markdown.render([hostile])
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|\\`x\\`" in text
    assert "&lt;img src=x onerror=alert(2)&gt; a\\|b \\#\\# not a heading" in text
    assert "\\[l\\](javascript:1)" in text
    assert "> warning: &lt;b&gt;bold&lt;/b&gt; \\| fake \\| row \\|" in text
    for block in text.split("\n\n"):  # every table keeps the same number of columns
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({_table_columns(line) for line in rows}) <= 1, rows
    assert not any(line.startswith("## not") for line in text.splitlines())


class _IdsAndReferences(HTMLParser):
    """Every element id of a page, and every in-page reference (``href="#x"``, ``url(#x)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.append(value)
            elif name in ("href", "xlink:href") and value.startswith("#"):
                self.references.append(value[1:])
            self.references += re.findall(r"url\(#([^)]+)\)", value)


@pytest.mark.slow
def test_united_report_has_unique_ids_and_every_reference_resolves(
        sample: results.Results) -> None:
    second = copy.deepcopy(sample)
    second.created = "a second run"
    parser = _IdsAndReferences()
    parser.feed(html.render([sample, second]))
    repeated = sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    assert parser.ids and not repeated, repeated[:10]
    # clip paths and markers of charts, and the page's own section links
    assert len(parser.references) > 100
    missing = sorted(set(parser.references) - set(parser.ids))
    assert not missing, missing[:10]


def test_unique_ids_leave_colours_and_foreign_references_alone() -> None:
    svg = ('<svg><clipPath id="p1"><rect/></clipPath><g id="axes_1" clip-path="url(#p1)">'
           '<use xlink:href="#m2" fill="#0072b2"/><path id="m2"/><a href="#elsewhere"/></g>'
           '</svg>')
    renamed = charts.with_unique_ids(svg, "chart7-")
    assert 'id="chart7-p1"' in renamed and 'url(#chart7-p1)' in renamed
    assert 'id="chart7-axes_1"' in renamed and 'xlink:href="#chart7-m2"' in renamed
    assert 'fill="#0072b2"' in renamed and 'href="#elsewhere"' in renamed


def _with_thin_tails(sample: results.Results, cells: int) -> results.Results:
    """``sample`` with a thin-tail warning on ``cells`` cells and one run-wide warning."""
    warned = copy.deepcopy(sample)
    for cell in [c for c in warned.cells if c.status == OK][:cells]:
        cell.warn(results.Kind.THIN_TAIL, f"thin tail: {cell.samples} samples")
    warned.warn(results.Kind.SHARED_CPUS, "client and server shared cores")
    return warned


@pytest.mark.slow
def test_warnings_are_one_line_per_kind_with_the_cells_folded(sample: results.Results) -> None:
    warned = _with_thin_tails(sample, 3)
    [kind] = [k for k in model.build_run(warned).warning_kinds if k.kind == "thin_tail"]
    assert len(kind.cells) == 3 and kind.count_line.endswith(": 3 cells")
    page = html.render([warned])
    section = page[page.index('<h2 id="warnings1">'):]
    assert f"<b>{kind.count_line}</b><details" in section
    folded = section[section.index("<details"):section.index("</details>")]
    assert all(where in folded for where, _ in kind.cells)
    assert "client and server shared cores" in section[:section.index("<details")]
    text = markdown.render([warned])
    assert f"> warning: {markdown.text(kind.count_line)}" in text
    assert "<details><summary>the cells</summary>" in text


def test_terminal_counts_warned_cells_instead_of_naming_them(sample: results.Results) -> None:
    from rich.console import Console

    from hybridbench.report import terminal

    warned = _with_thin_tails(sample, 3)
    console = Console(record=True, width=200)
    terminal.print_warnings(model.build_run(warned), console)
    printed = console.export_text()
    assert "thin tail (fewer than" in printed and ": 3 cells" in printed
    assert "warning: client and server shared cores" in printed
    named = [c for c in warned.cells if c.has(results.Kind.THIN_TAIL)]
    assert not any(f"{c.workload} {c.size} on {c.backend}" in printed for c in named)
