"""The backend interface: one small class each engine implements.

A backend runs a workload's request body and returns the response body. It is a context
manager: ``start()`` loads the library or spawns the server, ``stop()`` releases it. Backends
are found through the ``hybridbench.backends`` entry-point group, so a team can plug in its
own service by shipping a package that registers one.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar

from hybridbench.errors import UnsupportedError, WorkloadError
from hybridbench.limits import MAX_PAYLOAD_BYTES, check_payload_size
from hybridbench.workload_registry import workload_names


def as_bytes(payload: object) -> bytes:
    """A request body as ``bytes``: a ``bytearray`` or ``memoryview`` is copied once, anything
    else (``str``, ``None``, a number...) is a ``WorkloadError``, the same from every backend."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    raise WorkloadError(f"a request body must be bytes (or bytearray/memoryview), not "
                        f"{type(payload).__name__}")


class Backend(ABC):
    """Base class of every backend.

    Subclasses implement ``call`` (and ``start``/``stop`` when they hold resources). ``call``
    raises ``WorkloadError`` for bad input and ``BackendError`` when the engine itself fails.

    Options are the backend's own (``target=`` for gRPC, ``library=`` for FFI...), plus one
    every backend may use: ``workloads=[...]``, the workloads this instance is opened for (the
    runner passes the cell's), so that ``start()`` acquires only what they need.
    """

    #: registry name, e.g. ``"ffi"``
    name: ClassVar[str] = ""
    #: one line for ``hybridbench list``: where the work runs and how it is reached
    summary: ClassVar[str] = ""
    #: where a report places this engine among the articles' columns, recorded in every cell
    #: through ``describe()`` (so the report needs no backend names): ``engine_language``
    #: (the language the work runs in), ``article_label`` (e.g. "Go only", "Rust via gRPC",
    #: "Rust via FFI") and ``article_order`` (0 the orchestrator-only columns, 1 via gRPC,
    #: 2 via FFI, 3 controls)
    article_column: ClassVar[dict[str, Any]] = {}

    # The pattern this backend stands for, recorded with every cell (``describe()["profile"]``)
    # so that reports choose baselines and word decisions from it, never from names: a
    # plug-in backend that fills these in gets the same sentences as the built-ins.
    #: where the work runs: "in-process" or "service" (None: unknown; a report then infers
    #: "service" from a recorded server process); recorded as the profile's ``placement``
    placement: ClassVar[str | None] = None
    #: what kind of engine does the work: "python" or "native"
    engine_kind: ClassVar[str | None] = None
    #: the engine in words, e.g. "Rust kernels", "orjson, numpy, pillow-simd"
    engine_name: ClassVar[str] = ""
    #: how a call reaches the engine, e.g. "FFI", "gRPC" (empty: a plain call)
    transport: ClassVar[str] = ""
    #: the incumbent: what a team runs when it keeps the hot path where it is; reports use it
    #: as the baseline unless ``--baseline`` names another
    incumbent: ClassVar[bool] = False
    #: how hard the engine was worked on, for the report's split of a native advantage into
    #: language and tuning: "plain" (standard library only), "idiomatic" (what a competent team
    #: writes in a day with the usual libraries) or "tuned" (taken towards its floor); None:
    #: unknown
    tuning: ClassVar[str | None] = None

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.started = False
        #: workloads already checked by ``run`` (the check costs a registry lookup)
        self._checked: set[str] = set()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _adopt_version_2_names(cls)

    # -- discovery ---------------------------------------------------------------------------

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this backend cannot run on this machine (library not built...), or None."""
        return None

    @classmethod
    def unavailable_reason_for(cls, options: dict[str, Any]) -> str | None:
        """Why this backend cannot run here *with these options*, or None: what
        ``unavailable_reason`` says, unless the options change what it needs (a gRPC backend
        given a target needs no server built here; one placed in a container needs the
        image instead)."""
        return cls.unavailable_reason()

    def unsupported_reason(self, workload: str) -> str | None:
        """Why this backend does not implement ``workload`` (a registered workload), or None.

        Backends learn what they implement from where the work runs (the workload registry, a
        native library's ``hb_workloads()``, a server's ``Describe``), never from a list here.
        """
        return None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Acquire what the backend needs (dlopen, spawn a server). Must be idempotent."""
        self.started = True

    def stop(self) -> None:
        """Release everything ``start`` acquired. Must be idempotent and never raise."""
        self.started = False

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- work ----------------------------------------------------------------------------------

    def run(self, workload: str, payload: bytes) -> bytes:
        """Run one request. The checks here are the same for every backend."""
        if type(payload) is not bytes:
            payload = as_bytes(payload)
        if workload not in self._checked or len(payload) > MAX_PAYLOAD_BYTES:
            self.check_request(workload, payload)
        return self.call(workload, payload)

    def check_request(self, workload: str, payload: bytes) -> None:
        """Raise ``WorkloadError`` for an unknown workload, a body that is not bytes or is
        oversized, and ``UnsupportedError`` for a workload this backend does not implement."""
        if type(payload) is not bytes:
            as_bytes(payload)
        if workload not in self._checked:
            if workload not in workload_names():
                raise WorkloadError(f"unknown workload {workload!r}; known: "
                                    f"{', '.join(workload_names())}")
            reason = self.unsupported_reason(workload)
            if reason:
                raise UnsupportedError(reason)
            self._checked.add(workload)
        if len(payload) > MAX_PAYLOAD_BYTES:
            check_payload_size(workload, len(payload))

    @abstractmethod
    def call(self, workload: str, payload: bytes) -> bytes:
        """Do the work; ``workload`` is known and supported, ``payload`` within the limit."""

    # -- measurement hooks -----------------------------------------------------------------------

    def processes(self) -> dict[str, int]:
        """PIDs whose memory and CPU count towards this backend, by role.

        ``client`` is always this process; out-of-process backends add ``server`` (and more
        roles if they have them).
        """
        return {"client": os.getpid()}

    @classmethod
    def profile(cls) -> dict[str, Any]:
        """The pattern metadata above, as recorded in results."""
        return {"placement": cls.placement, "engine_kind": cls.engine_kind,
                "engine": cls.engine_name, "transport": cls.transport, "incumbent": cls.incumbent,
                "tuning": cls.tuning, "summary": cls.summary}

    def describe(self) -> dict[str, Any]:
        """Facts about this backend instance recorded with each result (versions, target...):
        the ``placement`` (the articles' columns) and the ``profile`` (the pattern the report
        decides by). Subclasses add to ``super().describe()``."""
        return {**self.article_column, "profile": self.profile()}

    def run_timed(self, workload: str, payload: bytes) -> tuple[bytes, int | None]:
        """``run`` plus the engine's own time for this call in nanoseconds (the kernel work,
        measured where it runs: inside the server or the native library), or None when this
        backend cannot tell. The runner calls it in a separate breakdown phase after the timed
        rounds, so that the extra clock reads never touch end-to-end figures.
        """
        return self.run(workload, payload), None

    def run_traced(self, workload: str, payload: bytes, headers: dict[str, str]
                   ) -> tuple[bytes, int | None]:
        """``run_timed`` inside the caller's span: ``headers`` carry its context
        (W3C ``traceparent``), which an out-of-process engine receives with the call
        (``hybridbench.tracing``). Only sampled calls after the timed rounds come here. The
        default: the caller's span is the whole story (an in-process engine)."""
        return self.run_timed(workload, payload)

    def server_resources(self) -> dict[str, dict[str, float]]:
        """Resource figures that out-of-process engines report about themselves, by role:
        ``{"server": {"pid": .., "rss_bytes": .., "rss_peak_bytes": .., "cpu_s": ..}}``
        (``cpu_s`` is user + system seconds since the process started). This works for a
        server on another machine (``--grpc-target``), where ``processes()`` has no PID to
        sample. Empty for in-process backends.
        """
        return {}


def _adopt_version_2_names(cls: type[Backend]) -> None:
    """A plug-in backend written against version 2 keeps its report: there ``placement`` held
    the articles' columns (a dict, now ``article_column``) and ``location`` what is now
    ``placement`` (DESIGN.md "Names": one meaning per name). Each old name warns once."""
    own = vars(cls)
    if isinstance(own.get("placement"), dict):
        warnings.warn(f"{cls.__name__}.placement as a dict is version 2's name: call it "
                      f"article_column", DeprecationWarning, stacklevel=3)
        cls.article_column = own["placement"]
        delattr(cls, "placement")  # the inherited "in-process"/"service", or None
    if "location" in own:
        warnings.warn(f"{cls.__name__}.location is version 2's name: call it placement",
                      DeprecationWarning, stacklevel=3)
        cls.placement = own["location"]
