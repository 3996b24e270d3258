from __future__ import annotations

import pytest

from companion.assistant.nlu.entities.docrefs import extract_document_refs, format_ref


@pytest.mark.parametrize(
    ("text", "value", "prefix", "number"),
    [
        ("approve PO-2026-0042", "PO-2026-0042", "PO", 42),
        ("approve po-2026-0042", "PO-2026-0042", "PO", 42),
        ("is inv-2026-107 paid", "INV-2026-0107", "INV", 107),
        ("show me invoice inv 2026 15", "INV-2026-0015", "INV", 15),
        ("status of SO-2026-0003", "SO-2026-0003", "SO", 3),
        ("void RCPT-2026-0031", "RCPT-2026-0031", "RCPT", 31),
        ("cancel BILL-2025-0011", "BILL-2025-0011", "BILL", 11),
        ("reverse PAY-2026-0040", "PAY-2026-0040", "PAY", 40),
        ("void JV-2026-0005", "JV-2026-0005", "JV", 5),
        ("tell me about invoice number 2026-0107", "INV-2026-0107", "INV", 107),
        ("PO-2026-12345 is big", "PO-2026-12345", "PO", 12345),
    ],
)
def test_full_references_are_normalised(text: str, value: str, prefix: str, number: int) -> None:
    (ref,) = extract_document_refs(text)
    assert (ref.value, ref.prefix, ref.number) == (value, prefix, number)
    assert text[ref.start : ref.end] == ref.text


@pytest.mark.parametrize(
    ("text", "raw", "prefix", "number"),
    [
        ("approve po 42", "po 42", "PO", 42),
        ("status of invoice 107", "invoice 107", "INV", 107),
        ("is invoice #204 settled", "invoice #204", "INV", 204),
        ("where is sales order 12", "sales order 12", "SO", 12),
        ("approve PO number 0042", "PO number 0042", "PO", 42),
        ("purchase order 17 please", "purchase order 17", "PO", 17),
        ("what's the status of order 45", "order 45", None, 45),
        ("is #88 delivered", "#88", None, 88),
    ],
)
def test_short_references_keep_raw_text_and_no_year(
    text: str, raw: str, prefix: str | None, number: int
) -> None:
    (ref,) = extract_document_refs(text)
    assert ref.text == raw
    assert (ref.prefix, ref.year, ref.number, ref.value) == (prefix, None, number, None)


def test_short_reference_resolves_with_the_callers_year() -> None:
    (ref,) = extract_document_refs("approve po 42")
    assert ref.resolve(2026) == "PO-2026-0042"
    (generic,) = extract_document_refs("order 45")
    assert generic.resolve(2026) is None


def test_several_references_in_order() -> None:
    refs = extract_document_refs("approve PO-2026-0020 and PO-2026-0021, not po 7")
    assert [r.value for r in refs] == ["PO-2026-0020", "PO-2026-0021", None]
    assert refs[2].text == "po 7"


@pytest.mark.parametrize(
    "text",
    [
        "top 5 customers",
        "invoices over 50k",
        "purchase order of 500 bags",
        "ITEM-0042 stock",
        "CUST-0012 balance",
        "sales in 2026",
        "orders from 2026",
        "what's the weather",
    ],
)
def test_no_reference(text: str) -> None:
    assert extract_document_refs(text) == []


def test_to_dict_and_words() -> None:
    (ref,) = extract_document_refs("approve PO-2026-0042")
    assert ref.to_dict() == {
        "text": "PO-2026-0042",
        "value": "PO-2026-0042",
        "prefix": "PO",
        "year": 2026,
        "number": 42,
    }
    assert ref.words == "purchase order"
    assert extract_document_refs("invoice 107")[0].words == "invoice number"
    assert format_ref("INV", 2026, 7) == "INV-2026-0007"
