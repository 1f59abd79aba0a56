"""Steady state: does an engine's time per call stay put, or does it still move?

Barrett et al. ("Virtual Machine Warmup Blows Hot and Cold", OOPSLA 2017) ran benchmarks long
and found by changepoint analysis that many never reach a steady state, and that others get
slower rather than faster. A fixed warm-up assumes what they found is often false, so the
worker checks instead (``warm_up``, then ``check`` on the timed rounds).

The test is cheap and robust, in numpy alone (the worker imports no scipy):

1. The series is cut into about ``SEGMENTS`` consecutive segments and each is reduced to its
   median time per call: a burst of slow calls (a collector pause, a neighbour's time slice)
   moves one segment's median a little, not the whole test.
2. Every split of the segment medians with at least ``MIN_SIDE`` segments on each side is a
   candidate changepoint; a Mann-Whitney rank statistic compares the segments before the split
   with those after (ranks: no assumption about the shape of the noise, and a trend is a
   changepoint at its middle). The split with the largest statistic is the changepoint.
3. The series is *not steady* when that split is both clear (``|z| >= thresholds.STEADY_Z``,
   calibrated for the maximum over all splits) and large (the median time per call after it
   differs from the median before it by at least ``thresholds.STEADY_CHANGE``). Either alone
   is not enough: with thousands of calls a 1% shift is "clear", and with a dozen calls a
   20% swing can be noise.

Concurrent callers record one array each (``measure.Round.blocks``); a segment takes the same
share of every caller's array, so segments stay in time order without a timestamp per call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from hybridbench import thresholds
from hybridbench.measure import Round

#: segments a series is cut into: enough for a rank test to see a step, few enough that each
#: segment's median rests on many calls
SEGMENTS = 20
#: ... and each segment at least this many samples: the median of two or three calls is
#: no more robust than their mean, and a slow engine (a few dozen calls a second) would be
#: judged on its neighbours' time slices. Too few calls for 2 x MIN_SIDE segments: untested
MIN_SEGMENT_SAMPLES = 5
#: a changepoint needs this many segments on each side: a step in the first or last few
#: segments moves too few calls to matter and cannot be told from a burst
MIN_SIDE = 3
#: the warm-up runs in chunks of the minimum warm-up / WARMUP_CHUNKS, and each check looks at
#: the last WARMUP_CHUNKS chunks (the last minimum-warm-up's worth of calls)
WARMUP_CHUNKS = 5


@dataclass(frozen=True)
class Verdict:
    """The changepoint test of one series."""

    #: None: too few samples to tell (fewer than 2 x MIN_SIDE segments)
    steady: bool | None
    #: median time per call after the split over before it, minus 1 (+0.3: 30% slower later)
    change: float = 0.0
    #: where the split lies, as a fraction of the series (0.5: halfway)
    at: float = 0.0
    #: the Mann-Whitney z of the split (before against after, positive: slower before)
    z: float = 0.0
    segments: int = 0

    def as_dict(self) -> dict[str, float | int | bool | None]:
        return asdict(self)


def segment_medians(spans: Sequence[Sequence[np.ndarray]], segments: int = SEGMENTS
                    ) -> np.ndarray:
    """Median time per call of consecutive segments of ``spans``.

    A span is a stretch of time (a round, a warm-up chunk) given as one array per caller
    that ran through it; spans follow each other in time. Each span gets an equal share of
    the segments (at least one, fewer when it has under MIN_SEGMENT_SAMPLES a segment), and
    segment ``k`` of a span is the ``k``-th share of every
    caller's array, so concurrent callers are merged without timestamps.
    """
    per_span = max(1, round(segments / max(1, len(spans))))
    medians: list[float] = []
    for blocks in spans:
        longest = max((len(b) for b in blocks), default=0)
        total = sum(len(b) for b in blocks)
        parts = min(per_span, longest, max(1, total // MIN_SEGMENT_SAMPLES))
        for k in range(parts):
            pieces = [b[len(b) * k // parts:len(b) * (k + 1) // parts] for b in blocks]
            joined = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
            if joined.size:
                medians.append(float(np.median(joined)))
    return np.asarray(medians, dtype=np.float64)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their mean rank (as Mann-Whitney wants)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1, dtype=np.float64)
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    for start, count in zip(first[counts > 1], counts[counts > 1], strict=True):
        ranks[order[start:start + count]] = start + (count + 1) / 2
    return ranks


def split_statistics(medians: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(splits, z)``: every allowed split position and the Mann-Whitney z of the segments
    before it against those after (positive: the earlier segments were slower)."""
    m = medians.size
    splits = np.arange(MIN_SIDE, m - MIN_SIDE + 1)
    ranks = _ranks(medians)
    before = np.cumsum(ranks)[splits - 1]  # rank sum of the first j segments
    n1, n2 = splits.astype(np.float64), (m - splits).astype(np.float64)
    u = before - n1 * (n1 + 1) / 2  # pairs (earlier, later) with the earlier one slower
    z = (u - n1 * n2 / 2) / np.sqrt(n1 * n2 * (m + 1) / 12)
    return splits, z


def check(medians: np.ndarray, change_threshold: float = thresholds.STEADY_CHANGE,
          z_threshold: float = thresholds.STEADY_Z) -> Verdict:
    """Whether a series of segment medians (``segment_medians``) is steady."""
    m = int(medians.size)
    if m < 2 * MIN_SIDE or not np.all(np.isfinite(medians)):
        return Verdict(steady=None, segments=m)
    splits, z = split_statistics(medians)
    best = int(np.argmax(np.abs(z)))
    j = int(splits[best])
    before, after = float(np.median(medians[:j])), float(np.median(medians[j:]))
    change = after / before - 1 if before > 0 else 0.0
    moved = abs(float(z[best])) >= z_threshold and abs(change) >= change_threshold
    return Verdict(steady=not moved, change=change, at=j / m, z=float(z[best]), segments=m)


def check_rounds(rounds: np.ndarray, before: np.ndarray | None = None) -> Verdict:
    """The timed rounds' test (segment medians in the order they ran), with ``at`` a fraction
    of the rounds.

    ``before``: the segment medians of the warm-up's last check, the state it ended in. In
    front of the rounds they let a change early in the rounds be seen (alone, the rounds'
    first MIN_SIDE segments can hold no changepoint). A changepoint at the boundary itself
    is no change *of the rounds* (they are all in one state), so the rounds are then tested
    alone."""
    if before is not None and before.size and rounds.size:
        joined = check(np.concatenate([before, rounds]))
        split = round(joined.at * joined.segments) - before.size
        if joined.steady is False and split > 0:
            return replace(joined, at=split / rounds.size, segments=int(rounds.size))
    return check(rounds)


def round_medians(done: Round, rounds: int) -> np.ndarray:
    """One timed round's share of the SEGMENTS: computed as each round ends, so that the
    worker keeps a few medians rather than every round's samples (which would add to the
    client memory it reports)."""
    return segment_medians([done.blocks()], max(1, round(SEGMENTS / max(1, rounds))))


def warmup_bound(minimum_s: float, timed_s: float) -> float:
    """The longest a worker warms up: thresholds.WARMUP_BOUND_FACTOR times its timed
    seconds, within [minimum, thresholds.WARMUP_BOUND_MAX_S]; an engine still moving then is
    timed anyway, and the test of its rounds says so."""
    bound = min(thresholds.WARMUP_BOUND_FACTOR * timed_s, thresholds.WARMUP_BOUND_MAX_S)
    return max(minimum_s, bound)


@dataclass
class Warmup:
    """What a worker's warm-up did: its calls and seconds, whether it went past the minimum,
    and the last check's verdict (None: never checked, as with no minimum)."""

    calls: int
    seconds: float
    chunks: int
    extended: bool
    verdict: Verdict | None
    #: the segment medians the last check looked at: the state the warm-up ended in
    tail: np.ndarray = field(default_factory=lambda: np.empty(0))

    bound_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"calls": self.calls, "seconds": self.seconds, "chunks": self.chunks,
                "extended": self.extended, "bound_s": self.bound_s,
                "steady": self.verdict.steady if self.verdict else None,
                "check": self.verdict.as_dict() if self.verdict else None}


def warm_up(run: Callable[[float], Round], minimum_s: float, bound_s: float) -> Warmup:
    """Call ``run(seconds)`` in chunks until the engine is steady, for at least ``minimum_s``
    and at most about ``bound_s`` (one chunk more at worst).

    From the minimum on, after each chunk the trailing chunks that make up the last
    ``minimum_s`` of calls are tested (with thresholds.WARMUP_CHANGE); the warm-up ends at
    the first check that finds no changepoint, or cannot tell (too few calls: a slow engine
    is not held back for a test that has no data). A steady engine therefore warms up the
    minimum, as before; a chunk is a fifth of it, so chunking costs a few thread starts.
    """
    if minimum_s <= 0:
        done = run(0.0)
        return Warmup(done.ops, done.duration_ns / 1e9, 1, False, None, bound_s=bound_s)
    step = minimum_s / WARMUP_CHUNKS
    chunks: list[Round] = []
    seconds, checks = 0.0, 0
    verdict: Verdict | None = None
    tail = np.empty(0)
    while True:
        # Each chunk runs to the next multiple of the step, so a chunk's overrun (the call
        # under way at its deadline) shortens the next one instead of adding up: at the
        # minimum the warm-up has overrun by one call at most, like a single warm-up.
        target = (math.floor(seconds / step + 1e-9) + 1) * step
        chunks.append(run(target - seconds))
        seconds += chunks[-1].duration_ns / 1e9
        if seconds < minimum_s * (1 - 1e-9):
            continue
        checks += 1
        tail = segment_medians([_joined(_trailing(chunks, minimum_s))])
        verdict = check(tail, change_threshold=thresholds.WARMUP_CHANGE)
        if verdict.steady is not False or seconds >= bound_s:
            break
    return Warmup(sum(c.ops for c in chunks), seconds, len(chunks), checks > 1, verdict, tail,
                  bound_s)


def _joined(chunks: list[Round]) -> list[np.ndarray]:
    """Consecutive chunks as one span: each caller's samples end to end. A chunk holds a
    fifth of the window's calls, too few for segments of their own when calls take
    milliseconds; joined, the window is cut as one (chunks have the same callers)."""
    blocks = [c.blocks() for c in chunks]
    return [np.concatenate(parts) for parts in zip(*blocks, strict=False)]


def _trailing(chunks: list[Round], seconds: float) -> list[Round]:
    """The last chunks that together last at least ``seconds``."""
    total, start = 0.0, len(chunks)
    while start > 0 and total < seconds:
        start -= 1
        total += chunks[start].duration_ns / 1e9
    return chunks[start:]
