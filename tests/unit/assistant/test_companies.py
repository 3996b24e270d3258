"""How a message names a company of the installation, and the routing rule that then says
whose records the turn answers from (assistant.companies, routing.OtherCompany)."""

from __future__ import annotations

import pytest

from companion.assistant import adhoc, routing
from companion.assistant.companies import NamedCompany, _patterns
from companion.assistant.state import ConversationState


def company(slug: str, name: str) -> NamedCompany:
    return NamedCompany(1, slug, name, _patterns(slug, name))


@pytest.mark.parametrize(
    "text",
    [
        "what's Acme's cash balance?",
        "how much did acme sell last month",  # the slug, any case
        "ACME TRADING overdue invoices",  # the name without "Ltd"
        "show Acme Trading Ltd. receivables",
        "sales of Acme",
    ],
)
def test_a_company_is_named_by_its_name_slug_or_first_word(text: str) -> None:
    assert company("acme", "Acme Trading Ltd").named_in(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "what's our cash balance?",
        "acmetrading sales",  # part of a longer word
        "sales of pre-acme items",
    ],
)
def test_other_words_name_no_company(text: str) -> None:
    assert company("acme", "Acme Trading Ltd").named_in(text) is None


def test_a_generic_first_word_or_one_in_lower_case_is_no_name() -> None:
    general = company("gt", "General Traders Ltd")
    assert general.named_in("general ledger balance") is None
    assert general.named_in("General question: what's our cash?") is None
    assert general.named_in("General Traders' cash") is not None
    sun = company("sun-foods", "Sun Foods Inc")
    assert sun.named_in("sales on a sun day") is None  # the first word counts written as a name
    assert sun.named_in("what did Sun buy?") is not None
    assert sun.named_in("sun foods receivables") is not None


def _message(text: str, said: str | None, intent: str = "cash_balance") -> routing.Message:
    return routing.Message(
        text=text,
        intent=intent,
        confidence=0.99,
        entities={},
        state=ConversationState(),
        data_intents=frozenset({"cash_balance"}),
        other_company=lambda entities: said,
    )


def test_the_rule_turns_the_reading_into_what_is_said() -> None:
    route = routing.route(_message("what's Acme's cash balance?", "I answer only with ..."))
    assert route.taken[-1] == "other_company"
    assert route.resolved.intent == adhoc.INTENT
    assert route.adhoc == adhoc.Refusal("I answer only with ...")
    assert not route.claimed and route.elsewhere
    # neither the documents nor a model's tool choice answer it instead
    answering = routing.answering(tool_choice_below=2.0)
    assert [rule.name for rule in answering if rule.applies(route)] == ["skill"]


def test_no_company_named_leaves_the_route() -> None:
    route = routing.route(_message("what's our cash balance?", None))
    assert "other_company" not in route.taken and route.resolved.intent == "cash_balance"


def test_a_memory_request_is_kept_whatever_company_it_names() -> None:
    message = _message("remember that Acme is our sister company", "I answer only with ...")
    route = routing.route(message)
    assert route.remembering and route.resolved.intent == "remember"
