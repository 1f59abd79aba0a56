"""Inputs every backend must reject, for the project's tests and for plug-in authors.

Each workload declares its own (``Workload.bad_inputs``, beside its specification); this module
collects them from every registered workload, plug-ins' included, and names none itself.

``bad_inputs()`` lists (case id, workload, payload, regex the error message must match). A new
backend passes when ``backend.run(workload, payload)`` raises ``WorkloadError`` with a
matching message for each case, and the process lives on::

    for case, workload, payload, pattern in hybridbench.testing.bad_inputs():
        with pytest.raises(hybridbench.WorkloadError, match=pattern):
            backend.run(workload, payload)
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

from hybridbench.workload_registry import workloads


@functools.cache
def bad_inputs() -> list[tuple[str, str, bytes, str]]:
    """(id, workload, payload, regex the error message must match), built once: the cases
    each registered workload declares (``Workload.bad_inputs``), in the registry's order."""
    return [(case, name, payload, pattern)
            for name, workload in workloads().items()
            for case, payload, pattern in workload.bad_inputs()]


def bad_input_params() -> list:
    """The cases of ``bad_inputs`` as ``pytest.param``s, for ``@pytest.mark.parametrize``."""
    import pytest

    return [pytest.param(w, p, rx, id=i) for i, w, p, rx in bad_inputs()]


def size_params() -> list:
    """Every (workload, size) as ``pytest.param``s, the largest size of each marked ``slow``.

    For a backend's "verifies on every workload and size" test.
    """
    import pytest

    params = []
    for name, workload in workloads().items():
        sizes = workload.size_names()
        largest = sizes[-1] if name != "echo" else None  # echo's 8 MB is quick everywhere
        for size in sizes:
            marks = [pytest.mark.slow] if size == largest else []
            params.append(pytest.param(name, size, id=f"{name}-{size}", marks=marks))
    return params


def mutate(document: bytes, rng: random.Random, tokens: Sequence[bytes]) -> bytes:
    """``document`` with one to three random edits: a few bytes deleted, a token inserted, a
    byte overwritten by a token's first, or the rest cut off. The differential tests and
    scripts of a parser (tests/test_json_differential.py, scripts/json_differential.py) make
    near-valid inputs with it, from tokens that matter to the grammar."""
    data = bytearray(document)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        action = rng.random()
        if action < 0.3:
            del data[at:at + rng.randint(1, 4)]
        elif action < 0.7:
            data[at:at] = rng.choice(tokens)
        elif action < 0.9:
            data[at] = rng.choice(tokens)[0]
        else:
            del data[at:]
    return bytes(data)
