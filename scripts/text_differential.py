"""Byte-for-byte differential of two C-ABI kernel libraries on the ``text`` workload.

    python scripts/text_differential.py OLD.so NEW.so [-n BATCHES] [--seed S]

A tuning step of the Rust text kernel must not change a single output byte, nor an error
message: this feeds both libraries the same batches (the generated corpus at every size,
random documents of odd Unicode and random code points from every class range and the gaps
between them, long tokens, empty documents, invalid UTF-8 and broken framing) and compares the
raw outputs, or the error messages, exactly. ``tests/test_text_differential.py`` checks each
engine against the Python reference (scores within the verifier's tolerance); this one is
stricter and needs no reference, so it runs many more batches.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

import hybridbench
from hybridbench.workloads import text_rules as rules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_library import KernelLibrary  # a sibling script, not a package

ODD = ["\u0301", "\u200d", "\u200f", "ς", "Σ", "İ", "ı", "Ａ", "！", "\x00", "👩\u200d💻",
       "🇫🇷", "東", "ẞ", "ß", "\ufeff", "\ufffd", "\U0010ffff", "ǅ", "Ω", "K", "ﬁ", " ", "'",
       "_", "\t", "\u00a0", "Ѐ", "Ӂ", "Ա", "ά", "ΐ", "ħ", "Ÿ", "ÿ", "×", "٣", "ก", "한", "ア"]
INVALID = [b"\xff", b"\x80", b"\xed\xa0\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
           b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf"]


def frame(documents: list[bytes]) -> bytes:
    head = b"HBTX" + struct.pack("<HHI", 1, 0, len(documents))
    return head + b"".join(struct.pack("<I", len(d)) for d in documents) + b"".join(documents)


def random_code_point(rng: random.Random) -> str:
    """A code point near or inside a class range (both ends and a step past them), or any."""
    ranges = rules.WORD_RANGES + rules.ISOLATED_RANGES
    if rng.random() < 0.8:
        first, last = rng.choice(ranges)
        code = rng.choice([first - 1, first, last, last + 1, rng.randint(first, last)])
    else:
        code = rng.randint(0, 0x10FFFF)
    if 0xD800 <= code <= 0xDFFF or code < 0 or code > 0x10FFFF:
        code = 0x41
    return chr(code)


def random_document(rng: random.Random, invalid: bool) -> bytes:
    kind = rng.random()
    parts: list[str] = []
    for _ in range(rng.randint(0, 200)):
        roll = rng.random()
        if roll < 0.4:
            parts.append("".join(rng.choice("abcdefXYZ019") for _ in range(rng.randint(1, 12))))
        elif roll < 0.6:
            parts.append(rng.choice(ODD))
        elif roll < 0.85:
            parts.append(random_code_point(rng))
        else:
            parts.append(rng.choice(" ,.;\n-'"))
    if kind < 0.05:
        parts.append("x" * rng.randint(1000, 70000))  # one huge token
    data = "".join(parts).encode()
    if invalid:  # invalid UTF-8 somewhere
        at = rng.randint(0, len(data))
        data = data[:at] + rng.choice(INVALID) + data[at:]
    return data


def batches(rng: random.Random, count: int) -> list[bytes]:
    found = [hybridbench.make_input("text", size) for size in ("1doc", "16docs", "64docs")]
    found.append(frame([]))
    found += [frame([b""] * 5), frame([b"A" * 16 + b"\xff"]), b"HBTX\x01\x00", b"XXXX" * 4]
    for _ in range(count):
        documents = rng.randint(1, 40)
        bad = rng.randrange(documents) if rng.random() < 0.1 else -1
        found.append(frame([random_document(rng, d == bad) for d in range(documents)]))
    corpus = found[2]
    for _ in range(count // 4):  # framing broken at random places
        at = rng.randrange(len(corpus))
        found.append(corpus[:at] + bytes([rng.randrange(256)]) + corpus[at + 1:])
        found.append(corpus[:rng.randrange(len(corpus))])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("-n", "--batches", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=28)
    args = parser.parse_args()
    old, new = KernelLibrary(args.old), KernelLibrary(args.new)
    errors = differ = 0
    for i, payload in enumerate(batches(random.Random(args.seed), args.batches)):
        a, b = old.call("text", payload), new.call("text", payload)
        errors += a[0] != 0
        if a != b:
            differ += 1
            print(f"batch {i} ({len(payload)} B) differs: {a[0]} {a[1][:120]!r} / "
                  f"{b[0]} {b[1][:120]!r}")
    total = i + 1
    print(f"{total} batches ({errors} rejected by {args.old}), {differ} differ")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
