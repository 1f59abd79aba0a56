"""The report model: everything a reporter shows, computed once from result files.

``build(results_list, baseline=None)`` groups the cells per workload and size, describes each
backend by the pattern it recorded (``Profile``: placement, engine, transport), chooses the
baseline, assigns one colour per backend, and words the decisions (``decision``'s rules).
HTML, Markdown, terminal and CSV render this model and compute nothing of their own, so they
cannot disagree, and no reporter knows a backend by its name.

The baseline is the backend named by ``--baseline``; without one, in each table, the
*strongest Python measured* (``tiers.strongest_python``): at the table's lowest concurrency,
the fastest verified Python in-process engine, because a native engine has to beat the best
Python a team could have, not the weakest; on a noisy run the point estimate still decides,
which errs towards understating a move's gain, and the sentences say when the intervals
overlap. A table without a verified
Python engine has no baseline. Each table also gets its tier ladder (``tiers``): the native
advantage split into Python tuning, language and native tuning. Files older than schema 3
recorded no profile: for them the profile of the backend class installed under the same name
is used, and said so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hybridbench import capacity, paired, thresholds
from hybridbench.errors import HybridbenchError
from hybridbench.report import containers, decision, tiers
from hybridbench.report import formatting as fmt
from hybridbench.report.decision import Estimate
from hybridbench.results import OK, Cell, Comparison, Kind, Notice, Results

#: colour-blind-safe (Okabe-Ito, then Tol's muted), assigned to backends in run order
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999933",
           "#882255", "#44aa99", "#332288")

ProfileLookup = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Profile:
    """What a backend stands for, from the metadata it recorded (never from its name)."""

    backend: str
    placement: str | None = None  # "in-process" | "service" | None (unknown)
    engine_kind: str | None = None  # "python" | "native" | None
    engine: str = ""
    transport: str = ""
    incumbent: bool = False
    #: "plain", "idiomatic", "tuned" (``Backend.tuning``) or None (not recorded)
    tuning: str | None = None
    #: "recorded" (in the result file), "installed" (older file: the installed class's),
    #: "inferred" (placement from a recorded server process), "unknown"
    source: str = "unknown"
    #: where a service's server ran when not as a bare process: the recorded container
    #: (image, cpus, memory...; ``backends/grpc/container.py``), None: bare
    container: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    @property
    def where(self) -> str | None:
        """``service``, ``service in a container``: the placement in words."""
        if self.placement and self.container is not None:
            return f"{self.placement} in a container"
        return self.placement

    @property
    def python_in_process(self) -> bool:
        return self.engine_kind == "python" and self.placement == "in-process"

    @property
    def pattern(self) -> str:
        """``python in-process``, ``native in-process (FFI)``, ``native service (gRPC)``."""
        words = " ".join(w for w in (self.engine_kind, self.where or "pattern unknown") if w)
        return f"{words} ({self.transport})" if self.transport else words

    @property
    def same_engine_key(self) -> tuple[str | None, str]:
        return (self.engine_kind, self.engine)

    @property
    def pattern_words(self) -> str:
        """The pattern in a sentence: ``native in-process via FFI``."""
        words = " ".join(w for w in (self.engine_kind, self.where or "pattern unknown") if w)
        return f"{words} via {self.transport}" if self.transport else words

    def short(self) -> str:
        """``ffi (Rust kernels)``: where the pattern is said already."""
        return f"{self.backend} ({self.engine})" if self.engine else self.backend

    def described(self) -> str:
        """``ffi (Rust kernels, native in-process via FFI)``: what is compared, in words."""
        inner = ", ".join(w for w in (self.engine, self.pattern_words) if w)
        return f"{self.backend} ({inner})"


@dataclass
class Entry:
    """One cell as the report shows it."""

    cell: Cell
    profile: Profile
    colour: str
    throughput: Estimate | None = None
    per_call_ns: Estimate | None = None
    #: against the baseline at the same size, concurrency and mode
    speedup: Estimate | None = None
    #: the speed-up is the run's paired ratio (``Ratios``), not a quotient of two intervals
    speedup_paired: bool = False
    notices: list[Notice] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.cell.status == OK and self.throughput is not None

    @property
    def thin_tail(self) -> bool:
        return self.ok and self.cell.samples < thresholds.THIN_TAIL_SAMPLES

    @property
    def zero_copy(self) -> bool:
        """The bytes cannot have been copied: payload / time per call beats any memory copy
        (then a bytes-per-second figure would be meaningless)."""
        if not self.ok or not self.cell.payload_bytes or self.per_call_ns is None:
            return False
        rate = self.cell.payload_bytes / (self.per_call_ns.value / 1e9)
        return rate > thresholds.COPY_CEILING_BYTES_PER_S

    @property
    def has_server(self) -> bool:
        return self.cell.rss_peak_bytes.get("server") is not None

    def has(self, kind: str) -> bool:
        return any(n.kind == kind for n in self.notices)

    @property
    def engine(self) -> str:
        """What ran this workload: the backend's ``workload_engines`` entry for it where the
        backend records one (an engine chosen per workload, e.g. msgspec for json), else the
        profile's engine."""
        engines = self.cell.backend_info.get("workload_engines")
        chosen = engines.get(self.cell.workload) if isinstance(engines, dict) else None
        return str(chosen) if chosen else self.profile.engine

    def described(self) -> str:
        """``inproc-best (msgspec, raw passthrough; python in-process)``"""
        if self.engine == self.profile.engine:
            return self.profile.described()
        return f"{self.cell.backend} ({self.engine}; {self.profile.pattern_words})"


PAIRED_WORDS = ("paired ratio: its own 95% interval from the per-pass ratios of workers run "
                "side by side")
QUOTIENT_WORDS = ("quotient of two independent 95% intervals (conservative: the file has no "
                  "paired comparisons)")


@dataclass
class Ratios:
    """Ratios between two entries of one table: the run's paired comparison where the file
    has one with an interval (``results.comparisons``), else, as before them, the quotient of
    the two cells' independent intervals (``decision.ratio``). Every ratio the report shows
    (speed-ups, verdicts, the headline, the tier ladder) comes through here."""

    stored: dict[tuple[Any, ...], Comparison] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Results) -> Ratios:
        return cls({(_table(c), c.backend, c.baseline): c for c in results.comparisons})

    def comparison(self, a: Entry, b: Entry) -> Comparison | None:
        """The paired comparison of ``a`` against ``b`` when it has an interval."""
        found = self.stored.get((paired.table_key(a.cell), a.cell.backend, b.cell.backend))
        estimate = None if found is None else Estimate.of(found.ratio, found.ratio_ci95)
        return found if estimate is not None and estimate.has_interval else None

    def ratio(self, a: Entry, b: Entry) -> Estimate | None:
        """a's throughput over b's, with its 95% interval."""
        if a.throughput is None or b.throughput is None:
            return None
        found = self.comparison(a, b)
        if found is not None:
            return Estimate.of(found.ratio, found.ratio_ci95)
        return decision.ratio(a.throughput, b.throughput)

    def extra_per_call(self, a: Entry, b: Entry) -> Estimate | None:
        """What a call of ``a`` costs over one of ``b``, with its 95% interval. From the paired
        comparison where there is one: b's throughput over a's is a's time per call over b's,
        so the cost is b's time x (that ratio - 1), with the paired ratio's interval, in which
        the machine's drift cancels pass by pass. Otherwise (older files, one pass) the
        difference of the two cells' own intervals, which is far wider."""
        if a.per_call_ns is None or b.per_call_ns is None:
            return None
        found = self.comparison(b, a)
        ratio = None if found is None else Estimate.of(found.ratio, found.ratio_ci95)
        if ratio is None:
            return decision.difference(a.per_call_ns, b.per_call_ns)
        return decision.excess(b.per_call_ns.value, ratio)

    def how(self, a: Entry, b: Entry) -> str:
        """Whether a is clearly faster than b (``decision`` states), by the same ratio."""
        found = self.comparison(a, b)
        if found is not None:
            return decision.ratio_separation(Estimate.of(found.ratio, found.ratio_ci95))  # type: ignore[arg-type]
        return decision.separation(a.throughput, b.throughput)  # type: ignore[arg-type]


def _table(item: Comparison) -> tuple[Any, ...]:
    """A comparison's table key as ``paired.table_key`` makes it (older entries: its fields)."""
    if item.table:
        return tuple(item.table)
    return (item.workload, item.size, item.concurrency, item.mode, item.rate)


@dataclass
class Group:
    """One workload at one size: the table, and the decision at the lowest concurrency."""

    workload: str
    size: str
    entries: list[Entry]
    #: the allocator every cell of the table ran under (None: not recorded, older files)
    allocator: str | None = None
    baseline: Entry | None = None
    #: the baseline's backend (its cells at every concurrency are the ratios' denominators)
    baseline_name: str | None = None
    #: why it is the baseline, in a few words
    baseline_why: str = ""
    #: the native advantage split into Python tuning, language and native tuning
    ladder: tiers.Ladder | None = None
    #: Go against Rust on the kernels' own time (idiomatic and best Go, the Rust engines)
    kernel_ladder: tiers.KernelLadder | None = None
    #: each server run in a container against its bare twin (``--container``)
    containers: list[containers.ContainerRow] = field(default_factory=list)
    recommended: Profile | None = None
    #: "move", "stay", "undecided", "no data"
    verdict: str = "no data"
    #: the recommendation in a few words (``native in-process (FFI)``, ``stay: python
    #: in-process``) and the deciding figures in one sentence or two
    pattern: str = ""
    headline: str = ""
    sentences: list[str] = field(default_factory=list)
    #: the same table under other allocators (the main job re-measures allocator-sensitive
    #: tables): the verdict's ratio under each, ``{allocator: speedup}``
    allocator_speedups: dict[str, float] = field(default_factory=dict)
    #: where its ratios come from (paired comparisons, or the older quotient)
    ratios: Ratios = field(default_factory=Ratios)
    #: cost cells of ``--observability-cost`` (``B+trace``, ``B+trace-unsampled``,
    #: ``B+log``): shown in the table and priced against their base (``report.costs``), never
    #: a candidate of the decision
    instrumented: frozenset[str] = frozenset()

    @property
    def title(self) -> str:
        """``timeseries 100k``, ``timeseries 100k under jemalloc`` where allocators differ."""
        under = f" under {self.allocator}" if self.allocator else ""
        return f"{self.workload} {self.size}{under}"

    @property
    def lowest(self) -> list[Entry]:
        """The entries the decision compares: closed loop (a rate sweep's open-loop cells
        are load points, shown in their own chart) at the lowest concurrency, without the
        observability cost cells (a traced copy of a backend is not another pattern)."""
        plain = [e for e in self.entries if e.cell.backend not in self.instrumented]
        closed = [e for e in plain if e.cell.mode != "open"] or plain
        low = min((e.cell.concurrency for e in closed), default=1)
        return [e for e in closed if e.cell.concurrency == low]

    @property
    def several_loads(self) -> bool:
        """Open-loop cells (``--rate``): the table gets an offered-load column."""
        return any(e.cell.mode == "open" for e in self.entries)

    @property
    def several_concurrencies(self) -> bool:
        return len({e.cell.concurrency for e in self.entries}) > 1


@dataclass
class WorkloadView:
    name: str
    groups: list[Group]
    #: the workload measures the crossing alone (``Workload.crossing_only``, e.g. echo): no
    #: engine's speed is at stake, so it gets no verdict at a glance, only its crossing cost
    crossing_only: bool = False


@dataclass
class RunView:
    """One result file."""

    results: Results
    profiles: dict[str, Profile]
    colours: dict[str, str]
    baseline: str | None
    baseline_reason: str
    workloads: list[WorkloadView]
    overall: str
    #: kind -> notices, each prefixed with the cell it is about
    notices: dict[str, list[tuple[str, Notice]]]
    problems: list[Entry]
    env: list[tuple[str, str]]
    #: latency against load and the capacity it implies, from open-loop cells (``--rate``)
    capacities: list[capacity.Capacity] = field(default_factory=list)

    @property
    def warning_kinds(self) -> list[WarningKind]:
        return warning_kinds(self.notices)

    def capacities_of(self, workload: str) -> list[capacity.Capacity]:
        return [c for c in self.capacities if c.workload == workload]

    @property
    def groups(self) -> list[Group]:
        return [g for w in self.workloads for g in w.groups]

    @property
    def entries(self) -> list[Entry]:
        return [e for g in self.groups for e in g.entries]


@dataclass
class Report:
    runs: list[RunView]


class BaselineError(HybridbenchError, ValueError):
    """``--baseline`` names a backend that is not in the results."""


# -- profiles ---------------------------------------------------------------------------------

def installed_profile(backend: str) -> dict[str, Any] | None:
    """The profile of the backend class installed under ``backend`` (for files that predate
    recorded profiles), or None when no such backend is installed."""
    from hybridbench import registry

    try:
        return registry.backend_class(backend).profile()
    except Exception:  # not installed, or its plug-in fails to import: no profile
        return None


def _profile(backend: str, cells: list[Cell], lookup: ProfileLookup) -> Profile:
    recorded = next((c.backend_info["profile"] for c in cells
                     if isinstance(c.backend_info.get("profile"), dict)), None)
    source = "recorded"
    if recorded is None:
        recorded, source = lookup(backend), "installed"
    if recorded is None:
        served = any(c.rss_peak_bytes.get("server") is not None for c in cells)
        return Profile(backend, "service" if served else None, source="inferred"
                       if served else "unknown")
    placement = recorded.get("placement")
    if placement is None and any(c.rss_peak_bytes.get("server") is not None for c in cells):
        placement, source = "service", f"{source}, placement inferred"
    container = recorded.get("container")
    return Profile(backend, placement, recorded.get("engine_kind"),
                   str(recorded.get("engine") or ""), str(recorded.get("transport") or ""),
                   bool(recorded.get("incumbent")), recorded.get("tuning"), source,
                   container if isinstance(container, dict) else None)


def profiles(cells: list[Cell], lookup: ProfileLookup = installed_profile
             ) -> dict[str, Profile]:
    backends = dict.fromkeys(c.backend for c in cells)
    return {b: _profile(b, [c for c in cells if c.backend == b], lookup) for b in backends}


def colours(backends: list[str]) -> dict[str, str]:
    """One colour per backend, by order of first appearance: the same in every chart."""
    ordered = list(dict.fromkeys(backends))
    return {b: PALETTE[i % len(PALETTE)] for i, b in enumerate(ordered)}


STRONGEST_PYTHON = "the strongest Python measured"


def choose_baseline(found: dict[str, Profile], requested: str | None) -> tuple[str | None, str]:
    """The rule for every table: ``(backend, why)`` when one backend is the baseline
    throughout (``--baseline``), ``(None, why)`` when each table picks its strongest Python
    (``group_baseline``) or nothing can be a baseline."""
    if requested:
        if requested not in found:
            raise BaselineError(f"--baseline {requested}: not in the results; they have "
                                f"{', '.join(found) or 'no backends'}")
        return requested, "chosen with --baseline"
    if any(p.python_in_process for p in found.values()):
        return None, (f"{STRONGEST_PYTHON} in each table: its fastest verified Python "
                      "in-process engine")
    return None, "no backend is Python in-process: pass --baseline BACKEND for ratios"


#: why a run's own recorded baseline (``config["baseline"]``) is the denominator
RECORDED_BASELINE = "recorded by the run (an A/B's base build)"


def recorded_baseline(results: Results, found: dict[str, Profile]) -> str | None:
    """The baseline the run itself named (``config["baseline"]``: an A/B's base build), when
    it is among the backends measured; ``--baseline`` still overrides it."""
    named = results.config.get("baseline")
    return named if isinstance(named, str) and named in found else None


def group_baseline(entries: list[Entry], requested: str | None) -> Entry | None:
    """The baseline cell of one table's decision (its lowest concurrency, closed loop)."""
    ok = [e for e in entries if e.ok]
    if requested:
        return next((e for e in ok if e.cell.backend == requested), None)
    return tiers.strongest_python(ok)


def run_baseline(groups: list[Group], requested: str | None) -> str | None:
    """The one baseline of the whole run: the requested one, or the strongest Python when it
    is the same backend in every table (None when it differs: each table names its own)."""
    if requested:
        return requested
    names = {g.baseline_name for g in groups if g.baseline_name}
    return names.pop() if len(names) == 1 else None


# -- building ---------------------------------------------------------------------------------

def build(results_list: list[Results], baseline: str | None = None,
          lookup: ProfileLookup = installed_profile) -> Report:
    return Report([build_run(r, baseline, lookup) for r in results_list])


def build_run(results: Results, baseline: str | None = None,
              lookup: ProfileLookup = installed_profile) -> RunView:
    found = profiles(results.cells, lookup)
    recorded = None if baseline else recorded_baseline(results, found)
    chosen, reason = choose_baseline(found, baseline or recorded)
    if recorded:
        reason = RECORDED_BASELINE
    palette = colours(list(found))
    entries = [_entry(c, found[c.backend], palette[c.backend]) for c in results.cells]
    workloads: dict[str, dict[tuple[str, str | None], list[Entry]]] = {}
    for entry in entries:
        table = (entry.cell.size, entry.cell.allocator)
        workloads.setdefault(entry.cell.workload, {}).setdefault(table, []).append(entry)
    several = len({e.cell.allocator for e in entries}) > 1
    views = []
    ratios = Ratios.of(results)
    instrumented = frozenset(results.config.get("observability") or ())
    for name, tables in workloads.items():
        groups = [_group(name, size, members, chosen, reason, ratios,
                          allocator if several else None, instrumented)
                  for (size, allocator), members in tables.items()]
        _allocator_ranges(groups)
        crossing_only = installed_crossing_only(name)
        if crossing_only:
            for group in groups:
                _crossing_only_verdict(group)
        views.append(WorkloadView(name, groups, crossing_only))
    chosen = run_baseline([g for v in views for g in v.groups], chosen)
    slo = results.config.get("slo_p99_s")
    run = RunView(results, found, palette, chosen, reason, views, "", _notices(results, entries),
                  [e for e in entries if e.cell.status != OK], env_rows(results.env),
                  capacity.capacities(results, slo * 1e9 if slo else None))
    run.overall = overall(run)
    return run


def _entry(cell: Cell, profile: Profile, colour: str) -> Entry:
    throughput = (Estimate.of(cell.throughput_ops, cell.throughput_ci95)
                  if cell.status == OK else None)
    entry = Entry(cell, profile, colour, throughput, notices=[Notice.of(w)
                                                             for w in cell.warnings])
    if throughput is not None:
        entry.per_call_ns = decision.per_call_ns(throughput)
    return entry


def _group(workload: str, size: str, entries: list[Entry], requested: str | None, why: str,
           ratios: Ratios, allocator: str | None = None,
           instrumented: frozenset[str] = frozenset()) -> Group:
    """One table's decision; ``why`` is the run's reason for a ``requested`` baseline."""
    entries = sorted(entries, key=lambda e: e.cell.concurrency)  # stable: run order kept
    group = Group(workload, size, entries, allocator, ratios=ratios, instrumented=instrumented)
    group.baseline = group_baseline(group.lowest, requested)
    group.baseline_name = group.baseline.cell.backend if group.baseline else None
    group.baseline_why = why if requested else STRONGEST_PYTHON
    for entry in entries:
        base = next((b for b in entries if b.cell.backend == group.baseline_name and b.ok
                     and (b.cell.concurrency, b.cell.mode) == (entry.cell.concurrency,
                                                                entry.cell.mode)), None)
        if base is not None and entry.ok:
            entry.speedup = ratios.ratio(entry, base)
            entry.speedup_paired = ratios.comparison(entry, base) is not None
    group.ladder = tiers.ladder(group.lowest, ratios.ratio)
    group.kernel_ladder = tiers.kernel_ladder(group.lowest)
    group.containers = containers.container_rows(entries, ratios)
    _decide(group)
    return group


def _verdict_ratio(group: Group) -> tuple[str, float] | None:
    """(backend, speedup) of the table's verdict: its recommended mover, else its fastest
    other pattern; None without a baseline."""
    if group.baseline is None:
        return None
    ok = [e for e in group.lowest if e.ok and e.speedup is not None
          and e is not group.baseline]
    if group.recommended is not None:
        ok = [e for e in ok if e.profile.pattern == group.recommended.pattern] or ok
    if not ok:
        return None
    best = max(ok, key=lambda e: e.speedup.value)  # type: ignore[union-attr]
    return best.cell.backend, best.speedup.value  # type: ignore[union-attr]


def _allocator_ranges(groups: list[Group]) -> None:
    """A table measured under several allocators: each headline gives the verdict's range
    (``2.2-4.6x the strongest Python, depending on the allocator``), the same backend's ratio
    under each allocator."""
    by_size: dict[str, list[Group]] = {}
    for group in groups:
        if group.allocator:
            by_size.setdefault(group.size, []).append(group)
    for same in by_size.values():
        if len(same) < 2:
            continue
        for index, group in enumerate(same):
            verdict = _verdict_ratio(group)
            if verdict is None:
                continue
            backend = verdict[0]
            for other in same:
                ratio = next((e.speedup.value for e in other.lowest if e.ok and e.speedup
                              and e.cell.backend == backend), None)
                if ratio is not None and other.allocator:
                    group.allocator_speedups[other.allocator] = ratio
            if index == 0:  # said once per size, under the allocator measured first
                group.headline += allocator_range_words(group, backend)


def allocator_range_words(group: Group, backend: str) -> str:
    ratios = group.allocator_speedups
    if len(ratios) < 2:
        return ""
    low, high = min(ratios.values()), max(ratios.values())
    each = ", ".join(f"{fmt.ratio(v)} under {a}" for a, v in ratios.items())
    against = (" the strongest Python" if group.baseline_why == STRONGEST_PYTHON
               else f" {group.baseline_name}")
    return (f" Depending on the allocator, {backend} does {fmt.ratio(low)}-{fmt.ratio(high)}"
            f"{against} ({each}).")


# -- deciding ---------------------------------------------------------------------------------

def _decide(group: Group) -> None:
    ok = [e for e in group.lowest if e.ok]
    if not ok:
        group.pattern = "no verified measurement"
        group.headline = "No backend produced a verified measurement."
        group.sentences = ["No backend produced a verified measurement here."]
        return
    best = max(ok, key=lambda e: e.throughput.value)  # type: ignore[union-attr]
    base = group.baseline
    sentences = [f"Fastest: {best.described()} at "
                 f"{fmt.count(best.throughput.value)} ops/s."]  # type: ignore[union-attr]
    if base is None:
        group.verdict, group.recommended = "undecided", best.profile
        group.pattern = f"fastest: {best.profile.pattern}"
        group.headline = (f"{best.described()} did "
                          f"{fmt.count(best.throughput.value)} ops/s; no baseline to "  # type: ignore[union-attr]
                          "compare with (pass --baseline BACKEND).")
        group.sentences = sentences + _boundaries(ok, group.ratios) + _languages(ok, group)
        return
    movers = [e for e in ok if e.profile.pattern != base.profile.pattern and e.speedup is not None
              and decision.worth_moving(e.speedup, group.ratios.how(e, base))]
    if movers:
        pick = max(movers, key=lambda e: e.throughput.value)  # type: ignore[union-attr]
        group.verdict, group.recommended = "move", pick.profile
        group.pattern = pick.profile.pattern
        group.headline = _versus(pick, base, group) + _also(movers, pick, base)
    else:
        group.verdict, group.recommended = "stay", base.profile
        group.pattern = f"stay: {base.profile.pattern}"
        group.headline = _no_mover(ok, base, group.ratios)
    group.headline += _ladder_words(group)
    sentences += [_strongest_python(ok, base, group)]
    sentences += [_compare_sentence(e, base, group.ratios) for e in ok if e is not base]
    sentences += [group.ladder.sentence()] if group.ladder else []
    group.sentences = [s for s in sentences if s] + _boundaries(ok, group.ratios) + \
        _servers(ok) + \
        _languages(ok, group)


#: the verdict of a table of a workload that measures the crossing alone
CROSSING_ONLY = "crossing only"


def _crossing_only_verdict(group: Group) -> None:
    """A crossing-only workload (echo) is a probe of what crossing costs, not a hot path
    anyone moves: its tables keep their figures and sentences but recommend nothing."""
    if group.verdict in ("move", "stay"):
        group.verdict, group.recommended = CROSSING_ONLY, None
        group.pattern = "the crossing alone: no verdict"


def _strongest_python(ok: list[Entry], base: Entry, group: Group) -> str:
    """Which Python the comparisons are against, when several were measured, and whether it
    is clearly faster than each other one or only by the point estimate."""
    python = [e for e in ok if e.profile.python_in_process]
    if group.baseline_why != STRONGEST_PYTHON or len(python) < 2:
        return ""

    def other(e: Entry) -> str:
        text = f"{e.cell.backend} {fmt.count(e.throughput.value)} ops/s"  # type: ignore[union-attr]
        how = group.ratios.how(base, e)
        if how in decision.UNSURE:
            text += (f" ({base.cell.backend} is not clearly faster: "
                     f"{decision.why_unsure(how)})")
        return text

    others = ", ".join(other(e) for e in python if e is not base)
    return (f"Ratios are against the strongest Python measured, {base.described()} "
            f"at {fmt.count(base.throughput.value)} ops/s (other Python: {others}).")  # type: ignore[union-attr]


def _ladder_words(group: Group) -> str:
    """The tiers in the headline: how much is language and how much is tuning."""
    ladder = group.ladder
    if ladder is None:
        return ""
    named = [s for s in ladder.steps if s.name != tiers.PYTHON_TUNING]
    if not named:
        return ""
    return " Split by tier: " + ", ".join(s.text() for s in named) + "."


def _versus(entry: Entry, base: Entry, group: Group) -> str:
    how = group.ratios.how(entry, base)
    which = (", the strongest Python measured"
             if group.baseline_why == STRONGEST_PYTHON else "")
    return (f"{entry.profile.short()} does {fmt.count(entry.throughput.value)} ops/s, "  # type: ignore[union-attr]
            f"{decision.speedup_text(entry.speedup)} the throughput of "  # type: ignore[arg-type]
            f"{base.described()}{which}, {decision.certainty_short(how)}.")


def _also(movers: list[Entry], pick: Entry, base: Entry) -> str:
    """The best worth-moving alternative of another pattern (e.g. the service next to FFI)."""
    others = [e for e in movers if e.profile.pattern != pick.profile.pattern]
    if not others:
        return ""
    other = max(others, key=lambda e: e.throughput.value)  # type: ignore[union-attr]
    return (f" As {other.profile.pattern_words}, {other.cell.backend} keeps "
            f"{decision.speedup_text(other.speedup)}.")  # type: ignore[arg-type]


def _no_mover(ok: list[Entry], base: Entry, ratios: Ratios) -> str:
    text = ""
    peers = [e for e in ok if e is not base and e.profile.pattern == base.profile.pattern
             and e.speedup is not None and e.speedup.value > 1
             and ratios.how(e, base) in (*decision.FASTER, decision.NO_INTERVAL)]  # shown
    if peers:
        peer = max(peers, key=lambda e: e.speedup.value)  # type: ignore[union-attr]
        how = ratios.how(peer, base)
        text = (f"Within that pattern {peer.profile.short()} was faster: "
                f"{decision.speedup_text(peer.speedup)} "  # type: ignore[arg-type]
                f"the throughput of {base.cell.backend}, "
                f"{decision.certainty_short(how)}. ")
    others = [e for e in ok if e.profile.pattern != base.profile.pattern and e.speedup is not None]
    if not others:
        return text + "No other pattern was measured."
    best = max(others, key=lambda e: e.speedup.value)  # type: ignore[union-attr]
    how = ratios.how(best, base)
    figures = (f"{best.described()}, does "
               f"{decision.speedup_text(best.speedup)} "  # type: ignore[arg-type]
               f"the throughput of {base.cell.backend}, "
               f"{decision.certainty_short(how)}")
    if best.speedup.value < 1:  # type: ignore[union-attr]
        return text + f"Every other pattern is slower; the fastest of them, {figures}."
    return text + (f"The best other pattern, {figures}; a move needs "
                   f"{thresholds.WORTH_IT}x, clearly.")


def _compare_sentence(entry: Entry, base: Entry, ratios: Ratios) -> str:
    if entry.speedup is None:
        return f"{entry.cell.backend}: no ratio to {base.cell.backend}."
    how = ratios.how(entry, base)
    slower = " (slower)" if entry.speedup.value < 1 else ""
    return (f"{entry.cell.backend} ({entry.profile.pattern_words}) does "
            f"{decision.speedup_text(entry.speedup)} the throughput of {base.cell.backend}"
            f"{slower}, {decision.certainty_words(how)}.")


def language(entry: Entry) -> str | None:
    """The engine's language as the backend recorded it (``engine_language``), if it did."""
    value = entry.cell.backend_info.get("engine_language")
    return str(value) if value else None


def _kernel_p50(entry: Entry) -> float | None:
    return (entry.cell.kernel_ns or {}).get("p50") or None


def _languages(ok: list[Entry], group: Group) -> list[str]:
    """Engines of different languages behind the same transport, compared on the engine's own
    time per call (the kernel P50, so that the transport both share does not dilute it)."""
    sentences = []
    # engines compared where they ran bare: a container changes where, not the engine
    timed = [e for e in ok if language(e) and _kernel_p50(e) and e.profile.container is None]
    for slow in timed:
        for fast in timed:
            if (language(slow) == language(fast) or slow.profile.transport
                    != fast.profile.transport or _kernel_p50(slow) <= _kernel_p50(fast)):  # type: ignore[operator]
                continue
            ratio = _kernel_p50(slow) / _kernel_p50(fast)  # type: ignore[operator]
            sentence = (f"{language(slow)} engine ({slow.cell.backend}) took {ratio:.1f}x the "
                        f"time of the {language(fast)} engine ({fast.cell.backend}) per call, "
                        f"kernel P50 {fmt.duration_ns(_kernel_p50(slow))} against "
                        f"{fmt.duration_ns(_kernel_p50(fast))}")
            claim = _published_ratio(group.workload)
            sentences.append(sentence + (f"; {claim}." if claim else "."))
    return sentences


def installed_crossing_only(workload: str) -> bool:
    """Whether the installed workload of that name measures the crossing alone (a workload
    not installed here: False, it gets a verdict like any other)."""
    from hybridbench.registry import get_workload

    try:
        return get_workload(workload).crossing_only
    except HybridbenchError:
        return False


def _published_ratio(workload: str) -> str | None:
    from hybridbench.registry import get_workload

    try:
        return get_workload(workload).published_language_ratio
    except HybridbenchError:  # a workload not installed here: nothing to cite
        return None


def article_columns(run: RunView) -> list[tuple[str, str]]:
    """``(backend, column heading)`` in the articles' order ("Go only", "Rust via gRPC",
    "Rust via FFI", ...) where backends recorded it, then the others in run order."""
    info = {e.cell.backend: e.cell.backend_info for e in run.entries if e.cell.backend_info}
    order = {b: info.get(b, {}).get("article_order", 99) for b in run.profiles}
    backends = sorted(run.profiles, key=lambda b: order[b])  # stable: run order kept
    return [(b, f"{info[b]['article_label']} ({b})" if info.get(b, {}).get("article_label")
             else b) for b in backends]


def _servers(entries: list[Entry]) -> list[str]:
    """What a server process costs in memory, where one was recorded."""
    return [f"The server process of {e.profile.described()} peaked at "
            f"{fmt.size_bytes(e.cell.rss_peak_bytes['server'])} RSS."
            for e in entries if e.cell.rss_peak_bytes.get("server")]


def boundary_pairs(entries: list[Entry]) -> list[tuple[Entry, Entry]]:
    """(service, in-process) pairs running the same engine: the same work, a different way
    in, so their difference is the boundary's cost."""
    pairs = []
    for service in entries:
        if (service.profile.placement != "service" or service.profile.container is not None
                or not service.profile.engine):
            continue  # a container's cost is its own comparison (report/containers.py)
        twin = next((e for e in entries if e.profile.placement == "in-process"
                     and e.profile.same_engine_key == service.profile.same_engine_key), None)
        if twin is not None:
            pairs.append((service, twin))
    return pairs


def boundary_cost(service: Entry, twin: Entry, ratios: Ratios | None = None,
                  ) -> tuple[Estimate, float] | None:
    """What a call through the service costs over the in-process twin, per call, with its
    95% interval (paired where the run paired them: ``Ratios.extra_per_call``), and the
    service's whole call."""
    cost = (ratios or Ratios()).extra_per_call(service, twin)
    if cost is None or service.per_call_ns is None:
        return None
    return cost, service.per_call_ns.value


def _boundaries(entries: list[Entry], ratios: Ratios) -> list[str]:
    out = []
    for service, twin in boundary_pairs(entries):
        cost = boundary_cost(service, twin, ratios)
        if cost is not None:
            out.append(decision.boundary_sentence(service.profile.described(),
                                                  twin.profile.described(), *cost))
    return out


def boundary_verdicts(group: Group) -> list[tuple[str, str]]:
    """(``service vs twin``, verdict) for each same-engine pair of the group."""
    found = []
    for service, twin in boundary_pairs([e for e in group.lowest if e.ok]):
        cost = boundary_cost(service, twin, group.ratios)
        if cost is not None:
            found.append((f"{service.cell.backend} vs {twin.cell.backend}",
                          decision.boundary_verdict(*cost)))
    return found


def overall(run: RunView) -> str:
    """One paragraph over every workload and size, from the groups' verdicts."""
    groups = [g for g in run.groups if g.verdict != "no data"]
    if not groups:
        return "No cell produced a verified measurement: there is nothing to decide."
    bases = [g for g in groups if g.baseline is not None]
    if not bases:
        return (f"No baseline ({run.baseline_reason}), so no pattern is recommended; the "
                "tables give each backend's figures.")
    parts = [_baselines_words(bases, run)]
    move = [g for g in groups if g.verdict == "move"]
    stay = [g for g in groups if g.verdict == "stay"]
    decided = [g for g in groups if g.verdict != CROSSING_ONLY]
    if move:
        tiers = dict.fromkeys(g.recommended.pattern for g in move if g.recommended)
        parts.append(f"Moving pays on {_names(move, run)} ({len(move)} of {len(decided)} "
                     f"workload sizes), best as {' or '.join(tiers)}.")
    if stay:
        kept = dict.fromkeys(g.baseline.profile.pattern for g in stay if g.baseline)
        parts.append(f"{' or '.join(kept).capitalize()} stays best on {_names(stay, run)}: no "
                     f"other pattern beats it by {thresholds.WORTH_IT}x clearly.")
    verdicts = [(g, pair, v) for g in groups for pair, v in boundary_verdicts(g)]
    if verdicts:
        phrases = []
        for pair in dict.fromkeys(p for _, p, _ in verdicts):
            found = {v: [g for g, p, w in verdicts if p == pair and w == v]
                     for v in dict.fromkeys(w for _, p, w in verdicts if p == pair)}
            phrases.append(f"{pair}, " + ", ".join(f"{v} on {_names(gs, run)}"
                                                  for v, gs in found.items()))
        parts.append("The service boundary (same engine, another way in): "
                     + "; ".join(phrases) + ".")
    if any(not e.throughput.has_interval for g in groups for e in g.lowest  # type: ignore[union-attr]
           if e.ok):
        parts.append("Some figures have no interval (imported data): their comparisons are "
                     "point estimates.")
    parts.append(ratio_method_words(run))
    return " ".join(parts)


def ratio_method_words(run: RunView) -> str:
    """How the ratios' intervals were computed, in one sentence."""
    speedups = [e for g in run.groups for e in g.entries
                if e.speedup is not None and e.cell.backend != g.baseline_name]
    paired_ones = [e for e in speedups if e.speedup_paired]
    if not speedups:
        return ""
    if len(paired_ones) == len(speedups):
        passes = sorted({c.passes for c in run.results.comparisons})
        count = "-".join(map(str, (passes[0], passes[-1]) if len(passes) > 1 else passes))
        return (f"Ratios come from paired, interleaved trials over {count} passes, each with "
                "its own 95% interval.")
    if not paired_ones:
        return (f"Ratios are a {QUOTIENT_WORDS}.").replace("a quotient", "the quotient")
    return (f"Ratios come from paired, interleaved trials where the run has them "
            f"({len(paired_ones)} of {len(speedups)}); the others are the {QUOTIENT_WORDS}.")


def _baselines_words(groups: list[Group], run: RunView) -> str:
    """``Baseline: inproc (...)`` or, per table, which Python was the strongest."""
    names = dict.fromkeys(g.baseline_name for g in groups)
    if len(names) == 1:
        base = groups[0].baseline.profile  # type: ignore[union-attr]
        which = (f" ({STRONGEST_PYTHON})" if groups[0].baseline_why == STRONGEST_PYTHON
                 and _python_engines(groups) > 1 else "")
        return f"Baseline: {base.described()}{which}." + _engines_words(groups)
    per = "; ".join(f"{name} on {_names([g for g in groups if g.baseline_name == name], run)}"
                    for name in names)
    return f"Baseline: {STRONGEST_PYTHON} in each table: {per}." + _engines_words(groups)


def _engines_words(groups: list[Group]) -> str:
    """The engine each workload's baseline ran, where a backend chose one per workload."""
    chosen = {g.workload: g.baseline.engine for g in groups  # type: ignore[union-attr]
              if g.baseline and g.baseline.engine != g.baseline.profile.engine}
    if not chosen:
        return ""
    return " Its engines: " + "; ".join(f"{w}: {e}" for w, e in chosen.items()) + "."


def _python_engines(groups: list[Group]) -> int:
    return max(len([e for e in g.lowest if e.ok and e.profile.python_in_process])
               for g in groups)


def _names(groups: list[Group], run: RunView) -> str:
    """``json 1MB, echo (all 5 sizes)``: a workload whose every size is listed is named once."""
    parts = []
    for workload in run.workloads:
        sizes = [g.size for g in groups if g.workload == workload.name]
        if not sizes:
            continue
        every = len(sizes) == len(workload.groups) > 1
        parts.append(f"{workload.name} (all {len(sizes)} sizes)" if every
                     else f"{workload.name} {', '.join(sizes)}")
    return ", ".join(parts)


# -- notices and environment ------------------------------------------------------------------

#: how each kind is headed when grouped (a kind not listed is headed by its own name)
KIND_TITLES = {
    Kind.THIN_TAIL: f"thin tail (fewer than {thresholds.THIN_TAIL_SAMPLES:,} samples: read P99 "
                    "and P99.9 as indicative)",
    Kind.NOISY: f"noisy (throughput varies by more than {thresholds.NOISY_SPREAD:.0%} between "
                "workers)",
    Kind.BATCHED: "timed in batches (percentiles are of batch means)",
    Kind.BUSY_MACHINE: f"busy machine (other processes used more than "
                       f"{thresholds.BUSY_CORES} cores)",
    Kind.COLD_START_MISSING: "cold start not measured",
    Kind.ALLOCATOR_SENSITIVE: f"allocator-sensitive (more than {thresholds.FAULTS_PER_CALL} "
                              "page faults per call: the figure depends on the allocator)",
    Kind.NO_STEADY_STATE: f"no steady state (a worker's time per call moved by at least "
                          f"{thresholds.STEADY_CHANGE:.0%} during its timed rounds)",
    Kind.NOTE: "notes",
    Kind.STALE_BUILD: "stale native build (the kernels measured may not be the recorded "
                      "commit's)",
}
#: kinds whose every message is shown, even where a reporter lists a kind's cells on one line:
#: their evidence differs from cell to cell (which worker, by how much, where)
DETAILED_KINDS = frozenset({Kind.NO_STEADY_STATE})


@dataclass(frozen=True)
class WarningKind:
    """One kind of warning of a run: what the whole run was warned of (shown in full), and
    the cells it concerns, which reporters count on one line and fold away: fifty cells with
    a thin tail are one fact, not fifty."""

    kind: str
    title: str
    #: messages about the whole run (``where`` was "run")
    run_messages: list[str]
    #: (the cell in words, its notice)
    cells: list[tuple[str, Notice]]

    @property
    def count_line(self) -> str:
        """``thin tail (fewer than ...): 72 cells``"""
        count = len(self.cells)
        return f"{self.title}: {count} cell{'s' if count != 1 else ''}"

    @property
    def detailed(self) -> bool:
        """Each cell's message says something of its own (not the kind's title again)."""
        return self.kind in DETAILED_KINDS or self.kind == Kind.NOTE


def warning_kinds(notices: dict[str, list[tuple[str, Notice]]]) -> list[WarningKind]:
    """The run's notices grouped by kind, in the order they were first met."""
    return [WarningKind(kind, KIND_TITLES.get(kind, kind.replace("_", " ")),
                        [n.message for where, n in items if where == "run"],
                        [(where, n) for where, n in items if where != "run"])
            for kind, items in notices.items()]


def _notices(results: Results, entries: list[Entry]) -> dict[str, list[tuple[str, Notice]]]:
    grouped: dict[str, list[tuple[str, Notice]]] = {}
    for notice in (Notice.of(w) for w in results.warnings):
        grouped.setdefault(notice.kind, []).append(("run", notice))
    for entry in entries:
        cell = entry.cell
        where = f"{cell.workload} {cell.size} on {cell.backend}" + (
            f" ×{cell.concurrency}" if cell.concurrency > 1 else "") + (
            f" [{cell.allocator}]" if cell.allocator else "")
        for notice in entry.notices:
            grouped.setdefault(notice.kind, []).append((where, notice))
    return grouped


ENV_KEYS = ("hostname", "cpu_model", "cores_logical", "cores_physical", "cpu_governor",
            "memory_bytes", "os", "python", "rustc", "git_commit", "git_dirty", "load_average",
            "load_average_end", "source")


def env_rows(env: dict[str, Any]) -> list[tuple[str, str]]:
    """The environment as (name, text): None is ``unknown``, memory in bytes units."""
    rows = []
    for key in ENV_KEYS:
        if key in env:
            value = env[key]
            text = fmt.size_bytes(value) if key == "memory_bytes" and value else \
                fmt.env_value(value)
            rows.append((key, text))
    pil = env.get("pil")
    if isinstance(pil, dict):
        rows.append(("PIL loaded", ", ".join(f"{k} {fmt.env_value(v)}" for k, v in pil.items())))
    offered = env.get("allocators")
    if isinstance(offered, dict):
        rows.append(("allocators", "; ".join(_allocator_words(name, info)
                                             for name, info in offered.items())))
    libraries = env.get("libraries")
    if isinstance(libraries, dict):
        rows.append(("libraries", ", ".join(f"{k} {v}" for k, v in libraries.items() if v)))
    return rows


def _allocator_words(name: str, info: Any) -> str:
    """``jemalloc: jemalloc preloaded: ...`` or ``mimalloc: unavailable: why``."""
    if not isinstance(info, dict):
        return f"{name}: {fmt.env_value(info)}"
    if info.get("unavailable"):
        return f"{name}: unavailable: {info['unavailable']}"
    return f"{name}: {info.get('state') or 'recorded'}"
