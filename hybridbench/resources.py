"""Memory and CPU of every process a backend involves, measured around a cell.

Peak RSS comes from the kernel's own high-water mark ``VmHWM`` on Linux, reset at the start of
the cell by writing ``5`` to ``/proc/PID/clear_refs``: exact, it cannot miss a short spike, and
it costs nothing during the cell. Only for a process whose mark cannot be reset (another OS,
no permission) does a sampler thread poll RSS (psutil, every 10 ms by default); it is not run
otherwise because, holding the GIL for each sample, it made in-process rounds differ by up to
30% (measured on echo 64B inproc: 1-2% spread without it).
CPU is user + system seconds of each process (all its threads), read before and after.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psutil


@dataclass
class ResourceUsage:
    """Per role (``client``, ``server``...): bytes and seconds."""

    rss_baseline_bytes: dict[str, int] = field(default_factory=dict)
    rss_peak_bytes: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    #: roles whose process vanished during the cell
    lost: list[str] = field(default_factory=list)


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _reset_high_water_mark(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _high_water_mark(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


class ResourceMonitor:
    """Context manager: ``with ResourceMonitor(backend.processes()) as m: ...; m.usage``."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.01) -> None:
        self._processes = {role: psutil.Process(pid) for role, pid in pids.items()}
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_loop, name="rss-sampler",
                                        daemon=True)
        self._cpu_start: dict[str, float] = {}
        self._hwm_reset: dict[str, bool] = {}
        self.usage = ResourceUsage()

    def __enter__(self) -> ResourceMonitor:
        for role, process in self._processes.items():
            rss = process.memory_info().rss
            self.usage.rss_baseline_bytes[role] = rss
            self.usage.rss_peak_bytes[role] = rss
            self._hwm_reset[role] = _reset_high_water_mark(process.pid)
            self._cpu_start[role] = _cpu_seconds(process)
        if not all(self._hwm_reset.values()):
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._sample()
        for role, process in self._processes.items():
            if role in self.usage.lost:
                continue
            if self._hwm_reset[role]:
                hwm = _high_water_mark(process.pid)
                if hwm is not None:
                    peak = max(self.usage.rss_peak_bytes[role], hwm)
                    self.usage.rss_peak_bytes[role] = peak
            try:
                self.usage.cpu_s[role] = _cpu_seconds(process) - self._cpu_start[role]
            except psutil.Error:
                self.usage.lost.append(role)

    def _sample_loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        for role, process in self._processes.items():
            if role in self.usage.lost or self._hwm_reset[role]:
                continue
            try:
                rss = process.memory_info().rss
            except psutil.Error:
                self.usage.lost.append(role)
                continue
            if rss > self.usage.rss_peak_bytes[role]:
                self.usage.rss_peak_bytes[role] = rss
