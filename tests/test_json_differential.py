"""Differential test of the JSON engines: mutated documents, every engine, the same verdict.

The tuned Rust kernel parses JSON with its own scanner, the idiomatic one with serde_json and
the Go one with jsontext, so all are
checked against the reference on thousands of near-valid inputs (deterministic mutations of a
generated document): each engine
must either reject the input with ``WorkloadError`` or produce an answer the reference
verifier accepts, and all must agree on which.
"""

from __future__ import annotations

import random

import pytest

import hybridbench
from hybridbench import WorkloadError, testing
from hybridbench.registry import unavailable_reason

SIGNIFICANT = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"-", b"0", b"9", b".", b"e",
               b"E", b"+", b"n", b"t", b"f", b"u", b" ", b"\x00", b"\xff", b"\xc3", b"1e400",
               b"\\ud800", b"NaN", b"true", b"null", b"[[[", b"]]]"]
ENGINES = [b for b in ("inproc", "inproc-best", "ffi", "ffi-idiomatic", "grpc", "grpc-go",
                        "grpc-go-best", "grpc-go-cgo")
           if not unavailable_reason(b)]


def outcome(backend, payload: bytes) -> str:
    try:
        output = backend.run("json", payload)
    except WorkloadError:
        return "rejected"
    try:
        hybridbench.verify("json", payload, output)
    except WorkloadError:
        return "accepted (the reference rejects it)"
    except AssertionError as exc:
        return f"wrong answer: {exc}"
    return "accepted"


@pytest.mark.slow
@pytest.mark.skipif(len(ENGINES) < 2, reason="needs a native engine to compare")
def test_engines_agree_on_mutated_documents() -> None:
    base = hybridbench.make_input("json", "1KB")
    rng = random.Random(20261121)
    backends = {name: hybridbench.open_backend(name) for name in ("inproc-pure", *ENGINES)}
    disagreements = []
    try:
        for backend in backends.values():
            backend.start()
        for case in range(3000):
            payload = testing.mutate(base, rng, SIGNIFICANT)
            verdicts = {name: outcome(b, payload) for name, b in backends.items()}
            if len(set(verdicts.values())) > 1:
                disagreements.append((case, payload, verdicts))
    finally:
        for backend in backends.values():
            backend.stop()
    assert not disagreements, "\n".join(f"case {c}: {v}\n  {p[:300]!r}"
                                        for c, p, v in disagreements[:5])
