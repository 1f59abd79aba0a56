"""Deterministic documents for the ``text`` workload: news-like prose with the awkward parts.

Mostly Latin-script words (an invented vocabulary drawn with Zipf frequencies, some with
accents, ß or ç), capitalised sentences and punctuation, plus a fixed list of words that
exercise the rules: Greek with final sigma, Turkish dotted and dotless I, German ß and ẞ,
Cyrillic, Arabic and Hebrew (right-to-left, with direction marks), CJK ideographs and kana,
Hangul, emoji with ZWJ sequences, skin tones and flags, fullwidth forms, decomposed accents,
numbers. Only ASCII casing is done here, so the bytes depend on nothing but the seed.
"""

from __future__ import annotations

import functools
import itertools
import random

_ONSETS = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v",
           "w", "z", "br", "ch", "cl", "st", "th", "tr", "sh", "pl", "gr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "é", "ü", "ø", "å"]
_VOWEL_WEIGHTS = [10, 12, 8, 8, 5, 2, 2, 2, 2, 1, 1, 1, 1]
_CODAS = ["", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ß", "ç"]
_CODA_WEIGHTS = [20, 6, 5, 6, 5, 4, 3, 2, 2, 2, 1, 1]
_LATIN_WORDS = 4000

SPECIAL_WORDS = [
    "λόγος", "ΛΌΓΟΣ", "Σίσυφος", "ΟΔΥΣΣΕΥΣ", "σοφός", "İstanbul", "ışık", "İZMİR", "Iğdır",
    "Straße", "STRASSE", "GROẞ", "Москва", "ПРИВЕТ", "ёлка", "Ѣ", "السلام", "عليكم",
    "\u200fשלום\u200f", "עולם", "東京", "北京大学", "日本語の本", "ひらがな", "カタカナ", "한국어",
    "서울", "😀", "👩\u200d💻", "👍🏽", "🇫🇷", "❤\ufe0f", "ＡＢＣ", "１２３", "Ｈｅｌｌｏ！",
    "cafe\u0301", "pin\u0303ata", "Tiếng", "Việt", "नमस्ते", "ภาษาไทย", "2026", "3.14",
    "1,000", "e-mail", "don't", "C++", "naïve", "Ærøskøbing", "ǅemal",
]
_SPECIAL_SHARE = 0.06
_SEPARATORS = [" "] * 40 + [", "] * 6 + [" — ", " (", ") ", " «", "» ", " “", "” ", "\t",
                                        "\u00a0", " / ", ": ", "; "]
_SENTENCE_ENDS = [". "] * 8 + ["! ", "? ", "… ", ".\n\n"]


@functools.cache
def _latin_vocabulary() -> tuple[list[str], list[float]]:
    """Invented words and their Zipf cumulative weights (shortest-looking words first)."""
    rng = random.Random("text/vocabulary")
    words: dict[str, None] = {}
    while len(words) < _LATIN_WORDS:
        syllables = rng.choices([1, 2, 3, 4], [4, 5, 3, 1])[0]
        word = "".join(rng.choice(_ONSETS) + rng.choices(_VOWELS, _VOWEL_WEIGHTS)[0]
                       for _ in range(syllables))
        words[word + rng.choices(_CODAS, _CODA_WEIGHTS)[0]] = None
    ranked = sorted(words, key=len)
    weights = list(itertools.accumulate(1.0 / (rank + 2.7) for rank in range(len(ranked))))
    return ranked, weights


def _ascii_capitalised(word: str) -> str:
    return word[0].upper() + word[1:] if word[0].isascii() else word


def _sentence(rng: random.Random, length: int) -> str:
    words, cumulative = _latin_vocabulary()
    chosen = rng.choices(words, cum_weights=cumulative, k=length)
    for i in range(length):
        roll = rng.random()
        if roll < _SPECIAL_SHARE:
            chosen[i] = rng.choice(SPECIAL_WORDS)
        elif roll < _SPECIAL_SHARE + 0.02 and chosen[i].isascii():
            chosen[i] = chosen[i].upper()
    chosen[0] = _ascii_capitalised(chosen[0])
    parts = [chosen[0]]
    for word in chosen[1:]:
        parts.append(rng.choice(_SEPARATORS) if rng.random() < 0.25 else " ")
        parts.append(word)
    parts.append(rng.choice(_SENTENCE_ENDS))
    return "".join(parts)


def document(rng: random.Random, mean_words: int) -> bytes:
    """One document of about ``mean_words`` words (log-normally spread, at least one)."""
    target = max(1, round(rng.lognormvariate(0, 0.5) * mean_words * 0.88))
    sentences = []
    written = 0
    while written < target:
        length = min(target - written, rng.randint(4, 22))
        sentences.append(_sentence(rng, length))
        written += length
    return "".join(sentences).rstrip().encode("utf-8")


def documents(count: int, mean_words: int, seed: str) -> list[bytes]:
    rng = random.Random(seed)
    return [document(rng, mean_words) for _ in range(count)]
