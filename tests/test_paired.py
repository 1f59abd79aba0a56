"""Paired ratios: the statistics (pure, by known values and by simulation), the pass order, the
comparisons and their flags, the result file, and a real run of worker processes."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from hybridbench import paired, results, runner, stats, thresholds
from hybridbench.results import OK, Cell, Comparison, Kind, Results

TINY = dict(duration_s=0.3, rounds=2, warmup_s=0.02, workers=2, breakdown_s=0.02,
            cold_start=False)


# -- stats.paired_ratio -----------------------------------------------------------------------

def test_a_backend_paired_with_itself_is_one_within_its_interval() -> None:
    figures = [1000.0, 1400.0, 800.0, 1210.0]
    found = stats.paired_ratio(figures, figures)
    assert found.ratio == 1.0
    assert found.ci95 == (1.0, 1.0) and found.pi95 == (1.0, 1.0)
    assert found.passes == 4 and found.pass_ratios == (1.0,) * 4


def test_paired_ratio_known_values() -> None:
    # log ratios 0 and log 4: mean log 2, s = log(4)/sqrt(2), n = 2, t(1) = 12.706
    found = stats.paired_ratio([100.0, 400.0], [100.0, 100.0])
    assert found.ratio == pytest.approx(2.0)
    reach = 12.7062047 * (math.log(4) / math.sqrt(2)) / math.sqrt(2)
    assert found.ci95 == pytest.approx((2 * math.exp(-reach), 2 * math.exp(reach)))
    assert found.pi95 == pytest.approx((2 * math.exp(-reach * math.sqrt(2)),
                                        2 * math.exp(reach * math.sqrt(2))))
    assert found.half_width == pytest.approx((found.ci95[1] - found.ci95[0]) / 4)


def test_paired_ratio_is_symmetric_under_swapping() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(7, 0.2, 6), rng.lognormal(6, 0.2, 6)
    forward, backward = stats.paired_ratio(a, b), stats.paired_ratio(b, a)
    assert forward.ratio * backward.ratio == pytest.approx(1.0)
    assert forward.ci95[0] * backward.ci95[1] == pytest.approx(1.0)
    assert forward.ci95[1] * backward.ci95[0] == pytest.approx(1.0)


def test_paired_ratio_degenerate_input() -> None:
    one = stats.paired_ratio([5.0], [2.0])
    assert one.ratio == 2.5 and all(math.isnan(v) for v in (*one.ci95, *one.pi95))
    # a pass without a figure (a worker that measured nothing) is left out, not a zero ratio
    found = stats.paired_ratio([2.0, math.nan, 0.0, 4.0], [1.0, 1.0, 1.0, 2.0])
    assert found.passes == 2 and found.ratio == pytest.approx(2.0)
    empty = stats.paired_ratio([], [])
    assert empty.passes == 0 and math.isnan(empty.ratio)
    with pytest.raises(ValueError, match="one denominator per numerator"):
        stats.paired_ratio([1.0, 2.0], [1.0])


def _simulated_pairs(rng: np.random.Generator, runs: int, passes: int, true_ratio: float,
                     drift: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Per run and pass: a machine state both backends share (lognormal ``drift``) times each
    worker's own noise (lognormal ``noise``, heavier-tailed with an occasional stall)."""
    shared = rng.lognormal(0.0, drift, (runs, passes))
    own_a = rng.lognormal(0.0, noise, (runs, passes))
    own_b = rng.lognormal(0.0, noise, (runs, passes))
    return 1000.0 * true_ratio * shared * own_a, 1000.0 * shared * own_b


@pytest.mark.parametrize("passes", [3, 4, 6])
def test_paired_intervals_cover_by_simulation(passes: int) -> None:
    """4000 simulated runs: the CI covers the true ratio ~95% of the time and the PI a repeat
    run's ratio ~95%, however large the drift both backends share; the quotient of two
    independent per-cell intervals, under the same drift, is several times wider."""
    rng = np.random.default_rng(2100 + passes)
    runs, truth = 4000, 3.0
    a, b = _simulated_pairs(rng, runs, passes, truth, drift=0.25, noise=0.03)
    ra, rb = _simulated_pairs(rng, runs, passes, truth, drift=0.25, noise=0.03)
    found = [stats.paired_ratio(a[i], b[i]) for i in range(runs)]
    repeat = [stats.paired_ratio(ra[i], rb[i]).ratio for i in range(runs)]
    ci = np.mean([f.ci95[0] <= truth <= f.ci95[1] for f in found])
    pi = np.mean([f.pi95[0] <= r <= f.pi95[1] for f, r in zip(found, repeat, strict=True)])
    assert 0.935 <= ci <= 0.965, ci
    assert 0.935 <= pi <= 0.965, pi
    paired_width = np.median([f.half_width for f in found])
    quotient_width = []
    for i in range(runs):
        (al, ah), _ = stats.worker_intervals(a[i])
        (bl, bh), _ = stats.worker_intervals(b[i])
        if bl > 0:
            quotient_width.append((ah / bl - al / bh) / 2 / (a[i].mean() / b[i].mean()))
    assert paired_width * 5 < np.median(quotient_width)


def test_load_shift() -> None:
    quiet = [0.0, 0.01, -0.01, 0.005]
    shifted = stats.load_shift([*quiet, math.log(1.2)], [False] * 4 + [True])
    assert shifted is not None and shifted.beyond_noise
    assert shifted.factor == pytest.approx(1.2 / math.exp(np.mean(quiet)))
    within = stats.load_shift([*quiet, 0.008], [False] * 4 + [True])
    assert within is not None and not within.beyond_noise
    assert stats.load_shift(quiet, [True] * 4) is None
    assert stats.load_shift(quiet, [False] * 4) is None
    with pytest.raises(ValueError, match="one busy flag per pass"):
        stats.load_shift(quiet, [True])


# -- tables and the pass order ----------------------------------------------------------------

def _cells(backends: list[str], workloads: list[str]) -> list[Cell]:
    return [Cell(w, "1KB", b) for w in workloads for b in backends]


def test_table_key_is_the_cell_key_without_the_backend() -> None:
    a, b = Cell("json", "1MB", "ffi"), Cell("json", "1MB", "inproc")
    assert paired.table_key(a) == paired.table_key(b) == (
        "json", "1MB", 1, "closed", None, None)  # the last: the allocator (None: not chosen)
    assert paired.table_key(Cell("json", "1MB", "ffi", concurrency=2)) != paired.table_key(a)


def test_pass_order_keeps_tables_adjacent_and_shuffles_within_them() -> None:
    backends = ["a", "b", "c", "d", "e"]
    cells = _cells(backends, ["json", "text"])
    orders = [paired.pass_order(cells, seed=0, pass_index=p) for p in range(8)]
    for order in orders:
        assert sorted(order) == list(range(10))
        # json's five cells first, text's five after: each table adjacent, in plan order
        assert {cells[i].workload for i in order[:5]} == {"json"}
        assert {cells[i].workload for i in order[5:]} == {"text"}
    assert len({tuple(o) for o in orders}) > 1  # shuffled per pass
    assert orders == [paired.pass_order(cells, seed=0, pass_index=p) for p in range(8)]
    assert orders != [paired.pass_order(cells, seed=1, pass_index=p) for p in range(8)]
    recorded = paired.recorded_orders(cells, seed=0, passes=2)
    assert recorded[0]["json 1KB c=1"] == [cells[i].backend for i in orders[0][:5]]


# -- comparisons and their flags --------------------------------------------------------------

def _outcome(throughput: float, others: float = 0.0) -> dict[str, object]:
    rounds = [{"ops": int(throughput * f), "duration_ns": 1_000_000_000} for f in
              (0.99, 1.0, 1.01)]
    return {"rounds": rounds, "machine": {"others_cores": others}}


def _pending(backend: str, figures: list[float], others: list[float] | None = None
             ) -> runner.PendingCell:
    cell = Cell("json", "1MB", backend, status=OK)
    loads = others or [0.0] * len(figures)
    item = runner.PendingCell(runner.CellPlan("json", "1MB", backend, 1), cell, spec={},
                              outcomes=[_outcome(f, o) for f, o in zip(figures, loads,
                                                                       strict=True)])
    item.settled = True
    return item


def test_comparisons_for_every_ordered_pair_of_ok_backends() -> None:
    pending = [_pending("fast", [3000, 3100, 2950]), _pending("slow", [1000, 1040, 980]),
               _pending("mid", [2000, 2000, 2000])]
    broken = _pending("broken", [1, 1, 1])
    broken.cell.status = results.FAILED
    found = paired.comparisons([*pending, broken])
    assert {(c.backend, c.baseline) for c in found} == {
        (a, b) for a in ("fast", "slow", "mid") for b in ("fast", "slow", "mid") if a != b}
    fast = next(c for c in found if (c.backend, c.baseline) == ("fast", "slow"))
    assert fast.ratio == pytest.approx(stats.paired_ratio([3000, 3100, 2950],
                                                          [1000, 1040, 980]).ratio, rel=1e-3)
    assert fast.passes == 3 and fast.method == stats.PAIRED_METHOD
    assert fast.ratio_ci95[0] < fast.ratio < fast.ratio_ci95[1]  # type: ignore[index]
    assert fast.table == ["json", "1MB", 1, "closed", None, None]


def test_worker_figure_is_the_median_round() -> None:
    stalled = {"rounds": [{"ops": 1000, "duration_ns": 10**9}, {"ops": 100, "duration_ns": 10**9},
                          {"ops": 1010, "duration_ns": 10**9}]}
    assert paired.worker_figure(stalled) == 1000.0


def test_busy_passes_that_moved_a_ratio_are_flagged_by_name() -> None:
    quiet, busy = 0.0, thresholds.BUSY_CORES + 0.7
    pending = [_pending("fast", [3000, 3010, 2990, 3005, 3600], [quiet] * 4 + [busy]),
               _pending("slow", [1000, 1002, 999, 1001, 1000], [quiet] * 5),
               _pending("same", [1000, 1001, 1000, 1002, 1001], [quiet] * 5)]
    done = Results(env={})
    paired.record(pending, done, seed=0, passes=5)
    notices = [results.Notice.of(w) for w in done.warnings]
    [notice] = [n for n in notices if n.kind == Kind.LOAD_MOVED_RATIO]
    labels = [m["label"] for m in notice.data["comparisons"]]
    # the fast backend's pass 5 ran busy and gained 20%: both its pairs, each named once
    assert labels == ["json 1MB fast/slow", "json 1MB fast/same"]
    moved = [c for c in done.comparisons if Kind.LOAD_MOVED_RATIO in c.flags]
    assert {frozenset((c.backend, c.baseline)) for c in moved} == {
        frozenset(("fast", "slow")), frozenset(("fast", "same"))}
    assert done.config["pass_orders"] and done.config["pass_order_seed"] == 0


def test_a_busy_pass_that_moved_nothing_is_not_flagged() -> None:
    busy = thresholds.BUSY_CORES + 0.7
    pending = [_pending("fast", [3000, 3010, 2990, 3005], [busy, 0.0, 0.0, 0.0]),
               _pending("slow", [1000, 1003, 997, 1002], [busy, 0.0, 0.0, 0.0])]
    done = Results(env={})
    paired.record(pending, done, seed=0, passes=4)
    assert not done.warnings and all(not c.flags for c in done.comparisons)
    assert [c.pass_others_cores[0] for c in done.comparisons] == [busy, busy]


def test_ratios_measured_under_load_throughout_name_the_pairs_load_hits_unequally() -> None:
    busy = [thresholds.BUSY_CORES + 0.5] * 3
    pending = [_pending("inproc", [1000, 1010, 990], busy),
               _pending("ffi", [3000, 3010, 2990], busy),
               _pending("grpc", [500, 505, 495], busy)]
    one_process = {"client": 0.001}
    for item, cpu in zip(pending, [one_process, one_process,
                                   {"client": 0.001, "server": 0.001}], strict=True):
        item.cell.cpu_s_per_op, item.cell.throughput_ops = cpu, 1000.0
    done = Results(env={})
    paired.record(pending, done, seed=0, passes=3)
    notices = [results.Notice.of(w) for w in done.warnings]
    [notice] = [n for n in notices if n.kind == Kind.LOAD_THROUGHOUT]
    assert notice.data["all_passes_busy"] == 6  # every ordered pair ran busy throughout
    # grpc has a server on its call path: both its pairs are exposed; ffi/inproc is not
    named = notice.data["comparisons"]
    assert {frozenset(e["label"].split()[-1].split("/")) for e in named} == {
        frozenset(("grpc", "ffi")), frozenset(("grpc", "inproc"))}
    assert all("client+server" in e["why"] for e in named)
    flagged = {(c.backend, c.baseline) for c in done.comparisons
               if Kind.LOAD_THROUGHOUT in c.flags}
    assert flagged == {("grpc", "ffi"), ("ffi", "grpc"), ("grpc", "inproc"), ("inproc", "grpc")}


def test_cells_that_keep_different_numbers_of_cores_busy_are_exposed_to_load() -> None:
    one, two = Cell("image", "1MP", "a", status=OK), Cell("image", "1MP", "b", status=OK)
    one.cpu_s_per_op, two.cpu_s_per_op = {"client": 0.0015}, {"client": 0.002}
    one.throughput_ops = two.throughput_ops = 1000.0
    assert paired.exposed_to_load(one, two) == "1.5 cores against 2.0"
    two.cpu_s_per_op = {"client": 0.0016}
    assert paired.exposed_to_load(one, two) is None
    assert paired.exposed_to_load(one, Cell("image", "1MP", "c")) == "no CPU record to judge by"


# -- the result file --------------------------------------------------------------------------

def test_comparisons_round_trip_and_older_files_still_load(tmp_path: object) -> None:
    done = Results(env={}, cells=[Cell("json", "1MB", "a")])
    done.comparisons.append(Comparison("json", "1MB", "a", "b", ratio=2.0,
                                       ratio_ci95=[1.9, 2.1], ratio_pi95=[1.85, 2.15],
                                       method=stats.PAIRED_METHOD, passes=3,
                                       pass_ratios=[2.0, 1.95, 2.05],
                                       pass_others_cores=[0.1, 0.0, 0.2],
                                       table=["json", "1MB", 1, "closed", None, None]))
    data = results.Results.to_dict(done)
    again = Results.from_dict(data)
    assert again.comparisons == done.comparisons
    del data["comparisons"]
    assert Results.from_dict(data).comparisons == []
    data["comparisons"] = [{"workload": "json", "size": "1MB", "backend": "a"}]
    with pytest.raises(results.ResultFileError, match=r"comparisons\[0\]: no 'baseline'"):
        Results.from_dict(data)
    data["comparisons"] = [{"workload": "json", "size": "1MB", "backend": "a",
                            "baseline": "b", "ratio": "fast"}]
    with pytest.raises(results.ResultFileError, match=r"comparisons\[0\].ratio"):
        Results.from_dict(data)


# -- real workers -----------------------------------------------------------------------------

@pytest.mark.slow
def test_a_real_run_pairs_its_backends_pass_by_pass() -> None:
    """Two real in-process engines: each pass runs them adjacent in the recorded order (their
    workers' PIDs grow in spawn order), and the run stores both directions of their ratio;
    a cell's real workers paired with themselves give exactly 1."""
    config = runner.RunConfig(workloads=["echo"], backends=["inproc", "inproc-pure"],
                              sizes="64B", seed=5, **{**TINY, "workers": 3})
    seen: list[str] = []
    done = runner.run(config, progress=lambda i, total, plan: seen.append(plan.backend))
    orders = done.config["pass_orders"]
    label = paired.table_label(paired.table_key(done.cells[0]))  # "echo 64B c=1 glibc"
    assert [b for order in orders for b in order[label]] == seen
    assert orders == paired.recorded_orders(done.cells, seed=5, passes=3)
    pids = {c.backend: [w["pid"] for w in c.worker_results] for c in done.cells}
    spawned = [pids[b][p] for p, order in enumerate(orders) for b in order[label]]
    assert spawned == sorted(spawned)
    forward, backward = sorted(done.comparisons, key=lambda c: c.backend)
    assert (forward.backend, forward.baseline) == ("inproc", "inproc-pure")
    assert forward.ratio * backward.ratio == pytest.approx(1.0)  # type: ignore[operator]
    assert forward.passes == 3 and len(forward.pass_others_cores) == 3
    assert forward.ratio_ci95[0] <= forward.ratio <= forward.ratio_ci95[1]  # type: ignore[index,operator]
    again = results.Results.from_dict(results.Results.to_dict(done))
    assert again.comparisons == done.comparisons
    cell = done.cells[0]
    rounds = [[r for r in cell.rounds if r["worker"] == w] for w in range(3)]
    outcomes = [{"rounds": [{"ops": r["ops"], "duration_ns": r["duration_s"] * 1e9}
                            for r in rs]} for rs in rounds]
    itself = paired.compare_pair(cell, outcomes, cell, outcomes)
    assert itself.ratio == 1.0 and itself.ratio_ci95 == [1.0, 1.0]


# -- the report and compare read them ---------------------------------------------------------

PY = {"placement": "in-process", "engine_kind": "python", "engine": "numpy",
      "transport": "", "incumbent": True, "tuning": "idiomatic"}
NATIVE = {"placement": "in-process", "engine_kind": "native", "engine": "Zig kernels",
          "transport": "FFI", "incumbent": False, "tuning": "tuned"}


def _measured(backend: str, ops: float, profile: dict[str, object], spread: float) -> Cell:
    cell = Cell("json", "1MB", backend, status=OK, verified=True, samples=20_000,
                throughput_ops=ops, throughput_ci95=[ops * (1 - spread), ops * (1 + spread)],
                latency_ns={"p50": 1e9 / ops, "p99": 2e9 / ops, "p999": 3e9 / ops})
    cell.backend_info = {"profile": profile}
    return cell


def _paired(backend: str, baseline: str, ratio: float, half: float) -> list[Comparison]:
    table = ["json", "1MB", 1, "closed", None, None]
    low, high = ratio * (1 - half), ratio * (1 + half)
    return [Comparison("json", "1MB", backend, baseline, ratio=ratio, ratio_ci95=[low, high],
                       ratio_pi95=[low * 0.98, high * 1.02], method=stats.PAIRED_METHOD,
                       passes=4, table=table),
            Comparison("json", "1MB", baseline, backend, ratio=1 / ratio,
                       ratio_ci95=[1 / high, 1 / low], ratio_pi95=[1 / high / 1.02,
                                                                   1 / low / 0.98],
                       method=stats.PAIRED_METHOD, passes=4, table=table)]


def test_the_report_takes_ratios_and_verdicts_from_the_paired_comparisons() -> None:
    """Cells whose own intervals overlap (a noisy machine) but whose paired ratio is tight:
    the verdict, the headline, the ladder and the CSV use the paired ratio; without the
    comparisons the same cells are read the older way, and labelled so."""
    from hybridbench.report import csv_export, model

    cells = [_measured("team-python", 100, PY, 0.4), _measured("zig", 180, NATIVE, 0.4)]
    older = model.build_run(Results(env={}, cells=cells), lookup=lambda name: None)
    assert older.groups[0].verdict == "stay"  # the cells' intervals overlap
    assert "quotient of two independent 95% intervals" in older.overall
    done = Results(env={}, cells=cells, comparisons=_paired("zig", "team-python", 1.75, 0.02))
    run = model.build_run(done, lookup=lambda name: None)
    group = run.groups[0]
    zig = next(e for e in group.entries if e.cell.backend == "zig")
    assert zig.speedup_paired and zig.speedup is not None
    assert (zig.speedup.value, zig.speedup.low, zig.speedup.high) == pytest.approx(
        (1.75, 1.75 * 0.98, 1.75 * 1.02))
    assert group.verdict == "move" and "1.75x (95%: 1.71–1.79x)" in group.headline
    assert "paired ratio's 95% interval excludes 1" in " ".join(group.sentences)
    assert group.ladder is not None and group.ladder.steps[0].factor.value == 1.75
    assert "paired, interleaved trials over 4 passes" in run.overall
    rows = list(csv.DictReader(io.StringIO(csv_export.render_report(model.Report([run])))))
    methods = {r["backend"]: (r["vs_baseline_method"], r["vs_baseline"]) for r in rows}
    assert methods["zig"] == ("paired", "1.75") and methods["team-python"][0] == ""
    # a paired interval that includes 1 says so in those words
    unsure = Results(env={}, cells=cells, comparisons=_paired("zig", "team-python", 1.75, 0.5))
    words = " ".join(model.build_run(unsure, lookup=lambda name: None).groups[0].sentences)
    assert "not clearly (the paired ratio's 95% interval includes 1)" in words


def test_compare_names_the_ratios_that_moved_outside_the_prediction_interval() -> None:
    from hybridbench import compare

    cells = [_measured("a", 100, PY, 0.1), _measured("b", 300, NATIVE, 0.1)]
    base = Results(env={}, cells=cells, comparisons=_paired("b", "a", 3.0, 0.02))
    same = Results(env={}, cells=cells, comparisons=_paired("b", "a", 3.05, 0.02))
    moved = Results(env={}, cells=cells, comparisons=_paired("b", "a", 3.5, 0.02))
    [unchanged] = compare.compare_ratios(base, same)  # one per pair of backends
    assert unchanged.tested and not unchanged.moved
    [change] = compare.compare_ratios(base, moved)
    assert change.moved and change.label == "json 1MB b/a"
    assert change.change == pytest.approx(3.5 / 3.0 - 1)
    assert compare.compare_ratios(base, Results(env={}, cells=cells)) == []
