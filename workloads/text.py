"""``text``: tokenize and classify a batch of UTF-8 documents (SPEC PLACEHOLDER)."""

from __future__ import annotations

import math

from hybridbench.errors import VerificationError
from hybridbench.workload import SizePreset, Workload
from hybridbench.workloads import text_corpus, text_fast
from hybridbench.workloads import text_rules as rules

# name -> (documents, mean words per document)
_SIZES = {"1doc": (1, 40), "16docs": (16, 300), "128docs": (128, 300), "2048docs": (2048, 300)}
SCORE_TOLERANCE = 1e-9

# -- the reference engine: the specification, step by step, in plain Python ---------------------


def tokens(text: str) -> list[str]:
    """The normalised tokens of ``text``, in order."""
    classes = rules.class_table()
    table = rules.case_map()
    found: list[str] = []
    word: list[str] = []
    for char in text:
        code = ord(char)
        cls = classes[code]
        if cls == rules.WORD:
            word.append(chr(table.get(code, code)))
            continue
        if word:
            found.append("".join(word))
            word = []
        if cls == rules.ISOLATED:
            found.append(chr(table.get(code, code)))
    if word:
        found.append("".join(word))
    return found


def classify(document_tokens: list[str]) -> bytes:
    """The output record of one document."""
    weights = rules.model_weights()
    sums = [0] * rules.CATEGORIES
    digest = 0
    for position, token in enumerate(document_tokens, start=1):
        h = rules.fnv1a64(token.encode("utf-8"))
        digest = (digest + rules.digest_term(h, position)) & rules.MASK64
        row = (h % rules.BUCKETS) * rules.CATEGORIES
        for category in range(rules.CATEGORIES):
            sums[category] += weights[row + category]
    count = len(document_tokens)
    n = max(count, 1)
    top = sorted(range(rules.CATEGORIES), key=lambda c: (-sums[c], c))[:rules.TOP_K]
    scores = [sums[c] / (rules.WEIGHT_SCALE * n) for c in top]  # exact int / int, rounded once
    logits = [s / (rules.LOGIT_SCALE * math.sqrt(n)) for s in sums]
    best = max(logits)
    confidence = 1.0 / sum(math.exp(z - best) for z in logits)
    return rules.OUT_RECORD.pack(digest, count, *top, 0, *scores, confidence)


def reference(payload: bytes) -> bytes:
    documents = rules.split_documents(payload)
    texts = [rules.decode(i, document) for i, document in enumerate(documents)]
    records = [classify(tokens(text)) for text in texts]
    header = rules.OUT_HEADER.pack(rules.MAGIC_OUT, rules.VERSION, rules.TOP_K, len(records),
                                   rules.CATEGORIES)
    return header + b"".join(records)


# -- verification -------------------------------------------------------------------------------


def decode_output(output: bytes, what: str) -> list[tuple]:
    """The records of an output body (digest, count, *categories, pad, *scores, confidence)."""
    if len(output) < rules.OUT_HEADER.size:
        raise VerificationError(f"text: {what} is {len(output)} bytes, shorter than the header")
    magic, version, top_k, count, categories = rules.OUT_HEADER.unpack_from(output)
    if (magic, version, top_k, categories) != (rules.MAGIC_OUT, rules.VERSION, rules.TOP_K,
                                               rules.CATEGORIES):
        raise VerificationError(f"text: {what} has a wrong header "
                                f"{(magic, version, top_k, categories)}")
    if len(output) != rules.OUT_HEADER.size + count * rules.OUT_RECORD.size:
        raise VerificationError(f"text: {what} is {len(output)} bytes, not the header and "
                                f"{count} records")
    return list(rules.OUT_RECORD.iter_unpack(output[rules.OUT_HEADER.size:]))


def compare_records(got: tuple, want: tuple, index: int) -> None:
    where = f"text: document {index}"
    k = rules.TOP_K
    if got[0] != want[0] or got[1] != want[1]:
        raise VerificationError(f"{where}: tokens differ (count {got[1]}, digest {got[0]:#x}; "
                                f"expected count {want[1]}, digest {want[0]:#x})")
    if got[2:2 + k] != want[2:2 + k]:
        raise VerificationError(f"{where}: top categories {list(got[2:2 + k])}, "
                                f"expected {list(want[2:2 + k])}")
    fields = [f"score {i}" for i in range(k)] + ["confidence"]
    for name, g, w in zip(fields, got[3 + k:], want[3 + k:], strict=True):
        if not math.isclose(g, w, rel_tol=SCORE_TOLERANCE, abs_tol=SCORE_TOLERANCE):
            raise VerificationError(f"{where}: {name} is {g!r}, expected {w!r}")


class TextWorkload(Workload):
    name = "text"
    summary = "tokenize UTF-8 documents, hash features, top-5 categories of a linear model"
    sizes = tuple(SizePreset(name, f"{docs} document{'s' * (docs > 1)} of ~{words} words")
                  for name, (docs, words) in _SIZES.items())
    default_size = "128docs"
    rank = 5

    def generate(self, size: str, seed: int) -> bytes:
        count, words = _SIZES[size]
        return rules.encode_batch(text_corpus.documents(count, words, f"text/{size}/{seed}"))

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def fast(self, payload: bytes) -> bytes:
        return text_fast.run(payload)

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        want = decode_output(expected, "the reference output")
        got = decode_output(output, "the output")
        if len(got) != len(want):
            raise VerificationError(f"text: {len(got)} records, expected {len(want)}")
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            compare_records(g, w, index)


WORKLOAD = TextWorkload()
