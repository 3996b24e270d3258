"""The rule that decides, before answering, whether a chat turn answers inside its write
transaction (issue 18): actions, memories and any skill that says it writes do."""

from __future__ import annotations

import pytest

from companion.assistant import phases
from companion.assistant.skills.actions import ACTION_INTENTS
from companion.assistant.skills.base import skill_for


class _Reads:
    name = "reads"


class _Writes:
    name = "writes"
    writes = True


def test_a_skill_writes_only_when_it_says_so() -> None:
    assert phases.writes(_Writes())
    assert not phases.writes(_Reads())
    assert not phases.writes(None)


@pytest.mark.parametrize(
    ("skill", "claimed", "remembering", "one_transaction"),
    [
        (_Reads(), False, False, False),  # a data question, a policy, small talk: reads first
        (_Reads(), True, False, True),  # "yes" to a pending confirmation, a draft's answer
        (_Reads(), False, True, True),  # "remember that ..."
        (_Writes(), False, False, True),  # a skill that writes
        (_Writes(), True, True, True),
    ],
)
def test_a_turn_answers_in_its_write_transaction_when_it_may_write(
    skill: object, claimed: bool, remembering: bool, one_transaction: bool
) -> None:
    decided = phases.answers_in_one_transaction(skill, claimed=claimed, remembering=remembering)
    assert decided is one_transaction


def test_the_shipped_skills_that_write_are_the_actions_and_memories() -> None:
    for intent in ACTION_INTENTS:
        assert phases.writes(skill_for(intent)), intent
    assert phases.writes(skill_for("remember"))
    for intent in (
        "cash_balance",
        "profit_and_loss",
        "explain_policy",
        "greet",
        "help",
        "out_of_scope",
        "confirm",  # with nothing pending: "There's nothing waiting for your confirmation."
        "cancel",
        "briefing",
    ):
        assert not phases.writes(skill_for(intent)), intent
