"""asv suite: every workload through every backend, at its smallest and its default size.

* ``time_call``   - one call, timed by asv itself (its own repeats and statistics);
* ``peakmem_call`` - asv's peak RSS of the benchmark process around one call;
* ``track_*``      - numbers measured by hybridbench's own runner (closed loop, HDR
  histogram, per-process RSS): throughput, P99 latency, server peak RSS.

Combinations that cannot run (backend not built here, ``image`` on ``inproc-pure``, or a
size a workload lacks) raise ``NotImplementedError`` in ``setup``, which asv records as
skipped rather than failed.
"""

from __future__ import annotations

import hybridbench
from hybridbench import runner
from hybridbench.registry import backend_names, get_workload, unavailable_reason, workload_names

WORKLOADS = workload_names()
BACKENDS = backend_names()
TIERS = ["smallest", "default"]
#: measured seconds per runner cell in track_ benchmarks (kept short: asv runs many)
TRACK_SECONDS = 1.0


def preset(workload: str, tier: str) -> str:
    wl = get_workload(workload)
    return wl.size_names()[0] if tier == "smallest" else wl.default_size


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

    params = (WORKLOADS, BACKENDS, TIERS)
    param_names = ("workload", "backend", "size")
    timeout = 300

    def setup(self, workload: str, backend: str, tier: str) -> None:
        _skip_if_cannot_run(workload, backend)
        self.payload = hybridbench.make_input(workload, preset(workload, tier))
        self.backend = hybridbench.open_backend(backend)
        self.backend.start()
        hybridbench.verify(workload, self.payload, self.backend.run(workload, self.payload))

    def teardown(self, workload: str, backend: str, tier: str) -> None:
        # asv calls teardown even when setup skipped the combination
        if hasattr(self, "backend"):
            self.backend.stop()

    def time_call(self, workload: str, backend: str, tier: str) -> None:
        self.backend.run(workload, self.payload)

    def peakmem_call(self, workload: str, backend: str, tier: str) -> None:
        self.backend.run(workload, self.payload)


class RunnerCell:
    """What ``hybridbench run`` measures, tracked over commits (default sizes only).

    ``setup_cache`` runs every cell once (asv calls it once per environment and hands its
    result to each ``track_``), so the four tracks share one measurement per cell.
    """

    params = (WORKLOADS, BACKENDS)
    param_names = ("workload", "backend")
    timeout = 1200

    def setup_cache(self) -> dict[tuple[str, str], dict | str]:
        cells: dict[tuple[str, str], dict | str] = {}
        for workload in WORKLOADS:
            for backend in BACKENDS:
                try:
                    _skip_if_cannot_run(workload, backend)
                except NotImplementedError as exc:
                    cells[workload, backend] = f"skip: {exc}"
                    continue
                config = runner.RunConfig(workloads=[workload], backends=[backend],
                                          sizes=preset(workload, "default"),
                                          duration_s=TRACK_SECONDS, rounds=2, warmup_s=0.2,
                                          workers=2, breakdown_s=0.05, cold_start=False)
                cell = runner.run(config).cells[0]
                cells[workload, backend] = (
                    {"throughput": cell.throughput_ops or 0.0,
                     "p99_ms": (cell.latency_ns or {}).get("p99", 0.0) / 1e6,
                     "server_mib": (cell.rss_peak_bytes.get("server") or 0) / 2**20,
                     "client_mib": (cell.rss_peak_bytes.get("client") or 0) / 2**20}
                    if cell.status == "ok" else f"{cell.status}: {cell.error}")
        return cells

    def setup(self, cells: dict, workload: str, backend: str) -> None:
        found = cells[workload, backend]
        if isinstance(found, str) and found.startswith("skip: "):
            raise NotImplementedError(found[6:])
        if isinstance(found, str):
            raise RuntimeError(f"{workload} on {backend}: {found}")
        self.cell = found

    def track_throughput(self, cells: dict, workload: str, backend: str) -> float:
        return self.cell["throughput"]

    track_throughput.unit = "ops/s"  # type: ignore[attr-defined]

    def track_p99_latency(self, cells: dict, workload: str, backend: str) -> float:
        return self.cell["p99_ms"]

    track_p99_latency.unit = "ms"  # type: ignore[attr-defined]

    def track_server_peak_rss(self, cells: dict, workload: str, backend: str) -> float:
        return self.cell["server_mib"]

    track_server_peak_rss.unit = "MiB"  # type: ignore[attr-defined]

    def track_client_peak_rss(self, cells: dict, workload: str, backend: str) -> float:
        return self.cell["client_mib"]

    track_client_peak_rss.unit = "MiB"  # type: ignore[attr-defined]
