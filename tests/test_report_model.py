"""The report model and its decision rules: unit tests on hand-made cells (no measurement).

The cells are built here so that each rule is exercised at its boundary; the backends carry
recorded profiles (as ``Backend.describe()`` writes them), including a plug-in whose name no
reporter has ever seen.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from hybridbench import results, thresholds
from hybridbench.report import csv_export, decision, html, markdown, model, terminal
from hybridbench.report.decision import Estimate
from hybridbench.results import OK, UNSUPPORTED, Cell, Kind, Notice, Results

REFERENCE = Path(__file__).parent.parent / "reports" / "reference" / "results.json"
FIXTURE = Path(__file__).parent / "data" / "sample-results.json"

PY = {"placement": "in-process", "engine_kind": "python", "engine": "numpy",
      "transport": "", "incumbent": True}
FFI = {"placement": "in-process", "engine_kind": "native", "engine": "Zig kernels",
       "transport": "FFI", "incumbent": False}
SVC = {"placement": "service", "engine_kind": "native", "engine": "Zig kernels",
       "transport": "HTTP/2", "incumbent": False}


def _cell(backend: str, ops: float, profile: dict | None, *, ci: float | None = 0.05,
          size: str = "1MB", workload: str = "json", server: int | None = None) -> Cell:
    """A measured cell: ``ops`` per second, a ±``ci`` interval (None: no interval)."""
    cell = Cell(workload=workload, size=size, backend=backend, status=OK, verified=True,
                samples=20_000, throughput_ops=ops, payload_bytes=1 << 20,
                throughput_ci95=None if ci is None else [ops * (1 - ci), ops * (1 + ci)],
                latency_ns={"p50": 1e9 / ops, "p99": 2e9 / ops, "p999": 3e9 / ops},
                rss_peak_bytes={"client": 100 << 20, "server": server},
                rss_baseline_bytes={"client": 99 << 20},
                cpu_s_per_op={"client": 1 / ops, "server": None if server is None else 1e-4})
    cell.throughput_bytes = ops * cell.payload_bytes
    if server is None:
        del cell.rss_peak_bytes["server"], cell.cpu_s_per_op["server"]
    if profile is not None:
        cell.backend_info = {"profile": profile}
    return cell


def _no_lookup(name: str) -> None:
    return None  # as if no backend of that name were installed


def _run(cells: list[Cell], baseline: str | None = None) -> model.RunView:
    return model.build_run(Results(env={}, cells=cells), baseline, lookup=_no_lookup)


# -- decision rules ---------------------------------------------------------------------------

def test_ratio_interval_is_the_widest_the_two_allow() -> None:
    r = decision.ratio(Estimate(10, 9, 11), Estimate(2, 1, 4))
    assert r == Estimate(5, 9 / 4, 11)
    assert decision.ratio(Estimate(10), Estimate(2)) == Estimate(5)  # no interval: none made up
    unbounded = decision.ratio(Estimate(10, 9, 11), Estimate(2, 0.0, 4))
    assert unbounded is not None and math.isinf(unbounded.high)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (Estimate(10, 9, 11), Estimate(5, 4, 6), decision.CLEARLY_FASTER),
    (Estimate(5, 4, 6), Estimate(10, 9, 11), decision.CLEARLY_SLOWER),
    (Estimate(10, 5, 15), Estimate(9, 8, 10), decision.OVERLAP),
    (Estimate(10), Estimate(5, 4, 6), decision.NO_INTERVAL),
])
def test_separation(a: Estimate, b: Estimate, expected: str) -> None:
    assert decision.separation(a, b) == expected


def test_worth_moving_needs_the_factor_and_clear_intervals() -> None:
    factor = thresholds.WORTH_IT
    assert decision.worth_moving(Estimate(factor), decision.CLEARLY_FASTER)
    assert not decision.worth_moving(Estimate(factor * 0.99), decision.CLEARLY_FASTER)
    assert not decision.worth_moving(Estimate(factor * 3), decision.OVERLAP)


@pytest.mark.parametrize(("share", "verdict"), [
    (thresholds.AFFORDABLE_SHARE, decision.AFFORDABLE),
    (thresholds.AFFORDABLE_SHARE + 0.01, decision.SIZEABLE),
    (thresholds.DOMINANT_SHARE, decision.SIZEABLE),
    (thresholds.DOMINANT_SHARE + 0.01, decision.DOMINANT),
])
def test_boundary_verdict_thresholds(share: float, verdict: str) -> None:
    call = 1_000_000.0
    cost = Estimate(share * call, share * call * 0.9, share * call * 1.1)
    assert decision.boundary_verdict(cost, call) == verdict


def test_affordable_never_contradicts_itself() -> None:
    """The sentence the old report printed, "costs 2.71 ms (46% of a gRPC call): the work
    dominates, the service boundary is affordable", must not come back: 46% is not small."""
    text = decision.boundary_sentence("svc", "ffi", Estimate(2.71e6, 2.5e6, 2.9e6), 5.9e6)
    assert "46%" in text and "affordable" not in text and "sizeable" in text
    small = decision.boundary_sentence("svc", "ffi", Estimate(0.5e6, 0.4e6, 0.6e6), 5.9e6)
    assert "affordable" in small and "the work dominates" in small
    big = decision.boundary_sentence("svc", "ffi", Estimate(5e6, 4.9e6, 5.1e6), 5.9e6)
    assert "dominates the work" in big and "affordable" not in big


def test_boundary_without_intervals_or_with_zero_inside_says_so() -> None:
    negative = decision.boundary_sentence("svc", "ffi", Estimate(-59_465_069.0), 1e6)
    assert "cannot tell" in negative and "-59" not in negative and "CI" not in negative
    overlap = decision.boundary_sentence("svc", "ffi", Estimate(1e5, -2e5, 4e5), 1e6)
    assert "no measurable cost" in overlap and "includes zero" in overlap
    open_ended = decision.boundary_sentence("svc", "ffi", Estimate(1e5, -math.inf, 4e5), 1e6)
    assert "up to 400 µs with no lower bound" in open_ended and "-" not in open_ended
    faster = decision.boundary_sentence("svc", "ffi", Estimate(-3e5, -4e5, -2e5), 1e6)
    assert "faster" in faster and "-300" not in faster and "costs" not in faster


# -- the model --------------------------------------------------------------------------------

def test_plug_in_backends_get_the_same_decisions_as_the_built_ins() -> None:
    """Backends named as no reporter knows them, described only by their profiles."""
    run = _run([_cell("team-python", 100, PY), _cell("zigffi", 1000, FFI),
                _cell("zig-over-http", 400, SVC, server=10 << 20)])
    assert run.baseline == "team-python" and "strongest Python" in run.baseline_reason
    group = run.groups[0]
    assert group.verdict == "move" and group.recommended is not None
    assert group.pattern == "native in-process (FFI)"
    assert "zigffi (Zig kernels)" in group.headline and "10x" in group.headline
    assert "As native service via HTTP/2, zig-over-http keeps 4x" in group.headline
    boundary = next(s for s in group.sentences if "instead of" in s)
    assert boundary.startswith("zig-over-http (Zig kernels, native service via HTTP/2) instead "
                               "of zigffi (Zig kernels, native in-process via FFI) costs 1.5 ms")
    assert "60% (95%: " in boundary and "of a service call" in boundary
    assert "dominates" in boundary
    assert "Moving pays on json 1MB" in run.overall


def test_a_baseline_the_run_recorded_is_named_as_such() -> None:
    cells = [_cell("team-python", 100, PY), _cell("zigffi", 1000, FFI)]
    recorded = Results(env={}, cells=cells, config={"baseline": "zigffi"})
    run = model.build_run(recorded, None, lookup=_no_lookup)
    assert run.baseline == "zigffi" and run.baseline_reason == model.RECORDED_BASELINE
    assert run.groups[0].baseline_why == model.RECORDED_BASELINE
    # --baseline still wins, and says so
    chosen = model.build_run(recorded, "team-python", lookup=_no_lookup)
    assert chosen.baseline_reason == "chosen with --baseline"


def test_a_verdict_under_two_allocators_states_its_range_once() -> None:
    cells = []
    for allocator, python_ops in (("glibc", 100), ("glibc-tuned", 200)):
        for cell in (_cell("team-python", python_ops, PY), _cell("zigffi", 1000, FFI)):
            cell.allocator = allocator
            cells.append(cell)
    run = _run(cells)
    first, second = run.groups
    assert "Depending on the allocator, zigffi does 5x-10x the strongest Python" in \
        first.headline and "(10x under glibc, 5x under glibc-tuned)" in first.headline
    assert "Depending on the allocator" not in second.headline
    assert second.allocator_speedups == first.allocator_speedups


def test_baseline_by_option_and_unknown_baseline_refused() -> None:
    cells = [_cell("team-python", 100, PY), _cell("zigffi", 1000, FFI)]
    run = _run(cells, baseline="zigffi")
    assert run.baseline == "zigffi" and run.baseline_reason == "chosen with --baseline"
    assert run.groups[0].entries[0].speedup.value == pytest.approx(0.1)  # type: ignore[union-attr]
    with pytest.raises(model.BaselineError, match="--baseline nope: not in the results"):
        _run(cells, baseline="nope")


def test_without_profiles_no_baseline_is_guessed_from_names() -> None:
    """A file without profiles, of backends not installed: named like the built-ins, they
    still get no baseline (names mean nothing), and the report says how to choose one."""
    run = _run([_cell("inproc", 100, None), _cell("ffi", 1000, None),
                _cell("grpc", 400, None, server=1 << 20)])
    assert run.baseline is None and "--baseline" in run.baseline_reason
    assert run.profiles["grpc"].placement == "service"  # inferred from its server process
    assert run.groups[0].verdict == "undecided" and "--baseline" in run.groups[0].headline


def test_stay_when_nothing_clears_the_bar_and_peers_are_named() -> None:
    run = _run([_cell("team-python", 100, PY), _cell("zigffi", 120, {**FFI, "engine": "Zig"}),
                _cell("other-python", 90, {**PY, "engine": "stdlib", "incumbent": False})])
    group = run.groups[0]
    assert group.verdict == "stay" and group.pattern == "stay: python in-process"
    assert "zigffi" in group.headline and "a move needs 1.5x" in group.headline


def test_the_baseline_is_the_strongest_python_not_the_incumbent() -> None:
    """A native engine has to beat the best Python measured: a faster Python engine than
    the incumbent becomes every table's baseline, and the words say which it is."""
    best = {**PY, "engine": "tuned numpy", "incumbent": False, "tuning": "tuned"}
    run = _run([_cell("team-python", 100, {**PY, "tuning": "idiomatic"}),
                _cell("best-python", 300, best), _cell("zigffi", 1000, FFI)])
    group = run.groups[0]
    assert group.baseline_name == "best-python" and run.baseline == "best-python"
    assert "3.33x (95%: 3.02–3.68x) the throughput of best-python" in group.headline
    assert "the strongest Python measured" in group.headline
    assert any(s.startswith("Ratios are against the strongest Python measured, best-python")
               and "team-python 100 ops/s" in s for s in group.sentences)
    assert run.overall.startswith("Baseline: best-python (tuned numpy, python in-process) "
                                  "(the strongest Python measured).")
    per_workload = _cell("best-python", 300, best)
    per_workload.backend_info["workload_engines"] = {"json": "msgspec, raw passthrough"}
    named = _run([_cell("team-python", 100, PY), per_workload, _cell("zigffi", 1000, FFI)])
    assert "the throughput of best-python (msgspec, raw passthrough; python in-process)" in \
        named.groups[0].headline
    assert "Its engines: json: msgspec, raw passthrough." in named.overall
    # within the noise of the idiomatic engine, the faster point estimate still decides (the
    # conservative side for a move), and the words say the intervals overlap
    noisy = _run([_cell("team-python", 100, PY, ci=0.3), _cell("best-python", 110, best),
                  _cell("zigffi", 1000, {**FFI, "tuning": "tuned"})])
    assert noisy.groups[0].baseline_name == "best-python"
    assert ("team-python 100 ops/s (best-python is not clearly faster: the 95% intervals "
            "overlap)") in " ".join(noisy.groups[0].sentences)
    assert [r.label for r in noisy.groups[0].ladder.rungs] == [  # type: ignore[union-attr]
        "idiomatic Python", "strongest Python", "tuned native"]
    slower = _run([_cell("team-python", 100, PY), _cell("best-python", 300, best),
                   _cell("team-python", 100, PY, size="1KB"),
                   _cell("best-python", 50, best, size="1KB")])
    assert [g.baseline_name for g in slower.groups] == ["best-python", "team-python"]
    assert slower.baseline is None
    assert "strongest Python measured in each table: best-python on json 1MB; team-python " \
           "on json 1KB" in slower.overall


def test_the_tiers_split_language_from_tuning() -> None:
    """idiomatic Python -> strongest Python -> idiomatic native -> tuned native, from the
    tunings the backends declare; the steps multiply to the whole advantage."""
    py = {**PY, "tuning": "idiomatic"}
    best = {**PY, "engine": "msgspec", "incumbent": False, "tuning": "tuned"}
    plain_native = {**FFI, "engine": "serde", "tuning": "idiomatic"}
    tuned = {**FFI, "tuning": "tuned"}
    run = _run([_cell("py", 100, py), _cell("py-best", 200, best),
                _cell("nat-plain", 600, plain_native), _cell("nat", 1200, tuned),
                _cell("svc", 900, {**SVC, "tuning": "tuned"}, server=1 << 20)])
    group = run.groups[0]
    ladder = group.ladder
    assert ladder is not None
    assert [r.entry.cell.backend for r in ladder.rungs] == ["py", "py-best", "nat-plain", "nat"]
    assert [(s.name, round(s.factor.value, 2)) for s in ladder.steps] == [
        ("Python tuning", 2.0), ("language", 3.0), ("native tuning", 2.0)]
    assert ladder.total is not None and ladder.total.factor.value == pytest.approx(12)
    assert ("Where nat's 12x over py comes from: Python tuning 2x (py → py-best), language 3x "
            "(py-best → nat-plain), native tuning 2x (nat-plain → nat).") in group.sentences
    assert "Split by tier: language 3x (py-best → nat-plain), native tuning 2x" in group.headline
    # without an idiomatic native engine, language and tuning cannot be told apart
    fused = _run([_cell("py", 100, py), _cell("nat", 1200, tuned)]).groups[0].ladder
    assert fused is not None and [s.name for s in fused.steps] == [
        "language and tuning together"]
    assert _run([_cell("nat", 1200, tuned)]).groups[0].ladder is None
    report = model.Report([run])
    page, text = html.render_report(report), markdown.render_report(report)
    for rendered in (page, text):
        assert "native tuning" in rendered and "idiomatic native" in rendered
    assert "| strongest Python | py-best | 200 ops/s | Python tuning | 2x |" in text
    rows = list(csv.DictReader(io.StringIO(csv_export.render_report(report))))
    assert {r["baseline"] for r in rows} == {"py-best"}


def test_grouping_per_workload_and_size_and_lowest_concurrency() -> None:
    cells = [_cell("team-python", 100, PY, size="1KB"), _cell("zigffi", 900, FFI, size="1KB"),
             _cell("team-python", 50, PY, size="1MB"), _cell("zigffi", 60, FFI, size="1MB"),
             _cell("zigffi", 2000, FFI, workload="echo", size="64B")]
    twice = _cell("zigffi", 1700, FFI, size="1KB")
    twice.concurrency = 2
    run = _run([*cells, twice])
    assert [(w.name, [g.size for g in w.groups]) for w in run.workloads] == [
        ("json", ["1KB", "1MB"]), ("echo", ["64B"])]
    small = run.workloads[0].groups[0]
    assert small.several_concurrencies and len(small.lowest) == 2
    assert small.verdict == "move" and run.workloads[0].groups[1].verdict == "stay"
    assert run.groups[-1].verdict == "undecided"  # echo has no baseline cell


def test_colours_one_per_backend_from_the_model() -> None:
    run = _run([_cell("a", 1, PY), _cell("b", 2, FFI), _cell("a", 1, PY, size="1KB")])
    assert run.colours == {"a": model.PALETTE[0], "b": model.PALETTE[1]}
    assert {e.colour for e in run.entries if e.cell.backend == "a"} == {model.PALETTE[0]}


def test_zero_copy_is_reported_as_such() -> None:
    echo = _cell("team-python", 3e6, PY, workload="echo", size="8MB")
    echo.payload_bytes = 8 << 20
    echo.throughput_bytes = 3e6 * echo.payload_bytes  # 22 TiB/s: nothing was copied
    copied = _cell("zigffi", 500, FFI, workload="echo", size="8MB")
    run = _run([echo, copied])
    entry, other = run.entries
    assert entry.zero_copy and not other.zero_copy
    page = html.render_report(model.Report([run]))
    assert "zero-copy" in page and "TiB/s" not in page


def test_imported_data_without_intervals_claims_no_overlap_and_no_negative_cost() -> None:
    run = _run([_cell("team-python", 100, PY, ci=None), _cell("zigffi", 1000, FFI, ci=None),
                _cell("zig-over-http", 2000, SVC, ci=None, server=1 << 20)])
    text = " ".join([run.overall, *(g.headline for g in run.groups),
                     *(s for g in run.groups for s in g.sentences)])
    assert "overlap" not in text and "CI" not in text
    assert "point estimates" in text and "cannot tell what the boundary costs" in text
    assert not re.search(r"-\d", text)  # no negative figure anywhere
    csv_text = csv_export.render_report(model.Report([run]))
    assert "no interval" not in csv_text and ",," in csv_text  # empty interval fields


# -- typed warnings and old files -------------------------------------------------------------

def test_typed_warnings_round_trip(tmp_path: Path) -> None:
    cell = _cell("zigffi", 1000, FFI)
    cell.warn(Kind.THIN_TAIL, "thin tail: 40 samples", samples=40, threshold=10_000)
    cell.warnings.append("free text from a plug-in")
    done = Results(env={}, cells=[cell])
    done.warn(Kind.SHARED_CPUS, "shared CPUs")
    results.save(done, tmp_path / "r.json")
    raw = orjson.loads((tmp_path / "r.json").read_bytes())
    assert raw["schema"] == results.SCHEMA == 3
    assert raw["cells"][0]["warnings"] == [
        {"kind": "thin_tail", "message": "thin tail: 40 samples",
         "data": {"samples": 40, "threshold": 10_000}},
        {"kind": "note", "message": "free text from a plug-in", "data": {}}]
    loaded = results.load(tmp_path / "r.json")
    assert loaded.cells[0].warnings[0] == Notice("thin_tail", "thin tail: 40 samples",
                                                 {"samples": 40, "threshold": 10_000})
    assert loaded.cells[0].has(Kind.THIN_TAIL) and loaded.warnings[0].kind == "shared_cpus"  # type: ignore[union-attr]
    assert loaded.cells[0].status == results.Status.OK and type(loaded.cells[0].status) is str


def test_unknown_status_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps({"schema": 3, "cells": [
        {"workload": "json", "size": "1KB", "backend": "x", "status": "great"}]}))
    with pytest.raises(results.ResultFileError, match="unknown status 'great'"):
        results.load(path)


@pytest.mark.parametrize("path", [REFERENCE, FIXTURE], ids=["reference-v1", "fixture-v1"])
def test_older_schemas_load_and_render_everywhere(path: Path) -> None:
    loaded = results.load(path)
    assert loaded.schema < results.SCHEMA
    assert all(isinstance(w, Notice) and w.kind == Kind.NOTE
               for c in loaded.cells for w in c.warnings)
    report = model.build([loaded])
    run = report.runs[0]
    # no profile was recorded: the installed classes' are used, and said so
    assert all(p.source.startswith("installed") for p in run.profiles.values())
    # echo's two Python engines are equally fast: the strongest differs between its sizes
    assert run.groups[0].baseline_name == "inproc" and run.overall.startswith("Baseline: ")
    if path == REFERENCE:
        assert dict(run.env)["cpu_governor"] == "unknown"  # None in the file
    console = Console(file=io.StringIO(), width=200)
    terminal.print_report(report, console)
    outputs = {"terminal": console.file.getvalue(),  # type: ignore[attr-defined]
               "markdown": markdown.render_report(report),
               "csv": csv_export.render_report(report)}
    crossing_only = {w.name for w in run.workloads if w.crossing_only}
    assert crossing_only == {"echo"}
    for group in run.groups:
        assert group.pattern in outputs["markdown"]
        if group.workload in crossing_only:  # no verdict: its line of crossing costs
            assert group.verdict == model.CROSSING_ONLY
            assert f"{group.workload} measures the crossing alone" in outputs["terminal"]
            assert group.size in outputs["terminal"]
            continue
        label = f"{group.workload} {group.size}"
        assert label in outputs["terminal"] and label in outputs["markdown"]
        assert group.pattern in outputs["terminal"]


# -- every renderer on the same model ---------------------------------------------------------

def test_every_renderer_shows_the_same_decisions() -> None:
    cells = [_cell("team-python", 100, PY), _cell("zigffi", 1000, FFI),
             _cell("zig-over-http", 400, SVC, server=10 << 20),
             Cell(workload="json", size="1MB", backend="broken", status=UNSUPPORTED,
                  error="no kernel for json")]
    report = model.Report([_run(cells)])
    group = report.runs[0].groups[0]
    console = Console(file=io.StringIO(), width=400)
    terminal.print_report(report, console)
    page = html.render_report(report)
    rendered = {"html": page, "markdown": markdown.render_report(report),
                "terminal": console.file.getvalue()}  # type: ignore[attr-defined]
    for name, text in rendered.items():
        assert group.pattern in text, name
        assert "10x" in text and "no kernel for json" in text, name
    assert "n/a" in page  # the in-process backends' server memory
    rows = list(csv.DictReader(io.StringIO(csv_export.render_report(report))))
    assert [r["backend"] for r in rows] == ["team-python", "zigffi", "zig-over-http", "broken"]
    ffi = rows[1]
    assert ffi["pattern"] == "native in-process (FFI)" and ffi["engine"] == "Zig kernels"
    assert float(ffi["vs_baseline"]) == pytest.approx(10)
    assert float(ffi["throughput_ci95_low"]) == pytest.approx(950)
    assert ffi["recommended"] == "native in-process (FFI)" and ffi["group_verdict"] == "move"
    assert rows[0]["server_rss_peak_bytes"] == "" and rows[2]["server_rss_peak_bytes"] == str(
        10 << 20)
    assert rows[3]["status"] == "unsupported" and rows[3]["throughput_ops"] == ""


def test_report_cli_writes_csv_and_takes_a_baseline(tmp_path: Path) -> None:
    from hybridbench import cli

    path = tmp_path / "r.json"
    results.save(Results(env={}, cells=[_cell("inproc", 100, PY), _cell("ffi", 1000, FFI)]),
                 path)
    out = tmp_path / "r.csv"
    code = cli.main(["report", str(path), "-o", str(tmp_path / "r.html"), "--csv", str(out),
                     "--baseline", "ffi"])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert {r["baseline"] for r in rows} == {"ffi"}
    assert cli.main(["report", str(path), "-o", str(tmp_path / "r.html"),
                     "--baseline", "nope"]) == 2
