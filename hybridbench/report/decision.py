"""The rules that turn figures into words, as small pure functions (unit-tested one by one).

Nothing here knows a backend's name: what is compared is described by its ``Profile`` (the
pattern metadata every backend records), and every threshold comes from
``hybridbench.thresholds``. The rules, as the sentences state them:

* a speed-up is a ratio of throughputs. Where the run measured the table's backends as
  paired, interleaved trials (the file's ``comparisons``), it is the paired ratio with its own
  95% interval, and "clearly faster" means that interval lies above 1 (``ratio_separation``).
  Files without comparisons keep the older rule: the ratio of median throughputs, its interval
  from the lowest to the highest ratio the two cells' 95% intervals allow (conservative), and
  "clearly" means the cells' intervals do not overlap (``separation``); without intervals
  (imported data) the words say the data cannot tell how sure the difference is;
* a pattern is *worth moving to* when it beats the baseline by ``WORTH_IT`` and clearly;
* the boundary cost of a service is the per-call time (1 / throughput, one caller) of the
  service minus that of the in-process backend running the *same engine*; it is *affordable*
  when it is at most ``AFFORDABLE_SHARE`` of a service call, *dominant* above
  ``DOMINANT_SHARE``, *sizeable* in between. A cost whose interval includes zero is "not
  measurable"; a negative cost is never printed as a cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hybridbench import thresholds
from hybridbench.report import formatting as fmt


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval (``low``/``high`` None: the data has no interval)."""

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @classmethod
    def of(cls, value: float | None, interval: list[float] | None) -> Estimate | None:
        if value is None or value != value:  # None or NaN
            return None
        if interval and len(interval) == 2 and all(v is not None and v == v for v in interval):
            return cls(value, float(interval[0]), float(interval[1]))
        return cls(value)


def ratio(a: Estimate, b: Estimate) -> Estimate | None:
    """a / b, with the widest interval the two allow."""
    if b.value <= 0:
        return None
    if a.has_interval and b.has_interval:
        # b's interval may reach zero (clamped): the ratio is then unbounded above
        high = a.high / b.low if b.low > 0 else math.inf  # type: ignore[operator]
        return Estimate(a.value / b.value, a.low / b.high, high)  # type: ignore[operator]
    return Estimate(a.value / b.value)


def per_call_ns(throughput: Estimate) -> Estimate | None:
    """Time per call (one caller) from throughput: 1e9 / ops; the interval flips."""
    if throughput.value <= 0:
        return None
    if throughput.has_interval:
        low, high = throughput.low, throughput.high
        return Estimate(1e9 / throughput.value, 1e9 / high if high else math.inf,  # type: ignore[operator]
                        1e9 / low if low else math.inf)  # an interval reaching 0 ops/s: unbounded
    return Estimate(1e9 / throughput.value)


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a - b, with the widest interval the two allow."""
    if a.has_interval and b.has_interval:
        return Estimate(a.value - b.value, a.low - b.high, a.high - b.low)  # type: ignore[operator]
    return Estimate(a.value - b.value)


def excess(base: float, ratio: Estimate) -> Estimate:
    """``base x (ratio - 1)``: what a time ``ratio`` times ``base`` adds to it, with the
    ratio's interval carried over (the base is the scale, taken as exact)."""
    if not ratio.has_interval:
        return Estimate(base * (ratio.value - 1))
    return Estimate(base * (ratio.value - 1), base * (ratio.low - 1),  # type: ignore[operator]
                    base * (ratio.high - 1))  # type: ignore[operator]


# -- speed ------------------------------------------------------------------------------------

CLEARLY_FASTER, CLEARLY_SLOWER, OVERLAP, NO_INTERVAL = (
    "clearly faster", "clearly slower", "overlap", "no interval")
#: the same, said of a paired ratio's own interval (``ratio_separation``)
PAIRED_FASTER, PAIRED_SLOWER, INCLUDES_ONE = (
    "clearly faster (paired)", "clearly slower (paired)", "ratio interval includes 1")
#: the states in which a difference is shown (or no interval exists to doubt it), and those
#: in which it is not clear
FASTER = (CLEARLY_FASTER, PAIRED_FASTER)
UNSURE = (OVERLAP, INCLUDES_ONE)


def separation(a: Estimate, b: Estimate) -> str:
    """Whether a's throughput interval lies above b's, below it, overlaps it, or cannot say."""
    if not (a.has_interval and b.has_interval):
        return NO_INTERVAL
    if a.low > b.high:  # type: ignore[operator]
        return CLEARLY_FASTER
    if a.high < b.low:  # type: ignore[operator]
        return CLEARLY_SLOWER
    return OVERLAP


def ratio_separation(speedup: Estimate) -> str:
    """Whether a paired ratio's own 95% interval lies above 1, below it, or includes it."""
    if not speedup.has_interval:
        return NO_INTERVAL
    if speedup.low > 1:  # type: ignore[operator]
        return PAIRED_FASTER
    if speedup.high < 1:  # type: ignore[operator]
        return PAIRED_SLOWER
    return INCLUDES_ONE


def certainty_words(how: str) -> str:
    return {CLEARLY_FASTER: "clearly (95% intervals apart)",
            CLEARLY_SLOWER: "clearly (95% intervals apart)",
            OVERLAP: "not clearly (95% intervals overlap)",
            PAIRED_FASTER: "clearly (the paired ratio's 95% interval excludes 1)",
            PAIRED_SLOWER: "clearly (the paired ratio's 95% interval excludes 1)",
            INCLUDES_ONE: "not clearly (the paired ratio's 95% interval includes 1)",
            NO_INTERVAL: "by point estimates only (the data has no intervals to say how "
                         "sure)"}[how]


def certainty_short(how: str) -> str:
    return {CLEARLY_FASTER: "clearly", CLEARLY_SLOWER: "clearly",
            PAIRED_FASTER: "clearly", PAIRED_SLOWER: "clearly",
            OVERLAP: "not clearly: the 95% intervals overlap",
            INCLUDES_ONE: "not clearly: the paired ratio's 95% interval includes 1",
            NO_INTERVAL: "point estimates only, no interval"}[how]


def why_unsure(how: str) -> str:
    """``the 95% intervals overlap``: why a difference is not clear (``UNSURE`` states)."""
    return certainty_short(how).removeprefix("not clearly: ")


def worth_moving(speedup: Estimate, how: str) -> bool:
    """Beats the baseline by WORTH_IT, and clearly when intervals exist to say so."""
    return speedup.value >= thresholds.WORTH_IT and how in (*FASTER, NO_INTERVAL)


def speedup_text(speedup: Estimate) -> str:
    """``9.7x (95%: 8.1x-11.2x)`` or ``9.7x`` without an interval."""
    text = fmt.ratio(speedup.value)
    if speedup.has_interval:
        if math.isinf(speedup.high):  # type: ignore[arg-type]
            if not speedup.low:
                return text + " (95% interval unbounded: too wide to say)"
            return text + f" (95%: at least {fmt.ratio(speedup.low)}, no upper bound)"
        low = fmt.ratio(speedup.low)
        text += f" (95%: {low.removesuffix('x')}–{fmt.ratio(speedup.high)})"
    return text


# -- the boundary -----------------------------------------------------------------------------

AFFORDABLE, SIZEABLE, DOMINANT, NOT_MEASURABLE, SERVICE_FASTER, CANNOT_TELL = (
    "affordable", "sizeable", "dominant", "not measurable", "service faster", "cannot tell")


def boundary_verdict(cost_ns: Estimate, service_call_ns: float) -> str:
    """What the service boundary's cost per call means next to a whole service call."""
    if not cost_ns.has_interval:
        if cost_ns.value <= 0:
            return CANNOT_TELL
    elif cost_ns.low <= 0 <= cost_ns.high:  # type: ignore[operator]
        return NOT_MEASURABLE
    elif cost_ns.high < 0:  # type: ignore[operator]
        return SERVICE_FASTER
    share = cost_ns.value / service_call_ns
    if share <= thresholds.AFFORDABLE_SHARE:
        return AFFORDABLE
    return SIZEABLE if share <= thresholds.DOMINANT_SHARE else DOMINANT


def boundary_sentence(service: str, in_process: str, cost_ns: Estimate,
                      service_call_ns: float) -> str:
    """One sentence: what calling ``service`` instead of ``in_process`` (same engine) costs,
    and whether that is affordable. Never a negative cost, never an interval that is not
    there."""
    verdict = boundary_verdict(cost_ns, service_call_ns)
    lead = f"{service} instead of {in_process}"
    if verdict == CANNOT_TELL:
        return (f"{lead}: the service was not slower in this data, which has no intervals: "
                "it cannot tell what the boundary costs.")
    if verdict == NOT_MEASURABLE and math.isinf(cost_ns.low) and math.isinf(cost_ns.high):  # type: ignore[arg-type]
        return (f"{lead}: no measurable cost per call (the 95% interval of the difference is "
                "unbounded: the throughput intervals are too wide to say).")
    if verdict == NOT_MEASURABLE:
        return (f"{lead}: no measurable cost per call (the 95% interval of the difference, "
                f"{_span(cost_ns)}, includes zero).")
    if verdict == SERVICE_FASTER:
        return (f"{lead}: the service path was faster here, by "
                f"{fmt.duration_ns(-cost_ns.value)} per call: the in-process engine pays for "
                "something the service does not (e.g. the GIL or its copies).")
    share = cost_ns.value / service_call_ns
    cost = fmt.duration_ns(cost_ns.value)
    if cost_ns.has_interval:
        cost += (f" (95%: {fmt.duration_ns(max(cost_ns.low, 0.0))}–"  # type: ignore[type-var]
                 f"{_signed(cost_ns.high)})")
    low, high = f"{thresholds.AFFORDABLE_SHARE:.0%}", f"{thresholds.DOMINANT_SHARE:.0%}"
    how = {AFFORDABLE: (f"That is at most {low} of a call: the work dominates and the service "
                        "boundary is affordable."),
           SIZEABLE: (f"That is a sizeable share ({low}–{high}): a service is a measurably "
                      "slower path, so choose it for deployment reasons, not for speed."),
           DOMINANT: (f"That is more than {high} of a call: the boundary dominates the work; "
                      "call in-process if you can.")}[verdict]
    spread = ""  # capped at 100%: the boundary is a part of the service call
    if cost_ns.has_interval and not math.isinf(cost_ns.high):  # type: ignore[arg-type]
        spread = (f" (95%: {max(cost_ns.low, 0.0) / service_call_ns:.0%}–"  # type: ignore[type-var, operator]
                  f"{min(cost_ns.high / service_call_ns, 1.0):.0%})")  # type: ignore[operator]
    return f"{lead} costs {cost} per call, {share:.0%}{spread} of a service call. {how}"


def _span(estimate: Estimate) -> str:
    """``-3.09 ms to 22.2 ms``; an infinite end is said in words."""
    low, high = estimate.low, estimate.high
    assert low is not None and high is not None
    if math.isinf(low):
        return f"up to {_signed(high)} with no lower bound"
    if math.isinf(high):
        return f"from {_signed(low)} with no upper bound"
    return f"{_signed(low)} to {_signed(high)}"


def _signed(value: float | None) -> str:
    if value is None:
        return "?"
    if math.isinf(value):
        return "unbounded" if value > 0 else "-unbounded"
    return ("-" if value < 0 else "") + fmt.duration_ns(abs(value))
