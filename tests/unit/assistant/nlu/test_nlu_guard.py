"""The question guard: a question about an action's subject is never read as the action."""

from __future__ import annotations

import pytest

from companion.assistant.nlu import ACTIONS, NLU
from companion.assistant.nlu.guard import (
    asks,
    is_action_verb,
    mentions_memory,
    reaches_someone,
    reading_for_question,
    requests_elsewhere,
)
from companion.assistant.nlu.rasa import load_rasa_nlu
from companion.assistant.nlu.understanding import default_data_dir
from nlu_fixtures import TODAY


@pytest.mark.parametrize(
    "text",
    [
        "has PO-2026-0042 been approved?",
        "PO-2026-0042 ki approve hoyeche?",
        "supplier der payment koto baki?",
        "did Rahim Traders pay yet",
        "which POs need approving",
        "how much did we pay Karim Steel last month",
        "kon PO gula approve korte hobe?",
        "approve korar moto kichu ache?",
        "INV-2026-0061 void hoise naki",
        "কোন পিওগুলো অনুমোদনের অপেক্ষায় আছে?",
        "পেমেন্ট কত বাকি",
        "do we owe Karim Steel anything",
    ],
)
def test_questions_are_asking(text: str) -> None:
    assert asks(text)


@pytest.mark.parametrize(
    "text",
    [
        "approve PO-2026-0042",
        "approve PO-2026-0042?",  # an order with a question mark
        "can you approve PO-2026-0042?",
        "could you please record a payment of 50k from Rahim Traders?",
        "PO-2026-0042 approve kore dao",
        "PO-2026-0080 approve korbo na, reject koro",
        "Rahim Traders ke 50 hajar takar invoice pathao",
        "রহমান ট্রেডার্স থেকে ৫০,০০০ টাকা জমা হয়েছে, পেমেন্ট এন্ট্রি করো",
        "do a stock adjustment for cement",
        "we received 75,000 from Meghna Textiles",
        "how do I approve a purchase order?",  # how-to: the assistant answers from help
        "",
    ],
)
def test_requests_and_statements_are_not_asking(text: str) -> None:
    assert not asks(text)


@pytest.mark.parametrize("word", ["approve", "approved", "aprove", "rejct", "adjst", "invocie"])
def test_action_verbs_survive_inflection_and_one_typo(word: str) -> None:
    assert is_action_verb(word)


@pytest.mark.parametrize("word", ["aprovals", "payment", "customer", "show", "ki", "new"])
def test_nouns_and_other_words_are_not_action_verbs(word: str) -> None:
    assert not is_action_verb(word)


PROBS = {
    "record_payment": 0.70,
    "supplier_balance": 0.12,
    "ap_aging": 0.06,
    "confirm": 0.05,
    "purchase_orders": 0.01,
    "invoice_status": 0.02,
    "help": 0.01,
    "out_of_scope": 0.03,
}


def test_a_question_gets_the_best_reading_that_is_not_an_action() -> None:
    intent, confidence = reading_for_question(
        "supplier der payment koto baki?", PROBS, {}, actions=ACTIONS
    )
    # confirm (a reply to a proposal) is not a reading for a question either.
    assert intent == "supplier_balance"
    assert confidence == pytest.approx(0.12 / (0.12 + 0.06 + 0.01 + 0.02 + 0.01 + 0.03))


def test_a_question_about_one_document_is_about_that_kind_of_document() -> None:
    ref = {"document_ref": {"prefix": "PO", "value": "PO-2026-0042"}}
    intent, confidence = reading_for_question(
        "PO-2026-0042 ki approve hoyeche?", PROBS, ref, actions=ACTIONS
    )
    assert intent == "purchase_orders" and 0 < confidence < 0.1


def test_a_banglish_how_to_question_is_help() -> None:
    intent, _ = reading_for_question("kivabe payment record korbo?", PROBS, {}, actions=ACTIONS)
    assert intent == "help"


def test_only_actions_leaves_nothing_to_answer() -> None:
    assert reading_for_question("ki?", {"record_payment": 1.0}, {}, actions=ACTIONS) == (
        "out_of_scope",
        0.0,
    )


def test_the_nlu_applies_the_guard(fake_nlu: NLU) -> None:
    ordered = fake_nlu.parse("approve PO-2026-0042", today=TODAY)
    assert ordered.intent == "approve_purchase_order"
    asked = fake_nlu.parse("has PO-2026-0042 been approved?", today=TODAY)
    assert asked.intent not in ACTIONS
    # The ranking still shows what the classifier heard, for the record.
    assert asked.alternatives and len(asked.alternatives) <= 5


def test_yes_and_no_words_answer_a_proposal(fake_nlu: NLU) -> None:
    # The tiny training set has no confirm/cancel examples; the words alone decide.
    assert fake_nlu.parse("haa, kore dao", today=TODAY).intent == "confirm"
    assert fake_nlu.parse("না, থাক", today=TODAY).intent == "cancel"


@pytest.mark.parametrize("word", ["will", "tell", "look", "most", "cost", "till", "well"])
def test_common_words_a_letter_from_an_action_verb_are_not_one(word: str) -> None:
    assert not is_action_verb(word)


@pytest.mark.parametrize("word", ["bill", "sell", "book", "post", "make", "pay"])
def test_the_verbs_those_words_are_near_still_are(word: str) -> None:
    assert is_action_verb(word)


@pytest.mark.parametrize(
    "text",
    [
        "will PO-2026-0042 be approved tomorrow?",
        "will the price of steel go up next month?",
        "will Rahim Traders pay INV-2026-0042 this week?",
    ],
)
def test_a_question_led_by_will_is_asking(text: str) -> None:
    assert asks(text)


@pytest.mark.parametrize(
    "text",
    [
        "please send an email to Dhaka Traders about their overdue invoice",
        "send Rahim Traders a reminder about INV-2026-0042",
        "can you send a whatsapp message to Karim Steel about the purchase order?",
        "Write a letter to Bengal Foods about their payment",
        "email the invoice to Lotus Pharma",
        "e-mail Meghna Textiles",
        "call Khulna Emporium about their overdue balance",
        "remind Dhaka Traders to pay their invoice",
        "ok, chase Bengal Foods for the payment",
    ],
)
def test_requests_to_contact_someone(text: str) -> None:
    assert reaches_someone(text) and requests_elsewhere(text)


@pytest.mark.parametrize(
    "text",
    [
        "could you please print invoice INV-2026-0042",
        "I want you to forward PO-2026-0042 to the supplier",
        "download INV-2026-0042",
    ],
)
def test_requests_to_handle_a_document_elsewhere(text: str) -> None:
    # Never an action; yet "share the sales figures" is a way to ask for them.
    assert requests_elsewhere(text) and not reaches_someone(text)
    assert not reaches_someone("kindly share the customers with overdue invoices")


@pytest.mark.parametrize(
    "text",
    [
        "send an invoice to Lotus Pharma for 30 office chairs at 5,500",
        "send a bill to Nova Hospitality",
        "send PO-2026-0066 back, not approved",
        "write off 12 bags of cement",
        "post invoice INV-2026-0042",
        "remind me to call Khulna Emporium tomorrow",
        "call off PO-2026-0042",
        "which invoices did we email last week?",
        "email address of Dhaka Traders",
        "share of sales from Rahim Traders last month",
        "schedule of payments due next week",
        "phone number of Karim Steel",
        "contact details for Bengal Foods",
        "",
    ],
)
def test_requests_an_action_does_are_not_elsewhere(text: str) -> None:
    assert not requests_elsewhere(text) and not reaches_someone(text)


@pytest.mark.parametrize(
    "text",
    [
        "will the price of steel go up next month?",
        "is the price of cement going to rise next quarter?",
        "what's the status of PO-2026-0042",
        "Karim Steel raised prices",
        "",
    ],
)
def test_words_without_memory(text: str) -> None:
    assert not mentions_memory(text)


def test_every_shipped_memory_example_has_a_word_of_memory() -> None:
    data = load_rasa_nlu([default_data_dir()])
    examples = [e.text for e in data.examples if e.intent == "remember"]
    assert len(examples) > 80
    assert [e for e in examples if not mentions_memory(e)] == []
