"""In-process Python backends: ``inproc`` (fast libraries) and ``inproc-pure`` (stdlib only)."""

from hybridbench.backends.inproc.fast import InprocBackend
from hybridbench.backends.inproc.pure import InprocPureBackend

__all__ = ["InprocBackend", "InprocPureBackend"]
