"""The direct answer a quoted sentence states, to lead an extractive answer with.

"Can staff apply for telecommuting?" over "Staff can apply for telecommuting ..." leads
with "Yes"; "How many days of medical leave?" over "... not exceeding 14 working days in
each calendar year ..." leads with "14 working days". When the sentence does not state it
plainly (it misses the question's words, or holds several figures), there is no lead and
the answer is the quote alone. A pure function of two strings.
"""

from __future__ import annotations

import re

from companion.knowledge.sparse import tokenize

_YES_NO = re.compile(
    r"^(?:can|could|may|might|is|are|am|was|were|do|does|did|must|should|shall|will|would|"
    r"has|have|had)\b",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(r"^how (?:many|long|often)\b", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|won't|nor|neither|prohibited|forbidden|"
    r"not allowed|disallowed)\b",
    re.IGNORECASE,
)
# Words of the question's form, not of what it asks about.
_FORM = frozenset(
    tokenize(
        "can could may might is are am was were do does did must should shall will would has "
        "have had how many long often the a an to of for in on at be any there"
    )
)
_UNIT = (
    r"(?:working days?|calendar days?|consecutive working days?|business days?|days?|weeks?|"
    r"months?|years?|hours?|minutes?|times|cents?|km|per cent|percent|%)"
)
_FIGURE = re.compile(
    rf"(?<![\w.])(?:(?:[A-Z]{{1,3}})?\$\s?\d[\d,]*(?:\.\d+)?|(?:BDT|SGD|USD|EUR|Tk)\s?\d[\d,]*"
    rf"(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?{_UNIT})(?![\w])",
)
# A paragraph number or list marker at the start of a sentence ("6.1 ", "(a) ").
_MARKER = re.compile(r"^\s*(?:\(?[0-9a-z]{1,3}\)|\d+(?:\.\d+)+|\d+\.)\s+", re.IGNORECASE)


def direct_answer(question: str, sentence: str) -> str | None:
    """ "Yes", "No", a figure, or None when ``sentence`` doesn't plainly state the answer."""
    text = _MARKER.sub("", sentence)
    if _YES_NO.match(question.strip()):
        return _yes_no(question, text)
    if _HOW_MANY.match(question.strip()):
        figures = {f.group(0).strip() for f in _FIGURE.finditer(text)}
        return figures.pop() if len(figures) == 1 else None
    return None


def _yes_no(question: str, sentence: str) -> str | None:
    asked = [t for t in dict.fromkeys(tokenize(question)) if t not in _FORM]
    said = set(tokenize(sentence))
    if not asked or not all(t in said for t in asked):
        # About something near, not what was asked ("in contrib" for "in main").
        return None
    asked_negative = bool(_NEGATION.search(question))
    said_negative = bool(_NEGATION.search(sentence))
    return "No" if asked_negative != said_negative else "Yes"
