"""The memory allocator a cell's processes run under: a dimension of the run (``--allocator``).

Why it is a dimension: a call that allocates and frees large temporaries (numpy's, in
``timeseries``) costs twice as much under glibc's malloc as under jemalloc or mimalloc, because
glibc hands those blocks back to the kernel after each call and faults them in again on the
next (about 1,600 fresh pages per call for ``timeseries 100k``). Which state a process is in
depends on the allocator and, for glibc, on the process's history: glibc raises its mmap
threshold to the size of the largest mmapped block freed so far (up to 32 MiB, and the trim
threshold to twice that), so that the same engine faults a lot or hardly at all depending on
what the process happened to allocate first. A figure therefore names its allocator, and each
allocator is set up so that its state does not depend on history:

* ``glibc``: glibc's malloc as installed, with the thresholds pinned at glibc's own initial
  values (128 KiB) so that they never move: the cold end, where no block above 128 KiB is
  kept once freed (a process that has not yet freed a big block; glibc raises the threshold
  after the first such free, which is exactly the history dependence pinning removes: setting
  a threshold disables the dynamic adjustment, mallopt(3)). Every glibc process lies between
  this and ``glibc-tuned``.
* ``glibc-tuned``: glibc with the thresholds raised to 32 MiB (mmap: glibc's own maximum
  for the dynamic threshold on 64-bit) and 128 MiB (trim): blocks up to 32 MiB stay in the heap
  and freed memory is kept, which is where a long-running glibc process whose threshold rose
  ends up, and what a service tuned by its operators runs with.
* ``glibc-dynamic``: glibc untouched, thresholds moving with the process's history: what
  hybridbench measured before it chose allocators, kept to reproduce such figures.
* ``jemalloc``, ``mimalloc``: Debian's libjemalloc2 and libmimalloc2.0, preloaded
  (``LD_PRELOAD``). Both keep freed memory for reuse and decay it back to the kernel on timers
  (seconds), not after each call.

What applies per process: Python and the Rust server allocate through malloc, so all four
apply to them. Go's runtime never calls malloc (it maps its own heap): the preload is loaded
into a Go server only if it is dynamically linked, and changes nothing there; results say so.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hybridbench.errors import WorkloadError

#: the allocator a run measures when none is asked for (DESIGN.md, "Process state")
DEFAULT = "glibc"
#: the allocator the main job re-measures allocator-sensitive tables under, first available:
#: the warm end of the same libc, so that the two figures bracket every glibc process
SECOND_CHOICES = ("glibc-tuned",)
#: the environment variable that names a process's allocator to its children (servers)
ENV_NAME = "HYBRIDBENCH_ALLOCATOR"
#: glibc's initial mmap and trim thresholds (malloc/malloc.c: DEFAULT_MMAP_THRESHOLD_MIN and
#: DEFAULT_TRIM_THRESHOLD, 128 KiB both)
GLIBC_INITIAL = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}
#: 32 MiB is DEFAULT_MMAP_THRESHOLD_MAX on 64-bit (the highest the dynamic threshold goes);
#: trim at 4x so that a call's freed temporaries stay mapped between calls
GLIBC_TUNED = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "134217728"}
#: glibc variables that change malloc's behaviour: removed from every worker's environment so
#: that only the chosen allocator's settings apply
GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                   "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST",
                   "MALLOC_PERTURB_", "MALLOC_CHECK_")
#: shared objects of the preloaded allocators, by allocator
LIBRARIES = {"jemalloc": "libjemalloc.so.2", "mimalloc": "libmimalloc.so.2"}
#: where the libraries are looked for when ``ldconfig -p`` does not list them
SEARCH_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
               "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")
INSTALL_HINT = {"jemalloc": "apt-get install libjemalloc2",
                "mimalloc": "apt-get install libmimalloc2.0"}
NAMES = ("glibc", "glibc-tuned", "jemalloc", "mimalloc", "glibc-dynamic")


@dataclass(frozen=True)
class Allocator:
    """One allocator: the environment that selects it, and why it cannot run if it cannot."""

    name: str
    #: variables to set in the processes of a cell (LD_PRELOAD, MALLOC_*)
    env: dict[str, str] = field(default_factory=dict)
    #: the preloaded shared object, None for glibc's own malloc
    library: str | None = None
    unavailable: str | None = None

    def describe(self) -> dict[str, object]:
        """What the result file records of it (``env["allocators"]``, each cell's)."""
        return {"name": self.name, "env": dict(self.env), "library": self.library,
                "unavailable": self.unavailable, "state": STATES[self.name]}


#: the process state each allocator gives (recorded beside every figure)
STATES = {
    "glibc": "glibc malloc as installed, thresholds pinned at its initial 128 KiB: blocks "
             "above 128 KiB are mmapped and returned to the kernel when freed (the cold end "
             "of glibc: nothing large is kept)",
    "glibc-tuned": "glibc malloc with mmap threshold 32 MiB and trim threshold 128 MiB: freed "
                   "blocks stay in the heap (a warm or tuned glibc process)",
    "glibc-dynamic": "glibc malloc untouched: its thresholds move with the process's history "
                     "(what hybridbench measured before allocators were chosen)",
    "jemalloc": "jemalloc preloaded: freed memory reused, returned to the kernel on timers",
    "mimalloc": "mimalloc preloaded: freed memory reused, returned to the kernel on timers",
}


def _ldconfig() -> dict[str, str]:
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, path = line.strip().partition(" => ")
        found.setdefault(name.split(" ", 1)[0], path.strip())
    return found


@cache
def find_library(soname: str) -> str | None:
    """The path of shared object ``soname``, or None."""
    path = _ldconfig().get(soname)
    if path and Path(path).is_file():
        return str(Path(path).resolve())
    for directory in SEARCH_DIRS:
        candidate = Path(directory) / soname
        if candidate.is_file():
            return str(candidate.resolve())
    return None


def get(name: str) -> Allocator:
    """The allocator called ``name``; WorkloadError for a name that is none."""
    if name == "glibc":
        return Allocator(name, dict(GLIBC_INITIAL))
    if name == "glibc-tuned":
        return Allocator(name, dict(GLIBC_TUNED))
    if name == "glibc-dynamic":
        return Allocator(name)
    if name in LIBRARIES:
        path = find_library(LIBRARIES[name])
        if path is None:
            return Allocator(name, unavailable=f"{LIBRARIES[name]} not found (install it: "
                                               f"{INSTALL_HINT[name]})")
        return Allocator(name, {"LD_PRELOAD": path}, library=path)
    raise WorkloadError(f"unknown allocator {name!r}; known: {', '.join(NAMES)}")


def parse(text: str) -> list[str]:
    """``--allocator glibc,jemalloc`` -> the names, checked; ``all`` is every one."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(NAMES)
    if not names:
        raise WorkloadError("--allocator needs at least one name; known: " + ", ".join(NAMES))
    for name in names:
        get(name)
    return list(dict.fromkeys(names))


def second_choice() -> str:
    """The allocator the main job re-measures allocator-sensitive cells under."""
    for name in SECOND_CHOICES:
        if get(name).unavailable is None:
            return name
    return "glibc-tuned"


def child_env(name: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker or server running under ``name``: ``base`` (os.environ)
    without any malloc setting or allocator preload of its own, plus the allocator's."""
    env = dict(os.environ if base is None else base)
    for variable in GLIBC_VARIABLES:
        env.pop(variable, None)
    kept = [p for p in env.get("LD_PRELOAD", "").split() if not _is_allocator(p)]
    env.pop("LD_PRELOAD", None)
    allocator = get(name)
    preload = [*kept, *([allocator.env["LD_PRELOAD"]] if "LD_PRELOAD" in allocator.env else [])]
    env.update({k: v for k, v in allocator.env.items() if k != "LD_PRELOAD"})
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    env[ENV_NAME] = name
    return env


def _is_allocator(path: str) -> bool:
    return any(Path(path).name.startswith(soname.split(".so")[0] + ".so")
               for soname in LIBRARIES.values())


def spawn_env() -> dict[str, str] | None:
    """The environment for a server spawned from this process: this process's allocator
    (``ENV_NAME``) applied afresh, or None (inherit) when none was chosen."""
    name = os.environ.get(ENV_NAME)
    return child_env(name) if name in NAMES else None


@contextlib.contextmanager
def selected(name: str | None) -> Iterator[None]:
    """Servers spawned from this process inside the block run under ``name`` (the runner's
    group server, spawned by the manager itself)."""
    before = os.environ.get(ENV_NAME)
    if name:
        os.environ[ENV_NAME] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_NAME, None)
        else:
            os.environ[ENV_NAME] = before


def mapped_libraries(pid: int) -> set[str]:
    """Paths of the shared objects mapped into process ``pid`` (``/proc/PID/maps``)."""
    try:
        text = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    return {line.split(None, 5)[5].strip() for line in text.splitlines()
            if len(line.split(None, 5)) == 6 and ".so" in line}


def _environ(pid: int) -> dict[str, str] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}


def _is_go(pid: int) -> bool:
    """A Go binary: its executable holds the Go build-info magic (``\\xff Go buildinf:``)."""
    try:
        with open(f"/proc/{pid}/exe", "rb") as exe:
            return b"\xff Go buildinf:" in exe.read()
    except OSError:
        return False


def check_process(pid: int, name: str) -> str:
    """What allocator process ``pid`` really runs under, in words, read from the kernel:
    the preloaded library in ``/proc/PID/maps``, glibc's thresholds in ``/proc/PID/environ``;
    a Go process is said to allocate outside malloc."""
    allocator = get(name)
    if _is_go(pid):
        return ("not applicable: Go's runtime maps its own heap and never allocates through "
                "malloc" + (" (preload mapped, unused)" if allocator.library
                            and allocator.library in mapped_libraries(pid) else ""))
    if allocator.library is not None:
        if allocator.library in mapped_libraries(pid):
            return f"{name}: {allocator.library} mapped"
        return f"NOT {name}: {allocator.library} is not mapped (glibc malloc)"
    env = _environ(pid)
    if env is None:
        return f"{name}: environment unreadable, assumed"
    wrong = {k: env.get(k) for k, v in allocator.env.items() if env.get(k) != v}
    preloaded = [p for p in mapped_libraries(pid) if _is_allocator(p)]
    if name == "glibc-dynamic":
        wrong = {k: env[k] for k in GLIBC_VARIABLES if k in env}
    if wrong or preloaded:
        return f"NOT {name}: {', '.join(preloaded) or wrong}"
    settings = " ".join(f"{k}={v}" for k, v in allocator.env.items())
    return f"{name}: {settings or 'no malloc variable set'}"
