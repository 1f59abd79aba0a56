"""Where a native advantage comes from: the ladder from idiomatic Python to tuned native code.

A comparison of hand-tuned native kernels with merely idiomatic Python tells a team to rewrite
code it could have fixed in an afternoon. So the report splits the advantage along the tiers
the backends declare (``Backend.tuning`` and ``engine_kind`` in their recorded profiles, never
their names), each rung the fastest verified in-process engine of its kind:

1. *idiomatic Python*: what a team has (``tuning`` "idiomatic", or the declared incumbent);
2. *strongest Python*: the fastest Python engine measured, when it is clearly faster than the
   idiomatic one (95% intervals apart; e.g. tuned numpy, msgspec): an engine within the noise
   of the idiomatic one does not displace it, or every run would crown whichever of two equal
   engines drew the luckier interval (``strongest_python``);
3. *idiomatic native*: native code as a competent team writes it in a day;
4. *tuned native*: native code taken towards its floor.

The steps between consecutive rungs are named *Python tuning* (1 to 2), *language* (Python to
idiomatic native) and *native tuning* (3 to 4); when no idiomatic native engine was measured,
the step from Python to tuned native is *language and tuning together*. Only in-process
engines take part, so that no transport hides inside a step; the product of the steps is the
tuned native engine's advantage over idiomatic Python.

The *kernel ladder* (``kernel_ladder``) asks the same of "Rust is faster than Go", on the
engines' own time per call (the kernel P50 each records as ``kernel_ns``, so that no
transport is in it): *idiomatic Go*, *best Go* (the fastest Go found; where it is Go calling
C, ``workload_engines`` says so), *idiomatic Rust*, *tuned Rust*, and *Go calling Rust* (the
Rust kernels called from Go through cgo, one crossing inside its time). A rung is chosen by
what the backends declare (``engine_language``, ``host_language`` and ``tuning``), never by
name. Its factors split the gap: *Go tuning* (idiomatic to best Go), *language (idiomatic)*
(idiomatic Go to idiomatic Rust), *Rust tuning*, *language (at their best)* (best Go to tuned
Rust) and *cgo* (tuned Rust to Go calling it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridbench.report import decision
from hybridbench.report import formatting as fmt
from hybridbench.report.decision import Estimate

if TYPE_CHECKING:
    from hybridbench.report.model import Entry

IDIOMATIC_PYTHON, STRONGEST_PYTHON, IDIOMATIC_NATIVE, TUNED_NATIVE = (
    "idiomatic Python", "strongest Python", "idiomatic native", "tuned native")
PYTHON_TUNING, LANGUAGE, NATIVE_TUNING, LANGUAGE_AND_TUNING = (
    "Python tuning", "language", "native tuning", "language and tuning together")


@dataclass(frozen=True)
class Rung:
    label: str
    entry: Entry


@dataclass(frozen=True)
class Step:
    name: str
    lower: Entry
    upper: Entry
    factor: Estimate

    def text(self) -> str:
        """``language 3.2x (inproc-best → ffi-idiomatic)``"""
        return (f"{self.name} {fmt.ratio(self.factor.value)} "
                f"({self.lower.cell.backend} → {self.upper.cell.backend})")


@dataclass(frozen=True)
class Ladder:
    rungs: list[Rung]
    steps: list[Step]
    #: from the lowest rung to the highest, when there are more than two rungs
    total: Step | None = None

    def rows(self) -> list[tuple[Rung, Step | None]]:
        """Each rung with the step that reached it (None for the lowest): a table's rows."""
        return list(zip(self.rungs, [None, *self.steps], strict=False))

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def sentence(self) -> str:
        """``Where ffi's 8.1x over inproc comes from: Python tuning 1.6x (...), ...``"""
        parts = ", ".join(s.text() for s in self.steps)
        total = self.total
        if total is None:
            return f"Tiers: {parts}."
        return (f"Where {total.upper.cell.backend}'s {fmt.ratio(total.factor.value)} over "
                f"{total.lower.cell.backend} comes from: {parts}.")


def _fastest(entries: list[Entry], wanted: Callable[[Entry], bool]) -> Entry | None:
    found = [e for e in entries if wanted(e)]
    return max(found, key=lambda e: e.throughput.value) if found else None  # type: ignore[union-attr]


def _python(entry: Entry) -> bool:
    return entry.profile.engine_kind == "python"


def _native(entry: Entry) -> bool:
    return entry.profile.engine_kind == "native"


def _idiomatic_python(entry: Entry) -> bool:
    tuning = entry.profile.tuning
    return _python(entry) and (tuning == "idiomatic" or (tuning is None
                                                         and entry.profile.incumbent))


def strongest_python(entries: list[Entry]) -> Entry | None:
    """The strongest Python measured among ``entries`` (verified, one concurrency): the fastest
    Python in-process engine, whatever its tuning. The point estimate decides even when the
    intervals overlap: on a noisy run that errs towards the faster Python, so against native
    code it understates, never overstates, the gain of a move (the sentences say when it is
    not clearly faster than the idiomatic engine)."""
    return _fastest([e for e in entries if e.ok and e.profile.python_in_process], _python)


def rungs(entries: list[Entry]) -> list[Rung]:
    """The ladder's rungs present among ``entries`` (verified, one concurrency), lowest first."""
    local = [e for e in entries if e.ok and e.profile.placement == "in-process"]
    idiomatic_py = _fastest(local, _idiomatic_python)
    strongest_py = strongest_python(entries)
    idiomatic_nat = _fastest(local, lambda e: _native(e) and e.profile.tuning == "idiomatic")
    tuned_nat = _fastest(local, lambda e: _native(e) and e.profile.tuning == "tuned" and (
        idiomatic_nat is None or e.profile.transport == idiomatic_nat.profile.transport))
    found = [Rung(IDIOMATIC_PYTHON, idiomatic_py) if idiomatic_py else None,
             Rung(STRONGEST_PYTHON, strongest_py)
             if strongest_py and strongest_py is not idiomatic_py else None,
             Rung(IDIOMATIC_NATIVE, idiomatic_nat) if idiomatic_nat else None,
             Rung(TUNED_NATIVE, tuned_nat) if tuned_nat else None]
    return [r for r in found if r is not None]


def _step_name(lower: str, upper: str) -> str:
    if upper == STRONGEST_PYTHON:
        return PYTHON_TUNING
    if upper == TUNED_NATIVE and lower == IDIOMATIC_NATIVE:
        return NATIVE_TUNING
    if upper == IDIOMATIC_NATIVE:
        return LANGUAGE
    return LANGUAGE_AND_TUNING


#: the ratio of two entries' throughputs with its interval (``model.Ratios.ratio``: paired
#: where the run measured the table so)
RatioOf = Callable[["Entry", "Entry"], Estimate | None]


def quotient(upper: Entry, lower: Entry) -> Estimate | None:
    """Without paired comparisons: the quotient of the two cells' intervals."""
    return decision.ratio(upper.throughput, lower.throughput)  # type: ignore[arg-type]


def ladder(entries: list[Entry], ratio_of: RatioOf = quotient) -> Ladder | None:
    """The ladder of ``entries``, or None unless it has a Python rung and one above it; each
    step's factor (and the total) is ``ratio_of(upper, lower)``."""
    found = rungs(entries)
    if len(found) < 2 or found[0].label not in (IDIOMATIC_PYTHON, STRONGEST_PYTHON):
        return None
    steps = []
    for lower, upper in itertools.pairwise(found):
        factor = ratio_of(upper.entry, lower.entry)
        if factor is not None:
            steps.append(Step(_step_name(lower.label, upper.label), lower.entry, upper.entry,
                              factor))
    if not steps:
        return None
    total = None
    if len(found) >= 3:
        low, high = found[0].entry, found[-1].entry
        factor = ratio_of(high, low)
        total = None if factor is None else Step("in all", low, high, factor)
    return Ladder(found, steps, total)


# -- the kernel ladder: Go against Rust on the kernels' own time ------------------------------

IDIOMATIC_GO, BEST_GO, IDIOMATIC_RUST, TUNED_RUST, GO_CALLING_RUST = (
    "idiomatic Go", "best Go", "idiomatic Rust", "tuned Rust", "Go calling Rust")
GO_TUNING, LANGUAGE_IDIOMATIC, RUST_TUNING, LANGUAGE_AT_BEST, CGO = (
    "Go tuning", "language (idiomatic)", "Rust tuning", "language (at their best)", "cgo")


@dataclass(frozen=True)
class KernelRung:
    label: str
    entry: Entry
    #: the kernel's own time per call, P50 (ns)
    kernel_ns: float


@dataclass(frozen=True)
class KernelLadder:
    """One table's rungs, lowest (slowest) first as ``KERNEL_RUNGS`` orders them."""

    rungs: list[KernelRung]

    def rung(self, label: str) -> KernelRung | None:
        return next((r for r in self.rungs if r.label == label), None)

    def factor(self, slower: str, faster: str) -> float | None:
        """How many times ``faster``'s kernel time fits in ``slower``'s (None: one is absent)."""
        slow, fast = self.rung(slower), self.rung(faster)
        return slow.kernel_ns / fast.kernel_ns if slow and fast else None

    def splits(self) -> list[tuple[str, float]]:
        """The named factors present: Go tuning, language (idiomatic and at their best), Rust
        tuning, cgo (how much slower Go calling Rust is than the tuned Rust kernel alone)."""
        pairs = [(GO_TUNING, IDIOMATIC_GO, BEST_GO),
                 (LANGUAGE_IDIOMATIC, IDIOMATIC_GO, IDIOMATIC_RUST),
                 (RUST_TUNING, IDIOMATIC_RUST, TUNED_RUST),
                 (LANGUAGE_AT_BEST, BEST_GO, TUNED_RUST),
                 (CGO, GO_CALLING_RUST, TUNED_RUST)]
        found = [(name, self.factor(slow, fast)) for name, slow, fast in pairs]
        return [(name, f) for name, f in found if f is not None]

    def sentence(self) -> str:
        """``Kernel time: idiomatic Go 30 ms (grpc-go), ...; Go tuning 9x; language ...``"""
        rungs = ", ".join(f"{r.label} {fmt.duration_ns(r.kernel_ns)} ({r.entry.cell.backend})"
                          for r in self.rungs)
        splits = "; ".join(f"{name} {fmt.ratio(f)}" for name, f in self.splits())
        return f"Kernel time: {rungs}" + (f"; {splits}." if splits else ".")


def _declared(entry: Entry, key: str) -> str | None:
    value = entry.cell.backend_info.get(key)
    return str(value) if value else None


def _kernel_ns(entry: Entry) -> float | None:
    return (entry.cell.kernel_ns or {}).get("p50") or None


def kernel_rung(entry: Entry) -> str | None:
    """The kernel-ladder rung an entry declares itself on, if any."""
    language, tuning = _declared(entry, "engine_language"), entry.profile.tuning
    if language == "Go":
        return {"idiomatic": IDIOMATIC_GO, "tuned": BEST_GO}.get(tuning or "")
    if language != "Rust":
        return None
    if _declared(entry, "host_language") == "Go":
        return GO_CALLING_RUST
    return {"idiomatic": IDIOMATIC_RUST, "tuned": TUNED_RUST}.get(tuning or "")


#: the rungs in ladder order
KERNEL_RUNGS = [IDIOMATIC_GO, BEST_GO, IDIOMATIC_RUST, TUNED_RUST, GO_CALLING_RUST]


def kernel_ladder(entries: list[Entry]) -> KernelLadder | None:
    """The kernel ladder of one table's entries (verified, one concurrency): per rung the
    entry with the shortest kernel P50; None unless a Go rung and another are present."""
    best: dict[str, KernelRung] = {}
    for entry in entries:
        label, ns = kernel_rung(entry), _kernel_ns(entry)
        if not entry.ok or label is None or ns is None:
            continue
        if label not in best or ns < best[label].kernel_ns:
            best[label] = KernelRung(label, entry, ns)
    rungs = [best[label] for label in KERNEL_RUNGS if label in best]
    if len(rungs) < 2 or not {IDIOMATIC_GO, BEST_GO} & set(best):
        return None
    return KernelLadder(rungs)
