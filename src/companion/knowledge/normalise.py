"""Text as the instruction detector reads it: one spelling for the many ways to write a word.

An instruction planted in a document hides from a pattern by spelling: zero-width or bidi
controls inside words, Cyrillic or Greek look-alike letters, full-width or mathematical
letters, HTML entities, accents, letter-spacing, leetspeak. ``fold`` undoes all of that
(NFKC per character cluster, invisible characters dropped, confusables mapped to Latin,
entities decoded, accents on Latin letters dropped, case folded, blanks collapsed) and keeps,
for every character it writes, where in the original text it came from, so a match found in
the folded text names the original span. ``squash`` goes one step further for the strongest
phrases (letters only, leet digits read as letters). ``visible`` is what may be shown or
given to a model: the original text without the controls that hide or reorder it.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Look-alikes of Latin letters in other scripts (Unicode's confusables, the ones attackers
# use), mapped after NFKC; full-width and mathematical letters are already Latin by then.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
        "ь": "b", "г": "r", "ꙇ": "i",
        "А": "A", "В": "B", "Е": "E", "Ё": "E", "З": "3", "І": "I", "Ї": "I", "Ј": "J",
        "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y",
        "Х": "X", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Һ": "H", "Ӏ": "I",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "c", "σ": "o",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Armenian, Latin extensions and symbols that pass NFKC unchanged
        "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ı": "i", "ȷ": "j", "ǀ": "l", "ɡ": "g",
        "ɑ": "a", "ꮃ": "w", "ᴀ": "a", "ʀ": "r", "ꜱ": "s", "ᴏ": "o", "ᴇ": "e", "ɪ": "i",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"',
    }
)  # fmt: skip
# Blank look-alikes outside category Cf (Hangul fillers, braille blank, grapheme joiner).
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
# Combining marks dropped from the folded text: those of Latin, Greek and Cyrillic (accents,
# "zalgo"). Marks of other scripts (Bangla vowel signs) are letters' own and stay.
_MARKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
_TAGS = (0xE0020, 0xE007E)  # "ASCII smuggling": invisible copies of ASCII, read as ASCII
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85")
# An entity; a run of printable ASCII other than "&" (folded by lower() alone, the common
# case by far); or one character with the combining marks that follow it (composed by NFKC
# together, so decomposed and precomposed spellings fold alike).
_PIECE = re.compile(
    r"(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});?)"
    r"|(?P<simple>[ !-%'-~]+)"
    r"|.[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f"
    r"\u0900-\u0903\u093a-\u094f\u0981-\u0983\u09bc-\u09d7\u1ab0-\u1aff\u1dc0-\u1dff"
    r"\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f]*",
    re.DOTALL,
)
_WORDS = re.compile(r" +|[^ ]+")
_LETTERS = re.compile("[a-z]+")
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
    }
)
# Controls that hide or reorder text on screen; joiners (ZWJ, ZWNJ) and the directional
# marks (LRM, RLM, ALM) are kept because Bangla, Arabic and emoji need them.
_HIDING = re.compile(
    "[\u00ad\u180e\u200b\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]"
)


def _dropped_mark(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _MARKS) or "\ufe00" <= ch <= "\ufe0f"


def _fold_char(ch: str) -> str:
    """One NFKC character as the detector reads it ("" when it is invisible)."""
    code = ord(ch)
    if _TAGS[0] <= code <= _TAGS[1]:
        return chr(code - 0xE0000).lower()
    if ch in _LINE_BREAKS:
        return "\n"
    if ch.isspace():
        return " "
    if ch in _BLANKS or unicodedata.category(ch) == "Cf" or _dropped_mark(ch):
        return ""
    return ch.translate(_CONFUSABLES).casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` folded for detection, and for each folded character its index in ``text``."""
    out: list[str] = []
    origin: list[int] = []
    last = "\n"  # blanks at the start are dropped, as after a line break

    def add(piece: str, at: int) -> None:
        nonlocal last
        for ch in piece:
            if ch == " " and last in " \n":
                continue  # blanks collapse; invisible characters between them vanish
            if ch == "\n" and last == " ":
                out[-1], origin[-1], last = "\n", at, "\n"
                continue
            out.append(ch)
            origin.append(at)
            last = ch

    for match in _PIECE.finditer(text):
        simple = match.group("simple")
        if simple is not None:
            for word in _WORDS.finditer(simple.lower()):
                piece, at = word.group(0), match.start() + word.start()
                if piece[0] == " ":
                    add(" ", at)
                else:
                    out.append(piece)
                    origin.extend(range(at, at + len(piece)))
                    last = piece[-1]
            continue
        token = match.group(0)
        if match.group("entity") is not None:
            token = html.unescape(token)
        folded = "".join(
            _fold_char(ch)
            for ch in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", token))
        )
        # Recompose what NFKD split (Bangla vowel signs) so patterns see one form.
        add(unicodedata.normalize("NFC", folded), match.start())
    return "".join(out), origin


def normalise(text: str) -> str:
    """``text`` folded for detection (see the module docstring)."""
    return fold(text)[0]


def squash(folded: str, origin: list[int]) -> tuple[str, list[int]]:
    """Only the letters of folded text, leet digits read as letters ("1gn0re" -> "ignore")."""
    out: list[str] = []
    where: list[int] = []
    for run in _LETTERS.finditer(folded.translate(_LEET)):
        out.append(run.group(0))
        where.extend(origin[run.start() : run.end()])
    return "".join(out), where


def visible(text: str) -> str:
    """``text`` without soft hyphens, zero-width spaces, bidi overrides and tag characters."""
    return _HIDING.sub("", text)
