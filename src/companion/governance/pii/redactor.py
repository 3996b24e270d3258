"""Find personal data in a text and replace each piece with a typed, numbered placeholder."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from companion.errors import ValidationFailed
from companion.governance.pii.detectors import DETECTORS, Detector
from companion.governance.pii.spans import PiiSpan, Redaction

PII_TYPES: tuple[str, ...] = tuple(DETECTORS)


class UnknownPiiType(ValidationFailed):
    code = "unknown_pii_type"


def _key(kind: str, value: str) -> str:
    """The same person's data written twice ('01711-123456', '01711123456') is one value."""
    if kind == "PHONE":
        # The national number without a trunk '0' or a country code: '+880 1711-123456'
        # and '01711123456' are one phone.
        return "".join(ch for ch in value if ch.isdigit())[-10:]
    if kind in ("CARD", "SSN", "NID"):
        return "".join(ch for ch in value if ch.isdigit())
    if kind in ("EMAIL", "IP"):
        return value.lower()
    if kind == "IBAN":
        return "".join(value.split()).upper()
    return " ".join(value.split())


class Redactor:
    """Runs a set of detectors; ``redact`` returns the text with placeholders and the spans."""

    def __init__(self, detectors: Mapping[str, Detector] | None = None) -> None:
        self._detectors = dict(DETECTORS if detectors is None else detectors)

    @property
    def types(self) -> tuple[str, ...]:
        """The types this redactor finds."""
        return tuple(self._detectors)

    def with_detector(self, kind: str, detector: Detector) -> Redactor:
        """A redactor that also finds ``kind`` (e.g. person names from a model)."""
        return Redactor({**self._detectors, kind: detector})

    def _chosen(self, types: Collection[str] | None) -> list[tuple[int, str, Detector]]:
        if types is None:
            names = list(self._detectors)
        else:
            names = [name.upper() for name in types]
            unknown = sorted(set(names) - set(self._detectors))
            if unknown:
                raise UnknownPiiType(
                    f"unknown PII type(s): {', '.join(unknown)}",
                    details={"unknown": unknown, "known": list(self._detectors)},
                )
        order = {name: rank for rank, name in enumerate(self._detectors)}
        return [(order[name], name, self._detectors[name]) for name in dict.fromkeys(names)]

    def find(
        self, text: str, *, types: Collection[str] | None = None
    ) -> list[tuple[str, int, int]]:
        """(type, start, end) of every piece found, left to right, none overlapping."""
        found: list[tuple[int, int, int, str]] = []
        for rank, name, detector in self._chosen(types):
            for start, end in detector(text):
                if end > start:
                    found.append((-(end - start), rank, start, name))
        # Longest first, then by precedence: an IBAN wins over the card-like digits inside it.
        found.sort()
        taken: list[tuple[int, int, str]] = []
        for negative_length, _rank, start, name in found:
            end = start - negative_length
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, name))
        taken.sort()
        return [(name, start, end) for start, end, name in taken]

    def redact(self, text: str, *, types: Collection[str] | None = None) -> Redaction:
        """``text`` with each piece of personal data replaced by ``<TYPE_N>``."""
        return self._redact(text, types, _Numbering())

    def redact_many(
        self, texts: Sequence[str], *, types: Collection[str] | None = None
    ) -> list[Redaction]:
        """Each text redacted, placeholders numbered across all (one prompt's messages)."""
        numbering = _Numbering()
        return [self._redact(text, types, numbering) for text in texts]

    def _redact(self, text: str, types: Collection[str] | None, numbering: _Numbering) -> Redaction:
        spans: list[PiiSpan] = []
        parts: list[str] = []
        cursor = 0
        for kind, start, end in self.find(text, types=types):
            value = text[start:end]
            placeholder = numbering.placeholder(kind, value)
            spans.append(PiiSpan(kind, start, end, placeholder, value))
            parts.append(text[cursor:start])
            parts.append(placeholder)
            cursor = end
        if not spans:
            return Redaction(text=text)
        parts.append(text[cursor:])
        return Redaction(text="".join(parts), spans=tuple(spans))


class _Numbering:
    """Placeholders numbered per type in order of appearance; one value keeps its number."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, _key(kind, value))
        known = self._known.get(key)
        if known is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            known = self._known[key] = f"<{kind}_{self._counts[kind]}>"
        return known


_DEFAULT = Redactor()


def default_redactor() -> Redactor:
    """The redactor of the structured types (no model)."""
    return _DEFAULT


def redact(text: str, *, types: Collection[str] | None = None) -> Redaction:
    """Replace the personal data in ``text`` with typed placeholders (``<EMAIL_1>``)."""
    return _DEFAULT.redact(text, types=types)


def redact_many(texts: Sequence[str], *, types: Collection[str] | None = None) -> list[Redaction]:
    """Each text redacted, with placeholders numbered across all of them."""
    return _DEFAULT.redact_many(texts, types=types)
