"""The report side of load beyond one process: open-loop cells become a latency-against-load
chart with the capacity stated, stay out of the closed-loop decision, and result files with
different cells (one per backend) are reported as one run with one table per workload."""

from __future__ import annotations

from pathlib import Path

from hybridbench.cli import main
from hybridbench.report import html, model
from hybridbench.results import Cell, Results, load, save


def _cell(backend: str, rate: float | None, achieved: float, p99_ms: float) -> Cell:
    return Cell(workload="echo", size="64B", backend=backend, mode="open" if rate else "closed",
                rate=rate, verified=True, throughput_ops=achieved, samples=20_000,
                latency_ns={"p50": p99_ms * 2e5, "p90": p99_ms * 5e5, "p99": p99_ms * 1e6,
                            "p999": p99_ms * 2e6, "max": p99_ms * 3e6, "mean": p99_ms * 3e5},
                rounds=[{"ops": achieved}], payload_bytes=64,
                cpu_s_per_op={"client": 3e-4, "server": 5e-5},
                backend_info={"profile": {"placement": "service", "engine_kind": "native",
                                          "engine_name": "Rust kernels", "transport": "gRPC"}})


def _sweep() -> Results:
    cells = [_cell("grpc", None, 1000, 4.0)] + [
        _cell("grpc", rate, min(rate, 1000), p99)
        for rate, p99 in ((250, 1.0), (500, 2.0), (850, 4.5), (1150, 40.0))]
    return Results(env={}, cells=cells, config={"slo_p99_s": 0.005})


def test_open_loop_cells_make_a_load_chart_and_a_capacity_line():
    report = model.build([_sweep()])
    (run,) = report.runs
    (found,) = run.capacities_of("echo")
    assert found.best is not None and found.best.achieved == 850
    page = html.render_report(report)
    assert "Latency against load: echo" in page
    assert "echo/64B grpc: 850 req/s at P99 &lt;= 5 ms" in page
    assert "cores per 1,000 requests/s" in page


def test_open_loop_cells_stay_out_of_the_decision():
    (group,) = model.build([_sweep()]).runs[0].groups
    assert group.several_loads
    assert [e.cell.mode for e in group.lowest] == ["closed"]


def test_per_backend_files_become_one_table(tmp_path: Path, capsys):
    first, second = tmp_path / "grpc.json", tmp_path / "ffi.json"
    save(Results(env={}, cells=[_cell("grpc", None, 1000, 4.0)],
                 config={"duration_s": 3.0}), first)
    ffi = _cell("ffi", None, 90_000, 0.02)
    ffi.backend_info = {"profile": {"placement": "in-process", "engine_kind": "native",
                                    "engine_name": "Rust kernels", "transport": "FFI"}}
    save(Results(env={}, cells=[ffi], config={"duration_s": 3.0}), second)
    out = tmp_path / "both.html"
    assert main(["report", str(first), str(second), "-o", str(out)]) == 0
    page = out.read_text()
    assert page.count("<h2>Headline</h2>") == 1  # one run, so one table per workload
    assert page.count("<h3>echo 64B</h3>") == 1
    assert "grpc" in page and "ffi" in page
    # the same files twice measured the same cells: separate runs, said so
    assert main(["report", str(first), str(first), "-o", str(tmp_path / "twice.html")]) == 0
    assert "each is shown as a run of its own" in " ".join(capsys.readouterr().out.split())
    assert (tmp_path / "twice.html").read_text().count("<h2>Headline</h2>") == 2
    assert load(first).cells[0].backend == "grpc"  # inputs untouched


def test_a_median_outside_its_interval_still_draws():
    """Reported from a real run: echo 1MB grpc at 66.4/s with the workers' interval
    [73.1, 89.9] made matplotlib refuse a negative error bar and the report exit 2."""
    cell = _cell("grpc", None, 66.4, 4.0)
    cell.throughput_ci95 = [73.1, 89.9]
    page = html.render_report(model.build([Results(env={}, cells=[cell])]))
    assert "echo: throughput" in page


def _service(backend: str, language: str, label: str, order: int, kernel_ms: float) -> Cell:
    cell = _cell(backend, None, 100.0, 9.0)
    cell.workload, cell.size = "text", "64docs"
    cell.kernel_ns = {"p50": kernel_ms * 1e6}
    cell.backend_info = {**cell.backend_info, "engine_language": language,
                         "article_label": label, "article_order": order}
    return cell


def test_go_and_rust_engines_are_compared_on_kernel_time_beside_the_articles_figure():
    rust = _service("grpc", "Rust", "Rust via gRPC", 1, 1.0)
    go = _service("grpc-go", "Go", "Go only", 0, 5.0)
    run = model.build([Results(env={}, cells=[rust, go])]).runs[0]
    (group,) = run.groups
    (sentence,) = [s for s in group.sentences if "engine (grpc-go)" in s]
    assert "Go engine (grpc-go) took 5.0x the time of the Rust engine (grpc)" in sentence
    assert "5.2x slower in Go than in Rust" in sentence
    # the articles' columns: "Go only" first, then "Rust via gRPC"
    assert model.article_columns(run) == [("grpc-go", "Go only (grpc-go)"),
                                          ("grpc", "Rust via gRPC (grpc)")]
    assert "Go only (grpc-go)" in html.render_report(model.build([Results(env={},
                                                                          cells=[rust, go])]))
