from __future__ import annotations

import pytest

from companion.assistant.nlu.entities.words import (
    extract_module,
    extract_status,
    extract_top_n,
    status_vocabulary,
)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("which invoices are overdue", "overdue"),
        ("list past due invoices", "overdue"),
        ("past  due invoices", "overdue"),
        ("late payments", "overdue"),
        ("draft purchase orders", "draft"),
        ("POs pending approval", "pending_approval"),
        ("awaiting approval", "pending_approval"),
        ("approved POs", "approved"),
        ("rejected purchase orders", "rejected"),
        ("partially received POs", "partially_received"),
        ("is it partially paid", "partially_paid"),
        ("canceled orders", "cancelled"),
        ("unpaid invoices", "unpaid"),
        ("is INV-2026-0023 void", "void"),
        ("has it been delivered", "delivered"),
        ("show open purchase orders", "open"),
        ("items out of stock", "out_of_stock"),
        ("PAID invoices", "paid"),
    ],
)
def test_status(text: str, status: str) -> None:
    found = extract_status(text)
    assert found is not None
    assert found.value == status


@pytest.mark.parametrize(
    "text", ["open a new purchase order", "what's our cash", "platelet count", "ordered"]
)
def test_no_status(text: str) -> None:
    assert extract_status(text) is None


def test_training_synonyms_extend_the_vocabulary() -> None:
    vocab = status_vocabulary({"behind schedule": "overdue", "credit card": "credit"}, ["on hold"])
    assert extract_status("invoices behind schedule", vocab).value == "overdue"  # type: ignore[union-attr]
    assert extract_status("orders on hold", vocab).value == "on hold"  # type: ignore[union-attr]
    assert "credit card" not in vocab  # not a status synonym


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("top 5 customers", 5),
        ("top ten customers", 10),
        ("our best three clients", 3),
        ("10 biggest buyers", 10),
        ("TOP 20 accounts", 20),
    ],
)
def test_top_n(text: str, n: int) -> None:
    found = extract_top_n(text)
    assert found is not None and int(found.value) == n


@pytest.mark.parametrize("text", ["top customers", "top 0 customers", "who is on top"])
def test_no_top_n(text: str) -> None:
    assert extract_top_n(text) is None


def test_module() -> None:
    assert extract_module("I run the sales team").value == "sales"  # type: ignore[union-attr]
    assert extract_module("module: procurement").value == "purchasing"  # type: ignore[union-attr]
    assert extract_module("sales last month") is None
