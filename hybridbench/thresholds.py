"""Every threshold the harness flags or decides by, defined once.

The runner uses them to type its warnings, the report model to word its decisions; the
reporters only print the figures and the warnings' own messages, never a second copy.
"""

from __future__ import annotations

#: below this many samples a P99 rests on fewer than 100 values: a thin tail
THIN_TAIL_SAMPLES = 10_000
#: workers (or rounds) whose throughputs vary by more than this (stdev / mean) are noisy
NOISY_SPREAD = 0.10
#: a cell timed while other processes used more cores than this ran on a busy machine
BUSY_CORES = 0.5
#: a paired ratio whose busy passes (BUSY_CORES) differ from its quiet ones by more than this
#: share (and beyond the quiet passes' noise) was moved by the load: flagged, with the names
LOAD_MOVED_RATIO = 0.05
#: two cells of a table whose calls kept more than this many cores apart busy: load on the
#: machine takes from one more than from the other, so their ratio is exposed to it
CORES_DIFFER = 0.25
#: a pattern must beat the baseline by this factor (and clearly) to be called worth moving to
WORTH_IT = 1.5
#: the service boundary is affordable when it costs at most this share of a service call
AFFORDABLE_SHARE = 0.20
#: above this share of a service call the boundary dominates the work
DOMINANT_SHARE = 0.50
#: a payload moved faster than this per call cannot have been copied (no core copies memory
#: at 100 GiB/s): the call is zero-copy and its bytes-per-second figure is not reported
COPY_CEILING_BYTES_PER_S = 100 * 1024**3
#: a process that faults in more fresh pages than this per call (minor faults: 400 KiB of
#: memory mapped and zeroed, about 0.1-0.2 ms at the 1-2 us a fault costs here) gets its
#: memory from the kernel on every call: its figure depends on the allocator (measured:
#: timeseries 100k ~1,600 per call under glibc, 0-2 under jemalloc; json 1MB 1-40 under any)
FAULTS_PER_CALL = 100
#: a worker's time per call that moves by at least this much (median after a changepoint
#: over median before it) is not steady: its warm-up goes on, or its cell is flagged
STEADY_CHANGE = 0.10
#: ... and only when the changepoint is this clear: the Mann-Whitney z of the segment medians
#: before against after it, the largest over all splits (``steady.py``). Calibrated by
#: simulation so that a steady series of independent segments passes 99% of the time
STEADY_Z = 3.0
#: the warm-up goes on while its last window moves by at least this much (with the same
#: clarity): half the flag's, because waiting is cheap and a trend's best split shows only
#: half its drift (the medians of the two halves of a ramp)
WARMUP_CHANGE = 0.05
#: a worker warms up at most this many times its timed seconds ...
WARMUP_BOUND_FACTOR = 2.0
#: ... and never longer than this
WARMUP_BOUND_MAX_S = 10.0
