"""The container as a placement (``--container``), harness logic only: the cells it adds,
the errors on bad limits, and the report's pairing of each containerised cell with its bare
twin by the recorded profile, never by labels. The real containers are run in
tests/test_containers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hybridbench import containers, paired
from hybridbench.cli import build_parser, main
from hybridbench.errors import HybridbenchError
from hybridbench.report import markdown, model
from hybridbench.results import Cell, Comparison, Results


def test_a_container_cell_per_cpu_limit_beside_each_server_backend():
    cells = containers.container_cells(["inproc", "grpc", "grpc-go"], "img", [None, 1.0, 0.5],
                                       "256m")
    assert cells.labels == ["grpc@container", "grpc@container-cpus1", "grpc@container-cpus0.5",
                            "grpc-go@container", "grpc-go@container-cpus1",
                            "grpc-go@container-cpus0.5"]
    assert cells.kinds["grpc-go@container-cpus0.5"] == "grpc-go"
    assert cells.options["grpc@container-cpus1"] == {"container": "img", "cpus": 1.0,
                                                    "memory": "256m"}


@pytest.mark.parametrize("backends, limits, memory, message", [
    (["inproc", "ffi"], None, None, "none of the selected backends spawns a server"),
    (["grpc"], None, "lots", "--memory 'lots': a size in docker's syntax"),
])
def test_bad_container_requests_are_named(backends, limits, memory, message):
    with pytest.raises(HybridbenchError, match=message):
        containers.container_cells(backends, "img", limits, memory)


@pytest.mark.parametrize("text, message", [("0", "'0': a positive number"),
                                           ("1,fast", "'fast': a positive number"),
                                           (",", "at least one limit")])
def test_bad_cpu_limits_are_named(text, message):
    with pytest.raises(HybridbenchError, match=message):
        containers.parse_cpus(text)


def test_cpu_limits_parse_with_none_for_no_limit():
    assert containers.parse_cpus("none, 1,0.5") == [None, 1.0, 0.5]


def test_limits_without_a_container_are_refused(capsys):
    assert main(["run", "-w", "echo", "-b", "grpc", "--cpus", "1", "--quick"]) != 0
    assert "give --container IMAGE" in capsys.readouterr().out


def test_the_cli_parses_the_container_options():
    args = build_parser().parse_args(["run", "--container", "hybridbench-server", "--cpus",
                                      "none,0.5", "--memory", "256m"])
    assert (args.container, args.cpus, args.memory) == ("hybridbench-server", [None, 0.5],
                                                        "256m")


def _cell(backend: str, per_call_ms: float, container: dict | None = None) -> Cell:
    profile = {"placement": "service", "engine_kind": "native", "engine": "Rust kernels",
               "transport": "gRPC", "tuning": "tuned"}
    if container is not None:
        profile["container"] = container
    return Cell(workload="json", size="1MB", backend=backend, mode="closed", verified=True,
                throughput_ops=1e3 / per_call_ms, throughput_ci95=[1e3 / per_call_ms * 0.9,
                                                                     1e3 / per_call_ms * 1.1],
                samples=5_000, rounds=[{"ops": 1.0}],
                latency_ns={"p50": per_call_ms * 1e6, "p99": per_call_ms * 3e6,
                            "p999": per_call_ms * 4e6, "mean": per_call_ms * 1e6},
                payload_bytes=1 << 20, backend_info={"profile": profile})


def _limits(cpus: float | None) -> dict:
    return {"runtime": "docker", "image": "img", "cpus": cpus, "memory": None}


RUN = Results(env={}, cells=[_cell("bare", 4.0), _cell("boxed", 4.4, _limits(None)),
                             _cell("boxed-half", 8.0, _limits(0.5)),
                             _cell("other-engine", 2.0)])
RUN.cells[2].server_reported = {"server": {"cfs_periods": 40.0, "cfs_throttled_periods": 10.0,
                                           "cfs_throttled_s": 0.5}}
RUN.comparisons = [Comparison(workload="json", size="1MB", backend="boxed", baseline="bare",
                              ratio=0.9, ratio_ci95=[0.85, 0.95], concurrency=1, mode="closed",
                              table=list(paired.table_key(RUN.cells[0])))]


def test_each_container_cell_is_paired_with_its_bare_twin_by_profile():
    (group,) = model.build([RUN]).runs[0].groups
    rows = {r.container.cell.backend: r for r in group.containers}
    assert set(rows) == {"boxed", "boxed-half"}
    assert {r.bare.cell.backend for r in rows.values()} == {"bare"}
    assert rows["boxed-half"].limits == "0.5 CPU, no memory limit"
    assert rows["boxed-half"].p99_ratio == pytest.approx(2.0)
    assert rows["boxed-half"].throttled == "25% of 40 periods, 500 ms"
    assert rows["boxed"].throttled == "-"  # not read: no limit, or no cgroup
    assert rows["boxed"].extra_ns is not None
    assert rows["boxed"].extra_ns.value == pytest.approx(0.4e6)
    assert rows["boxed"].ratio is not None and rows["boxed"].ratio.value == 0.9  # the paired one


def test_a_container_is_said_in_the_profile_and_not_a_boundary_of_its_own():
    view = model.build([RUN]).runs[0]
    assert view.profiles["boxed"].pattern == "native service in a container (gRPC)"
    assert view.profiles["bare"].pattern == "native service (gRPC)"


def test_the_markdown_summary_shows_container_against_bare():
    page = markdown.render([RUN])
    assert "| in a container | limits | bare process |" in page
    assert "| boxed-half | 0.5 CPU, no memory limit | bare |" in page
    assert "| 25% of 40 periods, 500 ms |" in page
    assert "boxed (server in a container, no CPU limit, no memory limit) does 0.9x" in page


def test_the_html_report_shows_container_against_bare(tmp_path):
    from hybridbench.report import html

    path = tmp_path / "report.html"
    html.write_report(model.build([RUN]), path)
    page = path.read_text()
    assert "server in a container" in page and "0.5 CPU, no memory limit" in page


def test_the_csv_says_where_each_server_ran():
    import csv
    import io

    from hybridbench.report import csv_export

    rows = {r["backend"]: r for r in csv.DictReader(io.StringIO(
        csv_export.render_report(model.Report([model.build([RUN]).runs[0]]))))}
    assert (rows["boxed-half"]["container_image"], rows["boxed-half"]["container_cpus"]) == (
        "img", "0.5")
    assert rows["bare"]["container_image"] == "" and rows["bare"]["container_cpus"] == ""


@pytest.mark.parametrize("stat, throttled_s", [
    ("nr_periods 40\nnr_throttled 10\nthrottled_time 500000000\n", 0.5),  # cgroup v1 (ns)
    ("usage_usec 9\nnr_periods 40\nnr_throttled 10\nthrottled_usec 500000\n", 0.5),  # v2
])
def test_cfs_counters_are_read_from_the_process_cgroup(tmp_path, monkeypatch, stat,
                                                       throttled_s):
    """The counters of the cgroup this very process is in, under a stand-in mount root."""
    from hybridbench.backends.grpc import container

    for line in Path(f"/proc/{os.getpid()}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(",") or controllers == "":
            where = tmp_path / (controllers if controllers else "") / path.lstrip("/")
            where.mkdir(parents=True, exist_ok=True)
            (where / "cpu.stat").write_text(stat)
    monkeypatch.setattr(container, "CGROUP_ROOT", tmp_path)
    assert container.cfs_throttling(os.getpid()) == {
        "cfs_periods": 40.0, "cfs_throttled_periods": 10.0, "cfs_throttled_s": throttled_s}
