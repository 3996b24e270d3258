"""The labelled injection set (eval/injection.yml) and the detector's figures on it.

Obfuscated examples are stored readable, with the name of the transform that disguises
them; ``TRANSFORMS`` applies it, the same way every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

INJECTION_SET = "injection.yml"
SPLITS = ("dev", "heldout")

_CYRILLIC = str.maketrans("aeopcxyiAEOPCXHTMKB", "аеорсхуіАЕОРСХНТМКВ")
_GREEK = str.maketrans("aoiepvtkuAEIOTKN", "αοιερντκυΑΕΙΟΤΚΝ")
_LEET = str.maketrans("aeiost", "431057")


def _per_word(text: str, change: Callable[[str], str]) -> str:
    return " ".join(change(word) for word in text.split(" "))


def _zero_width(text: str) -> str:
    # A zero-width space after every second character of each word.
    return _per_word(
        text, lambda w: "".join(c + ("\u200b" if i % 2 else "") for i, c in enumerate(w))
    )


def _soft_hyphen(text: str) -> str:
    return _per_word(
        text, lambda w: w[: len(w) // 2] + "\u00ad" + w[len(w) // 2 :] if len(w) > 3 else w
    )


def _bidi(text: str) -> str:
    # Each word in an isolate, the whole in an override: how "Trojan Source" text is hidden.
    return "\u202e" + _per_word(text, lambda w: f"\u2066{w}\u2069") + "\u202c"


def _fullwidth(text: str) -> str:
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text
    )


def _math_bold(text: str) -> str:
    def bold(c: str) -> str:
        if "A" <= c <= "Z":
            return chr(0x1D400 + ord(c) - ord("A"))
        if "a" <= c <= "z":
            return chr(0x1D41A + ord(c) - ord("a"))
        return c

    return "".join(bold(c) for c in text)


def _spaced(text: str) -> str:
    return "   ".join(" ".join(word) for word in text.split())


def _html_entities(text: str) -> str:
    return "".join(f"&#x{ord(c):x};" if c.isalpha() or c in "<>" else c for c in text)


def _tag_smuggle(text: str) -> str:
    # Visible, harmless text followed by the instruction in invisible Unicode tag characters.
    return "See the travel policy. " + "".join(chr(0xE0000 + ord(c)) for c in text)


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "zero_width": _zero_width,
    "cyrillic": lambda t: t.translate(_CYRILLIC),
    "greek": lambda t: t.translate(_GREEK),
    "fullwidth": _fullwidth,
    "math_bold": _math_bold,
    "bidi": _bidi,
    "soft_hyphen": _soft_hyphen,
    "spaced": _spaced,
    "leet": lambda t: t.translate(_LEET),
    "html_entities": _html_entities,
    "tag_smuggle": _tag_smuggle,
}


@dataclass(frozen=True)
class Example:
    """One labelled text, as the detector sees it (transform applied)."""

    text: str
    injection: bool
    split: str
    source: str  # the readable text in the file
    transform: str | None = None


@dataclass(frozen=True)
class Figures:
    """Detection rate on injections and false-positive rate on ordinary text."""

    injections: int
    ordinary: int
    detected: int
    false_positives: int
    misses: list[Example] = field(default_factory=list)
    false_alarms: list[Example] = field(default_factory=list)

    @property
    def detection(self) -> float:
        """Share of the injections flagged."""
        return self.detected / self.injections if self.injections else 1.0

    @property
    def false_positive_rate(self) -> float:
        """Share of the ordinary sentences flagged."""
        return self.false_positives / self.ordinary if self.ordinary else 0.0


def load_injection_set(text: str | None = None) -> list[Example]:
    """The examples of the shipped set (or of ``text``, the same YAML format)."""
    if text is None:
        text = (
            resources.files("companion.knowledge")
            .joinpath("eval", INJECTION_SET)
            .read_text("utf-8")
        )
    data: dict[str, Any] = yaml.safe_load(text)
    examples: list[Example] = []
    for kind, injection in (("injections", True), ("ordinary", False)):
        for split in SPLITS:
            for item in data[kind].get(split) or []:
                source = str(item["text"])
                transform = item.get("transform")
                shown = TRANSFORMS[transform](source) if transform else source
                examples.append(Example(shown, injection, split, source, transform))
    return examples


def measure(detect: Callable[[str], bool], examples: Sequence[Example]) -> Figures:
    """How ``detect`` does on ``examples``: detection, false positives, and which ones."""
    misses = [e for e in examples if e.injection and not detect(e.text)]
    alarms = [e for e in examples if not e.injection and detect(e.text)]
    injections = sum(1 for e in examples if e.injection)
    return Figures(
        injections=injections,
        ordinary=len(examples) - injections,
        detected=injections - len(misses),
        false_positives=len(alarms),
        misses=misses,
        false_alarms=alarms,
    )
