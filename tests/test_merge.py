"""``hybridbench merge``: cells of several clients combined, different cells united, files
that are not one measurement refused. The merge is the harness's own arithmetic, so these are
unit tests on built result files; ``test_merge_cli_on_real_runs`` merges two real runs."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hybridbench import stats
from hybridbench.cli import main
from hybridbench.merge import MergeError, Source, merge
from hybridbench.results import FAILED, OK, Cell, Results, load, save


def _cell(backend: str = "grpc", latencies_ns: tuple[int, ...] = (1000, 2000, 3000),
          throughput: float = 100.0, cpu_client: float = 1e-4, cpu_server: float = 2e-5,
          spawned: bool = True, workers: int = 3) -> Cell:
    histogram = stats.new_histogram()
    stats.record_many(histogram, np.asarray(latencies_ns))
    cell = Cell(workload="echo", size="64B", backend=backend, payload_bytes=64,
                samples=len(latencies_ns), verified=True, workers=workers,
                throughput_ops=throughput, throughput_mean_ops=throughput,
                throughput_ci95=[throughput - 10, throughput + 10],
                throughput_pi95=[throughput - 14, throughput + 14],
                latency_ns=stats.latency_summary(histogram),
                latency_hdr=stats.encode_histogram(histogram),
                cpu_s_per_op={"client": cpu_client, "server": cpu_server},
                rss_peak_bytes={"client": 100, "server": 50},
                rss_baseline_bytes={"client": 80, "server": 40},
                backend_info={"spawned": spawned},
                time_split={"calls": 10, "end_to_end_ns": 2000.0, "kernel_ns": 500.0,
                            "crossing_ns": 1500.0, "client_cpu_ns": cpu_client * 1e9})
    cell.worker_results = [{"pid": i, "ops": 100, "throughput": throughput / workers}
                           for i in range(workers)]
    cell.rounds = [{"worker": i, "ops": 100, "duration_s": 1.0, "throughput": 100.0}
                   for i in range(workers)]
    return cell


def _results(*cells: Cell, host: str = "a", **config) -> Results:
    return Results(env={"hostname": host}, cells=list(cells),
                   config={"duration_s": 3.0, "rounds": 3, "seed": 0, **config})


def test_same_cell_from_two_clients_adds_throughput_and_merges_histograms():
    merged = merge([Source("a.json", _results(_cell(latencies_ns=(1000,) * 90))),
                    Source("b.json", _results(_cell(latencies_ns=(9000,) * 10), host="b"))])
    (cell,) = merged.cells
    assert cell.status == OK and cell.verified
    assert cell.throughput_ops == pytest.approx(200.0)
    assert cell.throughput_bytes == pytest.approx(200.0 * 64)
    assert cell.samples == 100 and cell.workers == 6
    # 90 fast calls and 10 slow: the merged distribution's P99 is a slow one, its P50 fast.
    assert cell.latency_ns["p50"] == pytest.approx(1000, rel=1e-3)
    assert cell.latency_ns["p99"] == pytest.approx(9000, rel=1e-3)
    assert stats.decode_histogram(cell.latency_hdr).get_total_count() == 100
    # Intervals: centres add, half-widths in quadrature: 200 +- 10*sqrt(2).
    low, high = cell.throughput_ci95
    assert (low + high) / 2 == pytest.approx(200.0)
    assert (high - low) / 2 == pytest.approx(10 * np.sqrt(2))
    assert "quadrature" in cell.interval_method
    assert {w["client"] for w in cell.worker_results} == {"a.json", "b.json"}
    assert {r["client"] for r in cell.rounds} == {0, 1}
    assert [m["file"] for m in merged.config["merged_from"]] == ["a.json", "b.json"]
    assert [m["hostname"] for m in merged.env["client_machines"]] == ["a", "b"]


def test_client_cpu_is_total_over_total_calls():
    cell = merge([Source("a", _results(_cell(cpu_client=1e-4))),
                  Source("b", _results(_cell(cpu_client=3e-4)))]).cells[0]
    assert cell.cpu_s_per_op["client"] == pytest.approx(2e-4)  # same calls each: the mean
    assert cell.time_split["client_cpu_ns"] == pytest.approx(2e5)


def test_shared_server_cpu_is_not_counted_once_per_client():
    """Two clients of one --grpc-target server each saw the server's whole CPU (300 calls
    each, 2e-5 s per call of theirs = 6 ms of server CPU, all of it for 600 calls)."""
    shared = merge([Source("a", _results(_cell(spawned=False))),
                    Source("b", _results(_cell(spawned=False)))]).cells[0]
    assert shared.cpu_s_per_op["server"] == pytest.approx(1e-5)
    separate = merge([Source("a", _results(_cell())), Source("b", _results(_cell()))]).cells[0]
    assert separate.cpu_s_per_op["server"] == pytest.approx(2e-5)


def test_different_cells_are_united_in_order():
    merged = merge([Source("grpc.json", _results(_cell("grpc"))),
                    Source("ffi.json", _results(_cell("ffi")))])
    assert [c.backend for c in merged.cells] == ["grpc", "ffi"]
    assert merged.cells[0].throughput_ops == 100.0  # untouched


def test_failure_in_one_client_fails_the_cell_naming_it():
    broken = _cell()
    broken.status, broken.error = FAILED, "server died"
    (cell,) = merge([Source("a.json", _results(_cell())),
                     Source("b.json", _results(broken))]).cells
    assert cell.status == FAILED and not cell.verified
    assert cell.error == "server died (client b.json)"


def test_missing_histogram_in_one_client_gives_no_percentiles_rather_than_a_partial_tail():
    lacking = _cell()
    lacking.kernel_hdr = None
    with_kernel = _cell()
    with_kernel.kernel_hdr = with_kernel.latency_hdr
    cell = merge([Source("a", _results(with_kernel)), Source("b", _results(lacking))]).cells[0]
    assert cell.kernel_hdr is None and cell.kernel_ns is None


@pytest.mark.parametrize("key, a, b", [("duration_s", 3.0, 1.0), ("seed", 0, 1),
                                       ("rounds", 3, 2)])
def test_different_settings_are_refused(key, a, b):
    with pytest.raises(MergeError, match=f"{key} {a!r} vs {b!r}"):
        merge([Source("x.json", _results(_cell(), **{key: a})),
               Source("y.json", _results(_cell(), **{key: b}))])


def test_different_schemas_are_refused():
    old = _results(_cell())
    old.schema = 1
    with pytest.raises(MergeError, match="schema"):
        merge([Source("new.json", _results(_cell())), Source("old.json", old)])


def test_different_payload_sizes_are_refused():
    other = _cell()
    other.payload_bytes = 65
    with pytest.raises(MergeError, match="payloads of different sizes"):
        merge([Source("a", _results(_cell())), Source("b", _results(other))])


def test_inputs_are_not_changed():
    a = _results(_cell())
    before = copy.deepcopy(a.to_dict())
    merge([Source("a", a), Source("b", _results(_cell()))])
    assert a.to_dict() == before


def test_merge_cli_writes_a_loadable_file_and_refuses_bad_input(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    save(_results(_cell()), first)
    save(_results(_cell(), duration_s=9.0), second)
    out = tmp_path / "out" / "merged.json"
    assert main(["merge", str(first), str(first), "-o", str(out)]) == 0
    assert load(out).cells[0].throughput_ops == pytest.approx(200.0)
    assert main(["merge", str(first), str(second), "-o", str(tmp_path / "x.json")]) == 2
    assert "different settings" in " ".join(capsys.readouterr().out.split())
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["merge", str(first), str(tmp_path / "bad.json"), "-o",
                 str(tmp_path / "y.json")]) == 2
    assert "bad.json" in " ".join(capsys.readouterr().out.split())
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "y.json").exists()


@pytest.mark.slow
def test_merge_cli_on_real_runs(tmp_path):
    """Two real runs of the same cell, merged: the histograms' counts add up exactly."""
    files = [tmp_path / f"run{i}.json" for i in range(2)]
    for path in files:
        assert main(["run", "-w", "echo", "-b", "inproc", "--size", "64B", "--quick",
                     "--no-cold-start", "-o", str(path), "--report",
                     str(path.with_suffix(".html"))]) == 0
    out = tmp_path / "merged.json"
    assert main(["merge", *map(str, files), "-o", str(out)]) == 0
    runs = [load(path).cells[0] for path in files]
    (cell,) = load(out).cells
    assert cell.samples == sum(c.samples for c in runs)
    assert cell.throughput_ops == pytest.approx(sum(c.throughput_ops for c in runs))
    assert cell.workers == sum(c.workers for c in runs)


def _compared(results: Results, backend: str, baseline: str, ratio: float) -> Results:
    from hybridbench import paired
    from hybridbench.results import Comparison

    cell = next(c for c in results.cells if c.backend == backend)
    results.comparisons.append(Comparison(
        workload=cell.workload, size=cell.size, backend=backend, baseline=baseline,
        ratio=ratio, ratio_ci95=[ratio * 0.95, ratio * 1.05], passes=4,
        table=list(paired.table_key(cell))))
    return results


def test_comparisons_of_tables_from_one_file_are_kept_and_merged_cells_lose_theirs():
    # two backends measured together in one file: their paired ratio still describes them
    whole = _compared(_results(_cell("grpc"), _cell("ffi")), "ffi", "grpc", 2.0)
    other = _results(_cell("inproc"), host="b")
    merged = merge([Source("whole.json", whole), Source("other.json", other)])
    assert [(c.backend, c.baseline, c.ratio) for c in merged.comparisons] == [
        ("ffi", "grpc", 2.0)]
    # the same cells from two clients: their combined load was never paired by one run
    twice = merge([Source("a.json", whole), Source("b.json", copy.deepcopy(whole))])
    assert twice.comparisons == []
    # and the kept comparisons survive the file
    assert len(merged.comparisons) == 1 and len(whole.comparisons) == 1  # inputs untouched
