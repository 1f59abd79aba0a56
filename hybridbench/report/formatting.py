"""Human formatting of the numbers, shared by every reporter."""

from __future__ import annotations

import math
from typing import Any


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def duration_ns(value: float | None) -> str:
    if _missing(value):
        return "-"
    assert value is not None
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} ns"


def seconds(value: float | None) -> str:
    return "-" if _missing(value) else duration_ns(value * 1e9)  # type: ignore[operator]


def count(value: float | None, unit: str = "") -> str:
    if _missing(value):
        return "-"
    assert value is not None
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def size_bytes(value: float | None) -> str:
    if _missing(value):
        return "-"
    assert value is not None
    for suffix, scale in (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3),
                          ("MiB", 1024**2), ("KiB", 1024)):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}"
    return f"{value:.0f} B"


def rate_bytes(value: float | None) -> str:
    return "-" if _missing(value) else f"{size_bytes(value)}/s"


def ci(low_high: list[float] | None) -> str:
    if not low_high or any(_missing(v) for v in low_high):
        return ""
    return f"[{count(low_high[0])}, {count(low_high[1])}]"


def ci_percent(low_high: list[float] | None, centre: float | None) -> str:
    """Half-width of a confidence interval relative to its centre, e.g. ``±3.1%``."""
    if not low_high or _missing(centre) or not centre or any(_missing(v) for v in low_high):
        return ""
    return f"±{(low_high[1] - low_high[0]) / 2 / centre:.1%}"


def client_growth(rss_peak: dict, rss_baseline: dict) -> float | None:
    """How much the client grew during the cell: its peak RSS over its baseline before it."""
    peak, base = rss_peak.get("client"), rss_baseline.get("client")
    return None if peak is None or base is None else max(0, peak - base)


def memory(rss_peak: dict, rss_baseline: dict) -> str:
    """``443 MiB (+8.2 MiB) + 12 MiB``: client peak (growth in the cell) + server peak.

    The client is the harness process itself, which holds every input generated so far, so
    its absolute peak grows from cell to cell; the growth is what this cell's calls cost.
    """
    text = size_bytes(rss_peak.get("client"))
    growth = client_growth(rss_peak, rss_baseline)
    if growth is not None:
        text += f" (+{size_bytes(growth)})"
    if rss_peak.get("server"):
        text += f" + {size_bytes(rss_peak['server'])}"
    return text


def ratio(value: float | None) -> str:
    """``9.7x``, ``0.52x``, ``1,240x``; below 0.01 as a fraction (``1/14.6k``): never
    scientific notation."""
    if _missing(value):
        return "-"
    assert value is not None
    if value <= 0:
        return "0x"
    if value < 0.01:
        return f"1/{count(1 / value)}"
    if value >= 1000:
        return f"{value:,.0f}x"
    return f"{value:.3g}x" if value >= 0.1 else f"{value:.2f}x"


def env_value(value: object) -> str:
    """An environment fact as text; None (not found on this machine) is ``unknown``."""
    if value is None or value == "":
        return "unknown"
    if isinstance(value, list | tuple):
        return ", ".join(env_value(v) for v in value)
    return str(value)


#: (unit, nanoseconds per unit), largest first
DURATION_UNITS = (("s", 1e9), ("ms", 1e6), ("µs", 1e3), ("ns", 1.0))
#: (unit, bytes per unit), largest first
SIZE_UNITS = (("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0), ("B", 1.0))


def axis_unit(largest: float, units: tuple[tuple[str, float], ...]) -> tuple[str, float]:
    """The unit an axis reading up to ``largest`` is labelled in (12 ms rather than
    12000 µs or 80000 us)."""
    for unit, scale in units:
        if largest >= scale:
            return unit, scale
    return units[-1]


def interval_label(cell: Any) -> str:
    """What a cell's throughput_ci95 is, in words: the method and its units."""
    method = getattr(cell, "interval_method", None)
    workers = getattr(cell, "workers", 0) or 0
    if not getattr(cell, "throughput_ci95", None):
        return ("no interval: the data has no spread between independent runs"
                + (f" ({method})" if method else ""))
    if not method:
        return "95% interval (method not recorded)"
    if method.startswith("student-t") and workers > 1:
        return f"95% CI of the mean, Student t over {workers} worker processes"
    return f"95% interval: {method}"


def time_split(cell: Any) -> dict[str, str]:
    """Per call, medians: end-to-end, kernel (the engine's own time), crossing +
    serialization (end-to-end minus kernel), client CPU; "not measured" where the backend
    cannot tell its engine's time."""
    split = getattr(cell, "time_split", None) or {}
    missing = "not measured"
    return {
        "end_to_end": duration_ns(split.get("end_to_end_ns")),
        "kernel": missing if split.get("kernel_ns") is None else duration_ns(split["kernel_ns"]),
        "crossing": (missing if split.get("crossing_ns") is None
                     else duration_ns(split["crossing_ns"])),
        "client_cpu": duration_ns(split.get("client_cpu_ns")),
    }


def server_resources(cell: Any) -> str:
    """``12 MiB peak, 35 µs CPU/op (self-reported)``, or ``-`` without a server."""
    peak = cell.rss_peak_bytes.get("server")
    cpu = cell.cpu_s_per_op.get("server")
    if peak is None and cpu is None:
        return "-"
    text = f"{size_bytes(peak)} peak, {seconds(cpu)} CPU/op"
    if (getattr(cell, "resource_source", None) or {}).get("server") == "self-reported":
        text += " (self-reported)"
    return text


def cpu_affinity(cell: Any) -> str:
    """Which CPUs the client and its servers ran on, and whether they shared any."""
    affinity = getattr(cell, "cpu_affinity", None) or {}
    shared = affinity.get("shared")
    if shared is None:
        return "-"
    servers = sorted({cpu for cpus in (affinity.get("server") or {}).values() for cpu in cpus})
    cpus = f"client {affinity.get('client')}, server {servers}"
    return f"shared cores ({cpus})" if shared else f"disjoint ({cpus})"


#: a cell's steady-state verdict (``Cell.steady_state``) in words
STEADY_WORDS = {True: "steady", False: "no steady state", None: "steady state not tested"}


def warmup(cell: Any) -> str:
    """Each worker's warm-up (a range when they differ), how many workers warmed up past the
    minimum because their engine was still moving, and whether the timed rounds were steady:
    ``0.25 s, steady`` or ``0.25-1.3 s (2 of 3 extended), no steady state``; ``-`` for cells
    that recorded no warm-up (older files, imported cells)."""
    workers = [w for w in getattr(cell, "worker_results", None) or [] if "warmup_s" in w]
    if not workers:
        return "-"
    times = [float(w["warmup_s"]) for w in workers]
    low, high = min(times), max(times)
    text = seconds(low) if seconds(low) == seconds(high) else f"{seconds(low)}-{seconds(high)}"
    extended = sum(1 for w in workers if w.get("warmup_extended"))
    if extended:
        text += f" ({extended} of {len(workers)} extended)"
    return f"{text}, {STEADY_WORDS[getattr(cell, 'steady_state', None)]}"


def machine_load(cell: Any) -> str:
    """Other processes' CPU while the cell was timed: ``0.1 cores (max 0.3)``."""
    load = getattr(cell, "machine_load", None) or {}
    if "others_cores" not in load:
        return "-"
    text = f"{load['others_cores']:.1f} cores (max {load.get('others_cores_max', 0):.1f})"
    if load.get("steal_cores", 0) >= 0.05:
        text += f", steal {load['steal_cores']:.1f}"
    return text


# -- table cells of the report model's entries (shared by HTML, Markdown and terminal) --------

NOT_APPLICABLE = "n/a"


def speedup_cell(entry: Any) -> str:
    """``9.7x`` against the baseline, or ``-`` without one (the baseline itself: ``1x``)."""
    return ratio(entry.speedup.value) if entry.speedup is not None else "-"


def interval_cell(entry: Any) -> str:
    """The throughput's 95% interval, or what the data cannot tell."""
    estimate = entry.throughput
    if estimate is None:
        return ""
    if not estimate.has_interval:
        return "no interval"
    return f"[{count(estimate.low)}, {count(estimate.high)}]"


def client_memory(cell: Any) -> str:
    """``443 MiB (+8.2 MiB)``: the client's peak (its growth during the cell)."""
    peak = cell.rss_peak_bytes.get("client")
    if peak is None:
        return NOT_APPLICABLE if not cell.rss_peak_bytes else "-"
    growth = client_growth(cell.rss_peak_bytes, cell.rss_baseline_bytes)
    return size_bytes(peak) + (f" (+{size_bytes(growth)})" if growth is not None else "")


def server_memory(cell: Any) -> str:
    """The server's peak RSS, or ``n/a`` for a backend without a server process."""
    peak = cell.rss_peak_bytes.get("server")
    return NOT_APPLICABLE if peak is None else size_bytes(peak)


def cpu_role(cell: Any, role: str) -> str:
    value = cell.cpu_s_per_op.get(role)
    if value is None:
        return NOT_APPLICABLE if role != "client" or not cell.cpu_s_per_op else "-"
    return seconds(value)


def faults_role(cell: Any, role: str) -> str:
    """Minor page faults per call of one process (``1,630``, ``0.2``; major ones added when
    there were any), or ``n/a`` for a process the cell does not have."""
    minor = (getattr(cell, "minor_faults_per_op", None) or {}).get(role)
    if minor is None:
        return NOT_APPLICABLE if role != "client" else "-"
    text = f"{minor:,.0f}" if minor >= 10 else f"{minor:.1f}"
    major = (getattr(cell, "major_faults_per_op", None) or {}).get(role)
    return text + (f" (+{major:.1f} major)" if major and major >= 0.05 else "")


def faults(cell: Any) -> str:
    """Page faults per call, client then server: ``1,630 + 2.0``."""
    text = faults_role(cell, "client")
    if (getattr(cell, "minor_faults_per_op", None) or {}).get("server") is not None:
        text += f" + {faults_role(cell, 'server')}"
    return text


def byte_rate(entry: Any) -> str:
    """Request bytes per second, or ``zero-copy`` when the bytes cannot have been copied."""
    if entry.zero_copy:
        return "zero-copy"
    return rate_bytes(entry.cell.throughput_bytes)
