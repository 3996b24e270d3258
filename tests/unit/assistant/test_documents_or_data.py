"""Weighing documents against data for a message the NLU read as a ledger question."""

from __future__ import annotations

from companion.assistant.documents_or_data import (
    both,
    ledger_words,
    names_ledger,
    own_words,
    subject_of,
    weigh,
)
from companion.assistant.queries import registry as queries
from companion.assistant.skills.base import Answer
from companion.knowledge.answers import KnowledgeAnswer, Quote, terms

LEDGER = ledger_words(frozenset(queries.all_queries()))


def found(*sentences: str, section: str = "3. FLEXIBLE BENEFIT") -> KnowledgeAnswer:
    source = {"id": "kb_1#0", "number": 1, "title": "Staff handbook", "section": section}
    return KnowledgeAnswer(
        text="From your documents: ...",
        found=True,
        sources=[source],
        quotes=[Quote(text=s, source=1, score=1.0) for s in sentences],
    )


RECEIPTS = found(
    "3.4 Staff can make their claims through the HRIS and retain the original receipts for "
    "6 months from the date of the electronic submission."
)


def test_the_ledger_words_come_from_the_nlu_examples_of_data_questions() -> None:
    assert terms("cash balance invoice receipt overdue supplier") <= LEDGER
    # Words of the documents' subjects are not the ledger's.
    assert not terms("telecommuting overtime maternity bonus") & LEDGER


def test_a_question_of_nothing_but_ledger_words_stays_with_the_ledger() -> None:
    assert subject_of("what's our cash balance?", LEDGER) == frozenset()
    assert weigh("what's our cash balance?", {}, RECEIPTS, LEDGER).verdict == "data"
    assert subject_of("list purchase orders awaiting approval", LEDGER) == frozenset()


def test_the_documents_win_when_they_hold_the_subject_and_no_record_is_named() -> None:
    weighing = weigh("how long must we keep receipts for benefit claims?", {}, RECEIPTS, LEDGER)
    assert weighing.subject == terms("keep receipts benefit claims")  # a rule: all but its form
    assert weighing.fit >= 0.75 and weighing.verdict == "documents"


def test_documents_that_miss_the_subject_leave_it_to_the_ledger() -> None:
    weighing = weigh("receipts from Karim's maternity clinic", {}, RECEIPTS, LEDGER)
    assert weighing.fit < 0.6 and weighing.verdict == "data"
    nothing = KnowledgeAnswer(text="I couldn't find this in your documents.", found=False)
    assert weigh("receipts for benefit claims", {}, nothing, LEDGER).verdict == "data"


def test_a_message_naming_the_ledger_and_the_documents_gets_both() -> None:
    period = {"period": {"start": "2026-02-01", "end": "2026-02-28"}}
    weighing = weigh("receipts for benefit claims last month", period, RECEIPTS, LEDGER)
    assert weighing.ledger_named and weighing.verdict == "both"
    data = Answer(text="Receipts last month were BDT 2,000.", skill="data_query", data={"rows": []})
    documents = Answer(text="From your documents:\n“3.4 ...” [1]", skill="knowledge", sources=[{}])
    combined = both(data, documents)
    assert combined.text.startswith("From the ledger: Receipts last month were BDT 2,000.")
    assert "\n\nFrom your documents:" in combined.text
    assert combined.data == {"rows": []} and combined.sources == [{}]
    assert combined.extra["documents_or_data"] == "both"


def test_a_name_the_records_do_not_hold_names_nothing_of_the_ledger() -> None:
    unknown = {"customer": {"text": "NTUC Thrift", "unknown": True}}
    assert not names_ledger(unknown)
    known = {"customer": {"id": 7, "text": "Khulna Distributors", "name": "Khulna Distributors"}}
    assert names_ledger(known)
    # A known record's name is the ledger's, however it is spelled.
    assert subject_of("how much does Khulna Distributors owe us?", LEDGER, known) == frozenset()


def test_a_question_about_a_rule_keeps_its_ledger_words_as_its_subject() -> None:
    kept = found(
        "4.1 Invoices and receipts are kept for 7 years from the end of the financial year.",
        section="4. Retention of financial records",
    )
    weighing = weigh("how long must invoices be kept?", {}, kept, LEDGER)
    assert weighing.subject == terms("invoices kept") and weighing.verdict == "documents"
    # The same words asking for figures are the ledger's.
    assert subject_of("which invoices are overdue?", LEDGER) == frozenset()
    approvals = subject_of("who approves purchase orders?", LEDGER)
    assert approvals == terms("approves purchase orders")
    assert subject_of("what's waiting for my approval?", LEDGER) == frozenset()


def test_one_stray_word_beside_a_named_period_leaves_it_to_the_ledger() -> None:
    period = {"period": {"start": "2026-04-01", "end": "2026-06-30"}}
    order = found("Dealers paying within 7 days receive a discount on their next order.")
    weighing = weigh("what will sales be next quarter", period, order, LEDGER)
    assert weighing.verdict == "data"


def test_the_companys_own_name_is_the_ledgers_subject_not_the_documents() -> None:
    # The company's policies carry its name ("Acme Trading credit and collections policy").
    policy = found("Acme Trading Ltd extends credit of 30 days to approved customers.")
    own = own_words("acme", "Acme Trading Ltd")
    message = "profit and loss for Acme Trading Ltd"
    assert subject_of(message, LEDGER, {}, own) == frozenset()
    assert weigh(message, {}, policy, LEDGER, own).verdict == "data"
    # Without knowing its own name, the name alone would have sent it to the documents.
    assert weigh(message, {}, policy, LEDGER).verdict == "documents"
