"""The routing rules of a chat turn, each on its own, then in order (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from companion.assistant import adhoc, routing
from companion.assistant.choices import offer
from companion.assistant.followup import Resolved
from companion.assistant.routing import Message, Route
from companion.assistant.skills.base import Answer, skill_for
from companion.assistant.state import ConversationState

DATA = frozenset({"sales_summary", "cash_balance", "purchase_orders", "order_status"})
OCTOBER = {"period": {"start": "2026-10-01", "end": "2026-10-31"}}
ASKED_SALES = ConversationState(intent="sales_summary", entities=OCTOBER)
PO_REF = {"document_ref": {"prefix": "PO", "value": "PO-2026-0003", "text": "PO-2026-0003"}}


def _message(
    text: str, intent: str = "out_of_scope", confidence: float = 0.9, **kw: Any
) -> Message:
    return Message(
        text=text,
        intent=intent,
        confidence=confidence,
        entities=kw.pop("entities", {}),
        state=kw.pop("state", ConversationState()),
        data_intents=DATA,
        **kw,
    )


def _start(message: Message) -> Route:
    return Route(Resolved(message.intent, message.confidence, message.entities, follow_up=False))


def _never(*args: Any) -> Any:
    raise AssertionError("this rule's read must not happen")


def test_the_rules_run_in_this_order() -> None:
    assert [rule.name for rule in routing.READING] == [
        "follow_up",
        "memory_request",
        "not_memory",
        "outside_figure",
        "adhoc",
        "awaited",
        "page_record",
        "recall",
        "one_document",
        "how_to",
        "action_in_progress",
        "other_company",
    ]


def test_follow_up_refines_the_last_question() -> None:
    rule = routing.FollowUp()
    message = _message("what about the month before?", confidence=0.3, state=ASKED_SALES)
    assert rule.applies(message, _start(message))
    got = rule.run(message, _start(message))
    assert got.resolved.intent == "sales_summary" and got.resolved.follow_up
    assert got.resolved.entities["period"] == {"start": "2026-09-01", "end": "2026-09-30"}
    assert got.taken == ("follow_up",)
    fresh = _message("what's our cash balance?", "cash_balance", 0.97, state=ASKED_SALES)
    assert rule.run(fresh, _start(fresh)) == _start(fresh)
    assert not rule.applies(_message("hello"), _start(_message("hello")))


def test_follow_up_takes_a_pick_of_an_offered_choice() -> None:
    rahman = {"customer": {"text": "Rahman Traders", "id": 7, "name": "Rahman Traders"}}
    offered = offer([("Rahman Traders", "sales_summary", rahman)], ASKED_SALES.to_json())
    state = ConversationState.from_json({"offer": offered})
    message = _message("the first one", state=state)
    assert routing.FollowUp().applies(message, _start(message))
    got = routing.FollowUp().run(message, _start(message))
    assert got.resolved.picked == "choice" and got.resolved.entities == rahman


def test_a_memory_request_is_kept_and_is_no_breakdown() -> None:
    message = _message("remember that sales by customer matter most", "sales_summary",
                       read_adhoc=_never)  # fmt: skip
    got = routing.route(message)
    assert got.remembering and got.resolved.intent == "remember"
    assert got.taken == ("memory_request",)
    assert not routing.MemoryRequest().applies(_message("sales by customer"), _start(_message("x")))


def test_a_memory_reading_without_a_word_of_memory_is_out_of_scope() -> None:
    steel = _message("will the price of steel go up next month?", "remember", 0.8,
                     entities={"period": {"start": "2026-12-01", "end": "2026-12-31"}})  # fmt: skip
    got = routing.route(steel)
    assert got.resolved.intent == "out_of_scope" and not got.resolved.follow_up
    assert got.resolved.entities == {} and got.resolved.confidence == pytest.approx(0.2)
    assert got.taken == ("not_memory",)
    kept_readings = (
        "note that our year end is June",
        "what do you remember about me?",
        "from now on show amounts in lakh",
        "mone rakho ami lakh e dekhte chai",
    )
    for kept in kept_readings:
        assert routing.route(_message(kept, "remember")).resolved.intent == "remember", kept
    # A refinement of the last question stays one, whatever the classifier heard in it.
    rahman = {"customer": {"text": "Rahman Traders", "id": 7, "name": "Rahman Traders"}}
    only = _message("only for Rahman Traders", "remember", 0.5, entities=rahman,
                    state=ASKED_SALES, read_adhoc=lambda: None)  # fmt: skip
    refined = routing.route(only)
    assert refined.resolved.intent == "sales_summary" and refined.resolved.follow_up
    assert "not_memory" not in refined.taken


def test_a_data_reading_of_an_outside_figure_is_out_of_scope() -> None:
    outside = (
        ("will copper prices fall next week?", "sales_summary"),
        ("how much is one US dollar in taka right now?", "cash_balance"),
        ("what is the dollar rate today?", "cash_balance"),
    )
    for text, intent in outside:
        got = routing.route(_message(text, intent, 0.7))
        assert got.resolved.intent == "out_of_scope" and not got.resolved.follow_up, text
        assert got.resolved.confidence == pytest.approx(0.3) and got.resolved.entities == {}
        assert got.taken == ("outside_figure",), text
    # Questions of the books keep their reading, with future words, prices or currencies in.
    kept = (
        ("which invoices are due next week?", "sales_summary"),
        ("will PO-2026-0003 be approved tomorrow?", "order_status"),
        ("sales in usd last month", "sales_summary"),
        ("what rate did we pay for freight last month?", "sales_summary"),
    )
    for text, intent in kept:
        got = routing.route(_message(text, intent, read_adhoc=lambda: None))
        assert got.resolved.intent == intent and "outside_figure" not in got.taken, text
    # Only a data reading is turned: a memory request is kept, whatever it names.
    memo = routing.route(_message("remember that the dollar rate was 122 taka", "remember"))
    assert memo.resolved.intent == "remember"


def test_adhoc_takes_a_breakdown_and_leaves_anything_else() -> None:
    feb = {"period": {"start": "2026-02-01", "end": "2026-02-28"}}
    reading = adhoc.read(
        "sales by item last month", "sales_summary", feb, None, dt.date(2026, 3, 15)
    )
    assert isinstance(reading, adhoc.Reading)
    message = _message("sales by item last month", read_adhoc=lambda: (reading, feb))
    got = routing.AdHoc().run(message, _start(message))
    assert got.resolved.intent == adhoc.INTENT and got.adhoc is reading
    assert got.resolved.entities == feb and got.taken == ("adhoc",)
    refusal = adhoc.Refusal("I can't break sales down by city.")
    refused = routing.AdHoc().run(_message("x", read_adhoc=lambda: (refusal, {})), _start(message))
    assert refused.adhoc is refusal and refused.resolved.intent == adhoc.INTENT
    none = _message("what's our cash balance?", read_adhoc=lambda: None)
    assert routing.AdHoc().run(none, _start(none)) == _start(none)
    remembering = dataclasses.replace(_start(none), remembering=True)
    assert not routing.AdHoc().applies(none, remembering)


def test_page_record_adds_the_pages_document_when_the_message_points_at_it() -> None:
    rule = routing.PageRecord()
    message = _message("approve this", "approve_purchase_order", record="PO-2026-0003")
    assert rule.applies(message, _start(message))
    got = rule.run(message, _start(message))
    assert got.resolved.entities["document_ref"]["source"] == "page"
    assert got.taken == ("page_record",)
    plain = _message("approve PO-2026-0004", record="PO-2026-0003", entities=PO_REF)
    assert rule.run(plain, _start(plain)) == _start(plain)
    assert not rule.applies(_message("approve this"), _start(_message("approve this")))


def test_recall_fills_the_record_a_memory_names() -> None:
    rahman = {"customer": {"text": "Rahman", "id": 7}}
    message = _message("sales of the customer I mentioned", recall=lambda e: {**e, **rahman})
    got = routing.Recall().run(message, _start(message))
    assert got.resolved.entities == rahman and got.taken == ("recall",)
    same = _message("sales this month")
    assert routing.Recall().run(same, _start(same)) == _start(same)


def test_one_document_asks_the_single_document_query() -> None:
    rule = routing.OneDocument()
    message = _message("is PO-2026-0003 on the list?", "purchase_orders", entities=PO_REF)
    assert rule.applies(message, _start(message))
    got = rule.run(message, _start(message))
    assert got.resolved.intent == "order_status" and got.taken == ("one_document",)
    unnamed = _message("open purchase orders", "purchase_orders")
    assert not rule.applies(unnamed, _start(unnamed))


def test_how_to_asks_the_help_pages() -> None:
    rule = routing.HowTo()
    message = _message("How do I create an invoice?", "post_ar_invoice")
    assert rule.applies(message, _start(message))
    got = rule.run(message, _start(message))
    assert got.how_to and got.resolved.intent == "help"
    done = _message("create an invoice for Rahman", "post_ar_invoice")
    assert not rule.applies(done, _start(done))


def test_an_action_in_progress_claims_the_turn_unless_it_picks_an_offer() -> None:
    rule = routing.ActionInProgress()
    message = _message("PO-2026-0003", "order_status", claims=lambda resolved: True)
    got = rule.run(message, _start(message))
    assert got.claimed and got.taken == ("action_in_progress",)
    assert got.skill() is skill_for("approve_purchase_order")
    unclaimed = _message("PO-2026-0003", claims=lambda resolved: False)
    assert not rule.run(unclaimed, _start(unclaimed)).claimed
    picked = Route(Resolved("sales_summary", 1.0, {}, follow_up=True, picked="choice"))
    assert not rule.applies(message, picked)
    assert not rule.applies(message, dataclasses.replace(_start(message), how_to=True))
    assert not rule.applies(message, dataclasses.replace(_start(message), remembering=True))


def test_the_route_skill_is_the_intents_or_out_of_scope() -> None:
    assert _start(_message("x", "cash_balance")).skill() is skill_for("cash_balance")
    assert _start(_message("x", "no_such_intent")).skill() is skill_for("out_of_scope")


class _Answerer:
    """Answers as told and records which ways were tried."""

    def __init__(self, documents: bool = False, tool: bool = False) -> None:
        self.documents, self.tool = documents, tool
        self.tried: list[str] = []

    def documents_or_data(self) -> tuple[Answer, str] | None:
        self.tried.append("documents_or_data")
        return (
            (Answer("From the manual", "knowledge"), "explain_policy") if self.documents else None
        )

    def choose_tool(self) -> tuple[Answer, Resolved] | None:
        self.tried.append("tool_choice")
        chosen = Resolved("cash_balance", 0.3, {}, follow_up=False)
        return (Answer("Cash", "data_query"), chosen) if self.tool else None

    def handle(self) -> Answer:
        self.tried.append("skill")
        return Answer("The skill's answer", "dialogue")


RULES = routing.answering(0.5)
SURE = Route(Resolved("cash_balance", 0.9, {}, follow_up=False))
UNSURE = Route(Resolved("out_of_scope", 0.2, {}, follow_up=False))


def test_documents_or_data_answers_first_and_renames_the_intent() -> None:
    answerer = _Answerer(documents=True)
    answer, resolved = routing.answer(RULES, answerer, SURE)
    assert answer.text == "From the manual" and resolved.intent == "explain_policy"
    assert answerer.tried == ["documents_or_data"]
    for taken in ({"claimed": True}, {"how_to": True}, {"remembering": True}):
        assert not routing.DocumentsOrData().applies(dataclasses.replace(SURE, **taken))


def test_a_model_chooses_the_tool_only_for_an_unsure_reading() -> None:
    answerer = _Answerer(tool=True)
    answer, resolved = routing.answer(RULES, answerer, UNSURE)
    assert answer.text == "Cash" and resolved.intent == "cash_balance"
    assert answerer.tried == ["documents_or_data", "tool_choice"]
    sure = _Answerer(tool=True)
    assert routing.answer(RULES, sure, SURE)[0].text == "The skill's answer"
    assert sure.tried == ["documents_or_data", "skill"]
    assert not routing.ToolChoice(0.5).applies(dataclasses.replace(UNSURE, claimed=True))


def test_the_skill_answers_when_nothing_before_it_does() -> None:
    answerer = _Answerer()
    answer, resolved = routing.answer(RULES, answerer, UNSURE)
    assert answer.text == "The skill's answer" and resolved is UNSURE.resolved
    assert answerer.tried == ["documents_or_data", "tool_choice", "skill"]


@pytest.mark.parametrize(
    ("resolved", "unsure"),
    [
        (Resolved("out_of_scope", 0.99, {}, follow_up=False), True),
        (Resolved("cash_balance", 0.3, {}, follow_up=False), True),
        (Resolved("cash_balance", 0.7, {}, follow_up=False), False),
        (Resolved("cash_balance", 0.3, {}, follow_up=True), False),  # a follow-up is read
        (Resolved("greet", 0.1, {}, follow_up=False), False),  # never second-guessed
    ],
)
def test_unsure(resolved: Resolved, unsure: bool) -> None:
    assert routing.unsure(resolved, 0.5) is unsure
