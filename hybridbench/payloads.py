"""Where a cell's request body comes from: the generator, or a file the user gave.

One function for both sides of a cell: the manager loads the payload to compute the reference
answer once, each worker loads it again to time it, and both must hold the same bytes.
"""

from __future__ import annotations

from pathlib import Path


def load_payload(workload: str, size: str, seed: int, input_path: str | None = None) -> bytes:
    """The request body of a cell: the file at ``input_path`` if given (``size`` is then just
    its label), else ``make_input(workload, size, seed)``."""
    if input_path is not None:
        return Path(input_path).read_bytes()
    from hybridbench import make_input

    return make_input(workload, size, seed)
