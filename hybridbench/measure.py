"""Timing loops: closed loop (c workers, each waits for its answer) and open loop (fixed rate).

Who measures: these loops run in the harness process and time each call with
``time.perf_counter_ns`` (~75-100 ns per read here). Samples go into a preallocated-free
``array('q')`` per worker, never into the histogram inside the loop, so recording costs one
append (~30 ns). Calls shorter than a few microseconds are timed in batches of ``batch`` calls
and each sample is the batch's mean: the timer's cost is then amortised, and the result says so.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Call = Callable[[], object]
clock = time.perf_counter_ns

#: a timed batch should last at least this long when calls are short
BATCH_TARGET_NS = 10_000
#: calls at least this long are timed one by one
BATCH_THRESHOLD_NS = 5_000


@dataclass
class Round:
    """One round of measurement."""

    ops: int
    duration_ns: int
    #: one entry per sample: a call's latency, or a batch's mean per call
    latencies_ns: np.ndarray
    #: open loop only: scheduled calls that were never sent before the round gave up
    unsent: int = 0
    #: samples per caller thread, in the order of ``latencies_ns`` (each thread's samples are
    #: in time order, the threads' blocks follow each other); empty: one block
    per_thread: tuple[int, ...] = ()

    @property
    def throughput(self) -> float:
        return self.ops * 1e9 / self.duration_ns if self.duration_ns else math.nan

    def blocks(self) -> list[np.ndarray]:
        """Each caller's samples in the order it took them (views, no copy): the time order
        that ``steady`` needs, which the concatenated ``latencies_ns`` lost."""
        if not self.per_thread:
            return [self.latencies_ns]
        ends = np.cumsum(self.per_thread)
        return [self.latencies_ns[end - n:end] for n, end in zip(self.per_thread, ends,
                                                                 strict=True)]


#: in-process calls on payloads up to this many bytes are timed in batches of this many calls.
#: A rule on what the cell *is*, never on a wall-clock probe: a 20 ms probe gave ffi echo 64B
#: batches of 1, 4, 5, 4, 11 and 11 in six runs of the same cell. In-process calls on payloads
#: this small take 0.1-5 µs here, where one ``perf_counter_ns`` pair (~50-100 ns) would be
#: 2-50% of a sample; a batch of 100 (or 10) brings the timer below 1% of it. Calls that
#: cross a process take >= 20 µs and are always timed one by one.
SHORT_CALL_BATCHES = ((1024, 100), (64 * 1024, 10))


def batch_for(payload_bytes: int, out_of_process: bool) -> tuple[int, str]:
    """``(batch size, the rule that chose it)`` for a cell: deterministic, so identical runs
    of a cell always time the same unit."""
    if out_of_process:
        return 1, "calls to another process are timed one by one"
    for limit, batch in SHORT_CALL_BATCHES:
        if payload_bytes <= limit:
            return batch, (f"in-process call on a payload <= {limit:,} bytes: "
                           f"batches of {batch} calls")
    return 1, f"in-process call on a payload > {SHORT_CALL_BATCHES[-1][0]:,} bytes: one by one"


def timer_cost_ns(pairs: int = 20_000, read: Callable[[], int] | None = None) -> dict[str, float]:
    """What one timed span adds by itself: two back-to-back clock reads, ``pairs`` times.

    The median is the typical overhead inside every sample; the minimum is the clock's floor.
    """
    read = read or clock
    deltas = array("q")
    for _ in range(pairs):
        t0 = read()
        deltas.append(read() - t0)
    values = np.frombuffer(deltas, dtype=np.int64)
    return {"median": float(np.median(values)), "min": float(values.min())}


def empty_call_cost_ns(batch: int = 1, duration_s: float = 0.03) -> float:
    """Median per-call time of the closed loop itself with a call that does nothing:
    the floor under every latency this loop reports (timer, loop, one Python call)."""
    done = closed_loop(_nothing, 1, duration_s, batch)
    return float(np.median(done.latencies_ns))


def _nothing() -> None:
    return None


def _run_workers(bodies: list[Callable[[threading.Barrier], None]], on_ready: Callable[[], None]
                 ) -> None:
    """Run each body in its own thread; all start together after ``on_ready``.

    An exception in a worker aborts the start barrier (so no one waits forever) and is
    re-raised here, in the caller's thread.
    """
    barrier = threading.Barrier(len(bodies) + 1)
    errors: list[BaseException] = []

    def guarded(body: Callable[[threading.Barrier], None]) -> None:
        try:
            body(barrier)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=guarded, args=(b,), name=f"hb-worker-{i}")
               for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    on_ready()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed before starting
        barrier.wait()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def closed_loop(call: Call, concurrency: int, duration_s: float, batch: int = 1,
                max_samples: int = 2_000_000) -> Round:
    """``concurrency`` threads each call back-to-back until ``duration_s`` has passed."""
    results: list[array] = []
    deadline = [0]
    batch_range = range(batch)

    def body(barrier: threading.Barrier) -> None:
        samples = array("q")
        append = samples.append
        barrier.wait()
        end = deadline[0]
        while True:
            t0 = clock()
            for _ in batch_range:
                call()
            t1 = clock()
            append(t1 - t0)
            if t1 >= end or len(samples) >= max_samples:
                break
        results.append(samples)

    started = [0]

    def ready() -> None:
        started[0] = clock()
        deadline[0] = started[0] + int(duration_s * 1e9)

    _run_workers([body] * concurrency, ready)
    elapsed = clock() - started[0]
    samples = np.concatenate([np.frombuffer(r, dtype=np.int64) for r in results])
    return Round(ops=int(samples.size) * batch, duration_ns=elapsed,
                 latencies_ns=samples // batch if batch > 1 else samples,
                 per_thread=tuple(len(r) for r in results))


def open_loop(call: Call, rate: float, concurrency: int, duration_s: float,
              give_up_after_s: float | None = None) -> Round:
    """Send at a fixed ``rate`` from ``concurrency`` workers; latency from the intended time.

    Call ``i`` is due at ``start + i / rate``. Its latency is measured from that due time,
    not from when a worker got round to sending it, so a backend that falls behind is charged
    for the queueing it caused (coordinated omission corrected, as wrk2 does). Calls still
    unsent when ``give_up_after_s`` (default: twice the duration plus 5 s) expires are counted
    as ``unsent`` rather than waited for, so an overloaded backend cannot hang the run.
    """
    interval_ns = 1e9 / rate
    total = max(1, int(duration_s * rate))
    give_up_ns = int((give_up_after_s if give_up_after_s is not None
                      else 2 * duration_s + 5) * 1e9)
    counter = itertools.count()  # next() on a count is atomic under the GIL
    start_ns = [0]
    results: list[array] = []

    def body(barrier: threading.Barrier) -> None:
        samples = array("q")
        barrier.wait()
        t_start = start_ns[0]
        while True:
            i = next(counter)
            now = clock()
            if i >= total or now - t_start >= give_up_ns:
                break
            due = t_start + int(i * interval_ns)
            if due > now:
                time.sleep((due - now) / 1e9)
            call()
            samples.append(clock() - due)
        results.append(samples)

    def ready() -> None:
        start_ns[0] = clock() + 1_000_000  # 1 ms for every worker to get going

    _run_workers([body] * concurrency, ready)
    elapsed = clock() - start_ns[0]
    samples = np.concatenate([np.frombuffer(r, dtype=np.int64) for r in results])
    return Round(ops=int(samples.size), duration_ns=elapsed, latencies_ns=samples,
                 unsent=total - int(samples.size), per_thread=tuple(len(r) for r in results))
