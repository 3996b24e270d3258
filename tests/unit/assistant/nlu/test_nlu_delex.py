from __future__ import annotations

from companion.assistant.nlu.delex import delexicalise, delexicalised_examples, placeholder
from companion.assistant.nlu.rasa import parse_annotated
from companion.assistant.nlu.spans import Span


def test_placeholders() -> None:
    assert placeholder("customer", "Rahim Traders") == "customer"
    assert placeholder("bank_account", "City Bank") == "bank account"
    assert placeholder("document_ref", "PO-2026-0042") == "purchase order"
    assert placeholder("document_ref", "po 42") == "purchase order number"
    assert placeholder("document_ref", "107") == "number"
    assert placeholder("period", "last month") is None


def test_delexicalise_replaces_spans_and_keeps_the_rest() -> None:
    text = "how much does Rahim Traders owe for INV-2026-0107"
    spans = [Span(14, 27, "customer"), Span(36, 49, "document_ref")]
    assert delexicalise(text, spans) == "how much does customer owe for invoice"


def test_overlapping_and_unknown_spans() -> None:
    text = "cement in Dhaka warehouse last month"
    spans = [Span(0, 6, "product"), Span(0, 3, "customer"), Span(26, 36, "period")]
    assert delexicalise(text, spans) == "product in Dhaka warehouse last month"


def test_examples_with_names_get_a_placeholder_copy() -> None:
    examples = [
        parse_annotated("approve [PO-2026-0042](document_ref)", "approve_purchase_order"),
        parse_annotated("sales [last month](period)", "sales_summary"),
    ]
    copies = delexicalised_examples(examples)
    assert [(c.text, c.intent) for c in copies] == [
        ("approve purchase order", "approve_purchase_order")
    ]
