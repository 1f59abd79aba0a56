"""The ``text`` workload: its rules, the two Python engines, a verifier that catches mistakes."""

from __future__ import annotations

import math
import re
import struct

import pytest

import hybridbench
from hybridbench import VerificationError, WorkloadError
from hybridbench.workloads import text, text_fast
from hybridbench.workloads import text_rules as rules

ENGINES = {"reference": text.reference, "fast": text_fast.run}


def records(output: bytes) -> list[tuple]:
    return text.decode_output(output, "output")


@pytest.mark.parametrize(("document", "tokens"), [
    ("Hello, WORLD", ["hello", "world"]),
    ("ΟΔΥΣΣΕΥΣ σοφός", ["οδυσσευσ", "σοφόσ"]),           # final sigma folds to σ
    ("İstanbul ışık IĞDIR", ["istanbul", "ışık", "iğdir"]),  # İ -> i, ı stays, I -> i
    ("ＡＢＣ１２３！x", ["abc123", "x"]),                      # fullwidth folds to ASCII
    ("東京に行きます", ["東", "京", "に", "行", "きます"]),    # ideographs stand alone
    ("👩\u200d💻👍🏽🇫🇷", ["👩", "💻", "👍", "🏽", "🇫", "🇷"]),  # ZWJ separates
    ("cafe\u0301 café", ["cafe\u0301", "café"]),              # no composition
    ("Straße GROẞ ǅemal", ["straße", "groß", "ǅemal"]),       # Latin Ext-B is not mapped
    ("\u200fשָׁלוֹם\u200f, عليكم", ["שָׁלוֹם", "عليكم"]),   # RTL marks separate
    ("a\x00b_c-d'e", ["a", "b", "c", "d", "e"]),
    ("", []),
])
def test_tokens(document: str, tokens: list[str]) -> None:
    assert text.tokens(document) == tokens


def test_normalising_never_changes_a_class_so_engines_may_tokenise_first() -> None:
    classes = rules.class_table()
    for source, target in rules.case_map().items():
        assert classes[source] == classes[target], f"U+{source:04X}"


def test_the_case_map_is_exactly_the_listed_rules() -> None:
    mapping = rules.case_map()
    assert mapping[ord("Σ")] == ord("σ") and mapping[ord("ς")] == ord("σ")
    assert mapping[ord("İ")] == ord("i") and ord("ı") not in mapping
    assert mapping[ord("Ａ")] == ord("a") and mapping[ord("！")] == ord("!")
    assert mapping[ord("Ÿ")] == ord("ÿ") and ord("ß") not in mapping
    assert all(chr(target).islower() or not chr(target).isalpha()
               for source, target in mapping.items() if chr(source).isupper())


def test_model_is_seeded_int16_and_fixed() -> None:
    weights = rules.model_weights()
    assert len(weights) == rules.BUCKETS * rules.CATEGORIES
    assert list(weights[:6]) == [-4088, -24560, -18385, -5076, 22168, 16892]
    assert min(weights) >= -32768 and max(weights) <= 32767


def test_hashes() -> None:
    assert rules.fnv1a64(b"") == 0xCBF29CE484222325
    assert rules.fnv1a64(b"hello") == 0xA430D84680AABD0B
    assert rules.mix64(0) == 0
    tokens = ["hello", "x" * 200, "é", "東", ""]
    assert list(text_fast.fnv1a64_many(tokens)) == [rules.fnv1a64(t.encode()) for t in tokens]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hand_made_batch(engine: str) -> None:
    out = ENGINES[engine](rules.encode_batch([b"Hello, WORLD", b"", b"hello hello"]))
    first, empty, repeated = records(out)
    hello, world = (rules.fnv1a64(t) for t in (b"hello", b"world"))
    assert first[:2] == ((rules.digest_term(hello, 1) + rules.digest_term(world, 2))
                         % 2**64, 2)
    assert first[2:7] == (26, 19, 8, 2, 28)
    weights = rules.model_weights()
    row = [weights[(hello % rules.BUCKETS) * 32 + c] + weights[(world % rules.BUCKETS) * 32 + c]
           for c in range(32)]
    assert first[8] == row[26] / (32768 * 2)  # exact
    # an empty document: no tokens, all scores 0, categories 0-4 by the tie rule, uniform
    assert empty[1:7] == (0, 0, 1, 2, 3, 4) and empty[8:13] == (0.0,) * 5
    assert empty[13] == pytest.approx(1 / 32, rel=1e-12)
    assert repeated[1] == 2 and repeated[0] != first[0]


def test_confidence_is_the_softmax_of_the_top_logit() -> None:
    tokens = text.tokens("one two three four five six")
    record = struct.unpack(rules.OUT_RECORD.format, text.classify(tokens))
    weights = rules.model_weights()
    sums = [sum(weights[(rules.fnv1a64(t.encode()) % rules.BUCKETS) * 32 + c] for t in tokens)
            for c in range(32)]
    logits = [s / (8192 * math.sqrt(6)) for s in sums]
    assert record[13] == pytest.approx(math.exp(max(logits)) / sum(map(math.exp, logits)),
                                       rel=1e-12)


@pytest.mark.parametrize("size", ["1doc", "16docs",
                                  pytest.param("64docs", marks=pytest.mark.slow)])
def test_fast_engine_agrees_with_the_reference(size: str) -> None:
    payload = hybridbench.make_input("text", size)
    expected = text.reference(payload)
    fast = text_fast.run(payload)
    text.WORKLOAD.verify(payload, fast, expected)
    # everything but the confidences (exp may differ in the last bit) is bit-identical
    assert [r[:13] for r in records(fast)] == [r[:13] for r in records(expected)]


def test_generated_documents_have_the_awkward_parts() -> None:
    payload = hybridbench.make_input("text", "16docs")
    documents = [bytes(d).decode() for d in rules.split_documents(payload)]
    joined = "".join(documents)
    for needle in ("ς", "İ", "ı", "\u200d", "\u0301", "Ａ", "東", "ש"):
        assert needle in joined, needle
    assert 200 < len(text.tokens(documents[0])) * 16 < 16 * 2000


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("payload", "message"), [
    (rules.encode_batch([b"ok", b"\xe2\x82"]), "text: document 1 is not valid UTF-8 at byte 0"),
    (rules.encode_batch([b"abc \xc0\xaf"]), "text: document 0 is not valid UTF-8 at byte 4"),
    (rules.encode_batch([b"\xf4\x90\x80\x80"]), "text: document 0 is not valid UTF-8 at byte 0"),
    (rules.encode_batch([b"\xef\xbf\xbd ok"] * 2 + [b"\xff"]),
     "text: document 2 is not valid UTF-8 at byte 0"),
    (b"HBTX\x01\x00\x00\x00\x05\x00\x00\x00", "text: 12 bytes cannot hold the length table of "
                                              "5 documents (32 bytes)"),
    (rules.encode_batch([b"a"]) + b"b", "text: expected 17 bytes for 1 documents of 1 bytes in "
                                         "all, got 18"),
    (b"HBTX\x01\x00\x07\x00\x00\x00\x00\x00", "text: flags are 7, expected 0"),
])
def test_errors_are_exact(engine: str, payload: bytes, message: str) -> None:
    with pytest.raises(WorkloadError, match=f"^{re.escape(message)}$"):
        ENGINES[engine](payload)


def test_an_empty_batch_is_valid() -> None:
    for engine in ENGINES.values():
        assert engine(rules.encode_batch([])) == rules.OUT_HEADER.pack(
            b"HBTC", 1, 5, 0, 32)


# -- the verifier -------------------------------------------------------------------------------


def _expected(size: str = "16docs") -> tuple[bytes, bytes]:
    payload = hybridbench.make_input("text", size)
    return payload, hybridbench.expected_output("text", payload)


def _with_field(output: bytes, index: int, field: int, value: object) -> bytes:
    head = rules.OUT_HEADER.size
    rows = records(output)
    row = list(rows[index])
    row[field] = value
    rows[index] = tuple(row)
    return output[:head] + b"".join(rules.OUT_RECORD.pack(*r) for r in rows)


@pytest.mark.parametrize(("field", "change", "pattern"), [
    (0, lambda v: v ^ 1, r"document 3: tokens differ"),
    (1, lambda v: v + 1, r"document 3: tokens differ"),
    (3, lambda v: (v + 1) % 32, r"document 3: top categories"),
    (9, lambda v: v * (1 + 1e-6), r"document 3: score 1"),
    (13, lambda v: v * (1 + 1e-6), r"document 3: confidence"),
])
def test_verifier_rejects_one_changed_field(field: int, change, pattern: str) -> None:
    payload, expected = _expected()
    wrong = _with_field(expected, 3, field, change(records(expected)[3][field]))
    with pytest.raises(VerificationError, match=pattern):
        hybridbench.verify("text", payload, wrong)


def test_verifier_accepts_float_noise_and_rejects_bad_shapes() -> None:
    payload, expected = _expected()
    noisy = _with_field(expected, 2, 13, records(expected)[2][13] * (1 + 1e-12))
    hybridbench.verify("text", payload, noisy)
    with pytest.raises(VerificationError, match="header and 16 records"):
        hybridbench.verify("text", payload, expected[:-1])
    with pytest.raises(VerificationError, match="wrong header"):
        hybridbench.verify("text", payload, b"HBTA" + expected[4:])
