"""Memory and CPU of every process a backend involves, measured around a cell.

Peak RSS comes from the kernel's own high-water mark ``VmHWM`` on Linux, reset at the start of
the cell by writing ``5`` to ``/proc/PID/clear_refs``: exact, it cannot miss a short spike, and
it costs nothing during the cell. Only for a process whose mark cannot be reset (another OS,
no permission) does a sampler thread poll RSS (psutil, every 10 ms by default); it is not run
otherwise because, holding the GIL for each sample, it made in-process rounds differ by up to
30% (measured on echo 64B inproc: 1-2% spread without it).
CPU is user + system seconds of each process (all its threads), read before and after.
Page faults (minor: a fresh page mapped, zeroed; major: read from disk) are the kernel's
counters of the whole process, ``/proc/PID/stat`` (``getrusage`` where there is no procfs), read
before and after: they tell a call that gets fresh memory from the kernel every time (an
allocator that returns freed blocks at once) from one that reuses its heap.
"""

from __future__ import annotations

import os
import resource
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
    #: page faults during the cell, per role
    minor_faults: dict[str, int] = field(default_factory=dict)
    major_faults: dict[str, int] = field(default_factory=dict)
    #: roles whose process vanished during the cell
    lost: list[str] = field(default_factory=list)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def page_faults(pid: int) -> tuple[int, int] | None:
    """(minor, major) page faults of process ``pid`` so far (all its threads), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if pid != os.getpid():
            return None
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_minflt, usage.ru_majflt
    # after the command name (which may hold spaces and parentheses): state is field 3,
    # minflt field 10, majflt field 12 (proc(5))
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9])


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
        self._faults_start: dict[str, tuple[int, int] | None] = {}
        self.usage = ResourceUsage()

    def __enter__(self) -> ResourceMonitor:
        for role, process in self._processes.items():
            rss = process.memory_info().rss
            self.usage.rss_baseline_bytes[role] = rss
            self.usage.rss_peak_bytes[role] = rss
            self._hwm_reset[role] = _reset_high_water_mark(process.pid)
            self._cpu_start[role] = cpu_seconds(process)
            self._faults_start[role] = page_faults(process.pid)
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
                self.usage.cpu_s[role] = cpu_seconds(process) - self._cpu_start[role]
            except psutil.Error:
                self.usage.lost.append(role)
                continue
            self._count_faults(role, process.pid)

    def _count_faults(self, role: str, pid: int) -> None:
        start, end = self._faults_start[role], page_faults(pid)
        if start is not None and end is not None:
            self.usage.minor_faults[role] = end[0] - start[0]
            self.usage.major_faults[role] = end[1] - start[1]

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
