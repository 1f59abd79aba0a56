"""The ``text`` workload's fast Python engine (what ``inproc`` and ``grpc-py`` run).

Idiomatic fast Python: one precompiled regular expression finds the tokens of a document (the
character classes of the specification, as ``re`` character sets), each *distinct* token of the
call is normalised, encoded and hashed once (FNV-1a vectorised over the distinct tokens with
numpy), and the scores, digests, top 5 and confidences are numpy array operations over every
token of the batch. Nothing is kept between calls but the model and the compiled expression:
a cache of token hashes across calls would make a benchmark that repeats one payload free.
"""

from __future__ import annotations

import functools
import re
from itertools import chain

import numpy as np
from scipy import sparse

from hybridbench.workloads import text_rules as rules

# Tokens of at most this many bytes are hashed together in a (length x tokens) byte matrix;
# longer ones (rare in prose) one at a time, so that a huge token costs no huge matrix.
_MATRIX_WIDTH = 48

_U64 = np.uint64
_OUT_DTYPE = np.dtype([("digest", "<u8"), ("count", "<u4"), ("categories", "<u2", rules.TOP_K),
                       ("pad", "<u2"), ("scores", "<f8", rules.TOP_K), ("confidence", "<f8")])
assert _OUT_DTYPE.itemsize == rules.OUT_RECORD.size


@functools.cache
def _token_pattern() -> re.Pattern[str]:
    word = rules.char_class_pattern(rules.WORD_RANGES)
    isolated = rules.char_class_pattern(rules.ISOLATED_RANGES)
    return re.compile(f"[{word}]+|[{isolated}]")


@functools.cache
def _model() -> np.ndarray:
    """The weights as a (buckets, categories) matrix (the same integers as the reference)."""
    return np.asarray(rules.model_weights(), dtype=np.float64).reshape(
        rules.BUCKETS, rules.CATEGORIES)


@functools.cache
def _mapped_non_ascii() -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern for the non-ASCII code points the normalisation changes, and their images."""
    table = {chr(a): chr(b) for a, b in rules.case_map().items() if a > 0x7F}
    ranges = tuple((ord(c), ord(c)) for c in sorted(table))
    return re.compile(f"[{rules.char_class_pattern(ranges)}]"), table


def _normalised_utf8(tokens: list[str]) -> np.ndarray:
    """The normalised tokens' UTF-8 bytes, each followed by a NUL (never part of a token)."""
    joined = "\0".join(tokens) + "\0"
    if not joined.isascii():
        pattern, table = _mapped_non_ascii()
        joined = pattern.sub(lambda m: table[m.group()], joined)
    # bytes.lower changes A-Z only, which in UTF-8 are never part of a multi-byte sequence
    return np.frombuffer(joined.encode().lower(), dtype=np.uint8)


def fnv1a64_many(tokens: list[str]) -> np.ndarray:
    """FNV-1a 64 of every normalised token."""
    if not tokens:
        return np.zeros(0, dtype=_U64)
    return fnv1a64_separated(_normalised_utf8(tokens))


def fnv1a64_separated(data: np.ndarray) -> np.ndarray:
    """FNV-1a 64 of every token of ``data`` (UTF-8 bytes, each token followed by a NUL): byte
    column by byte column over the tokens sorted longest first, so that the tokens still being
    hashed at column ``j`` are a prefix."""
    ends = np.flatnonzero(data == 0)
    starts = np.empty_like(ends)
    starts[0:1] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    hashes = np.full(len(ends), rules.FNV_OFFSET, dtype=_U64)
    short = np.flatnonzero(lengths <= _MATRIX_WIDTH)
    if short.size:
        order = short[np.argsort(-lengths[short], kind="stable")]
        width = int(lengths[order[0]])
        # active[j]: how many of the sorted tokens are longer than j bytes
        active = np.searchsorted(-lengths[order], -np.arange(width), side="left")
        h = hashes[order]
        at = starts[order]
        prime = _U64(rules.FNV_PRIME)
        for j in range(width):
            k = active[j]
            h[:k] = (h[:k] ^ data[at[:k] + j]) * prime
        hashes[order] = h
    for i in np.flatnonzero(lengths > _MATRIX_WIDTH):
        hashes[i] = rules.fnv1a64(data[starts[i]:ends[i]].tobytes())
    return hashes


def _mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _U64(30))) * _U64(rules.MIX1)
    z = (z ^ (z >> _U64(27))) * _U64(rules.MIX2)
    return z ^ (z >> _U64(31))


def _segment_sums(values: np.ndarray, counts: np.ndarray, dtype: type) -> np.ndarray:
    """Per-document sums of consecutive rows of ``values`` (``counts[d]`` rows for document
    ``d``; empty documents sum to 0)."""
    out = np.zeros((len(counts), *values.shape[1:]), dtype=dtype)
    nonempty = counts > 0
    if values.shape[0]:
        starts = (np.cumsum(counts) - counts)[nonempty]
        out[nonempty] = np.add.reduceat(values, starts, axis=0, dtype=dtype)
    return out


def _token_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every token of the batch, in order, and each document's token count. Text
    has few distinct words (Zipf): each distinct token is normalised and hashed once."""
    per_document = [_token_pattern().findall(text) for text in texts]
    counts = np.fromiter(map(len, per_document), dtype=np.int64, count=len(per_document))
    tokens = list(chain.from_iterable(per_document))
    distinct = list(dict.fromkeys(tokens))
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    ids = np.fromiter(map(index.__getitem__, tokens), dtype=np.intp, count=len(tokens))
    return fnv1a64_many(distinct)[ids], counts


def _category_sums(buckets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per document, the sum of its tokens' weight rows: a (documents x buckets) matrix of
    bucket counts times the model. In float64 this is exact: every partial sum is an integer
    below 2**53."""
    indptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    bag = sparse.csr_matrix((np.ones(len(buckets)), buckets, indptr),
                            shape=(len(counts), rules.BUCKETS))
    return (bag @ _model()).astype(np.int64)


def run(payload: bytes) -> bytes:
    documents = rules.split_documents(payload)
    texts = [rules.decode(i, document) for i, document in enumerate(documents)]
    return records(*_token_hashes(texts))


def records(hashes: np.ndarray, counts: np.ndarray) -> bytes:
    """The output body from every token's hash, in order, and each document's token count."""
    positions = np.arange(1, len(hashes) + 1, dtype=np.int64)
    positions -= np.repeat(np.cumsum(counts) - counts, counts)
    digests = _segment_sums(_mix64(hashes + positions.astype(_U64) * _U64(rules.GOLDEN)),
                            counts, _U64)
    buckets = (hashes & _U64(rules.BUCKETS - 1)).astype(np.intp)
    sums = _category_sums(buckets, counts)

    top = np.argsort(-sums, axis=1, kind="stable")[:, :rules.TOP_K]
    n = np.maximum(counts, 1)
    logits = sums / (rules.LOGIT_SCALE * np.sqrt(n))[:, None]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))

    out = np.zeros(len(counts), dtype=_OUT_DTYPE)
    out["digest"] = digests
    out["count"] = counts
    out["categories"] = top
    out["scores"] = np.take_along_axis(sums, top, axis=1) / (rules.WEIGHT_SCALE * n)[:, None]
    out["confidence"] = 1.0 / shifted.sum(axis=1)
    header = rules.OUT_HEADER.pack(rules.MAGIC_OUT, rules.VERSION, rules.TOP_K, len(counts),
                                   rules.CATEGORIES)
    return header + out.tobytes()
