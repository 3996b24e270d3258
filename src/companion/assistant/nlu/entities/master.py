"""Fuzzy matching of customers, suppliers, products, warehouses and bank accounts.

The caller passes ``MasterData`` holding the records of *its own company only*; the NLU never
reads the database, so it cannot match (or leak) another tenant's names. A match is reported
as ``{text, id, name, score}``; when two records match about equally well, the entity has no
id and lists the ``candidates`` so the caller can ask which one was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from companion.assistant.nlu.entities.ratio_index import RatioIndex, bigrams

KINDS = ("customer", "supplier", "product", "warehouse", "bank_account")
THRESHOLD = 86.0
# A shorter name's first word alone ("rahim" for "Rahim Traders") scores this much.
PARTIAL_SCORE = 90.0
AMBIGUITY_MARGIN = 4.0
MAX_WINDOW = 5
MAX_TOKENS = 80
# From this many names of a kind, a window is scored only against the names a bigram index
# lets through (ratio_index.py: the same matches); below it, against every name at once.
INDEXED_FROM = 1500

_LEGAL = {
    "ltd",
    "limited",
    "inc",
    "co",
    "corp",
    "corporation",
    "plc",
    "llc",
    "pvt",
    "company",
    "bd",
}
# Words that say what a thing is, not which one: never a match on their own.
_GENERIC = {
    "the", "a", "an", "our", "my", "of", "and", "for", "from", "to", "in", "at", "on", "by",
    "with", "customer", "customers", "client", "supplier", "suppliers", "vendor", "product",
    "products", "item", "items", "warehouse", "warehouses", "depot", "store", "stock", "bank",
    "account", "accounts", "cash", "sales", "order", "orders", "invoice", "invoices", "payment",
    "company", "traders", "trading", "industries", "enterprise", "enterprises", "group",
    "limited", "ltd", "inc", "main", "central", "new", "all", "total", "balance", "current",
}  # fmt: skip
# Everyday words that are also the first word of many business names ("Green Valley Agro"):
# alone, they match only when written with a capital letter.
_COMMON = {
    "green", "star", "city", "delta", "summit", "globe", "global", "eastern", "western",
    "northern", "southern", "north", "south", "east", "west", "nova", "metro", "sun", "sunrise",
    "royal", "united", "first", "best", "top", "general", "national", "standard", "golden",
    "silver", "blue", "red", "white", "black", "prime", "modern", "smart", "light", "apex",
    "pioneer", "crescent", "harbor", "rainbow", "lotus", "orion", "zenith", "everest", "polar",
    "falcon", "eagle", "tiger", "tigers", "home", "office", "paper", "paint", "steel", "cement",
}  # fmt: skip
_TOKEN = re.compile(r"[^\W_]+(?:[-'&.][^\W_]+)*", re.UNICODE)
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class MasterRecord:
    """One customer, supplier, product, warehouse or bank account of the caller's company."""

    id: int | str
    name: str
    code: str | None = None


@dataclass(frozen=True)
class MasterData:
    """The caller's company's master data, as (id, name, code) records per kind."""

    customers: tuple[MasterRecord, ...] = ()
    suppliers: tuple[MasterRecord, ...] = ()
    products: tuple[MasterRecord, ...] = ()
    warehouses: tuple[MasterRecord, ...] = ()
    bank_accounts: tuple[MasterRecord, ...] = ()
    _index: dict[str, _KindIndex] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        *,
        customers: Iterable[Sequence[Any]] = (),
        suppliers: Iterable[Sequence[Any]] = (),
        products: Iterable[Sequence[Any]] = (),
        warehouses: Iterable[Sequence[Any]] = (),
        bank_accounts: Iterable[Sequence[Any]] = (),
    ) -> MasterData:
        """From (id, name) or (id, name, code) tuples."""
        return cls(
            customers=_records(customers),
            suppliers=_records(suppliers),
            products=_records(products),
            warehouses=_records(warehouses),
            bank_accounts=_records(bank_accounts),
        )

    def records(self, kind: str) -> tuple[MasterRecord, ...]:
        """The records of one kind ("customer", ..., "bank_account")."""
        plural = {"customer": self.customers, "supplier": self.suppliers}
        plural |= {"product": self.products, "warehouse": self.warehouses}
        plural["bank_account"] = self.bank_accounts
        return plural[kind]

    def index(self, kind: str) -> _KindIndex:
        """Normalised names of one kind, built once per MasterData."""
        if kind not in self._index:
            self._index[kind] = _KindIndex(self.records(kind))
        return self._index[kind]


@dataclass(frozen=True)
class MasterMatch:
    """A record found in the text, or an ambiguous mention with its candidates."""

    kind: str
    text: str
    start: int
    end: int
    record: MasterRecord | None
    score: float
    candidates: tuple[tuple[MasterRecord, float], ...] = ()

    @property
    def ambiguous(self) -> bool:
        """True when no single record stands out."""
        return self.record is None

    def to_dict(self) -> dict[str, Any]:
        """The public entity shape: ``{text, id, name, score}`` (+ ``candidates`` if ambiguous)."""
        out: dict[str, Any] = {
            "text": self.text,
            "id": self.record.id if self.record else None,
            "name": self.record.name if self.record else None,
            "score": round(self.score, 1),
        }
        if self.candidates:
            out["candidates"] = [
                {"id": r.id, "name": r.name, "code": r.code, "score": round(s, 1)}
                for r, s in self.candidates
            ]
        return out


class _KindIndex:
    def __init__(self, records: Sequence[MasterRecord]) -> None:
        self.records = list(records)
        self.names = [_normalise_name(r.name) for r in self.records]
        # Every word, legal ones too: "khulna corporation" written in full is that record.
        self.full = [" ".join(_WORD.findall(r.name.lower())) for r in self.records]
        self.digits = [_DIGITS.findall(n) for n in self.names]
        self.codes = {_code(r.code): i for i, r in enumerate(self.records) if r.code}
        # Leading words of longer names: "rahim" and "green valley" for "Green Valley Agro".
        self.prefixes: dict[str, list[int]] = {}
        for i, name in enumerate(self.names):
            words = name.split()
            for k in range(1, len(words)):
                self.prefixes.setdefault(" ".join(words[:k]), []).append(i)
        self.max_words = max((len(n.split()) for n in self.names), default=1)
        self.ratio = RatioIndex(self.names, THRESHOLD) if len(self.names) >= INDEXED_FROM else None

    def fuzzy(self, phrases: Sequence[str]) -> dict[str, list[tuple[int, float]]]:
        """Per phrase, the names scoring THRESHOLD or more: (index, score), by index."""
        found: dict[str, list[tuple[int, float]]] = {}
        if self.ratio is None:
            scores = cdist(phrases, self.names, scorer=fuzz.ratio, workers=1)
            for row, col in zip(*(scores >= THRESHOLD).nonzero(), strict=True):
                found.setdefault(phrases[row], []).append((int(col), float(scores[row, col])))
            return found
        for phrase in phrases:
            cols = self.ratio.candidates(phrase, bigrams(phrase))
            if not cols:
                continue
            # Scored as above (float32 scores), over the candidates only.
            row = cdist([phrase], [self.names[c] for c in cols], scorer=fuzz.ratio, workers=1)[0]
            hits = [(c, float(score)) for c, score in zip(cols, row, strict=True)]
            if kept := [(c, score) for c, score in hits if score >= THRESHOLD]:
                found[phrase] = kept
        return found


@dataclass(frozen=True)
class NumberedMiss:
    """A name with a model number no record has ("Bearing A209"): unknown, with close ones."""

    kind: str
    text: str
    start: int
    end: int
    close: tuple[tuple[MasterRecord, float], ...]


def match_master(
    text: str,
    master: MasterData,
    kinds: Iterable[str] = KINDS,
    misses: list[NumberedMiss] | None = None,
) -> list[MasterMatch]:
    """Every master-data mention in ``text``: best first per place, no overlaps within a kind.

    ``misses``, when given, receives the names that differ from a record only in a number
    ("Bearing A209" for "Bearing A208"): a different item, never a match.
    """
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)][:MAX_TOKENS]
    windows = _windows(tokens)
    found: list[MasterMatch] = []
    for kind in kinds:
        index = master.index(kind)
        if index.records:
            found.extend(_match_kind(text, tokens, windows, kind, index, misses))
    return found


@dataclass(frozen=True)
class _Window:
    """Tokens ``i`` to ``j`` of the text as a name: normalised, as a code, its numbers."""

    i: int
    j: int
    phrase: str
    code: str
    digits: list[str]


def _windows(tokens: list[tuple[str, int, int]]) -> list[_Window]:
    """Every run of up to MAX_WINDOW tokens that may be a name, by start then length."""
    out: list[_Window] = []
    for i in range(len(tokens)):
        if tokens[i][0].lower() in _GENERIC:
            continue  # "customer Rahim" starts at "Rahim"
        for n in range(1, min(MAX_WINDOW, len(tokens) - i) + 1):
            phrase = _normalise_name(" ".join(t[0].lower() for t in tokens[i : i + n]))
            out.append(_Window(i, i + n, phrase, _code(phrase), _DIGITS.findall(phrase)))
    return out


def _match_kind(
    text: str,
    tokens: list[tuple[str, int, int]],
    windows: list[_Window],
    kind: str,
    index: _KindIndex,
    misses: list[NumberedMiss] | None = None,
) -> list[MasterMatch]:
    longest = min(MAX_WINDOW, index.max_words + 1)
    windows = [w for w in windows if w.j - w.i <= longest]
    if not windows:
        return []
    fuzzy = index.fuzzy(list(dict.fromkeys(w.phrase for w in windows)))
    hits: list[tuple[float, int, int, list[tuple[int, float]]]] = []
    # Spans naming a model number the company doesn't have: no part of them is a match.
    numbered: dict[tuple[int, int], list[tuple[MasterRecord, float]]] = {}
    for window in windows:
        i, j, phrase, digits = window.i, window.j, window.phrase, window.digits
        per_record: dict[int, float] = {}
        code = index.codes.get(window.code)
        if code is not None:
            per_record[code] = 100.0
        partial = PARTIAL_SCORE + 2.0 * (j - i - 1)
        shared = phrase in index.prefixes and (j - i > 1 or _may_stand_alone(tokens[i][0]))
        for col, score in fuzzy.get(phrase, ()):
            # Short words match exactly or not at all ("co" is not "cod").
            if len(phrase) < 4 and score < 100.0:
                continue
            # Model numbers are not typos: "Bearing A209" is neither A205 nor A208.
            if score < 100.0 and digits and index.digits[col] and digits != index.digits[col]:
                span = numbered.setdefault((tokens[i][1], tokens[j - 1][2]), [])
                span.append((index.records[col], score))
                continue
            if (
                score == 100.0
                and shared
                and _written(text, tokens, i, j) == phrase != index.full[col]
            ):
                # "Khulna" is "Khulna Corporation" only without its legal word, and the
                # first word of "Khulna Emporium" too: a partial name, like theirs.
                score = min(partial, 99.0)
            per_record[col] = max(per_record.get(col, 0.0), score)
        if shared:
            for col in index.prefixes[phrase]:
                per_record[col] = max(per_record.get(col, 0.0), min(partial, 99.0))
        if per_record:
            ranked = sorted(per_record.items(), key=lambda kv: -kv[1])
            hits.append((ranked[0][1], i, j, ranked))
    hits.sort(key=lambda h: (-h[0], -(h[2] - h[1]), h[1]))
    taken: list[MasterMatch] = []
    for best, i, j, ranked in hits:
        start, end = tokens[i][1], tokens[j - 1][2]
        if any(start < m.end and m.start < end for m in taken):
            continue
        if best < 100.0 and any(s <= start and end <= e for s, e in numbered):
            continue  # "Bearing" of "Bearing A209": that unknown name is reported whole
        # A name written exactly wins over names a letter or two away ("Bearing A205").
        floor = 100.0 if best == 100.0 else best - AMBIGUITY_MARGIN
        close = [(index.records[c], s) for c, s in ranked if s >= floor]
        record = close[0][0] if len(close) == 1 else None
        taken.append(
            MasterMatch(
                kind=kind,
                text=text[start:end],
                start=start,
                end=end,
                record=record,
                score=best,
                candidates=tuple(close) if record is None else (),
            )
        )
    if misses is not None:
        for (start, end), close in sorted(numbered.items(), key=lambda kv: kv[0][0] - kv[0][1]):
            spans = [(m.start, m.end) for m in taken] + [(m.start, m.end) for m in misses]
            if not any(start < e and s < end for s, e in spans):
                nearest = tuple(sorted(close, key=lambda rc: -rc[1]))
                misses.append(NumberedMiss(kind, text[start:end], start, end, nearest))
    return sorted(taken, key=lambda m: m.start)


def _written(text: str, tokens: list[tuple[str, int, int]], i: int, j: int) -> str:
    """Every word of tokens ``i`` to ``j`` as written, legal ones too, in lower case."""
    return " ".join(_WORD.findall(text[tokens[i][1] : tokens[j - 1][2]].lower()))


def _may_stand_alone(word: str) -> bool:
    lowered = word.lower()
    if len(lowered) < 4 or lowered in _GENERIC:
        return False
    return lowered not in _COMMON or word[:1].isupper()


def _code(code: str | None) -> str:
    return re.sub(r"[^0-9a-z]", "", (code or "").lower())


def _normalise_name(name: str) -> str:
    words = [w for w in re.findall(r"[^\W_]+", name.lower()) if w not in _LEGAL]
    return " ".join(words) or name.lower().strip()


def _records(rows: Iterable[Sequence[Any]]) -> tuple[MasterRecord, ...]:
    out: list[MasterRecord] = []
    for row in rows:
        if isinstance(row, MasterRecord):
            out.append(row)
            continue
        ident, name, *rest = row
        out.append(
            MasterRecord(id=ident, name=str(name), code=str(rest[0]) if rest and rest[0] else None)
        )
    return tuple(out)
