"""Bangla script helpers shared by the extractors: digits and word edges.

Bangla digits (০-৯) are read as the digits they are, in amounts, quantities, dates and
document numbers alike; the swap is one character for one, so offsets into the text hold.
Python's ``\\b`` fails inside Bangla words (vowel signs such as া are not ``\\w``), so
patterns that end on a Bangla word use ``END`` / ``START`` instead.
"""

from __future__ import annotations

import unicodedata

_BANGLA_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
# Letters, vowel signs and digits of the Bengali block, but not the taka sign ৳ (U+09F3) or
# the other currency and fraction marks (U+09F2, U+09F4-09FB), which are not part of words.
BANGLA = "\u0980-\u09f1\u09fc-\u09fe"
# No word character (Latin or Bangla) on that side.
START = rf"(?<![\w{BANGLA}])"
END = rf"(?![\w{BANGLA}])"


def ascii_digits(text: str) -> str:
    """``text`` with Bangla digits replaced by ASCII ones (same length)."""
    return text.translate(_BANGLA_DIGITS)


# Bangla letters in the Latin spelling Banglish writers use ("কত" -> "kot", "দেখাও" ->
# "dekhao", "গতকাল" -> "gotokal"), so a Bangla-script message shares n-grams and word
# pieces with the Banglish it would be typed as. Not a transliteration standard: close enough.
_VOWELS = dict(zip("অআইঈউঊঋএঐওঔ", "o a i i u u ri e oi o ou".split(), strict=True))
_SIGNS = dict(zip("ািীুূৃেৈোৌ", "a i i u u ri e oi o ou".split(), strict=True))
_CONSONANTS = dict(
    zip(
        "কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহৎ",
        "k kh g gh ng ch ch j jh n t th d dh n t th d dh n p f b bh m j r l sh sh s h t".split(),
        strict=True,
    )
)
# With a nukta (NFKC writes ড় as ড + U+09BC): ড় r, ঢ় rh, য় y.
_NUKTA = "\u09bc"
_WITH_NUKTA = {"ড": "r", "ঢ": "rh", "য": "y"}
_MARKS = {"ং": "ng", "ঃ": "h", "ঁ": ""}
_HASANTA = "\u09cd"


def romanise(text: str) -> str:
    """``text`` with Bangla letters spelt in Latin letters; everything else as it was."""
    if not any("\u0980" <= ch <= "\u09ff" for ch in text):
        return text
    text = unicodedata.normalize("NFC", text)  # ো stays one sign; ড় becomes ড + nukta
    out: list[str] = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in _CONSONANTS:
            if nxt == _NUKTA:
                out.append(_WITH_NUKTA.get(ch, _CONSONANTS[ch]))
                nxt = text[i + 2] if i + 2 < len(text) else ""
            elif ch == "য" and i > 0 and text[i - 1] == _HASANTA:
                continue  # ya-phala, written as "y" with the hasanta
            else:
                out.append(_CONSONANTS[ch])
            # The inherent vowel, said between consonants and silent at the end of a word.
            if nxt in _CONSONANTS:
                out.append("o")
        elif ch == _HASANTA:
            if nxt == "য":
                out.append("y")
        elif ch in _SIGNS:
            out.append(_SIGNS[ch])
        elif ch in _VOWELS:
            out.append(_VOWELS[ch])
        elif ch in _MARKS:
            out.append(_MARKS[ch])
        elif ch != _NUKTA:
            out.append(ch)
    return "".join(out)
