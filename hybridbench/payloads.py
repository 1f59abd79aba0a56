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


#: ``hybridbench payload --format``: what other load generators send
EXPORT_FORMATS = ("raw", "proto", "json")


def export(workload: str, payload: bytes, form: str) -> bytes:
    """``payload`` as another load generator sends it to a hybridbench server.

    ``raw``: the body itself (HTTP tools, your own client). ``proto``: the serialized
    ``RunRequest`` message (ghz ``--binary-file``). ``json``: the ``RunRequest`` in protobuf's
    JSON mapping, bytes as base64 (ghz ``--data-file``, k6's ``client.invoke``).
    """
    if form == "raw":
        return payload
    if form == "proto":
        from hybridbench import wire

        return wire.encode_run_request(wire.run_request_prefix(workload), payload)
    if form == "json":
        import base64

        import orjson

        return orjson.dumps({"workload": workload, "data": base64.b64encode(payload).decode()})
    raise ValueError(f"unknown payload format {form!r}; choose from {', '.join(EXPORT_FORMATS)}")
