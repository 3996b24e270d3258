"""Bangla script helpers shared by the extractors: digits and word edges.

Bangla digits (০-৯) are read as the digits they are, in amounts, quantities, dates and
document numbers alike; the swap is one character for one, so offsets into the text hold.
Python's ``\\b`` fails inside Bangla words (vowel signs such as া are not ``\\w``), so
patterns that end on a Bangla word use ``END`` / ``START`` instead.
"""

from __future__ import annotations

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
