"""``echo``: the response body is the request body, byte for byte.

The pure cost of crossing the boundary (call, copy, serialization, transport) with no work on
the other side. Sizes ``64B``, ``1KB``, ``64KB``, ``1MB``, ``8MB`` (KB = 1024 bytes,
MB = 1024**2 bytes) of seeded random bytes, exactly that long; the default run sweeps them all.
Any body up to 64 MiB is valid; a larger one is rejected with a ``WorkloadError``.
Verification: the output equals the input exactly.

Every Python engine (``reference``, ``fast``, ``best``) returns the very object it was given
after the size check: there is no work to make faster, so ``best`` is ``fast``.
"""

from __future__ import annotations

import random

from hybridbench.errors import VerificationError
from hybridbench.limits import check_payload_size, oversized_body
from hybridbench.workload import BadInput, SizePreset, Workload

SIZES = {"64B": 64, "1KB": 1024, "64KB": 64 * 1024, "1MB": 1024**2, "8MB": 8 * 1024**2}


def reference(payload: bytes) -> bytes:
    check_payload_size("echo", len(payload))
    return payload


class EchoWorkload(Workload):
    name = "echo"
    summary = "returns its input: the bare cost of crossing the boundary"
    sizes = tuple(SizePreset(k, f"{v:,} random bytes") for k, v in SIZES.items())
    default_size = "1KB"
    rank = 4
    #: the main job sweeps every size of this workload, not only the default
    sweep_by_default = True
    crossing_only = True

    def generate(self, size: str, seed: int) -> bytes:
        return random.Random(f"echo/{size}/{seed}").randbytes(SIZES[size])

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def bad_inputs(self) -> list[BadInput]:
        return [("echo-oversized", oversized_body(), r"limit")]

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        if output != expected:
            raise VerificationError(
                f"echo: output of {len(output)} bytes differs from the {len(expected)}-byte input")


WORKLOAD = EchoWorkload()
