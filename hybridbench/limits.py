"""Limits shared by every backend, so that oversized input fails the same way everywhere."""

from __future__ import annotations

import functools

from hybridbench.errors import WorkloadError

#: Largest request body any workload accepts. The biggest preset (timeseries 1M, ~46 MB)
#: fits; gRPC message limits are set above this on both sides.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


def check_payload_size(workload: str, size: int) -> None:
    """Raise WorkloadError if a request body is larger than MAX_PAYLOAD_BYTES."""
    if size > MAX_PAYLOAD_BYTES:
        raise WorkloadError(
            f"{workload}: payload of {size} bytes exceeds the limit of "
            f"{MAX_PAYLOAD_BYTES} bytes (64 MiB)"
        )


@functools.cache
def oversized_body() -> bytes:
    """A body one byte over the limit (64 MiB of spaces): every workload's "oversized" bad
    input. Made on first use, not at import: most processes never need it."""
    return b" " * (MAX_PAYLOAD_BYTES + 1)
