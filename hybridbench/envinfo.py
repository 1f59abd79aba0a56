"""The environment a result was measured in: enough to reproduce it or to distrust it."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from hybridbench import pilinfo

#: distributions whose versions change the numbers
LIBRARIES = ["hybridbench", "numpy", "orjson", "pillow-simd", "pillow", "grpcio", "protobuf",
             "cffi", "psutil", "hdrhistogram", "scipy"]
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: a checkout (an editable install) has a commit to record; an installed wheel has its version
#: (in "libraries"), and git run from site-packages would name the commit of whatever
#: repository the environment happens to sit in
IN_CHECKOUT = (PROJECT_ROOT / ".git").exists()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _command(*argv: str) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                              cwd=PROJECT_ROOT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _governor() -> str | None:
    try:
        return Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    except OSError:
        return None


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def others_cpu_share(window_s: float = 0.5) -> float:
    """CPU used by *other* processes over a short window, in cores (1.0 = one core busy).

    The load average would also count this harness's own previous cells for a minute after
    they ran, and so call every run busy; this looks only at the present and at others.
    """
    me = psutil.Process()
    mine_before = sum(me.cpu_times()[:2])
    total_before = psutil.cpu_times()
    time.sleep(window_s)
    total_after = psutil.cpu_times()
    mine = sum(me.cpu_times()[:2]) - mine_before
    busy = ((total_after.user + total_after.system + total_after.nice)
            - (total_before.user + total_before.system + total_before.nice))
    return max(0.0, (busy - mine) / window_s)


def busy_warning(window_s: float = 0.5) -> str | None:
    """A warning when other processes use more than half a core while we want to measure."""
    share = others_cpu_share(window_s)
    if share > 0.5:
        return (f"machine busy: other processes used {share:.1f} of "
                f"{os.cpu_count() or 1} cores just now (load average {load_average()[0]}); "
                "numbers may be noisy")
    return None


def capture() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "hostname": platform.node(),
        "cpu_model": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "cpu_governor": _governor(),
        "memory_bytes": memory.total,
        "os": platform.platform(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "libraries": _library_versions(),
        "pil": pilinfo.loaded_pil(),
        "rustc": _command("rustc", "--version"),
        "git_commit": _command("git", "rev-parse", "HEAD") if IN_CHECKOUT else None,
        "git_dirty": IN_CHECKOUT and bool(
            _command("git", "status", "--porcelain", "--untracked-files=no")),
        "load_average": load_average(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
