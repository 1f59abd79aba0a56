"""Paired, interleaved trials: the backends of a table measured side by side in every pass.

A *table* is the cells that differ only in their backend (``table_key``: ``Cell.key`` without
the backend, so any field added to the key, such as the allocator, keeps tables apart). The
runner runs ``workers`` passes over the cells; in each pass the workers of one table run
adjacent, in an order shuffled per pass (``pass_order``, seeded from the run's seed and
recorded in ``config["pass_orders"]``). Each pass then gives every pair of backends one
paired observation, taken seconds apart, so a drift of the machine that slows both cancels in
their ratio; shuffling keeps a position effect (the worker right after a server spawn, a
cache another worker warmed) from favouring one backend in every pass. Randomized multiple
interleaved trials (Abedi & Brecht, ICPE 2017) and duet benchmarking (Bulej et al., ICPE
2020) do the same.

Within a pass, the workers of a table take turns round by round (``hybridbench.turns``), and
a pass's ratio is the median of its round-by-round throughput ratios (``pass_ratio``):
throughput because a speed-up is a ratio of throughputs (a median latency would estimate
another quantity: it leaves out the slow calls, page faults and collections that are part of
the cost, and with batching or concurrency it is not the inverse of throughput at all); round
by round because a drift of the machine over seconds then cancels in each round's ratio; the
median over rounds because one round stalled by a neighbour then does not move the pass.
The ratio and its interval come from ``stats.paired_ratio`` over the passes; this module
only pairs the figures, so the same function serves any other paired design (two builds of
one engine, issue 26).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hybridbench import stats, thresholds
from hybridbench.results import OK, Cell, Comparison, Kind, Results

if TYPE_CHECKING:
    from hybridbench.runner import PendingCell

#: position of the backend in ``Cell.key``
_BACKEND_AT = 2


def table_key(cell: Cell) -> tuple[Any, ...]:
    """The table a cell belongs to: its key without the backend."""
    key = cell.key
    if key[_BACKEND_AT] != cell.backend:  # Cell.key was reordered: this must follow it
        raise AssertionError(f"Cell.key no longer has the backend at {_BACKEND_AT}: {key}")
    return key[:_BACKEND_AT] + key[_BACKEND_AT + 1:]


def cell_key(table: Sequence[Any], backend: str) -> tuple[Any, ...]:
    """The key of ``backend``'s cell in ``table``: ``table_key`` undone."""
    return (*table[:_BACKEND_AT], backend, *table[_BACKEND_AT:])


def table_label(key: Sequence[Any]) -> str:
    """``json 1MB c=1`` (and whatever else the key holds, e.g. ``open@500``)."""
    workload, size, concurrency, mode, rate, *rest = key
    words = [str(workload), str(size), f"c={concurrency}"]
    if mode == "open":
        words.append(f"open@{rate:g}")
    return " ".join(words + [str(r) for r in rest if r is not None])


def pass_order(cells: Sequence[Cell], seed: int, pass_index: int) -> list[int]:
    """Indices into ``cells`` for one pass: tables in plan order, each table's cells adjacent
    and shuffled. Seeded by a string (hashed with SHA-512 by ``random``), so the order is the
    same in every process and Python version for the same seed and pass."""
    tables: dict[tuple[Any, ...], list[int]] = {}
    for index, cell in enumerate(cells):
        tables.setdefault(table_key(cell), []).append(index)
    chooser = random.Random(f"hybridbench pass order:{seed}:{pass_index}")
    order: list[int] = []
    for members in tables.values():
        shuffled = list(members)
        chooser.shuffle(shuffled)
        order.extend(shuffled)
    return order


def recorded_orders(cells: Sequence[Cell], seed: int, passes: int) -> list[dict[str, list[str]]]:
    """Per pass, each table's backends in the order they ran (tables of two or more)."""
    recorded = []
    for index in range(passes):
        tables: dict[str, list[str]] = {}
        for position in pass_order(cells, seed, index):
            cell = cells[position]
            tables.setdefault(table_label(table_key(cell)), []).append(cell.backend)
        recorded.append({k: v for k, v in tables.items() if len(v) > 1})
    return recorded


def round_rates(outcome: dict[str, Any]) -> list[float]:
    """A worker's round throughputs (ops/s), NaN for a round that has none."""
    return [r["ops"] * 1e9 / r["duration_ns"] if r.get("duration_ns") else math.nan
            for r in outcome.get("rounds", [])]


def worker_figure(outcome: dict[str, Any]) -> float:
    """A worker's figure for its pass: the median of its round throughputs (ops/s)."""
    rates = [rate for rate in round_rates(outcome) if rate > 0]
    return statistics.median(rates) if rates else math.nan


def pass_ratio(mine: dict[str, Any], theirs: dict[str, Any]) -> float:
    """One pass's ratio of two workers' throughputs. When they took turns
    (``hybridbench.turns``), round r of each ran within a fraction of a second of the other:
    the median of the round-by-round ratios, so that a drift of the machine over seconds
    cancels round by round. Otherwise (workers one after another, an older results file) the
    ratio of the two workers' figures."""
    a, b = round_rates(mine), round_rates(theirs)
    if mine.get("in_turns") and theirs.get("in_turns") and len(a) == len(b):
        logs = [math.log(x / y) for x, y in zip(a, b, strict=True) if x > 0 and y > 0]
        return math.exp(statistics.median(logs)) if logs else math.nan
    return worker_figure(mine) / worker_figure(theirs)


def _others_cores(outcome: dict[str, Any]) -> float:
    return float((outcome.get("machine") or {}).get("others_cores") or 0.0)


def compare_pair(cell: Cell, outcomes: list[dict[str, Any]], base: Cell,
                 base_outcomes: list[dict[str, Any]]) -> Comparison:
    """``cell`` against ``base`` over the passes both have (an interrupted run may have
    fewer for some cells): worker i of each ran in pass i."""
    passes = min(len(outcomes), len(base_outcomes))
    mine, theirs = outcomes[:passes], base_outcomes[:passes]
    ratios = [pass_ratio(a, b) for a, b in zip(mine, theirs, strict=True)]
    found = stats.paired_ratio(ratios, [1.0] * len(ratios))
    return Comparison(
        workload=cell.workload, size=cell.size, backend=cell.backend, baseline=base.backend,
        ratio=found.ratio, ratio_ci95=list(found.ci95), ratio_pi95=list(found.pi95),
        method=stats.PAIRED_METHOD, passes=found.passes, pass_ratios=list(found.pass_ratios),
        pass_others_cores=[max(_others_cores(a), _others_cores(b))
                           for a, b in zip(mine, theirs, strict=True)],
        concurrency=cell.concurrency, mode=cell.mode, rate=cell.rate,
        table=list(table_key(cell)))


def comparisons(pending: Sequence[PendingCell]) -> list[Comparison]:
    """Every ordered pair of backends measured OK in the same table, from the workers'
    own figures (each pass's worker i)."""
    tables: dict[tuple[Any, ...], list[PendingCell]] = {}
    for item in pending:
        if item.settled and item.cell.status == OK and item.outcomes:
            tables.setdefault(table_key(item.cell), []).append(item)
    found = []
    for members in tables.values():
        for item in members:
            for base in members:
                if base is not item:
                    found.append(compare_pair(item.cell, item.outcomes, base.cell,
                                              base.outcomes))
    return found


def record(pending: Sequence[PendingCell], results: Results, seed: int, passes: int) -> None:
    """Add the phase's comparisons to ``results``, with the pass orders they ran in and a
    warning naming those the measured machine load moved."""
    found = comparisons(pending)
    orders = recorded_orders([p.cell for p in pending], seed, passes)
    if any(orders):
        results.config.setdefault("pass_orders", []).extend(orders)
        results.config["pass_order_seed"] = seed
    results.comparisons.extend(found)
    flag_load(found, results)
    flag_load_throughout(found, results, {item.cell.key: item.cell for item in pending})


def comparison_label(item: Comparison) -> str:
    """``json 1MB ffi/inproc-best`` (with the rest of the table's key where it says more)."""
    table = table_label(item.table) if item.table else f"{item.workload} {item.size}"
    return f"{table.removesuffix(' c=1')} {item.backend}/{item.baseline}"


def busy_passes(item: Comparison) -> list[bool]:
    return [cores > thresholds.BUSY_CORES for cores in item.pass_others_cores]


def load_moved(item: Comparison) -> stats.LoadShift | None:
    """How far the busy passes moved the ratio, when some passes were busy and some quiet
    and the move is beyond both the threshold and the quiet passes' own noise."""
    busy = busy_passes(item)
    if len(busy) != len(item.pass_ratios) or not any(busy):
        return None
    shift = stats.load_shift([math.log(r) for r in item.pass_ratios], busy)
    if shift is None or not shift.beyond_noise:
        return None
    return shift if abs(shift.factor - 1) > thresholds.LOAD_MOVED_RATIO else None


def flag_load(found: list[Comparison], results: Results) -> None:
    """Flag the comparisons whose busy passes moved their ratio, naming each pair once."""
    moved: list[dict[str, Any]] = []
    named: set[tuple[Any, ...]] = set()
    all_busy = 0
    for item in found:
        busy = busy_passes(item)
        if busy and all(busy):
            all_busy += 1
        shift = load_moved(item)
        if shift is None:
            continue
        item.flags.append(Kind.LOAD_MOVED_RATIO)
        pair = (tuple(item.table), frozenset((item.backend, item.baseline)))
        if pair in named:
            continue
        named.add(pair)
        moved.append({"label": comparison_label(item), "ratio": item.ratio,
                      "quiet": shift.quiet, "busy": shift.busy, "shift": shift.factor,
                      "others_cores_max": max(item.pass_others_cores)})
    if not moved:
        return
    listed = "; ".join(f"{m['label']} {m['ratio']:.2f}x (quiet passes {m['quiet']:.2f}x, "
                       f"busy {m['busy']:.2f}x, others used up to {m['others_cores_max']:.1f} "
                       "cores)" for m in moved)
    results.warn(Kind.LOAD_MOVED_RATIO,
                 f"busy machine moved {len(moved)} ratio(s) by more than "
                 f"{thresholds.LOAD_MOVED_RATIO:.0%} in the passes where other processes used "
                 f"more than {thresholds.BUSY_CORES} cores: {listed}",
                 comparisons=moved, threshold=thresholds.LOAD_MOVED_RATIO,
                 busy_cores=thresholds.BUSY_CORES, all_passes_busy=all_busy)


def _demand(cell: Cell | None) -> tuple[frozenset[str], float] | None:
    """The processes a cell's calls ran in and the cores they kept busy (None: not
    recorded)."""
    if cell is None or not cell.cpu_s_per_op or not cell.throughput_ops:
        return None
    roles = {role: seconds for role, seconds in cell.cpu_s_per_op.items() if seconds}
    return frozenset(roles), sum(roles.values()) * cell.throughput_ops


def exposed_to_load(cell: Cell | None, base: Cell | None) -> str | None:
    """Why load on the machine would move ``cell``'s ratio to ``base`` (None: it would hit
    both alike). Load hits a pair unequally when one of them has more processes on the call
    path (each hand-over between processes waits for a core) or keeps more cores busy."""
    mine, theirs = _demand(cell), _demand(base)
    if mine is None or theirs is None:
        return "no CPU record to judge by"
    if mine[0] != theirs[0]:
        return f"processes {'+'.join(sorted(mine[0]))} against {'+'.join(sorted(theirs[0]))}"
    if abs(mine[1] - theirs[1]) > thresholds.CORES_DIFFER:
        return f"{mine[1]:.1f} cores against {theirs[1]:.1f}"
    return None


def flag_load_throughout(found: list[Comparison], results: Results,
                         cells: dict[tuple[Any, ...], Cell]) -> None:
    """Flag the comparisons whose every pass ran beside other load: with no quiet pass,
    ``load_moved`` has nothing to set the busy ones against, so name the pairs that load
    would hit unequally (``exposed_to_load``), each pair once."""
    exposed: list[dict[str, Any]] = []
    named: set[tuple[Any, ...]] = set()
    throughout = 0
    for item in found:
        busy = busy_passes(item)
        if not busy or not all(busy):
            continue
        throughout += 1
        why = exposed_to_load(cells.get(cell_key(item.table, item.backend)),
                              cells.get(cell_key(item.table, item.baseline)))
        if why is None:
            continue
        item.flags.append(Kind.LOAD_THROUGHOUT)
        pair = (tuple(item.table), frozenset((item.backend, item.baseline)))
        if pair not in named:
            named.add(pair)
            exposed.append({"label": comparison_label(item), "ratio": item.ratio, "why": why,
                            "others_cores_max": max(item.pass_others_cores)})
    if not throughout:
        return
    listed = "; ".join(f"{e['label']} {e['ratio']:.2f}x ({e['why']})" for e in exposed)
    results.warn(Kind.LOAD_THROUGHOUT,
                 f"every pass of {throughout} comparison(s) ran while other processes used more "
                 f"than {thresholds.BUSY_CORES} cores, so no quiet pass shows whether the load "
                 f"moved their ratios; re-run on a quiet machine, or `hybridbench compare` with a "
                 f"quiet run. Load hits these {len(exposed)} pair(s) unequally"
                 + (f": {listed}" if exposed else ""),
                 comparisons=exposed, all_passes_busy=throughout,
                 busy_cores=thresholds.BUSY_CORES, cores_differ=thresholds.CORES_DIFFER)
