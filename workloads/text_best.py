"""The ``text`` workload's best Python engine (what ``inproc-best`` runs): numpy end to end.

``fast`` (``workloads/text_fast.py``) finds tokens with a compiled regular expression, one
Python string per token, and normalises and hashes each distinct token. Here no token is ever
a Python object: the batch's documents become one array of code points (``str.encode`` to
UTF-32), and the specification's tables become two arrays indexed by code point, built once
per process from ``text_rules`` (the class of every code point, 1.1 MB; its normalised code
point, 4.5 MB). Then, all vectorised:

* tokens: a WORD code point whose predecessor is not WORD starts a token, an ISOLATED one is
  a token by itself, separators only separate (the tables' classes, exactly);
* normalisation: one gather through the code point table;
* the tokens' UTF-8 bytes, each followed by a NUL: the normalised code points of every token,
  a NUL inserted after each, through ``decode("utf-32-le").encode()`` (one C pass each way);
* FNV-1a over those bytes byte column by byte column, every token at once
  (``text_fast.fnv1a64_separated``), and the per-document sums, digests, top 5 and confidences
  exactly as ``fast`` computes them (``text_fast.records``).

Documents are decoded (and rejected with the specification's messages) by the same
``text_rules`` functions as every Python engine, before any of this.

HuggingFace ``tokenizers`` was not tried: its pre-tokenizers split by the Unicode properties
of its own Unicode version (``\\p{L}``, ``\\p{N}``...) and normalise with its own tables, where
the specification fixes explicit code point ranges and case rules; none of its components
takes a code point table, so it cannot compute this specification.

Measured at ``64docs`` on the 2-vCPU machine shared with four other jobs, outputs
byte-identical. As it is now, interleaved with ``fast``, median process CPU time of 40 calls
(load ~5.2): ``fast`` 9.8 ms, this engine 4.6 ms (2.1x); placing the NULs between tokens by one
scatter instead of ``np.insert`` took 0.60 instead of 0.84 ms. Earlier (wall time, median of 25
calls, load ~5.5): ``fast`` (``inproc``: ``re``
with the tables as character classes, one ``findall`` per document, each distinct token
normalised and hashed once) 14.2 ms, this engine 6.9 ms (2.1x). In ``fast`` the regular
expression alone was 38% of the time (6.3 of 16.4 ms under cProfile) and building the distinct
tokens' index another 25%: both are gone here. The tables cost about 0.1 s once per process,
like the model.
"""

from __future__ import annotations

import functools

import numpy as np

from hybridbench.workloads import text_fast
from hybridbench.workloads import text_rules as rules

_CODE_POINTS = 0x110000


@functools.cache
def _class_of() -> np.ndarray:
    return np.frombuffer(rules.class_table(), dtype=np.uint8)


@functools.cache
def _normalised() -> np.ndarray:
    table = np.arange(_CODE_POINTS, dtype=np.uint32)
    mapping = rules.case_map()
    table[np.fromiter(mapping.keys(), dtype=np.int64)] = np.fromiter(mapping.values(),
                                                                     dtype=np.uint32)
    return table


def _code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every document's code points, a NUL (a separator) after each so that no token spans two
    documents, and where each document starts."""
    spans = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    joined = "\0".join(texts).encode("utf-32-le")
    return np.frombuffer(joined, dtype=np.uint32), np.cumsum(spans) - spans


def _tokens(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each token starts, how many code points it has, and which code points are in a
    token (every WORD and ISOLATED one)."""
    cls = _class_of()[points]
    word = cls == rules.WORD
    isolated = cls == rules.ISOLATED
    after_word = np.zeros_like(word)
    after_word[1:] = word[:-1]
    before_word = np.zeros_like(word)
    before_word[:-1] = word[1:]
    starts = np.flatnonzero(isolated | (word & ~after_word))
    ends = np.flatnonzero(isolated | (word & ~before_word)) + 1
    return starts, ends - starts, word | isolated


def _separated_utf8(points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The normalised tokens' UTF-8 bytes, each followed by a NUL (never part of a token);
    ``points`` are the code points of the tokens, one after the other."""
    characters = _normalised()[points]
    separated = np.zeros(len(characters) + len(lengths), dtype=np.uint32)
    # character i of token k moves k places right: one NUL after each of the tokens before it
    token_of = np.repeat(np.arange(len(lengths)), lengths)
    separated[np.arange(len(characters)) + token_of] = characters
    return np.frombuffer(separated.tobytes().decode("utf-32-le").encode(), dtype=np.uint8)


def run(payload: bytes) -> bytes:
    documents = rules.split_documents(payload)
    texts = [rules.decode(i, document) for i, document in enumerate(documents)]
    points, document_starts = _code_points(texts)
    starts, lengths, in_token = _tokens(points)
    hashes = text_fast.fnv1a64_separated(_separated_utf8(points[in_token], lengths))
    document_of = np.searchsorted(document_starts, starts, side="right") - 1
    counts = np.bincount(document_of, minlength=len(texts)).astype(np.int64)
    return text_fast.records(hashes, counts)
