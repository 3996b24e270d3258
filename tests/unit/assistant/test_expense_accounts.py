"""Which words name an expense account (assistant.expense_accounts)."""

from __future__ import annotations

import pytest

from companion.assistant.expense_accounts import _parts, _stem


def said(text: str) -> set[str]:
    return {_stem(w) for w in text.lower().replace("?", " ").split()}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Salaries and wages", "how much did we pay in salaries last month?"),
        ("Salaries and wages", "what were wages in October"),
        ("Salaries and wages", "payroll cost this quarter"),
        ("Utilities", "utility bills last month"),
        ("Rent", "what did rent cost us"),
        ("Bank charges", "how much did we pay in bank charges"),
    ],
)
def test_an_account_is_named_by_every_word_of_one_of_its_parts(name: str, text: str) -> None:
    assert any(part <= said(text) for part in _parts(name))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Bank charges", "how much did we pay into the bank"),  # one word of two
        ("Rent", "the current quarter's expenses"),  # inside another word
        ("Utilities", "how much did we pay our suppliers"),
    ],
)
def test_other_words_name_no_account(name: str, text: str) -> None:
    assert not any(part <= said(text) for part in _parts(name))


def test_names_of_generic_words_alone_are_never_named() -> None:
    # "Operating expenses" and "Cost of goods sold" have measures and readings of their own
    assert _parts("Operating expenses") == []
    assert _parts("Cost of goods sold") == []
