"""``ffi-idiomatic``: the Rust kernels as a competent team writes them in a day, in this process.

The same C ABI, cffi binding and hot path as ``ffi`` (this is ``FfiBackend`` loading one
library), but the library is ``native/idiomatic`` (crate ``hybridbench-idiomatic``): serde with
typed structs for ``json``, the ``image`` crate's defaults for ``image`` and ``thumbnail``, std
collections for ``timeseries``. Set beside ``ffi`` (tuned kernels) it splits a native advantage
into what the language gives and what the tuning adds (``tuning = "idiomatic"``).

The library is not a ``hybridbench.native`` package on purpose: ``ffi`` loads every such
package, and would then run these kernels for workloads the tuned library lacks.
``pip install`` builds it next to this module (``setup.py``); ``$HYBRIDBENCH_FFI_IDIOMATIC_LIB``
overrides the path (a build elsewhere, e.g. ``native/target/release``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from hybridbench.backends.ffi import FfiBackend
from hybridbench.native import find_library

LIBRARY_ENV = "HYBRIDBENCH_FFI_IDIOMATIC_LIB"
LIBRARY_STEM = "libhybridbench_idiomatic"
NOT_BUILT = ("the idiomatic Rust library (native/idiomatic) is not built: run `pip install -e .` "
             f"with a Rust toolchain (cargo) on PATH, or point ${LIBRARY_ENV} at a build")


def library_path() -> Path | None:
    """Where the library is: ``$HYBRIDBENCH_FFI_IDIOMATIC_LIB``, else as installed, else None."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override)
    return find_library(Path(__file__).resolve().parent, LIBRARY_STEM)


def unbuilt_reason() -> str | None:
    """None if the library is there, else why it is not."""
    path = library_path()
    if path is None:
        return NOT_BUILT
    if not path.is_file():
        return f"${LIBRARY_ENV} points to {path}, which does not exist"
    return None


class FfiIdiomaticBackend(FfiBackend):
    name = "ffi-idiomatic"
    summary = ("idiomatic Rust kernels (serde, image crate, std collections) in this process "
               "through the C ABI (cffi), GIL released")
    engine_name = "idiomatic Rust (serde, image crate, std collections)"
    tuning = "idiomatic"
    article_column: ClassVar[dict[str, Any]] = {"engine_language": "Rust",
                                           "article_label": "Rust via FFI (idiomatic)",
                                           "article_order": 2}

    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "library": options.get("library") or library_path()})

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return unbuilt_reason()

    def _paths(self) -> list[tuple[str, Path]]:
        if self.library_option is None:  # never the installed kernel packages: those are ffi's
            self._problems = [unbuilt_reason() or NOT_BUILT]
            return []
        return super()._paths()
