"""The kernel ladder (``report.tiers.kernel_ladder``): Go against Rust on the kernels' own time,
idiomatic and at their best, and Go calling Rust through cgo; rungs chosen from what the
backends declare, never from their names."""

from __future__ import annotations

from hybridbench.report import markdown, model, tiers
from hybridbench.results import Cell, Results


def _cell(backend: str, language: str, tuning: str, kernel_ms: float,
          host: str | None = None, placement: str = "service") -> Cell:
    info = {"engine_language": language,
            "profile": {"placement": placement, "engine_kind": "native", "tuning": tuning,
                        "engine": f"{language} kernels", "transport": "gRPC"}}
    if host:
        info["host_language"] = host
    return Cell(workload="json", size="1MB", backend=backend, mode="closed", verified=True,
                throughput_ops=1e3 / kernel_ms, samples=5_000, rounds=[{"ops": 1.0}],
                latency_ns={"p50": kernel_ms * 1.2e6, "p99": kernel_ms * 2e6,
                            "p999": kernel_ms * 2.5e6},
                kernel_ns={"p50": kernel_ms * 1e6}, payload_bytes=1 << 20, backend_info=info)


CELLS = [_cell("go-a", "Go", "idiomatic", 30.0, host="Go"),
         _cell("go-b", "Go", "tuned", 3.0, host="Go"),
         _cell("rust-i", "Rust", "idiomatic", 15.0, placement="in-process"),
         _cell("rust-t", "Rust", "tuned", 1.5, placement="in-process"),
         _cell("rust-t-slower", "Rust", "tuned", 2.0),
         _cell("go-rust", "Rust", "tuned", 1.8, host="Go")]


def _group() -> model.Group:
    (group,) = model.build([Results(env={}, cells=CELLS)]).runs[0].groups
    return group


def test_rungs_come_from_the_declarations_and_the_fastest_kernel_wins():
    ladder = tiers.kernel_ladder(_group().lowest)
    assert ladder is not None
    assert [(r.label, r.entry.cell.backend) for r in ladder.rungs] == [
        ("idiomatic Go", "go-a"), ("best Go", "go-b"), ("idiomatic Rust", "rust-i"),
        ("tuned Rust", "rust-t"), ("Go calling Rust", "go-rust")]
    splits = dict(ladder.splits())
    assert splits == {"Go tuning": 10.0, "language (idiomatic)": 2.0, "Rust tuning": 10.0,
                      "language (at their best)": 2.0, "cgo": 1.2}
    assert ladder.sentence().startswith("Kernel time: idiomatic Go 30")


def test_without_a_go_rung_there_is_no_ladder():
    rust_only = [c for c in CELLS if c.backend_info["engine_language"] == "Rust"]
    (group,) = model.build([Results(env={}, cells=rust_only)]).runs[0].groups
    assert tiers.kernel_ladder(group.lowest) is None


def test_the_markdown_summary_shows_the_ladder():
    page = markdown.render([Results(env={}, cells=CELLS)])
    assert "| kernel rung | backend |" in page
    assert "| best Go | go-b |" in page and "language (at their best) 2x; cgo 1.2x." in page


def test_the_html_report_shows_the_ladder(tmp_path):
    from hybridbench.report import html

    path = tmp_path / "report.html"
    html.write_report(model.build([Results(env={}, cells=CELLS)]), path)
    page = path.read_text()
    assert "Go against Rust, kernel time" in page
    assert page.index("idiomatic Go") < page.index("best Go") < page.index("Go calling Rust")
    assert "language (at their best) 2x; cgo 1.2x." in page
