"""asv suite: every workload through every backend, at its smallest and its default size.

* ``time_call``   - one call, timed by asv itself (its own repeats and statistics);
* ``peakmem_call`` - asv's peak RSS of the benchmark process around one call;
* ``track_*``      - numbers measured by hybridbench's own runner (closed loop, HDR
  histogram, fresh worker processes per cell): throughput, P99 latency, the server's peak RSS
  and the client's memory growth during the cell.

Cases are named as the workloads name their sizes (``json/1KB``, ``echo/64B``): one parameter
``case`` per (workload, size) pair rather than a product of workloads and sizes, in which
most combinations would not exist. Combinations that cannot run (backend not built here,
``image`` on ``inproc-pure``) raise ``NotImplementedError`` in ``setup``, which asv records as
skipped rather than failed; a figure that does not exist for a cell (server memory of an
in-process backend) raises asv's ``SkipNotImplemented`` in its ``track_``, shown as n/a.

``HYBRIDBENCH_ASV_SMOKE=1`` shrinks the suite to a smoke test, for CI's proof that it executes:
every benchmark on every backend still runs, but at each workload's smallest size only and
with 0.2 s runner cells of one worker process (the full ``--quick`` pass generates and
verifies the multi-MB default payloads of 96 parameter sets, some 15-20 minutes on two cores).
Its figures are not for recording.
"""

from __future__ import annotations

import os

from asv_runner.benchmarks.mark import SkipNotImplemented

import hybridbench
from hybridbench import runner
from hybridbench.registry import backend_names, get_workload, unavailable_reason, workload_names
from hybridbench.results import Cell

BACKENDS = backend_names()
#: the smoke-test mode (see the module's docstring)
SMOKE = os.environ.get("HYBRIDBENCH_ASV_SMOKE", "") not in ("", "0")
#: measured seconds per runner cell in track_ benchmarks (kept short: asv runs many)
TRACK_SECONDS = 0.2 if SMOKE else 1.0
#: fresh worker processes per runner cell: one in smoke mode, where each costs more than its
#: 0.2 s of measuring (a process, its imports, a server for the gRPC backends)
TRACK_WORKERS = 1 if SMOKE else 2


def _case(workload: str, size: str) -> str:
    return f"{workload}/{size}"


def _split(case: str) -> tuple[str, str]:
    workload, _, size = case.rpartition("/")
    return workload, size


def _smallest_and_default(workload: str) -> list[str]:
    wl = get_workload(workload)
    if SMOKE:
        return wl.size_names()[:1]
    return list(dict.fromkeys([wl.size_names()[0], wl.default_size]))


def _runner_size(workload: str) -> str:
    wl = get_workload(workload)
    return wl.size_names()[0] if SMOKE else wl.default_size


#: one call at each workload's smallest and default size
CALL_CASES = [_case(w, s) for w in workload_names() for s in _smallest_and_default(w)]
#: the runner's cells at each workload's default size (what ``hybridbench run`` measures)
RUNNER_CASES = [_case(w, _runner_size(w)) for w in workload_names()]


def _skip_if_cannot_run(workload: str, backend: str) -> None:
    reason = unavailable_reason(backend)
    if reason:
        raise NotImplementedError(f"{backend} unavailable: {reason}")
    instance = hybridbench.open_backend(backend)
    reason = instance.unsupported_reason(workload)
    if reason:
        raise NotImplementedError(reason)


class OneCall:
    """asv times ``backend.run`` itself; the backend is started once per parameter set."""

    params = (CALL_CASES, BACKENDS)
    param_names = ("case", "backend")
    timeout = 300

    def setup(self, case: str, backend: str) -> None:
        workload, size = _split(case)
        _skip_if_cannot_run(workload, backend)
        self.workload = workload
        self.payload = hybridbench.make_input(workload, size)
        self.backend = hybridbench.open_backend(backend, workloads=[workload])
        self.backend.start()
        hybridbench.verify(workload, self.payload, self.backend.run(workload, self.payload))

    def teardown(self, case: str, backend: str) -> None:
        # asv calls teardown even when setup skipped the combination
        if hasattr(self, "backend"):
            self.backend.stop()

    def time_call(self, case: str, backend: str) -> None:
        self.backend.run(self.workload, self.payload)

    def peakmem_call(self, case: str, backend: str) -> None:
        self.backend.run(self.workload, self.payload)


def _track_figures(cell: Cell) -> dict[str, float | None]:
    """The tracked figures of one measured cell; None where the cell has no such figure."""
    peak, base = cell.rss_peak_bytes, cell.rss_baseline_bytes
    client_peak, client_base = peak.get("client"), base.get("client")
    growth = (None if client_peak is None or client_base is None
              else max(0, client_peak - client_base) / 2**20)
    server = peak.get("server")
    return {"throughput": cell.throughput_ops,
            "p99_ms": (cell.latency_ns or {}).get("p99", 0.0) / 1e6,
            "server_mib": None if server is None else server / 2**20,
            "client_growth_mib": growth}


Found = dict[str, float | None] | str


def _config(workloads: list[str], backends: list[str], sizes: dict[str, str] | str
            ) -> runner.RunConfig:
    return runner.RunConfig(workloads=workloads, backends=backends, sizes=sizes,
                            duration_s=TRACK_SECONDS, rounds=2, warmup_s=TRACK_SECONDS / 5,
                            workers=TRACK_WORKERS, breakdown_s=0.05, cold_start=False)


def _found(cell: Cell) -> Found:
    if cell.status == "ok":
        return _track_figures(cell)
    if cell.status in ("unsupported", "unavailable"):
        return f"skip: {cell.backend} {cell.status}: {cell.error}"
    return f"{cell.status}: {cell.error}"


def measure_cell(workload: str, size: str, backend: str) -> Found:
    """One runner cell in fresh worker processes (as ``hybridbench run`` measures it): its
    figures, or a string saying why there are none."""
    try:
        _skip_if_cannot_run(workload, backend)
    except NotImplementedError as exc:
        return f"skip: {exc}"
    return _found(runner.run(_config([workload], [backend], size)).cells[0])


def measure_cells(cases: list[str], backends: list[str]) -> dict[tuple[str, str], Found]:
    """Every (case, backend) cell in one ``runner.run``: each cell still has fresh worker
    processes of its own, but the run's fixed costs (environment capture, planning, input
    generation) are paid once rather than once per cell, which dominated the smoke pass."""
    sizes = dict(_split(case) for case in cases)
    results = runner.run(_config(list(sizes), backends, sizes))
    found = {(_case(c.workload, c.size), c.backend): _found(c) for c in results.cells}
    return {(case, backend): found.get((case, backend), f"failed: {case} on {backend} not run")
            for case in cases for backend in backends}


class RunnerCell:
    """What ``hybridbench run`` measures, tracked over commits (default sizes only).

    ``setup_cache`` runs every cell once, all in one ``runner.run`` (asv calls it once per
    environment and hands its result to each ``track_``), so the four tracks share one
    measurement per cell. Each cell
    is measured in worker processes of its own, so its client memory is that cell's alone:
    the growth of the worker's RSS during the cell (peak over the baseline before it), not
    the peak of a process that ran every cell before it.
    """

    params = (RUNNER_CASES, BACKENDS)
    param_names = ("case", "backend")
    timeout = 1200

    def setup_cache(self) -> dict[tuple[str, str], dict[str, float | None] | str]:
        return measure_cells(RUNNER_CASES, BACKENDS)

    def setup(self, cells: dict, case: str, backend: str) -> None:
        found = cells[case, backend]
        if isinstance(found, str) and found.startswith("skip: "):
            raise NotImplementedError(found[6:])
        if isinstance(found, str):
            raise RuntimeError(f"{case} on {backend}: {found}")
        self.cell = found

    def _figure(self, name: str, backend: str) -> float:
        value = self.cell[name]
        if value is None:  # e.g. server memory of an in-process backend: n/a, not 0
            raise SkipNotImplemented(f"{backend} has no {name}")
        return float(value)

    def track_throughput(self, cells: dict, case: str, backend: str) -> float:
        return self._figure("throughput", backend)

    track_throughput.unit = "ops/s"  # type: ignore[attr-defined]

    def track_p99_latency(self, cells: dict, case: str, backend: str) -> float:
        return self._figure("p99_ms", backend)

    track_p99_latency.unit = "ms"  # type: ignore[attr-defined]

    def track_server_peak_rss(self, cells: dict, case: str, backend: str) -> float:
        return self._figure("server_mib", backend)

    track_server_peak_rss.unit = "MiB"  # type: ignore[attr-defined]

    def track_client_rss_growth(self, cells: dict, case: str, backend: str) -> float:
        return self._figure("client_growth_mib", backend)

    track_client_rss_growth.unit = "MiB"  # type: ignore[attr-defined]
