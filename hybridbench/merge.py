"""``hybridbench merge FILE... -o OUT``: one result file from several runs, jobs or machines.

Cells with the same key (workload, size, backend, concurrency, mode, rate) are the same
measurement driven from several clients at once (client pods of an Indexed Job, or the same
command on several machines against one server): their latency histograms are merged exactly
(HDR histograms add), their throughputs add up, and their processes are all kept. Cells with
different keys are united, so the per-backend files of the nox sessions become one comparison.

What merging assumes, and so refuses to do otherwise:
- one schema: the files' fields must mean the same thing;
- the same measurement settings (``MERGE_KEYS``: measured time, rounds, seed): cells measured
  for different times or on different inputs are not one measurement;
- the same payload size per merged cell (a different ``--input`` file under the same label).

How the figures of same-key cells combine (DESIGN.md, "Merging results"):
- throughput (median, mean and bytes) adds: the clients loaded the server at the same time;
- the 95% intervals add their centres and combine their half-widths in quadrature, which
  holds for independent clients (each interval's own method is kept per client in
  ``worker_results``);
- client CPU per call is the clients' total CPU over their total calls;
- a server shared by the clients (a ``--grpc-target``) reports its whole CPU to each client,
  so its CPU per call is the largest single report over all calls; servers spawned by each
  client are separate processes, so theirs is the call-weighted mean;
- peak memory is the highest of any process of its role, baseline the lowest;
- a cell that failed in any client fails the merged cell, naming the client.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridbench import stats
from hybridbench.errors import HybridbenchError
from hybridbench.paired import cell_key
from hybridbench.results import OK, Cell, Comparison, Results

#: run settings that must agree for cells to be merged: they change what a figure measures
MERGE_KEYS = ("duration_s", "rounds", "seed")
MERGED_INTERVAL = ("sum of the clients' intervals: centres added, half-widths combined in "
                   "quadrature (independent clients)")


class MergeError(HybridbenchError, ValueError):
    """Files that cannot be merged; the message names the files and what differs."""


@dataclass(frozen=True)
class Source:
    """One input file: where it came from, for messages and for the merged file's record."""

    name: str
    results: Results


def merge_files(paths: Sequence[Path], load: Any) -> Results:
    """Merge result files read with ``load(path)`` (the CLI's loader)."""
    return merge([Source(str(path), load(path)) for path in paths])


def merge(sources: Sequence[Source]) -> Results:
    if not sources:
        raise MergeError("nothing to merge: give at least one result file")
    _check_compatible(sources)
    first = sources[0].results
    merged = Results(env=_merged_env(sources), config=copy.deepcopy(first.config),
                     schema=first.schema)
    merged.config["merged_from"] = [_source_record(s) for s in sources]
    merged.config["interrupted"] = any(s.results.config.get("interrupted") for s in sources)
    merged.warnings = _union([w for s in sources for w in s.results.warnings])
    groups = _group_cells(sources)
    for key, cells in groups.items():
        merged.cells.append(cells[0][1] if len(cells) == 1 else merge_cells(key, cells))
    merged.comparisons = _kept_comparisons(sources, groups)
    return merged


def _kept_comparisons(sources: Sequence[Source], groups: dict[tuple, list[tuple[str, Cell]]]
                      ) -> list[Comparison]:
    """The paired comparisons that still describe the merged cells: those whose two cells
    came from one file alone (the nox sessions' per-backend files, or tables measured whole
    in one run). A cell merged from several clients is another measurement (their combined
    load), which no single run's passes paired: its comparisons are left out, and the report
    falls back to the quotient of the cells' intervals, labelled as such."""
    def alone(item: Comparison, backend: str) -> bool:
        return len(groups.get(cell_key(item.table, backend), [])) == 1

    return [copy.deepcopy(item) for source in sources for item in source.results.comparisons
            if item.table and alone(item, item.backend) and alone(item, item.baseline)]


def _check_compatible(sources: Sequence[Source]) -> None:
    first = sources[0]
    for other in sources[1:]:
        if other.results.schema != first.results.schema:
            raise MergeError(f"{first.name} has schema {first.results.schema} and {other.name} "
                             f"schema {other.results.schema}: merge files of one schema "
                             "(measure again with this hybridbench)")
        differ = [f"{key} {first.results.config.get(key)!r} vs {other.results.config.get(key)!r}"
                  for key in MERGE_KEYS
                  if first.results.config.get(key) != other.results.config.get(key)]
        if differ:
            raise MergeError(f"{first.name} and {other.name} were measured with different "
                             f"settings ({'; '.join(differ)}): their cells are not one "
                             "measurement")


def _source_record(source: Source) -> dict[str, Any]:
    env = source.results.env
    return {"file": source.name, "created": source.results.created,
            "hostname": env.get("hostname"), "cells": len(source.results.cells)}


def _merged_env(sources: Sequence[Source]) -> dict[str, Any]:
    """The first file's machine, plus every machine when the clients ran on several."""
    env = copy.deepcopy(sources[0].results.env)
    hosts = _union([s.results.env.get("hostname") for s in sources])
    if len(hosts) > 1:
        env["client_machines"] = [
            {key: s.results.env.get(key) for key in ("hostname", "cpu_model", "cores_logical")}
            for s in sources]
    return env


def _group_cells(sources: Sequence[Source]) -> dict[tuple, list[tuple[str, Cell]]]:
    groups: dict[tuple, list[tuple[str, Cell]]] = {}
    for source in sources:
        for cell in source.results.cells:
            groups.setdefault(cell.key, []).append((source.name, copy.deepcopy(cell)))
    return groups


def merge_cells(key: tuple, cells: list[tuple[str, Cell]]) -> Cell:
    """One cell from the same cell measured by several clients at once."""
    sizes = {cell.payload_bytes for _, cell in cells if cell.status == OK}
    if len(sizes) > 1:
        raise MergeError(f"cell {' '.join(map(str, key[:3]))}: payloads of different sizes "
                         f"({', '.join(f'{n}: {c.payload_bytes} B' for n, c in cells)}): "
                         "not the same input")
    merged = copy.deepcopy(cells[0][1])
    merged.warnings = _union([w for _, cell in cells for w in cell.warnings])
    broken = [(name, cell) for name, cell in cells if cell.status != OK]
    if broken:
        name, cell = broken[0]
        merged.status, merged.verified = cell.status, False
        merged.error = f"{cell.error} (client {name})"
        return merged
    _merge_counts(merged, cells)
    _merge_latency(merged, [cell for _, cell in cells])
    _merge_throughput(merged, [cell for _, cell in cells])
    _merge_resources(merged, [cell for _, cell in cells])
    _merge_time_split(merged, [cell for _, cell in cells])
    return merged


def _merge_counts(merged: Cell, cells: list[tuple[str, Cell]]) -> None:
    merged.verified = all(cell.verified for _, cell in cells)
    merged.workers = sum(cell.workers for _, cell in cells)
    merged.unsent = sum(cell.unsent for _, cell in cells)
    # The clients ran side by side: the cell lasted as long as its longest client.
    merged.duration_s = max(cell.duration_s for _, cell in cells)
    # Rounds hold numbers only (the schema): the client is its index in config.merged_from.
    merged.rounds = [{**r, "client": index} for index, (_, cell) in enumerate(cells)
                     for r in cell.rounds]
    merged.worker_results = [{**w, "client": name, "interval_method": cell.interval_method}
                             for name, cell in cells for w in cell.worker_results]
    colds = [cell.cold_start_s for _, cell in cells if cell.cold_start_s is not None]
    merged.cold_start_s = float(np.median(colds)) if colds else None
    merged.harness_ns = {key: float(np.median([c.harness_ns[key] for _, c in cells
                                               if key in c.harness_ns]))
                         for key in merged.harness_ns}


def _merge_latency(merged: Cell, cells: list[Cell]) -> None:
    histogram = _added([cell.latency_hdr for cell in cells])
    if histogram is not None:
        merged.samples = int(histogram.get_total_count())
        merged.latency_ns = stats.latency_summary(histogram)
        merged.latency_hdr = stats.encode_histogram(histogram)
    kernel = _added([cell.kernel_hdr for cell in cells])
    merged.kernel_hdr = stats.encode_histogram(kernel) if kernel is not None else None
    merged.kernel_ns = stats.latency_summary(kernel) if kernel is not None else None


def _added(encoded: list[str | None]) -> Any:
    """The sum of the histograms, or None when any client lacks one (a partial sum would
    understate the tail)."""
    present = [item for item in encoded if item is not None]
    if not encoded or len(present) != len(encoded):
        return None
    return stats.sum_histograms(present)


def _merge_throughput(merged: Cell, cells: list[Cell]) -> None:
    merged.throughput_ops = _sum([cell.throughput_ops for cell in cells])
    merged.throughput_mean_ops = _sum([cell.throughput_mean_ops for cell in cells])
    merged.throughput_bytes = (merged.throughput_ops * merged.payload_bytes
                               if merged.throughput_ops is not None else None)
    merged.throughput_ci95 = _sum_intervals(cells, "throughput_ci95")
    merged.throughput_pi95 = _sum_intervals(cells, "throughput_pi95")
    merged.interval_method = MERGED_INTERVAL if merged.throughput_ci95 else None


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]


def _sum_intervals(cells: list[Cell], interval: str) -> list[float] | None:
    """Centres add; half-widths add in quadrature (variances of independent sums add).

    The centre is the cell's mean throughput and the half-width its upper side: the lower
    side may have been clipped at zero, the upper never is.
    """
    halves = []
    for cell in cells:
        bounds, centre = getattr(cell, interval), cell.throughput_mean_ops
        if bounds is None or len(bounds) != 2 or centre is None or bounds[1] is None:
            return None
        halves.append(bounds[1] - centre)
    centre = sum(cell.throughput_mean_ops or 0.0 for cell in cells)
    half = math.sqrt(sum(h * h for h in halves))
    return [max(0.0, centre - half), centre + half]


def _ops(cell: Cell) -> float:
    return float(sum(w.get("ops", 0) for w in cell.worker_results)) or float(cell.samples)


def _merge_resources(merged: Cell, cells: list[Cell]) -> None:
    ops = [_ops(cell) for cell in cells]
    total_ops = sum(ops)
    # A --grpc-target server is one process all clients called; spawned ones are separate.
    shared_server = merged.backend_info.get("spawned") is False
    for role in merged.cpu_s_per_op:
        per_op = [cell.cpu_s_per_op.get(role) for cell in cells]
        merged.cpu_s_per_op[role] = _cpu_per_op(per_op, ops, total_ops,
                                                shared=role != "client" and shared_server)
    for role in merged.rss_peak_bytes:
        peaks = [p for cell in cells if (p := cell.rss_peak_bytes.get(role)) is not None]
        merged.rss_peak_bytes[role] = max(peaks) if peaks else None
    for role in merged.rss_baseline_bytes:
        bases = [b for cell in cells if (b := cell.rss_baseline_bytes.get(role)) is not None]
        merged.rss_baseline_bytes[role] = min(bases) if bases else None
    loads = [cell.machine_load for cell in cells if cell.machine_load]
    if loads:
        merged.machine_load = {key: max(load.get(key, 0.0) for load in loads)
                               for key in loads[0]}


def _cpu_per_op(per_op: list[float | None], ops: list[float], total_ops: float,
                shared: bool) -> float | None:
    if any(value is None for value in per_op) or not total_ops:
        return None
    totals = [value * n for value, n in zip(per_op, ops, strict=True)]  # type: ignore[operator]
    # A shared server's CPU seen by each client includes the other clients' calls.
    return (max(totals) if shared else sum(totals)) / total_ops


def _merge_time_split(merged: Cell, cells: list[Cell]) -> None:
    """Call-weighted means of the clients' medians (the per-call samples are not kept)."""
    splits = [cell.time_split for cell in cells if cell.time_split.get("calls")]
    if len(splits) != len(cells):
        return
    calls = [split["calls"] for split in splits]
    merged.time_split = {"calls": int(sum(calls))}
    for key in splits[0]:
        if key == "calls":
            continue
        values = [split.get(key) for split in splits]
        merged.time_split[key] = (None if any(v is None for v in values) else
                                  float(np.average(np.asarray(values, dtype=float),
                                                   weights=calls)))
    client_cpu = merged.cpu_s_per_op.get("client")
    if "client_cpu_ns" in merged.time_split:
        merged.time_split["client_cpu_ns"] = client_cpu * 1e9 if client_cpu is not None else None


def _union(items: list[Any]) -> list[Any]:
    """In order, without repeats (warnings may be text or typed records)."""
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(repr(item), item)
    return [item for item in seen.values() if item is not None]
