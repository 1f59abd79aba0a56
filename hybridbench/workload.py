"""The workload interface: what every module under ``workloads/`` provides.

A workload is *bytes in, bytes out*. It knows how to generate a deterministic request body for
each of its size presets, how to compute the reference answer, and how to check that another
engine's answer is the same one. Workloads are found through the ``hybridbench.workloads``
entry-point group, so an outside package can add one.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass

from hybridbench import shared_cache
from hybridbench.errors import WorkloadError

#: (case id, payload, regex the error message must match): see ``Workload.bad_inputs``
BadInput = tuple[str, bytes, str]


@dataclass(frozen=True)
class SizePreset:
    """One named input size, e.g. ``1MB`` for json or ``100k`` for timeseries."""

    name: str
    description: str


class Workload(ABC):
    """Base class of a workload. Subclasses are stateless; one instance is shared."""

    #: registry name, e.g. ``"json"``
    name: str = ""
    #: one line for ``hybridbench list``
    summary: str = ""
    #: size presets, smallest first
    sizes: tuple[SizePreset, ...] = ()
    #: the size a plain ``hybridbench run`` uses
    default_size: str = ""
    #: display and run order (lower first); plug-ins keep the default and follow by name
    rank: int = 1000
    #: a published figure the report sets the measured language ratio beside (e.g. the
    #: articles' "tokenization is 5.2x slower in Go than in Rust"); None: nothing to cite
    published_language_ratio: str | None = None
    #: why ``reference`` cannot serve as the standard-library engine (``inproc-pure``), e.g.
    #: because it needs a JPEG codec; None when the reference is plain standard-library Python
    pure_unsupported: str | None = None
    #: the libraries and technique of ``best``, named by ``inproc-best``'s ``describe()`` and in
    #: the report (e.g. "msgspec, raw passthrough"); None while ``best`` is ``fast``
    best_engine: str | None = None
    #: the workload measures the crossing alone (its engines return their input, e.g.
    #: ``echo``): no engine's speed is at stake, so the main job gives it no allocator range
    crossing_only: bool = False

    def size_names(self) -> list[str]:
        return [s.name for s in self.sizes]

    def check_size(self, size: str) -> None:
        if size not in self.size_names():
            raise WorkloadError(
                f"workload {self.name!r} has no size {size!r}; "
                f"its sizes are: {', '.join(self.size_names())}"
            )

    def make_input(self, size: str, seed: int = 0) -> bytes:
        """The request body for ``(size, seed)``: identical bytes on every call and machine."""
        self.check_size(size)
        return _cached_input(self, size, seed)

    @abstractmethod
    def generate(self, size: str, seed: int) -> bytes:
        """Generate the request body (uncached); ``size`` is already validated."""

    @abstractmethod
    def reference(self, payload: bytes) -> bytes:
        """The reference answer. Raises WorkloadError for invalid input."""

    def fast(self, payload: bytes) -> bytes:
        """The idiomatic fast Python engine, run by ``inproc`` and inside the ``grpc-py`` server.

        Defaults to the reference; a workload overrides it when a well-known library (orjson,
        numpy...) does the same work faster. Must raise ``WorkloadError`` where the reference
        does.
        """
        return self.reference(payload)

    def best(self, payload: bytes) -> bytes:
        """The fastest spec-correct Python engine found, run by ``inproc-best``.

        Defaults to ``fast``; a workload overrides it (and names it in ``best_engine``) when
        tuning or another library beats the idiomatic engine on the same specification. Its
        module docstring names the alternatives tried and their figures. Must raise
        ``WorkloadError`` where the reference does.
        """
        return self.fast(payload)

    def best_unavailable(self) -> str | None:
        """Why ``best`` cannot run here (an optional library is missing), or None."""
        return None

    def bad_inputs(self) -> list[BadInput]:
        """Inputs every engine of this workload must reject: (case id, payload, regex its error
        message must match). ``hybridbench.testing.bad_inputs`` collects them from every
        registered workload, so a workload's hostile cases live beside its specification."""
        return []

    @abstractmethod
    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        """Raise VerificationError unless ``output`` is an acceptable answer.

        ``expected`` is ``reference(payload)``, passed in so that callers can compute it once.
        """


#: more than every built-in (workload, size) at one seed (22 today): a loop over backends of
#: every size, as the tests have, otherwise regenerates each input on each pass (an LRU of 16
#: entries cycled through 22 misses every time: 46 s of a pytest worker's CPU, issue 22). All
#: of them together are 85 MB; a worker process of a run asks for one.
INPUT_CACHE_ENTRIES = 48


@functools.lru_cache(maxsize=INPUT_CACHE_ENTRIES)
def _cached_input(workload: Workload, size: str, seed: int) -> bytes:
    # Generating the 5MB image or the 8MB document takes a noticeable fraction of a second;
    # the runner and the tests ask for the same inputs many times (and a test session's
    # processes share them through shared_cache).
    return shared_cache.load_or_make(
        "input", (shared_cache.workload_fingerprint(workload), workload.name, size, seed),
        lambda: workload.generate(size, seed))
