"""``run --observability-cost`` (issue 24, item 2): the cost cells' plan and the sentences the
report makes of their paired ratios. The measured figures are in the closing note; here the
harness logic, with made-up cells."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hybridbench import cli, observability, runner
from hybridbench.errors import HybridbenchError
from hybridbench.report import costs, markdown, model
from hybridbench.results import OK, Cell, Comparison, Results
from hybridbench.runner import RunConfig

SVC = {"placement": "service", "engine_kind": "native", "engine": "Rust kernels",
       "transport": "gRPC", "incumbent": False}


def _cell(backend: str, ops: float) -> Cell:
    return Cell(workload="echo", size="64B", backend=backend, status=OK, verified=True,
                samples=10_000, throughput_ops=ops, payload_bytes=64,
                throughput_ci95=[ops * 0.97, ops * 1.03],
                latency_ns={"p50": 1e9 / ops, "p90": 1.5e9 / ops, "p99": 2e9 / ops,
                            "p999": 3e9 / ops, "max": 4e9 / ops, "mean": 1.1e9 / ops},
                backend_info={"profile": SVC})


def _results(comparisons: list[Comparison]) -> Results:
    config = {"observability": {"grpc+trace": {"base": "grpc", "adds": "tracing"}}}
    return Results(env={}, cells=[_cell("grpc", 20_000.0), _cell("grpc+trace", 16_000.0)],
                   config=config, comparisons=comparisons)


def _paired(ratio: float, low: float, high: float) -> Comparison:
    return Comparison(workload="echo", size="64B", backend="grpc+trace", baseline="grpc",
                      ratio=ratio, ratio_ci95=[low, high], method="paired", passes=4,
                      table=["echo", "64B", 1, "closed", None, None])


def test_the_paired_ratio_becomes_time_added_per_call() -> None:
    run = model.build_run(_results([_paired(0.8, 0.75, 0.85)]), lookup=lambda name: None)
    [cost] = costs.of_run(run)
    assert cost.paired and cost.base == "grpc" and cost.adds == "tracing"
    assert cost.fraction.value == pytest.approx(0.25)  # 1 / 0.8 - 1
    assert cost.fraction.low == pytest.approx(1 / 0.85 - 1)
    assert cost.fraction.high == pytest.approx(1 / 0.75 - 1)
    assert cost.added_ns.value == pytest.approx(0.25 * 1e9 / 20_000)  # 12.5 us
    sentence = cost.sentence()
    assert sentence.startswith("echo 64B: tracing adds 12.5 µs per call to grpc (+25.0%")
    assert "95% interval +17.6% to +33.3%; paired" in sentence


def test_unsampled_tracing_has_a_sentence_of_its_own() -> None:
    label = "grpc+trace-unsampled"
    config = {"observability": {label: {"base": "grpc", "adds": "unsampled tracing"}}}
    comparison = replace(_paired(0.99, 0.98, 1.0), backend=label)
    data = Results(env={}, cells=[_cell("grpc", 20_000.0), _cell(label, 19_800.0)],
                   config=config, comparisons=[comparison])
    [cost] = costs.of_run(model.build_run(data, lookup=lambda name: None))
    assert cost.sentence().startswith(
        "echo 64B: unsampled tracing adds 505 ns per call to grpc (+1.0%")


def test_a_variant_measured_faster_reads_as_a_negative_time() -> None:
    run = model.build_run(_results([_paired(1.05, 0.95, 1.15)]), lookup=lambda name: None)
    [cost] = costs.of_run(run)
    assert cost.added_ns.value < 0
    assert "tracing adds -2.38 µs per call to grpc (-4.8%, 95% interval -13.0% to +5.3%" in \
        cost.sentence()


def test_without_comparisons_the_quotient_is_used_and_said() -> None:
    run = model.build_run(_results([]), lookup=lambda name: None)
    [cost] = costs.of_run(run)
    assert not cost.paired and "quotient" in cost.sentence()
    assert cost.fraction.value == pytest.approx(0.25)


def test_markdown_has_the_section_only_when_the_run_priced_something() -> None:
    run = model.build_run(_results([_paired(0.8, 0.75, 0.85)]), lookup=lambda name: None)
    assert "### Observability cost" in markdown.render_report(model.Report([run]))
    plain = Results(env={}, cells=[_cell("grpc", 20_000.0)])
    plain_run = model.build_run(plain, lookup=lambda name: None)
    assert "Observability cost" not in markdown.render_report(model.Report([plain_run]))


def test_cost_cells_are_labels_of_the_same_backends() -> None:
    fields = observability.config_fields(["ffi", "grpc"], {"grpc": {"workers": 1}})
    assert fields["backends"] == ["ffi", "grpc", "ffi+trace", "grpc+trace",
                                  "grpc+trace-unsampled", "grpc+log"]
    assert fields["backend_kinds"] == {"ffi+trace": "ffi", "grpc+trace": "grpc",
                                       "grpc+trace-unsampled": "grpc", "grpc+log": "grpc"}
    assert fields["backend_options"]["grpc+log"] == {"workers": 1, "log_format": "json",
                                                     "log_calls": True}
    assert fields["backend_options"]["ffi+trace"] == {"trace_every_call": True}
    assert fields["observability"]["grpc+log"] == {"base": "grpc", "adds": "logging"}
    assert fields["backend_options"]["grpc+trace-unsampled"] == {
        "workers": 1, observability.TRACE_SERVER_ONLY: True}
    assert fields["observability"]["grpc+trace-unsampled"] == {
        "base": "grpc", "adds": "unsampled tracing"}


@pytest.mark.parametrize("run_traces", [False, True])
def test_an_unsampled_tracing_cell_traces_in_its_server_only(tmp_path: Path,
                                                             run_traces: bool) -> None:
    """The server gets a trace directory (so ``--trace-file``); the worker gets none, so its
    timed calls carry no trace context, unless the run traces (then it makes its few sampled
    calls after the timed rounds, as every cell does)."""
    config = RunConfig(trace=str(tmp_path / "t.jsonl") if run_traces else None)
    spec = {"options": {observability.TRACE_SERVER_ONLY: True}}
    traced = runner._trace_spec(config, tmp_path, spec)
    assert traced["options"]["trace_dir"] == str(tmp_path / runner.TRACE_DIR)
    assert ("trace_dir" in traced) is run_traces
    assert runner._trace_spec(RunConfig(), tmp_path, {"options": {}}) == {"options": {}}


def test_the_cost_needs_backends_to_price() -> None:
    with pytest.raises(HybridbenchError, match="needs the backends"):
        observability.config_fields([], {})
    args = cli.build_parser().parse_args(["run", "-w", "echo", "--observability-cost"])
    with pytest.raises(HybridbenchError, match="-b"):
        cli._config(args)


def test_cost_cells_stay_in_the_table_but_out_of_the_decision() -> None:
    """A traced copy of a backend is not another pattern: even when noise makes it the
    fastest cell, the verdict and the boundary pairs are the plain backends'."""
    data = _results([_paired(1.05, 0.95, 1.15)])
    data.cells[1].throughput_ops = 21_000.0
    run = model.build_run(data, lookup=lambda name: None)
    [group] = run.groups
    assert [e.cell.backend for e in group.entries] == ["grpc", "grpc+trace"]
    assert [e.cell.backend for e in group.lowest] == ["grpc"]
    assert "grpc+trace" not in " ".join(group.sentences)


def test_the_html_report_has_the_cost_section() -> None:
    from hybridbench.report import html

    run = model.build_run(_results([_paired(0.8, 0.75, 0.85)]), lookup=lambda name: None)
    page = html.render_report(model.Report([run]))
    assert "Observability cost" in page and "tracing adds 12.5 µs per call to grpc" in page
