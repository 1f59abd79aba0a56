"""``hybridbench ab BASE NEW``: a regression gate for two builds of one engine (issue 26).

BASE and NEW are two builds of the same thing: two C-ABI kernel libraries (measured through
``ffi``, each loaded with its own ``library`` option), two gRPC server binaries (through
``grpc``, each spawned with its own ``server`` option), or two Python plug-in installs (a
project directory or a wheel each: installed into a temporary directory of its own with
``pip install --target``, measured through ``inproc``, the plug-in's fast Python engine,
by workers with that directory first on their ``PYTHONPATH``: ``RunConfig.python_paths``).
The kind is read from the path.

Why a gate of its own rather than ``compare`` of two runs: two runs are measured one after
the other, so every drift of the machine between them becomes a change (asv continuous has
the same flaw; an A/A of asv on hosted runners saw 0.6x-1.5x for identical code). Here the
two builds are two cells of one table (``RunConfig.backend_kinds`` maps the labels ``base``
and ``new`` to the backend they run), so the runner's passes pair them and its turns
(``hybridbench.turns``) alternate their rounds within a fraction of a second; each pass's
ratio is the median of its round-by-round ratios (``paired.pass_ratio``) and the ratio's
interval is Student's t over the passes (``stats.paired_ratio``). Both builds are verified
against the reference by every worker, as in any run.

Verdicts are on NEW/BASE *time* (> 1: NEW is slower), the reciprocal of the stored
throughput comparison, so the interval is the stored one inverted:

* ``slower`` when the whole 95% interval lies above 1, ``faster`` when it lies below 1,
  ``unchanged`` otherwise;
* ``--fail-on-regression PCT`` fails a cell when its whole interval lies above 1 + PCT/100
  (the issue's "slower by more than PCT with its interval beyond PCT"): a gate that fails
  is sure, at 95%, that the slowdown exceeds PCT. A cell that is broken (a build fails, gives
  a wrong answer or does not implement the workload) fails the gate with or without it.

``--aa`` adds a third cell per table, BASE again (``base-again``: a copy of the file, as
two builds are two files), measured in the same turns: its ratio to BASE is an A/A test, so
the share of A/A cells called slower or faster is this machine's false-alarm rate at these
settings, and the spread of its passes gives the smallest change a gate here detects in 90%
of runs (``detectable_change``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import importlib.metadata
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hybridbench import native, registry, runner
from hybridbench.errors import BackendError, HybridbenchError
from hybridbench.results import OK, Comparison, Results

BASE, NEW, AGAIN = "base", "new", "base-again"
#: the registered backend each kind of build runs on, and the option that points it there
KINDS = {"library": ("ffi", "library"), "server": ("grpc", "server"),
         "plugin": ("inproc", None)}
#: what a build path may be, for error messages
WHAT = ("a C-ABI kernel library (.so), a gRPC server binary (executable), or a Python "
        "plug-in (its project directory or a wheel)")
#: the files that make a directory a plug-in project
PLUGIN_FILES = ("pyproject.toml", "setup.py")
#: a shared library's name ends so (``libx.so``, ``libx.so.1``, ``libx.dylib``)
LIBRARY_SUFFIXES = (".so", ".dylib")
#: the first bytes of the executable formats a build can be in (ELF; Mach-O 64 both ways)
BINARY_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
#: the gate's default settings (DESIGN.md "A/B of two builds": chosen so that 10 cells fit in
#: 3 minutes on 2 cores while the pass ratios' interval resolves a 5% change; 8 passes, not 6:
#: with 6 a 5% slowdown was missed in 2 of 10 gates beside a busy core)
DEFAULTS = {"duration_s": 2.4, "workers": 8, "rounds": 6, "warmup_s": 0.15,
            "breakdown_s": 0.03}
#: verdicts
SLOWER, FASTER, UNCHANGED, UNTESTED = "slower", "faster", "unchanged", "untested"


class AbError(HybridbenchError):
    """A build the gate cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Build:
    """One side of the A/B: what it is and what it declares it implements."""

    role: str  # "BASE" or "NEW"
    path: Path
    kind: str  # a key of KINDS
    workloads: tuple[str, ...]
    #: a plug-in's install directory (``install_plugin``): first on its workers' PYTHONPATH
    site: Path | None = None

    @property
    def backend(self) -> str:
        return KINDS[self.kind][0]

    @property
    def options(self) -> dict[str, Any]:
        option = KINDS[self.kind][1]
        return {option: str(self.path)} if option else {}


def detect(role: str, given: str | Path) -> Build:
    """The build at ``given``, its kind read from the path and checked by asking it what it
    implements; an ``AbError`` naming the problem for anything else."""
    path = Path(given)
    if path.is_dir():
        if not any((path / name).is_file() for name in PLUGIN_FILES):
            raise AbError(f"{role} {path}: a directory without {' or '.join(PLUGIN_FILES)}: "
                          f"not a Python plug-in project; give {WHAT}")
        return Build(role, path.resolve(), "plugin", ())
    if path.name.endswith(".whl"):
        if not path.is_file():
            raise AbError(f"{role} {path}: no such wheel")
        return Build(role, path.resolve(), "plugin", ())
    if not path.exists():
        raise AbError(f"{role} {path}: no such file")
    if not path.is_file():
        raise AbError(f"{role} {path}: not a regular file; give {WHAT}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic not in BINARY_MAGIC:
        raise AbError(f"{role} {path}: not a compiled library or executable (no ELF or "
                      f"Mach-O header); give {WHAT}")
    path = path.resolve()
    if _is_library(path):
        return Build(role, path, "library", _library_workloads(role, path))
    if not os.access(path, os.X_OK):
        raise AbError(f"{role} {path}: neither a shared library (its name does not end in "
                      f".so or .dylib) nor executable; give {WHAT}")
    try:
        workloads = native.server_workloads(path)
    except RuntimeError as exc:
        raise AbError(f"{role} {path}: not a hybridbench server binary: {exc}") from None
    return Build(role, path, "server", workloads)


def install_plugin(build: Build, into: Path) -> Build:
    """``build`` (a plug-in project or wheel) installed into ``into`` with pip, without its
    dependencies (hybridbench is the one running it) and without build isolation (the
    build requirements are hybridbench's own: no network needed); the workloads it
    registers are read from the installed entry points."""
    if build.kind != "plugin":
        return build
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(into), str(build.path)],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-6:]
        raise AbError(f"{build.role} {build.path}: pip could not install it: "
                      + " | ".join(last))
    found = tuple(ep.name for dist in importlib.metadata.distributions(path=[str(into)])
                  for ep in dist.entry_points if ep.group == registry.WORKLOAD_GROUP)
    if not found:
        raise AbError(f"{build.role} {build.path}: installs, but registers no workload (no "
                      f"{registry.WORKLOAD_GROUP!r} entry point): not a hybridbench plug-in")
    return replace(build, site=into, workloads=found)


@contextlib.contextmanager
def installed(base: Build, new: Build | None) -> Iterator[tuple[Build, Build | None]]:
    """Both builds ready to measure: plug-ins installed, each into a temporary directory,
    and BASE's put on this process's path (the plan, the inputs and the reference answers
    come from BASE's workload); libraries and servers as they are."""
    if base.kind != "plugin":
        yield base, new
        return
    with tempfile.TemporaryDirectory(prefix="hb-ab-plugins-") as tmp:
        base = install_plugin(base, Path(tmp) / "base")
        new = install_plugin(new, Path(tmp) / "new") if new is not None else None
        sys.path.insert(0, str(base.site))
        importlib.invalidate_caches()
        registry.workloads.cache_clear()
        try:
            yield base, new
        finally:
            sys.path.remove(str(base.site))
            registry.workloads.cache_clear()


def _is_library(path: Path) -> bool:
    return any(path.name.endswith(s) or f"{s}." in path.name for s in LIBRARY_SUFFIXES)


def _library_workloads(role: str, path: Path) -> tuple[str, ...]:
    from hybridbench.backends.ffi import load_library

    try:
        return tuple(load_library(path).workloads)
    except BackendError as exc:
        raise AbError(f"{role} {path}: not a hybridbench C-ABI kernel library: {exc}") from None


def workloads_for(base: Build, asked: Sequence[str] | None) -> list[str]:
    """The workloads to gate: those asked (each must be registered), else every registered
    workload BASE implements (so a NEW that dropped one fails the gate as broken)."""
    known = registry.workload_names()
    if asked:
        for name in asked:
            registry.get_workload(name)  # an unknown name: WorkloadError naming the known ones
        return list(asked)
    chosen = [w for w in base.workloads if w in known]
    if not chosen:
        raise AbError(f"BASE {base.path} implements none of the registered workloads (it "
                      f"declares: {', '.join(base.workloads) or 'nothing'}; registered: "
                      f"{', '.join(known)}): is its plug-in installed?")
    return chosen


def config_for(base: Build, new: Build | None, workloads: list[str],
               sizes: dict[str, str] | str | None, again: Build | None = None, seed: int = 0,
               **timing: Any) -> runner.RunConfig:
    """The run: one table per workload and size, its cells the builds' labels (``again``:
    BASE's copy for the A/A, ``copy_for_aa``)."""
    sides = [(BASE, base)] + ([(NEW, new)] if new is not None else [])
    sides += [(AGAIN, again)] if again is not None else []
    return runner.RunConfig(
        workloads=workloads, backends=[label for label, _ in sides], sizes=sizes, seed=seed,
        cold_start=False, backend_kinds={label: b.backend for label, b in sides},
        backend_options={label: b.options for label, b in sides},
        python_paths={label: [str(b.site)] for label, b in sides if b.site is not None},
        **{**DEFAULTS, **{k: v for k, v in timing.items() if v is not None}})


@contextlib.contextmanager
def copy_for_aa(base: Build) -> Iterator[Build]:
    """BASE copied to a temporary file, for the A/A's second cell: two builds are two files,
    and a second load of the *same* file would share its code pages (and the caches holding
    them) with the first, which no A/B of two builds has."""
    with tempfile.TemporaryDirectory(prefix="hb-ab-aa-") as tmp:
        if base.site is not None:  # a plug-in: its installed files, copied
            site = Path(tmp) / "site"
            shutil.copytree(base.site, site, symlinks=True)
            yield replace(base, role="BASE (A/A copy)", site=site)
            return
        copy = Path(tmp) / base.path.name
        shutil.copy2(base.path, copy)
        yield replace(base, role="BASE (A/A copy)", path=copy)


def sizes_up_to_default(workload: str) -> list[str]:
    """A workload's size presets from the smallest to its default (the larger ones cost
    seconds per call: too few calls per round for a paired ratio)."""
    wl = registry.get_workload(workload)
    names = wl.size_names()
    return names[:names.index(wl.default_size) + 1]


def plan_all_sizes(config: runner.RunConfig) -> list[runner.CellPlan]:
    """``--all-sizes``: a table per workload and size up to its default, the builds' labels
    its cells (what ``runner.plan`` makes for one size per workload)."""
    return [runner.CellPlan(w, size, label, 1) for w in config.workloads or []
            for size in sizes_up_to_default(w) for label in config.backends or []]


def check_same_kind(base: Build, new: Build) -> None:
    if base.kind != new.kind:
        raise AbError(f"BASE is a {base.kind} ({base.path}) and NEW a {new.kind} "
                      f"({new.path}): an A/B compares two builds of the same kind")


# -- verdicts ---------------------------------------------------------------------------------

@dataclass
class CellVerdict:
    """One table's NEW/BASE (or A/A: BASE again/BASE) time ratio and what it says."""

    workload: str
    size: str
    #: the label of the numerator's cell (``new``, or ``base-again`` for the A/A)
    against: str
    #: NEW time / BASE time (> 1: slower), None when not measured
    time_ratio: float | None = None
    ci95: tuple[float, float] | None = None
    passes: int = 0
    verdict: str = UNTESTED
    #: why it is broken (a cell that failed, gave a wrong answer or is unsupported)
    broken: str | None = None
    #: per pass: NEW time / BASE time
    pass_ratios: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.workload} {self.size}"


def verdict(ci95: tuple[float, float] | None) -> str:
    """``slower``/``faster`` when the whole interval of the time ratio lies above/below 1,
    ``unchanged`` when it holds 1, ``untested`` without an interval (one pass)."""
    if ci95 is None or not all(math.isfinite(v) for v in ci95):
        return UNTESTED
    low, high = ci95
    return SLOWER if low > 1 else FASTER if high < 1 else UNCHANGED


def is_regression(item: CellVerdict, threshold: float) -> bool:
    """Broken, or slower with the whole interval above 1 + ``threshold`` (0.10: 10%)."""
    if item.broken:
        return True
    return item.verdict == SLOWER and item.ci95 is not None and item.ci95[0] > 1 + threshold


def _time_ratio(comparison: Comparison, item: CellVerdict) -> None:
    """Fill ``item`` from the stored throughput comparison BASE / NEW (= NEW time / BASE
    time: the stored pair in the other direction would give the exact reciprocal)."""
    item.time_ratio = comparison.ratio
    ci = comparison.ratio_ci95
    item.ci95 = (float(ci[0]), float(ci[1])) if ci and len(ci) == 2 else None
    item.passes = comparison.passes
    item.pass_ratios = list(comparison.pass_ratios)
    item.verdict = verdict(item.ci95)


def verdicts(done: Results, against: str = NEW) -> list[CellVerdict]:
    """Per table (workload and size, in run order): ``against``'s time over BASE's."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for cell in done.cells:
        cells.setdefault((cell.workload, cell.size), {})[cell.backend] = cell
    found = {(c.workload, c.size): c for c in done.comparisons
             if c.backend == BASE and c.baseline == against}
    out = []
    for (workload, size), members in cells.items():
        if against not in members:
            continue
        item = CellVerdict(workload, size, against)
        broken = [f"{'NEW' if label == NEW else label.upper()}: {cell.status}: {cell.error}"
                  for label, cell in members.items()
                  if label in (BASE, against) and cell.status != OK]
        if broken:
            item.broken, item.verdict = "; ".join(broken), "broken"
        elif (workload, size) in found:
            _time_ratio(found[(workload, size)], item)
        out.append(item)
    return out


def line(item: CellVerdict, threshold: float | None) -> str:
    """One line per cell for CI logs."""
    name = "NEW/BASE" if item.against == NEW else f"{item.against}/base"
    if item.broken:
        return f"{item.label}: BROKEN: {item.broken}"
    if item.time_ratio is None:
        return f"{item.label}: {name}: not compared (no paired passes)"
    interval = ("no interval" if item.ci95 is None or item.verdict == UNTESTED
                else f"95% CI {item.ci95[0]:.3f}-{item.ci95[1]:.3f}")
    text = (f"{item.label}: {name} time {item.time_ratio:.3f} ({interval}, "
            f"{item.passes} passes): {item.verdict}")
    if threshold is not None and is_regression(item, threshold):
        text += f": REGRESSION (the whole interval above +{threshold:.0%})"
    return text


# -- the A/A calibration ------------------------------------------------------------------------

#: the detection rate the smallest detectable change is stated for
POWER = 0.90


def detectable_change(pass_ratios: Sequence[float], power: float = POWER,
                      confidence: float = 0.95) -> float | None:
    """The smallest slowdown a gate with these passes calls ``slower`` in ``power`` of runs:
    exp((t_{1-a/2} + t_{power}) * s / sqrt(n)) - 1, s the standard deviation of the pass log
    ratios (the usual power calculation for a one-sample t-test). None below two passes."""
    logs = [math.log(r) for r in pass_ratios if r > 0 and math.isfinite(r)]
    if len(logs) < 2:
        return None
    from scipy.stats import t as student_t

    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    df = len(logs) - 1
    reach = (float(student_t.ppf(0.5 + confidence / 2, df)) + float(student_t.ppf(power, df)))
    return math.exp(reach * sd / math.sqrt(len(logs))) - 1


@dataclass
class Calibration:
    """What the A/A cells say about this machine at these settings."""

    cells: int
    false_alarms: int
    #: per cell: the smallest slowdown detected in ``POWER`` of gates; its median
    detectable: list[float]
    detectable_median: float | None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.cells if self.cells else None


def calibrate(aa: list[CellVerdict]) -> Calibration:
    tested = [v for v in aa if v.verdict in (SLOWER, FASTER, UNCHANGED)]
    changes = [d for d in (detectable_change(v.pass_ratios) for v in tested) if d is not None]
    ordered = sorted(changes)
    median = (None if not ordered else ordered[len(ordered) // 2] if len(ordered) % 2
              else (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2)
    return Calibration(len(tested), sum(v.verdict != UNCHANGED for v in tested), changes,
                       median)


def calibration_lines(found: Calibration) -> list[str]:
    if not found.cells:
        return ["A/A: no cell measured with an interval: nothing to calibrate"]
    lines = [f"A/A: {found.false_alarms} of {found.cells} cells called slower or faster "
             f"(false alarms: {found.false_alarm_rate:.0%}; 95% intervals allow about 5%)"]
    if found.detectable_median is not None:
        lines.append(f"A/A: smallest slowdown detected in {POWER:.0%} of gates at these "
                     f"settings: {found.detectable_median:.1%} (median over cells; from the "
                     "spread of the A/A passes)")
    return lines


# -- the gate ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a gate found, for the results file and the exit status."""

    verdicts: list[CellVerdict]
    aa: list[CellVerdict]
    calibration: Calibration | None
    threshold: float | None

    @property
    def failures(self) -> list[CellVerdict]:
        """Cells that fail the gate: broken ones always; regressions with a threshold."""
        return [v for v in self.verdicts if v.broken
                or (self.threshold is not None and is_regression(v, self.threshold))]

    @property
    def exit_status(self) -> int:
        return 1 if self.failures or not self.verdicts else 0

    def record(self, done: Results, base: Build, new: Build | None) -> None:
        """Into the results file: the builds, the verdicts and the calibration (added keys
        under ``config``; the cells and ``comparisons`` are a normal run's), and BASE as the
        run's baseline, so that ``hybridbench report`` shows every ratio against it."""
        done.config["baseline"] = BASE
        done.config["ab"] = {
            "base": str(base.path), "new": str(new.path) if new else None, "kind": base.kind,
            "fail_on_regression": self.threshold,
            "rule": "slower/faster: the whole 95% interval of NEW/BASE time above/below 1; "
                    "a regression: the whole interval above 1 + the threshold",
            "verdicts": [asdict(v) for v in self.verdicts],
            "aa": [asdict(v) for v in self.aa],
            "calibration": asdict(self.calibration) if self.calibration else None}

    def lines(self) -> list[str]:
        out = [line(v, self.threshold) for v in self.verdicts]
        out += [line(v, None) for v in self.aa]
        if self.calibration is not None:
            out += calibration_lines(self.calibration)
        bad = self.failures
        if bad:
            out.append(f"gate: FAIL: {len(bad)} of {len(self.verdicts)} cells "
                       + ", ".join(v.label for v in bad))
        elif not self.verdicts:
            out.append("gate: FAIL: nothing was compared")
        else:
            out.append(f"gate: pass ({len(self.verdicts)} cells)")
        return out


def judge(done: Results, threshold: float | None, with_new: bool, aa: bool) -> Outcome:
    found = verdicts(done, NEW) if with_new else []
    again = verdicts(done, AGAIN) if aa else []
    calibration = calibrate(again) if aa else None
    if not with_new:  # an A/A gate alone: the A/A cells are what it judges
        found, again = again, []
    return Outcome(found, again, calibration, threshold)


def default_output(now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"ab-{stamp}.json"
