"""The environment a result was measured in: enough to reproduce it or to distrust it."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

#: distributions whose versions change the numbers
LIBRARIES = ["numpy", "orjson", "pillow-simd", "pillow", "grpcio", "protobuf", "cffi", "psutil",
             "hdrhistogram", "scipy"]
PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def _loaded_pil() -> dict[str, Any]:
    """Which PIL is really imported: pillow and pillow-simd both install as ``PIL``."""
    try:
        import PIL
        from PIL import features
    except ImportError:
        return {"version": None}
    simd = "post" in PIL.__version__ or _is_distribution_installed("pillow-simd")
    return {"version": PIL.__version__, "pillow_simd": simd,
            "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo"))}


def _is_distribution_installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def _governor() -> str | None:
    try:
        return Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    except OSError:
        return None


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def busy_warning(load: list[float] | None = None) -> str | None:
    """A warning when other work competes for the CPU (1-minute load above half the cores)."""
    load = load or load_average()
    cores = os.cpu_count() or 1
    if load[0] > 0.5 * cores:
        return (f"machine busy: 1-minute load average {load[0]} on {cores} cores; "
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
        "pil": _loaded_pil(),
        "rustc": _command("rustc", "--version"),
        "git_commit": _command("git", "rev-parse", "HEAD"),
        "git_dirty": bool(_command("git", "status", "--porcelain", "--untracked-files=no")),
        "load_average": load_average(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
