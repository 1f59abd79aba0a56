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
#: a pattern must beat the baseline by this factor (and clearly) to be called worth moving to
WORTH_IT = 1.5
#: the service boundary is affordable when it costs at most this share of a service call
AFFORDABLE_SHARE = 0.20
#: above this share of a service call the boundary dominates the work
DOMINANT_SHARE = 0.50
#: a payload moved faster than this per call cannot have been copied (no core copies memory
#: at 100 GiB/s): the call is zero-copy and its bytes-per-second figure is not reported
COPY_CEILING_BYTES_PER_S = 100 * 1024**3
