"""The ``text`` workload's rules as data: framing, character classes, case map, hash, model.

Everything here is written out in the specification (``workloads/text.py``'s docstring); the
Python engines (``text.reference``, ``text_fast``) share it, and the Rust and Go kernels copy the
same tables. Nothing here depends on the interpreter's Unicode database.
"""

from __future__ import annotations

import functools
import struct
from array import array

from hybridbench.errors import WorkloadError
from hybridbench.limits import check_payload_size

# -- framing ----------------------------------------------------------------------------------

MAGIC_IN = b"HBTX"
MAGIC_OUT = b"HBTC"
VERSION = 1
HEADER = struct.Struct("<4sHHI")  # magic, version, flags, document count
MAX_DOCUMENTS = 65536

TOP_K = 5
OUT_HEADER = struct.Struct("<4sHHII")  # magic, version, top-k, documents, categories
OUT_RECORD = struct.Struct("<QI5HH5dd")  # digest, count, categories, pad, scores, confidence


def fail(message: str) -> WorkloadError:
    return WorkloadError(f"text: {message}")


def split_documents(payload: bytes) -> list[memoryview]:
    """Check the framing (in the specification's order) and return the documents' bytes."""
    check_payload_size("text", len(payload))
    if len(payload) < HEADER.size:
        raise fail(f"{len(payload)} bytes is shorter than the 12-byte header")
    magic, version, flags, count = HEADER.unpack_from(payload)
    if magic != MAGIC_IN:
        raise fail(f"bad magic {magic.hex()}, expected {MAGIC_IN.hex()} (\"HBTX\")")
    if version != VERSION:
        raise fail(f"unsupported version {version}, expected {VERSION}")
    if flags != 0:
        raise fail(f"flags are {flags}, expected 0")
    if count > MAX_DOCUMENTS:
        raise fail(f"{count} documents exceed the limit of {MAX_DOCUMENTS} per batch")
    body = HEADER.size + 4 * count
    if len(payload) < body:
        raise fail(f"{len(payload)} bytes cannot hold the length table of {count} documents "
                   f"({body} bytes)")
    lengths = struct.unpack_from(f"<{count}I", payload, HEADER.size)
    expected = body + sum(lengths)
    if len(payload) != expected:
        raise fail(f"expected {expected} bytes for {count} documents of {expected - body} "
                   f"bytes in all, got {len(payload)}")
    view = memoryview(payload)
    documents = []
    for length in lengths:
        documents.append(view[body:body + length])
        body += length
    return documents


def decode(index: int, document: memoryview | bytes) -> str:
    """The document as text; invalid UTF-8 is an error naming the document and the byte."""
    try:
        return str(document, "utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"document {index} is not valid UTF-8 at byte {exc.start}") from None


def encode_batch(documents: list[bytes]) -> bytes:
    """The request body for ``documents`` (raw bytes: nothing is checked here)."""
    head = HEADER.pack(MAGIC_IN, VERSION, 0, len(documents))
    return b"".join([head, struct.pack(f"<{len(documents)}I", *map(len, documents)), *documents])


# -- character classes (of code points, inclusive ranges) --------------------------------------

SEPARATOR, WORD, ISOLATED = 0, 1, 2

WORD_RANGES: tuple[tuple[int, int], ...] = (
    (0x0030, 0x0039), (0x0041, 0x005A), (0x0061, 0x007A),                  # ASCII digits, letters
    (0x00C0, 0x00D6), (0x00D8, 0x00F6), (0x00F8, 0x02AF),                  # Latin-1, Ext-A/B, IPA
    (0x0300, 0x036F),                                                      # combining diacritics
    (0x0370, 0x0373), (0x0376, 0x0377), (0x037B, 0x037D), (0x037F, 0x037F),  # Greek
    (0x0386, 0x0386), (0x0388, 0x038A), (0x038C, 0x038C), (0x038E, 0x03A1),
    (0x03A3, 0x03FF),
    (0x0400, 0x0481), (0x0483, 0x052F),                                    # Cyrillic
    (0x0531, 0x0556), (0x0561, 0x0587),                                    # Armenian
    (0x0591, 0x05BD), (0x05BF, 0x05BF), (0x05C1, 0x05C2), (0x05C4, 0x05C5),  # Hebrew
    (0x05C7, 0x05C7), (0x05D0, 0x05EA),
    (0x0620, 0x0669), (0x066E, 0x06D3),                                    # Arabic
    (0x0900, 0x0963), (0x0966, 0x097F),                                    # Devanagari
    (0x0E01, 0x0E3A), (0x0E40, 0x0E4E), (0x0E50, 0x0E59),                  # Thai
    (0x1100, 0x11FF),                                                      # Hangul Jamo
    (0x1E00, 0x1EFF),                                                      # Latin Ext. Additional
    (0x3041, 0x3096), (0x3099, 0x309A), (0x309D, 0x309F),                  # Hiragana
    (0x30A1, 0x30FA), (0x30FC, 0x30FF),                                    # Katakana
    (0xAC00, 0xD7A3),                                                      # Hangul syllables
    (0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),                  # fullwidth alnum
)

ISOLATED_RANGES: tuple[tuple[int, int], ...] = (
    (0x2600, 0x27BF),                                  # Misc Symbols, Dingbats
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),  # CJK ideographs
    (0x1F1E6, 0x1F1FF),                                # regional indicators (flags)
    (0x1F300, 0x1F6FF), (0x1F900, 0x1FAFF),            # emoji and pictographs
    (0x20000, 0x3134F),                                # CJK ideographs, planes 2 and 3
)


# -- normalisation: one code point to one code point --------------------------------------------

FULLWIDTH = (0xFF01, 0xFF5E, -0xFEE0)  # fullwidth ASCII forms to ASCII, before the case rules

# (first, last, which code points, offset): "all", "even" or "odd" code points in the range
# map to themselves plus the offset; every other code point is unchanged.
CASE_RULES: tuple[tuple[int, int, str, int], ...] = (
    (0x0041, 0x005A, "all", 0x20),
    (0x00C0, 0x00D6, "all", 0x20), (0x00D8, 0x00DE, "all", 0x20),
    (0x0100, 0x012F, "even", 1), (0x0130, 0x0130, "all", 0x0069 - 0x0130),
    (0x0132, 0x0137, "even", 1), (0x0139, 0x0148, "odd", 1), (0x014A, 0x0177, "even", 1),
    (0x0178, 0x0178, "all", 0x00FF - 0x0178), (0x0179, 0x017E, "odd", 1),
    (0x0386, 0x0386, "all", 0x26), (0x0388, 0x038A, "all", 0x25), (0x038C, 0x038C, "all", 0x40),
    (0x038E, 0x038F, "all", 0x3F), (0x0391, 0x03A1, "all", 0x20), (0x03A3, 0x03AB, "all", 0x20),
    (0x03C2, 0x03C2, "all", 1),
    (0x0400, 0x040F, "all", 0x50), (0x0410, 0x042F, "all", 0x20),
    (0x0460, 0x0481, "even", 1), (0x048A, 0x04BF, "even", 1), (0x04C0, 0x04C0, "all", 0x0F),
    (0x04C1, 0x04CE, "odd", 1), (0x04D0, 0x052F, "even", 1),
    (0x0531, 0x0556, "all", 0x30),
    (0x1E00, 0x1E95, "even", 1), (0x1E9E, 0x1E9E, "all", 0x00DF - 0x1E9E),
    (0x1EA0, 0x1EFF, "even", 1),
)


def _rule_applies(code: int, which: str) -> bool:
    return which == "all" or (code % 2 == 0) == (which == "even")


@functools.cache
def case_map() -> dict[int, int]:
    """Every code point the normalisation changes, to what it becomes (a ``str.translate``
    table): fullwidth folding composed with the case rules."""
    mapping: dict[int, int] = {}
    for first, last, which, offset in CASE_RULES:
        for code in range(first, last + 1):
            if _rule_applies(code, which):
                mapping[code] = code + offset
    first, last, offset = FULLWIDTH
    for code in range(first, last + 1):
        folded = code + offset
        mapping[code] = mapping.get(folded, folded)
    return mapping


@functools.cache
def class_table() -> bytes:
    """The class of every code point, indexed by code point (0x110000 entries)."""
    table = bytearray(0x110000)
    for ranges, cls in ((WORD_RANGES, WORD), (ISOLATED_RANGES, ISOLATED)):
        for first, last in ranges:
            table[first:last + 1] = bytes([cls]) * (last + 1 - first)
    return bytes(table)


def char_class_pattern(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regular-expression character class (without brackets) matching ``ranges``."""
    def escape(code: int) -> str:
        return f"\\U{code:08x}"
    return "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges)


# -- hashing and the model ----------------------------------------------------------------------

MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
GOLDEN = 0x9E3779B97F4A7C15
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB

BUCKETS = 8192  # 2**13: bucket = hash mod BUCKETS
CATEGORIES = 32
MODEL_SEED = 0x7E47C1A551F1E5ED
WEIGHT_SCALE = 32768  # weights are int16: score = sum / (WEIGHT_SCALE * max(n, 1))
LOGIT_SCALE = 8192.0  # logit = sum / (LOGIT_SCALE * sqrt(max(n, 1)))


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def mix64(z: int) -> int:
    """splitmix64's output function (the finaliser)."""
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def digest_term(token_hash: int, position: int) -> int:
    """What token number ``position`` (from 1) adds to its document's digest (mod 2**64)."""
    return mix64((token_hash + position * GOLDEN) & MASK64)


@functools.cache
def model_weights() -> array:
    """The pre-loaded model: BUCKETS * CATEGORIES int16 weights, row by bucket.

    splitmix64 output ``k`` (from 0) is ``mix64(MODEL_SEED + (k + 1) * GOLDEN)``; it supplies
    weights ``4k .. 4k+3``, its four 16-bit lanes from least significant, read as two's
    complement. Computed once per process (~0.1 s in plain Python).
    """
    count = BUCKETS * CATEGORIES // 4
    words = [mix64((MODEL_SEED + k * GOLDEN) & MASK64) for k in range(1, count + 1)]
    lanes = struct.pack(f"<{count}Q", *words)
    return array("h", struct.unpack(f"<{4 * count}h", lanes))
