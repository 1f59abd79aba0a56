r"""``text``: tokenize a batch of UTF-8 documents and classify each with a linear model.

This docstring is the specification. Every engine (Python, Rust, Go, anything plugged in)
computes exactly this; the tables it names are in ``workloads/text_rules.py`` and are copied
verbatim into ``native/kernels/src/text/tables.rs`` and ``go/kernels/text/tables.go``. Nothing
depends on a language's Unicode database: Python 3.11, Rust's ``std`` and Go's ``unicode``
package carry different Unicode versions and special cases (final sigma, Turkish dotted I,
``ß``), so ``str.lower``, ``to_lowercase`` and ``strings.ToLower`` are not used. All integers
are little-endian; floats are IEEE-754 binary64.

Input: a batch of documents
---------------------------
====== ====== ===========================================================================
offset size   field
====== ====== ===========================================================================
0      4      magic ``b"HBTX"``
4      2      version, u16, = 1
6      2      flags, u16, = 0
8      4      ``n``: number of documents, u32, at most 65536 (0 is allowed)
12     4n     the documents' lengths in bytes, u32 each
12+4n  ...    the documents' bytes, concatenated in order, nothing between them
====== ====== ===========================================================================

Why binary framing and not JSON: a document must reach the tokenizer as the bytes it was sent,
invalid UTF-8 included (JSON would reject it at parse time, or carry it as ``\u`` escapes that
each parser treats differently), and a JSON parser would otherwise be much of the work of an
engine whose subject is tokenization. The framing costs 4 bytes per document and every engine
slices documents out of the body without copying.

Errors
------
A ``WorkloadError`` (``InvalidInput`` in Rust and Go) whose message is exactly the one below, so
that every engine rejects the same input with the same words. Checks run in this order and the
first that fails is reported (``X`` is a number in decimal):

1. body above 64 MiB: ``text: payload of X bytes exceeds the limit of 67108864 bytes (64 MiB)``
2. fewer than 12 bytes: ``text: X bytes is shorter than the 12-byte header``
3. magic: ``text: bad magic HHHHHHHH, expected 48425458 ("HBTX")`` (the 4 bytes in lowercase hex)
4. version: ``text: unsupported version X, expected 1``
5. flags: ``text: flags are X, expected 0``
6. ``n`` above 65536: ``text: X documents exceed the limit of 65536 per batch``
7. no room for the lengths: ``text: X bytes cannot hold the length table of N documents
   (T bytes)`` with ``T = 12 + 4n``
8. length: ``text: expected E bytes for N documents of S bytes in all, got X`` where ``S`` is
   the sum of the lengths and ``E = 12 + 4n + S`` (the body must be exactly ``E`` bytes)
9. then document by document, in order: a document that is not valid UTF-8 (RFC 3629: no
   overlong forms, no surrogates U+D800-U+DFFF, nothing above U+10FFFF, no truncated
   sequence) is ``text: document I is not valid UTF-8 at byte K``: ``I`` counts documents
   from 0 and ``K`` is the length of the document's longest valid prefix (Python's
   ``UnicodeDecodeError.start``, Rust's ``Utf8Error::valid_up_to``, the offset where Go's
   ``utf8.DecodeRune`` first returns ``RuneError`` of size 1). Only the first invalid document
   is reported. Empty documents are valid.

Normalisation and tokens
------------------------
A document is a sequence of code points. Each code point has a *class*, given by explicit
inclusive ranges: ``WORD_RANGES`` (ASCII digits and letters; Latin-1 letters, Latin
Extended-A and -B and IPA; combining diacritical marks U+0300-U+036F; Greek, Cyrillic,
Armenian, Hebrew and Arabic letters and marks, Arabic-Indic digits; Devanagari; Thai; Hangul
Jamo and syllables; Latin Extended Additional; Hiragana and Katakana; fullwidth digits and
letters), ``ISOLATED_RANGES`` (CJK ideographs U+3400-U+4DBF, U+4E00-U+9FFF, U+F900-U+FAFF,
U+20000-U+3134F; symbols and dingbats U+2600-U+27BF; regional indicators U+1F1E6-U+1F1FF;
emoji U+1F300-U+1F6FF and U+1F900-U+1FAFF), and *separator* for every other code point
(ASCII punctuation, space and controls, NUL, ``_``, ``'``, ZWJ U+200D, direction marks,
variation selectors, the BOM, U+FFFD, everything unlisted).

*Tokens*: a maximal run of WORD code points is one token; an ISOLATED code point is a token by
itself (so ``東京`` is two tokens and ``👩‍💻`` is ``👩`` and ``💻``: the ZWJ separates);
separators only separate. Combining marks are WORD code points like any other, so ``e`` +
U+0301 is a two-code-point token and differs from ``é`` (U+00E9): there is no Unicode
normalisation (NFC/NFKC), only the mapping below.

*Normalisation* maps each code point of a token to one code point: first fullwidth ASCII forms
U+FF01-U+FF5E become ASCII (minus 0xFEE0), then the case rules ``CASE_RULES`` apply, each
a range, a selector (all, even or odd code points of the range) and an offset added to the
selected code points; code points no rule selects are unchanged. In words: ASCII A-Z, Latin-1
capitals (not U+00D7), Latin Extended-A pairs, U+0130 ``İ`` -> ``i`` (one code point, no
combining dot), U+0178 ``Ÿ`` -> ``ÿ``; Greek capitals (accented ones included), and final
sigma ``ς`` -> ``σ``, so ``Σ``, ``σ`` and ``ς`` are one letter; Cyrillic capitals and pairs;
Armenian capitals; Latin Extended Additional pairs and U+1E9E ``ẞ`` -> ``ß``. Dotless ``ı``,
``ß``, Latin Extended-B (``ǅ``), Greek Extended, and everything else stay as they are. No rule
changes a code point's class, so an engine may tokenize first and normalise each token.

Features and the model
----------------------
* token hash ``h`` = FNV-1a 64 of the normalised token's UTF-8 bytes (offset basis
  0xCBF29CE484222325, prime 0x100000001B3, arithmetic mod 2**64);
* bucket = ``h mod 8192``;
* the model: 8192 x 32 int16 weights ``W[bucket][category]`` (row-major: weight index
  ``32 * bucket + category``), derived at start-up from splitmix64: with
  ``mix64(z) = z3`` where ``z1 = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9``,
  ``z2 = (z1 ^ (z1 >> 27)) * 0x94D049BB133111EB``, ``z3 = z2 ^ (z2 >> 31)`` (mod 2**64),
  output ``k = 0, 1, ...`` is ``mix64(0x7E47C1A551F1E5ED + (k + 1) * 0x9E3779B97F4A7C15)`` and
  gives weights ``4k .. 4k+3``: its four 16-bit lanes from the least significant, each read as
  a two's-complement int16. Computed once per process, not per call (the "pre-loaded model";
  about 0.2 s in plain Python, microseconds in Rust and Go);
* per document with tokens ``t_1 .. t_n``: ``s_c = sum of W[bucket(t_i)][c]`` over the tokens,
  an exact integer (|s_c| < 2**41 for any body that fits the limit).

Output
------
Header of 16 bytes: magic ``b"HBTC"``, u16 version = 1, u16 top-k = 5, u32 number of
documents, u32 categories = 32. Then one 72-byte record per document, in input order::

    0  u64 token digest     8  u32 token count n     12  5 x u16 categories, best first
    22 u16 zero             24 5 x f64 scores        64  f64 confidence

* token digest = ``sum over i = 1..n of mix64(h_i + i * 0x9E3779B97F4A7C15)`` mod 2**64: a
  fingerprint of the exact token sequence (order included), so engines can be checked to
  agree on the tokens byte for byte without shipping them;
* categories: the 5 categories with the largest ``s_c``, larger first, equal sums in
  ascending category order (an empty document: 0, 1, 2, 3, 4);
* score of category ``c`` = ``s_c / (32768 * max(n, 1))``: the quotient of two integers, both
  exact in binary64, so one IEEE division gives the same bits everywhere;
* confidence = the softmax probability of the best category over all 32:
  ``1 / sum over c of exp(z_c - z_best)`` with ``z_c = s_c / (8192 * sqrt(max(n, 1)))`` in
  binary64 (an empty document: 1/32).

Verification
------------
Header equal; per document the token count and digest equal, the categories equal in order,
the scores and the confidence equal to a relative or absolute 1e-9 (``exp`` differs between
libms in the last bit; the built-in engines agree on everything else bit for bit).

Sizes
-----
``1doc`` (one document of ~40 words), ``16docs``, ``64docs`` (the default), ``1024docs``
(documents of ~300 words, ~1.4 KiB, log-normally spread). Generated prose: an invented
Latin-script vocabulary drawn with Zipf frequencies, with about 6% of words from a list of
awkward ones (Greek with final sigma, Turkish I, ``ß``/``ẞ``, Cyrillic, RTL Hebrew and Arabic
with direction marks, CJK, kana, Hangul, emoji sequences, fullwidth forms, decomposed
accents). The default is the size at which the ``fast`` Python engine (``inproc``) takes
about 15 ms per call, the figure of the articles ("each classification takes 15 ms"):
15.4 ms of CPU per call for ``64docs`` (93,815 bytes), measured with
``time.process_time`` over 10 calls on the 2-vCPU development VM while it was shared
(load ~9); the plain-Python ``reference`` (``inproc-pure``) took 126 ms, about 8x more.

Engines
-------
``reference``: the rules above, step by step, in plain standard-library Python.
``fast`` (``inproc``, ``grpc-py``): a precompiled regular expression over the classes, each
distinct token of a call normalised and hashed once (FNV-1a vectorised with numpy), the sums
as a sparse bag-of-buckets matrix times the model (scipy; exact in float64), numpy for the
rest. ``best`` (``inproc-best``): the same in numpy over the batch's code points, with no
Python string per token (``workloads/text_best.py``). Rust (``ffi``, ``grpc``) and Go: one
pass over each document's bytes, hashing while reading, with the tables built once per process.
"""

from __future__ import annotations

import math

from hybridbench.errors import VerificationError
from hybridbench.limits import oversized_body
from hybridbench.workload import BadInput, SizePreset, Workload
from hybridbench.workloads import text_corpus
from hybridbench.workloads import text_rules as rules

# name -> (documents, mean words per document)
_SIZES = {"1doc": (1, 40), "16docs": (16, 300), "64docs": (64, 300), "1024docs": (1024, 300)}
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
    default_size = "64docs"
    rank = 5
    published_language_ratio = "the articles report tokenization 5.2x slower in Go than in Rust"
    best_engine = "numpy over code points: the spec's tables as arrays, no Python str per token"

    def generate(self, size: str, seed: int) -> bytes:
        count, words = _SIZES[size]
        return rules.encode_batch(text_corpus.documents(count, words, f"text/{size}/{seed}"))

    def bad_inputs(self) -> list[BadInput]:
        good = rules.encode_batch([b"one", "deux \u00e9".encode(), b""])
        too_many = good[:8] + (rules.MAX_DOCUMENTS + 1).to_bytes(4, "little") + good[12:]
        return [
            ("text-short", b"HBTX", r"shorter than the 12-byte header"),
            ("text-bad-magic", b"XXXX" + good[4:], r"bad magic 58585858"),
            ("text-bad-version", good[:4] + b"\x02" + good[5:], r"unsupported version 2"),
            ("text-too-many-documents", too_many, r"65537 documents exceed the limit"),
            ("text-truncated", good[:-1], r"expected \d+ bytes for 3 documents"),
            ("text-invalid-utf8", rules.encode_batch([b"ok", b"fine \xc3(", b"\xff"]),
             r"document 1 is not valid UTF-8 at byte 5"),
            ("text-lone-surrogate", rules.encode_batch([b"a \xed\xa0\x80"]),
             r"document 0 is not valid UTF-8 at byte 2"),
            ("text-oversized", oversized_body(), r"limit"),
        ]

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def fast(self, payload: bytes) -> bytes:
        # imported on first use: numpy and scipy.sparse cost every process that lists the
        # workloads (the CLI, every worker, inproc-pure) half a second or more
        from hybridbench.workloads import text_fast

        return text_fast.run(payload)

    def best(self, payload: bytes) -> bytes:
        from hybridbench.workloads import text_best  # numpy and the 5.6 MB tables, on first use

        return text_best.run(payload)

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        want = decode_output(expected, "the reference output")
        got = decode_output(output, "the output")
        if len(got) != len(want):
            raise VerificationError(f"text: {len(got)} records, expected {len(want)}")
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            compare_records(g, w, index)


WORKLOAD = TextWorkload()
