"""Stand-in backends for the runner's tests. Workers load them by "fake_backends:Class"
(``RunConfig.backend_refs``), so this directory must be on the workers' PYTHONPATH."""

from __future__ import annotations

import os
import time

from hybridbench.backend import Backend
from hybridbench.errors import BackendError

#: what the Timed backend says its kernel took, and its server's memory
KERNEL_NS = 700
SERVER_RSS = 20 * 1024 * 1024
SERVER_RSS_PEAK = 30 * 1024 * 1024


#: pages FreshPages faults in per call (above thresholds.FAULTS_PER_CALL)
FRESH_PAGES = 256


class Wrong(Backend):
    name = "wrong"

    def call(self, workload: str, payload: bytes) -> bytes:
        return payload[:-1]


class DiesMidRun(Backend):
    name = "dies"

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.calls = 0

    def call(self, workload: str, payload: bytes) -> bytes:
        self.calls += 1
        if self.calls > 50:
            raise BackendError("server exited with signal 9")
        return payload


class Crashes(Backend):
    """The worker process itself dies (a segfault in a native library looks like this)."""

    name = "crashes"

    def call(self, workload: str, payload: bytes) -> bytes:
        if self.started and getattr(self, "verified", False):
            os._exit(3)
        self.verified = True
        return payload


class Hangs(Backend):
    """Answers once (verification), then never again."""

    name = "hangs"

    def call(self, workload: str, payload: bytes) -> bytes:
        if getattr(self, "answered", False):
            time.sleep(3600)
        self.answered = True
        return payload


class EchoOnly(Backend):
    name = "echo-only"

    def unsupported_reason(self, workload: str) -> str | None:
        return None if workload == "echo" else f"echo-only does not implement {workload!r}"

    def call(self, workload: str, payload: bytes) -> bytes:
        return bytes(payload)


class FreshPages(Backend):
    """Maps FRESH_PAGES new pages per call, writes each and unmaps them: what an allocator
    that returns freed blocks to the kernel does to every call (a known fault count)."""

    name = "fresh-pages"

    def call(self, workload: str, payload: bytes) -> bytes:
        import mmap

        block = mmap.mmap(-1, FRESH_PAGES * mmap.PAGESIZE)
        for offset in range(0, len(block), mmap.PAGESIZE):
            block[offset] = 1
        block.close()
        return bytes(payload)


class Missing(Backend):
    name = "missing"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return "libfoo.so is not built"

    def call(self, workload: str, payload: bytes) -> bytes:
        raise AssertionError("never called")


class Timed(Backend):
    """Reports a kernel time per call and its server's own resources, like a remote target:
    a server with no PID here whose CPU time grows at half this process's."""

    name = "timed"

    def call(self, workload: str, payload: bytes) -> bytes:
        return bytes(payload)

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        return self.run(workload, payload), KERNEL_NS

    def server_resources(self) -> dict[str, dict[str, float]]:
        return {"server": {"pid": 4242, "rss_bytes": SERVER_RSS,
                           "rss_peak_bytes": SERVER_RSS_PEAK,
                           "cpu_s": time.process_time() / 2}}


FAKES = {cls.name: cls for cls in (Wrong, DiesMidRun, Crashes, Hangs, EchoOnly, Missing, Timed,
                                   FreshPages)}
REFS = {name: f"fake_backends:{cls.__name__}" for name, cls in FAKES.items()}


#: the moving engines below sleep SLOW_S per call at first and FAST_S later: slow-first-second
#: for its first SLOW_PERIOD_S after start(), warms-up over its first RAMP_CALLS calls
#: (sleeping, not computing: a busy machine stretches a sleep far less than a computation,
#: so their shape survives a noisy test machine)
FAST_S, SLOW_S, SLOW_PERIOD_S = 0.001, 0.004, 1.0
#: the ramp's length, in calls (a JIT's tiers compile after so many calls, not after so long):
#: some half a second of calls on an idle machine, so the minimum warm-up (0.25 s) sees the
#: time per call fall by more than a third. A ramp over wall-clock time from start() was over
#: before the warm-up began when a loaded machine delayed a worker between the two (load 4.4
#: in a fresh clone's make test), and over a whole second its fall was too slight for the
#: warm-up's check at load 3 beside cargo's build
RAMP_CALLS = 200


class Steady(Backend):
    """The same time per call from the first call on."""

    name = "steady"

    def call(self, workload: str, payload: bytes) -> bytes:
        time.sleep(FAST_S)
        return bytes(payload)


class SlowFirstSecond(Backend):
    """Four times slower for its first second, then steady: a step (a cache that fills, a
    JIT that swaps in compiled code at once)."""

    name = "slow-first-second"

    def start(self) -> None:
        super().start()
        self.since = time.monotonic()

    def call(self, workload: str, payload: bytes) -> bytes:
        slow = time.monotonic() - self.since < SLOW_PERIOD_S
        time.sleep(SLOW_S if slow else FAST_S)
        return bytes(payload)


class WarmsUp(Backend):
    """From four times slower to steady over its first ``RAMP_CALLS`` calls: a ramp (the
    tiers of a JIT)."""

    name = "warms-up"
    calls = 0

    def call(self, workload: str, payload: bytes) -> bytes:
        done = min(1.0, self.calls / RAMP_CALLS)
        self.calls += 1
        time.sleep(SLOW_S + (FAST_S - SLOW_S) * done)
        return bytes(payload)


MOVING = {cls.name: cls for cls in (Steady, SlowFirstSecond, WarmsUp)}
MOVING_REFS = {name: f"fake_backends:{cls.__name__}" for name, cls in MOVING.items()}
