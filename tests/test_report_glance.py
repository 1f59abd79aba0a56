"""The decision at a glance (``report.glance``): the verdict table, echo's crossing line and the
speed-up chart, from hand-made cells of backends no reporter knows by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import script_module  # tests/

from hybridbench.paired import table_key
from hybridbench.report import charts, glance, html, markdown, model
from hybridbench.report.decision import Estimate
from hybridbench.results import OK, Cell, Comparison, Results

PY = {"placement": "in-process", "engine_kind": "python", "engine": "numpy",
      "transport": "", "incumbent": True}
FFI = {"placement": "in-process", "engine_kind": "native", "engine": "Zig kernels",
       "transport": "FFI", "incumbent": False}
SVC = {"placement": "service", "engine_kind": "native", "engine": "Zig kernels",
       "transport": "HTTP/2", "incumbent": False}
SCRIPT = Path(__file__).parent.parent / "scripts" / "words_before_table.py"


def _cell(backend: str, ops: float, profile: dict, *, workload: str = "json",
          size: str = "1MB", allocator: str | None = None) -> Cell:
    """A verified cell at ``ops`` per second with a ±5% interval."""
    cell = Cell(workload=workload, size=size, backend=backend, status=OK, verified=True,
                samples=20_000, throughput_ops=ops, payload_bytes=1 << 20,
                throughput_ci95=[ops * 0.95, ops * 1.05],
                latency_ns={"p50": 1e9 / ops, "p99": 2e9 / ops, "p999": 3e9 / ops},
                rss_peak_bytes={"client": 100 << 20}, rss_baseline_bytes={"client": 99 << 20},
                cpu_s_per_op={"client": 1 / ops}, allocator=allocator)
    cell.backend_info = {"profile": profile}
    return cell


def _table(workload: str = "json", size: str = "1MB", native: float = 1000,
           service: float = 400, allocator: str | None = None) -> list[Cell]:
    """A Python, an in-process native and a service of the same native engine."""
    return [_cell("team-python", 100, PY, workload=workload, size=size, allocator=allocator),
            _cell("zigffi", native, FFI, workload=workload, size=size, allocator=allocator),
            _cell("zig-over-http", service, SVC, workload=workload, size=size,
                  allocator=allocator)]


def _run(cells: list[Cell]) -> model.RunView:
    return model.build_run(Results(env={}, cells=cells), lookup=lambda name: None)


def test_one_row_per_workload_and_size_with_verdict_gain_and_boundary() -> None:
    at_a_glance = glance.build(_run(_table() + _table(size="1KB", native=120, service=110)))
    first, second = at_a_glance.rows
    assert (first.workload, first.size, first.verdict) == ("json", "1MB", "move")
    assert first.verdict_text == "move to native in-process (FFI)"
    assert first.baseline == "team-python" and first.gain is not None
    assert first.gain.backend == "zigffi" and first.gain.speedup.value == 10
    assert first.gain.text() == "10x (9.05–11.1x)"  # the widest the two ±5% intervals allow
    # the service against the in-process backend of the same engine: 2.5 ms - 1 ms per call
    [boundary] = first.boundaries
    assert (boundary.service, boundary.in_process) == ("zig-over-http", "zigffi")
    assert boundary.text() == "zig-over-http vs zigffi: dominant, +1.5 ms/call (60%)"
    # 1.2x is below the bar: stay, and the gain shown is what the best other pattern buys
    assert second.verdict == "stay" and second.verdict_text == "stay: python in-process"
    assert second.gain is not None and second.gain.backend == "zigffi"
    assert second.gain.speedup.value == 1.2
    assert set(second.by_pattern) == {"native in-process (FFI)", "native service (HTTP/2)"}
    assert at_a_glance.patterns == ["native in-process (FFI)", "native service (HTTP/2)"]


def test_the_boundary_cost_comes_from_the_paired_comparison_when_the_run_has_one() -> None:
    """A noisy run: each cell's own interval is +-40%, so their difference says nothing; the
    paired passes put the service's time per call at 1.20x (1.15-1.25x) the twin's."""
    cells = _table(native=1000, service=1000 / 1.2)
    for cell in cells:
        cell.throughput_ci95 = [cell.throughput_ops * 0.6, cell.throughput_ops * 1.4]
    unpaired = glance.build(_run(cells)).rows[0].boundaries[0]
    assert unpaired.verdict == "not measurable"
    paired = Comparison("json", "1MB", "zigffi", "zig-over-http", ratio=1.2,
                        ratio_ci95=[1.15, 1.25], passes=8,
                        table=list(table_key(cells[1])))
    done = model.build_run(Results(env={}, cells=cells, comparisons=[paired]),
                           lookup=lambda name: None)
    [boundary] = glance.build(done).rows[0].boundaries
    # the twin's 1 ms per call x (ratio - 1): 0.2 ms (0.15-0.25 ms), 17% of the 1.2 ms call
    assert boundary.cost_ns.value == pytest.approx(0.2e6)
    assert boundary.cost_ns.low == pytest.approx(0.15e6)
    assert boundary.cost_ns.high == pytest.approx(0.25e6)
    assert boundary.text() == "zig-over-http vs zigffi: affordable, +200 µs/call (17%)"
    sentence = next(s for s in done.groups[0].sentences if "instead of" in s)
    assert "no measurable cost" not in sentence


def test_an_unclear_gain_says_so() -> None:
    gain = glance.Gain("b", "p", Estimate(1.1, 0.9, 1.3), "ratio interval includes 1")
    assert gain.text() == "1.1x (0.9–1.3x, unclear)"


def test_echo_gets_a_crossing_line_not_verdicts() -> None:
    cells = _table() + _table("echo", "64B", native=5000) + _table("echo", "1MB", native=900)
    run = _run(cells)
    at_a_glance = glance.build(run)
    assert [row.workload for row in at_a_glance.rows] == ["json"]
    assert {g.verdict for g in run.groups if g.workload == "echo"} == {model.CROSSING_ONLY}
    [line] = at_a_glance.crossings
    assert line.workload == "echo" and [c.size for c in line.sizes] == ["64B", "1MB"]
    # in-process Python crosses nothing: only the patterns with a transport
    assert line.patterns == ["native in-process (FFI)", "native service (HTTP/2)"]
    assert line.text() == ("per call at 64B / 1MB: native in-process (FFI) 200 µs / 1.11 ms; "
                           "native service (HTTP/2) 2.5 ms / 2.5 ms")
    # nor in the sentences: echo neither "stays best" nor counts among the sizes decided
    assert "stays best" not in run.overall and "(1 of 1 workload sizes)" in run.overall


def test_allocators_of_one_size_are_one_row() -> None:
    at_a_glance = glance.build(_run(_table(allocator="glibc")
                                    + _table(native=130, service=90, allocator="jemalloc")))
    [row] = at_a_glance.rows
    assert row.label == "json 1MB under glibc" and row.verdict == "move"
    [variant] = row.variants
    assert variant.allocator == "jemalloc" and variant.verdict == "stay"
    assert row.gain_lines()[1].startswith("under jemalloc: stay, 1.3x (")
    assert row.gain_lines()[1].endswith(") zigffi")


def test_speedup_chart_is_log_scale_one_series_per_pattern() -> None:
    figure = charts.glance_speedups(glance.build(_run(_table() + _table(size="1KB"))))
    assert figure is not None
    [axes] = figure.axes
    assert axes.get_xscale() == "log"
    labels = [t.get_text() for t in axes.get_yticklabels()]
    assert labels == ["json 1MB", "json 1KB"]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "native in-process (FFI)" in legend and "native service (HTTP/2)" in legend
    assert charts.glance_speedups(glance.Glance([], [], [])) is None


def _words_before_table(page: str) -> list[str]:
    script = script_module.load("words_before_table", SCRIPT)
    return script.words_before_first_table(page)  # type: ignore[no-any-return]


def test_html_headline_is_the_verdict_table_and_the_sentences_are_folded() -> None:
    run = _run(_table())
    page = html.render_report(model.Report([run]))
    assert _words_before_table(page) == ["Python,", "a", "native", "service,", "or", "native",
                                         "code", "in-process?", "Headline"]
    first_table = page[page.index("<table"):page.index("</table>")]
    assert "move to native in-process (FFI)" in first_table and "10x (9.05–11.1x)" in first_table
    fold = page[page.index("<details><summary>The decision in sentences"):]
    assert run.groups[0].headline in fold[:fold.index("</details>")]


def test_markdown_headline_is_the_verdict_table() -> None:
    text = markdown.render_report(model.Report([_run(_table())]))
    lines = text.splitlines()
    assert lines[:3] == ["## Headline", "", markdown.table_row(*glance.COLUMNS)]
    assert lines[4].startswith("| json 1MB | move to native in-process (FFI) | 10x (9.05–11.1x) "
                               "zigffi | team-python | zig-over-http vs zigffi: dominant")
    assert "<details><summary>The decision in sentences</summary>" in text
