"""In-process Python backends: ``inproc`` (fast libraries), ``inproc-pure`` (stdlib only) and
``inproc-best`` (the fastest spec-correct Python found per workload)."""

from hybridbench.backends.inproc.best import InprocBestBackend
from hybridbench.backends.inproc.fast import InprocBackend
from hybridbench.backends.inproc.pure import InprocPureBackend

__all__ = ["InprocBackend", "InprocBestBackend", "InprocPureBackend"]
