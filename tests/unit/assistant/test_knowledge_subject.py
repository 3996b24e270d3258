"""A quoted sentence answers a question only when it says something of what is asked about."""

from __future__ import annotations

import pytest

from companion.assistant.skills.knowledge import _asked, _names_charge, _states_subject

_LEAVE = (
    "At the end of service, or once a year on request, unused annual leave above 20 days is "
    "paid at the basic salary rate."
)


@pytest.mark.parametrize(
    ("question", "sentence", "states"),
    [
        ("when are salaries paid?", _LEAVE, False),
        ("when are salaries paid?", "Salaries are paid on the last working day.", True),
        ("when are salaries paid?", "We pay salaries on the 1st of the month.", True),
        (
            "when are replenishment orders raised for items below reorder level",
            "When stock falls below it, the buyer raises a replenishment order at once.",
            True,
        ),
        (
            "how often is supplier performance reviewed",
            "Supplier performance (on-time delivery, quality) is scored every quarter.",
            True,
        ),
        (
            "who is responsible for stock counts?",
            "Petty cash is counted by the depot manager every Thursday.",
            False,
        ),
        ("who is responsible for stock counts?", "Stock is counted by the depot manager.", True),
        ("what is the travel policy?", "Trips are booked by the travel desk.", True),
    ],
)
def test_the_subject_asked_about_must_be_what_the_sentence_speaks_of(
    question: str, sentence: str, states: bool
) -> None:
    assert _states_subject(question, sentence) is states


def test_a_charge_asked_by_name_is_in_the_quotes_or_given_as_an_amount() -> None:
    paying = ["Customers pay by bank transfer (BEFTN/RTGS), cheque or bKash merchant payment."]
    assert not _names_charge("what is the late payment penalty for customers?", paying)
    bounced = ["A bounced cheque costs the customer BDT 1,000."]
    assert _names_charge("what's the penalty when a customer's cheque bounces?", bounced)


def test_what_was_asked_is_said_back_as_a_clause() -> None:
    assert _asked("When are salaries paid?") == "when salaries are paid"
    assert _asked("how often is supplier performance reviewed") == (
        "how often supplier performance is reviewed"
    )
