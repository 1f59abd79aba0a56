"""Differential test of the ``text`` engines: every engine, the same answer or the same error.

Python reference (``inproc-pure``), the numpy engines (``inproc``, ``inproc-best``), the tuned
Rust kernel through ``ffi`` and ``grpc``, the idiomatic one through ``ffi-idiomatic``, the
Python engine behind ``grpc-py``, the Go server (``grpc-go``) and the Go package
(``go/kernels/text``, driven through its ``TestFiles`` test) are fed generated batches, a sweep
of every code point of the BMP and the edges of the astral ranges, documents of odd Unicode
(combining marks, ZWJ emoji, right-to-left text, final sigma, Turkish I, fullwidth forms, NUL),
huge tokens, empty documents, invalid UTF-8 (lone surrogates encoded as bytes, overlong forms,
truncated sequences, code points above U+10FFFF) and deterministic mutations of documents and
framing. Every engine must produce the reference's records (tokens, that is count and digest,
and categories exactly; scores and confidence within the verifier's tolerance), or fail with
the reference's error message, word for word.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import hybridbench
from hybridbench import WorkloadError
from hybridbench.registry import unavailable_reason
from hybridbench.workloads import text, text_corpus
from hybridbench.workloads import text_rules as rules

GO_MODULE = Path(__file__).resolve().parent.parent / "go"
BACKENDS = ["inproc", "inproc-best", "ffi", "ffi-idiomatic", "grpc", "grpc-py", "grpc-go",
            "grpc-go-best", "grpc-go-cgo"]

VALID_INSERTS = ["\u0301", "\u0308\u0301", "\u200d", "\u200f", "\u202e", "ς", "Σ", "İ", "ı",
                 "Ａ", "！", "\x00", "👩\u200d💻", "🏽", "🇫🇷", "東", "ẞ", "\ufeff", "\ufe0f",
                 "\U0010ffff", "\ufffd", "ǅ", "Ω", "K", "ﬁ", " ", "-", "'", "\t", "\u00a0"]
INVALID_INSERTS = [b"\xff", b"\xfe", b"\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc3",
                   b"\xe2\x82", b"\xf0\x9f\x98", b"\xf4\x90\x80\x80", b"\xc0\xaf",
                   b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\x80"]
ODD_DOCUMENTS = [
    "ΟΔΥΣΣΕΥΣ Ὀδυσσεύς σοφός ΣΟΦΟΣ ς Σ", "İSTANBUL istanbul ISTANBUL ıi İi Iı",
    "ＦＵＬＬＷＩＤＴＨ　ｆｏｒｍｓ！１２３", "👩\u200d👩\u200d👧\u200d👦 👍🏿 🏳\ufe0f\u200d🌈 🇺🇳",
    "\u202eשלום עולם\u202c مرحبا بالعالم ٠١٢٣", "e\u0301\u0301\u0301 \u0301start n\u0303o",
    "NUL\x00inside\x00\x00 and \x01\x02\x1f controls", "Straße STRASSE ẞ ß ǄǅǆǇ",
    "日本語のテキスト、カタカナ・ひらがな。한국어 텍스트", "ẞ Ỳ ỳ Ḁ ḁ Ɐ ⱥ Ꞌ",
    "\ufeffBOM \ufffd replacement \U0010ffff last \U000e0001 tag",
    "Ѐ Ѡ ѡ Ӏ ӏ Ӂ ӂ Ԯ ԯ Ա ա", "Ά Έ Ή Ί Ό Ύ Ώ ά έ ή ί ό ύ ώ ΐ ΰ",
    "ſ ﬁ ﬀ K Ω Å ℌ 𝐀 𝔄 ⅷ", "", " ", "\n\n\t",
]


def _sweep_documents() -> list[bytes]:
    """Every BMP scalar value (256 per document, each as ``a<c>a ``), then the edges of the
    astral ranges and a sample of the rest."""
    bmp = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    astral = sorted({*range(0x10000, 0x110000, 97), 0x10FFFF,
                     *(e + d for first, last in rules.ISOLATED_RANGES if first > 0xFFFF
                       for e in (first, last) for d in (-1, 0, 1))})
    codes = bmp + astral
    return ["".join(f"a{chr(c)}a " for c in codes[i:i + 256]).encode()
            for i in range(0, len(codes), 256)]


def _mutated_document(document: bytes, rng: random.Random) -> bytes:
    """Odd characters inserted between characters; now and then invalid bytes anywhere."""
    chars = list(document.decode())
    for _ in range(rng.randint(1, 4)):
        chars.insert(rng.randint(0, len(chars)), rng.choice(VALID_INSERTS))
    data = bytearray("".join(chars).encode())
    if rng.random() < 0.1:
        at = rng.randint(0, len(data))
        data[at:at] = rng.choice(INVALID_INSERTS)
    return bytes(data)


def _mutated_framing(payload: bytes, rng: random.Random) -> bytes:
    data = bytearray(payload)
    action = rng.random()
    if action < 0.4:
        data[rng.randrange(min(len(data), 24))] = rng.randrange(256)
    elif action < 0.7:
        del data[rng.randrange(len(data)):]
    else:
        data[rng.randrange(len(data)):0] = bytes([rng.randrange(256)])
    return bytes(data)


def cases() -> list[tuple[str, bytes]]:
    """(case id, payload), deterministic."""
    found = [(f"generated-{size}", hybridbench.make_input("text", size))
             for size in ("1doc", "16docs")]
    found.append(("odd", rules.encode_batch([d.encode() for d in ODD_DOCUMENTS])))
    found.append(("sweep", rules.encode_batch(_sweep_documents())))
    found.append(("huge-tokens", rules.encode_batch([
        b"a" * 1_000_000, "É".encode() * 200_000 + b" x", "東".encode() * 20_000,
        b"A" * 47 + b" " + b"B" * 48 + b" " + b"C" * 49, "ΣΑΣ".encode() * 30_000])))
    found.append(("empty-documents", rules.encode_batch([b""] * 300)))
    found.append(("no-documents", rules.encode_batch([])))
    found += [(f"invalid-{i}", rules.encode_batch([b"fine", b"ok " + bad + b" tail"]))
              for i, bad in enumerate(INVALID_INSERTS)]
    rng = random.Random(20261127)
    base = text_corpus.documents(6, 30, "text/differential")
    for i in range(400):
        mutated = [_mutated_document(d, rng) if rng.random() < 0.5 else d for d in base]
        found.append((f"mutated-{i}", rules.encode_batch(mutated)))
    for i in range(150):
        found.append((f"framing-{i}", _mutated_framing(rules.encode_batch(base[:3]), rng)))
    return found


CASES = cases()


def outcome(engine, payload: bytes) -> tuple[str, object]:
    try:
        return "ok", engine(payload)
    except WorkloadError as exc:
        return "error", str(exc)


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[str, object]]:
    return {case: outcome(text.reference, payload) for case, payload in CASES}


def disagreement(got: tuple[str, object], want: tuple[str, object]) -> str | None:
    """Why ``got`` is not ``want``, or None."""
    if got[0] != want[0] or got[0] == "error":
        return None if got == want else f"got {got!r:.300}, expected {want!r:.300}"
    got_records = text.decode_output(got[1], "the output")  # type: ignore[arg-type]
    want_records = text.decode_output(want[1], "the reference")  # type: ignore[arg-type]
    if len(got_records) != len(want_records):
        return f"{len(got_records)} records, expected {len(want_records)}"
    try:
        for index, (g, w) in enumerate(zip(got_records, want_records, strict=True)):
            text.compare_records(g, w, index)
    except AssertionError as exc:
        return str(exc)
    return None


def test_the_cases_cover_answers_and_errors(expected) -> None:
    kinds = [kind for kind, _ in expected.values()]
    assert kinds.count("ok") > 250 and kinds.count("error") > 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_agrees_with_the_reference(backend: str, expected) -> None:
    if reason := unavailable_reason(backend):
        pytest.skip(reason)
    with hybridbench.open_backend(backend) as engine:
        wrong = {case: why for case, payload in CASES
                 if (why := disagreement(outcome(lambda p: engine.run("text", p), payload),
                                         expected[case]))}
    assert not wrong, "\n".join(f"{case}: {why}" for case, why in list(wrong.items())[:5])


def _go() -> str | None:
    return shutil.which("go")


@pytest.mark.skipif(_go() is None, reason="the Go toolchain (go) is not on PATH")
def test_go_package_agrees_with_the_reference(expected, tmp_path: Path) -> None:
    for number, (_, payload) in enumerate(CASES):
        (tmp_path / f"{number:04d}.in").write_bytes(payload)
    env = {**os.environ, "HYBRIDBENCH_TEXT_CASES": str(tmp_path), "GOTOOLCHAIN": "local",
           "GOFLAGS": "-mod=mod"}
    done = subprocess.run([_go() or "go", "test", "-count=1", "-run", "^TestFiles$",
                           "./kernels/text"], cwd=GO_MODULE, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = {}
    for number, (case, _) in enumerate(CASES):
        out, err = tmp_path / f"{number:04d}.out", tmp_path / f"{number:04d}.err"
        got = ("ok", out.read_bytes()) if out.exists() else ("error", err.read_text())
        if why := disagreement(got, expected[case]):
            wrong[case] = why
    assert not wrong, "\n".join(f"{case}: {why}" for case, why in list(wrong.items())[:5])
