"""Differential check of two C-ABI kernel libraries on the json workload: same bytes out.

    python scripts/json_differential.py OLD.so NEW.so [--cases 20000] [--literals 6000]

For tuning the json kernel without changing its behaviour: both libraries run on the same
generated documents (mutated, pretty-printed, ASCII-escaped, reordered, duplicate-key,
backslash-heavy, deeply nested, and documents with random ``qty``/``price`` literals), and
each case must give the same status and the same output or error bytes. Prints the counts
(accepted / rejected per family) and the first differences; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import hybridbench
from hybridbench import testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_library import KernelLibrary  # a sibling script, not a package

SIGNIFICANT = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"-", b"0", b"9", b".", b"e",
               b"E", b"+", b"n", b"t", b"f", b"u", b" ", b"\n", b"\x00", b"\x1f", b"\xff",
               b"\xc3", b"1e400", b"\\ud800", b"\\udc00", b"\\u00e9", b'\\"', b"\\\\", b"NaN",
               b"true", b"null", b"[[[", b"]]]", b"{{", b'"a":', b'""', b"\t", b"\r", b"\x7f"]


def encode(value, rng: random.Random, indent, ascii_only: bool, shuffle: bool,
           duplicates: bool) -> str:
    """JSON text of ``value``, by hand so that keys can be shuffled and duplicated."""
    def enc(v, level: int) -> str:
        pad = "" if indent is None else "\n" + indent * (level + 1)
        end = "" if indent is None else "\n" + indent * level
        colon = rng.choice([":", ": ", " : "]) if indent is not None else ":"
        if isinstance(v, dict):
            items = list(v.items())
            if shuffle:
                rng.shuffle(items)
            if duplicates and items and rng.random() < 0.3:
                k, old = rng.choice(items)
                decoy = rng.choice([0, "x", None, [1, {"k": 2}], {"a": "b"}, old])
                items.insert(rng.randrange(len(items) + 1), (k, decoy))
                if rng.random() < 0.5:
                    items.append((k, old))
            if not items:
                return "{}"
            parts = [json.dumps(k, ensure_ascii=ascii_only) + colon + enc(x, level + 1)
                     for k, x in items]
            return "{" + pad + ("," + pad).join(parts) + end + "}"
        if isinstance(v, list):
            if not v:
                return "[]"
            return "[" + pad + ("," + pad).join(enc(x, level + 1) for x in v) + end + "]"
        return json.dumps(v, ensure_ascii=ascii_only)
    return enc(value, 0)


def backslashy(rng: random.Random) -> str:
    """A string value heavy in escapes and quotes, to cross 64-byte blocks oddly."""
    pieces = ["\\", '"', "\\\\", '\\"', "a", "é", "\u2028", "\n", "/", "\t", "\U0001f600",
              " " * rng.randint(1, 70), "x" * rng.randint(1, 70)]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


def reshaped(base: dict, rng: random.Random) -> bytes:
    doc = json.loads(json.dumps(base))
    for order in doc["orders"]:
        if rng.random() < 0.3:
            order["note"] = backslashy(rng)
        if rng.random() < 0.2:
            order["customer"]["tier"] = rng.choice(["gold", "Gold", "é\u00e9", backslashy(rng)])
        if rng.random() < 0.1:
            order["tags"].append(backslashy(rng))
    indent = rng.choice([None, None, "", " ", "  ", "\t", " \r\n "[: rng.randint(1, 3)]])
    text = encode(doc, rng, indent, rng.random() < 0.4, rng.random() < 0.5, rng.random() < 0.4)
    data = text.encode()
    if rng.random() < 0.3:
        data = b" \n\t"[: rng.randint(0, 3)] + data + b"\r\n "[: rng.randint(0, 3)]
    return data


LITERALS = ["0", "-0", "1", "-1", "0.0", "1e5", "1E+2", "1e-7", "-2.5e3", "1.5E-3", "1e400",
            "-1e400", "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "5e-324",
            "2e-400", "0.1", "123456789012345678901", "9007199254740993", "00", "01", "1.",
            ".5", "-", "+1", "1e", "1e+", "--1", "0x10", "1.2.3", "Infinity", "NaN", "true",
            '"3"', "null", "[]", "{}"]


def literal(rng: random.Random, odd: bool) -> str:
    """A random number literal; from the list of edge cases (many invalid) only if ``odd``."""
    if odd and rng.random() < 0.3:
        return rng.choice(LITERALS)
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 2, 3, 6, 17, 25])))
    if not odd:
        digits = digits.lstrip("0") or "0"
    text = rng.choice(["", "-"]) + digits
    if rng.random() < 0.6:
        cut = rng.randint(1, len(text))
        text = text[:cut] + "." + "".join(rng.choice("0123456789")
                                          for _ in range(rng.randint(1, 25)))
    if rng.random() < 0.3:
        top = 350 if odd else 20
        text += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, top))
    return text


def with_literals(base: bytes, rng: random.Random) -> bytes:
    """``base`` with every ``qty`` and ``price`` value replaced by a random literal."""
    text = base
    odd = rng.random() < 0.3
    for key in (b'"price":', b'"qty":'):
        pieces = text.split(key)
        rebuilt = [pieces[0]]
        for piece in pieces[1:]:
            end = min(i for i in (piece.find(b","), piece.find(b"}")) if i >= 0)
            rebuilt.append(literal(rng, odd).encode() + piece[end:])
        text = key.join(rebuilt)
    return text


def deep(rng: random.Random) -> bytes:
    n = rng.choice([127, 128, 1022, 1023, 1024, 1025, 2000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    inner = opener * n + "1" + closer * n
    where = rng.choice(["orders", "meta", "note"])
    base = json.loads(hybridbench.make_input("json", "1KB"))
    if where == "orders":
        return ('{"orders":[' + inner + "]}").encode()
    if where == "meta":
        return ('{"meta":' + inner + ',"orders":[]}').encode()
    base["orders"][0]["note"] = "__X__"
    return json.dumps(base).replace('"__X__"', inner).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--literals", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    old, new = KernelLibrary(args.old), KernelLibrary(args.new)
    rng = random.Random(args.seed)
    bases = {size: [hybridbench.make_input("json", size, seed) for seed in range(3)]
             for size in ("1KB", "64KB")}
    parsed = [json.loads(b) for b in bases["1KB"]]
    counts: Counter[str] = Counter()
    diffs: list[tuple[str, bytes, tuple, tuple]] = []

    def check(family: str, payload: bytes) -> None:
        a, b = old.call("json", payload), new.call("json", payload)
        counts[f"{family} {'accepted' if a[0] == 0 else 'rejected'}"] += 1
        if a != b:
            diffs.append((family, payload, a, b))

    for case in range(args.cases):
        kind = case % 10
        if kind < 4:
            check("mutated-1KB", testing.mutate(rng.choice(bases["1KB"]), rng, SIGNIFICANT))
        elif kind == 4:
            check("mutated-64KB", testing.mutate(rng.choice(bases["64KB"]), rng, SIGNIFICANT))
        elif kind < 8:
            check("reshaped", reshaped(rng.choice(parsed), rng))
        elif kind == 8:
            check("reshaped+mutated",
                  testing.mutate(reshaped(rng.choice(parsed), rng), rng, SIGNIFICANT))
        elif rng.random() < 0.1:
            check("deep", deep(rng))
        else:
            check("64KB", bases["64KB"][case % 3])
    for _ in range(args.literals):
        check("literals", with_literals(rng.choice(bases["1KB"]), rng))
    for name, count in sorted(counts.items()):
        print(f"  {name:<32} {count:6}")
    print(f"{sum(counts.values())} cases, {len(diffs)} differences")
    for family, payload, a, b in diffs[:5]:
        print(f"{family}: {payload[:200]!r}\n  old {a[0]} {a[1][:200]!r}\n"
              f"  new {b[0]} {b[1][:200]!r}")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
