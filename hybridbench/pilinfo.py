"""Which PIL this process imports, and which SIMD instructions it was built to use.

Pillow and pillow-simd both install the package ``PIL``, and pip lists both when both were
installed: the one that counts is the one whose files are on disk, the last installed. So the
distribution is decided by the imported ``PIL._imaging`` module's hash, against each
distribution's RECORD (the version string decides only when no RECORD matches).

The SIMD level is the instruction set the compiler was allowed to use for pillow-simd's
resampling and blur code: SSE4 by default, AVX2 when it was built with ``CC="cc -mavx2"``
(pillow-simd's own instructions). pip builds pillow-simd from source with ``-g``, so the
compiler records its flags in the module's debug information (DWARF ``DW_AT_producer``:
``GNU C17 12.2.0 -msse4 -mtune=generic ...``): the flags are read from there. Plain Pillow
has no SIMD code of its own (its resampling is portable C), whatever the compiler may have
vectorised. Beside it, the CPU's own best level (``/proc/cpuinfo``), to show a build that
leaves the CPU's AVX2 unused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import metadata
from pathlib import Path
from typing import Any

#: the distributions that install ``PIL``
DISTRIBUTIONS = ("pillow-simd", "pillow")
#: compiler flags naming an instruction set, best first; each maps to the level reported
FLAG_LEVELS = (
    (re.compile(r"-mavx512\w*|-march=(x86-64-v4|skylake-avx512|sapphirerapids|znver[45])"),
     "AVX-512"),
    (re.compile(r"-mavx2|-march=(x86-64-v3|haswell|skylake|znver[123])"), "AVX2"),
    (re.compile(r"-mavx\b"), "AVX"),
    (re.compile(r"-msse4(\.[12])?\b|-march=x86-64-v2"), "SSE4"),
    (re.compile(r"-march=native"), "native (the build machine's best)"),
)
#: the flag lines GCC and clang record in DWARF (``DW_AT_producer``)
PRODUCER = re.compile(rb"(?:GNU C[\w+]*|clang version) [^\x00]{0,1000}")
#: /proc/cpuinfo flags, best first
CPU_LEVELS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4"),
              ("sse4_1", "SSE4"))
CPUINFO = Path("/proc/cpuinfo")


def loaded_pil() -> dict[str, Any]:
    """What ``env["pil"]`` records: version, distribution, SIMD level and how it was found.

    ``version``, ``pillow_simd`` and ``libjpeg_turbo`` keep the meaning older result files
    gave them; the other keys were added later (older files lack them)."""
    try:
        import PIL
        from PIL import _imaging, features
    except ImportError:
        return {"version": None}
    module = Path(_imaging.__file__)
    distribution = imported_distribution(module, PIL.__version__)
    simd, source = simd_level(distribution, module)
    return {
        "version": PIL.__version__,
        "distribution": distribution,
        "pillow_simd": distribution == "pillow-simd",
        "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo")),
        "libjpeg_turbo_version": features.version_feature("libjpeg_turbo"),
        "simd": simd,
        "simd_source": source,
        "cpu_simd": cpu_simd_level(),
    }


def imported_distribution(module: Path, version: str) -> str | None:
    """The distribution whose RECORD holds this very ``_imaging`` file, else the one whose
    version is ``version``; None when neither is installed as a distribution."""
    digest = None
    by_version = None
    for name in DISTRIBUTIONS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for entry in dist.files or ():
            if entry.hash is None or Path(str(dist.locate_file(entry))).resolve() != module:
                continue
            digest = digest or _record_hash(module)
            if entry.hash.value == digest:
                return name
        if dist.version == version:
            by_version = name
    return by_version


def _record_hash(path: Path) -> str:
    """A file's hash as RECORD writes it: urlsafe base64 of the SHA-256, without padding."""
    raw = hashlib.sha256(path.read_bytes()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def simd_level(distribution: str | None, module: Path) -> tuple[str | None, str]:
    """The SIMD level the imported PIL was built for, and how that was found."""
    if distribution == "pillow":
        return "none", "plain Pillow: no SIMD code of its own (pillow-simd adds SSE4/AVX2)"
    try:
        data = module.read_bytes()
    except OSError as exc:
        return None, f"{module.name} could not be read: {exc.strerror}"
    flags = sorted({f.decode(errors="replace") for f in PRODUCER.findall(data)})
    found = flags_level(flags)
    if found is None:
        return None, (f"no compiler flags recorded in {module.name} (a stripped build); "
                      "pillow-simd builds for SSE4 unless CC asked for more")
    level, flag = found
    return level, f"compiler flag {flag} recorded in {module.name}"


def flags_level(producers: list[str]) -> tuple[str, str] | None:
    """The best instruction set any of these compiler command lines turned on, and the flag
    that did."""
    for pattern, level in FLAG_LEVELS:
        for line in producers:
            match = pattern.search(line)
            if match:
                return level, match.group(0)
    return None


def cpu_simd_level(cpuinfo: Path = CPUINFO) -> str | None:
    """This CPU's best SIMD level, from the kernel's flags (None off Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    for flag, level in CPU_LEVELS:
        if flag in flags:
            return level
    return "SSE2" if flags else None


def describe(info: dict[str, Any]) -> str:
    """One line for ``hybridbench list``: which PIL, its SIMD level, and what follows."""
    if info.get("version") is None:
        return "PIL: not importable (the image and thumbnail workloads cannot run in Python)"
    name = info.get("distribution") or "PIL of an unknown distribution"
    words = [f"PIL: {name} {info['version']}"]
    simd = info.get("simd")
    words.append(f"SIMD {simd}" if simd else "SIMD level unknown")
    if info.get("cpu_simd"):
        words.append(f"this CPU has {info['cpu_simd']}")
    if info.get("libjpeg_turbo"):
        words.append(f"libjpeg-turbo {info.get('libjpeg_turbo_version') or ''}".rstrip())
    line = f"{words[0]} ({', '.join(words[1:])}); {info.get('simd_source', '')}"
    if not info.get("pillow_simd"):
        line += ("\n  the image and thumbnail workloads' Python figures are plain Pillow's: "
                 "see README \"pillow-simd\" to measure with pillow-simd")
    return line
