"""Human formatting of the numbers, shared by every reporter."""

from __future__ import annotations

import math


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
    for suffix, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
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
