"""A model's tool arguments become the entities the NLU would have given."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.progress import Progress
from companion.assistant.tools import ToolChoice, entities_from_choice

MASTER = MasterData.build(
    customers=[(1, "Tangail Traders", "C-001"), (2, "Khulna Digital Point", "C-002")],
    products=[(7, "Steel Rod 12mm", "SR-12")],
    warehouses=[(3, "Dhaka Central Warehouse", "DCW")],
)


def test_names_resolve_to_records_and_unknown_names_stay_unresolved() -> None:
    choice = ToolChoice(
        tool="create_sales_order",
        arguments={
            "customer": "tangail traders",
            "product": "Steel Rod 12mm",
            "warehouse": "Nowhere",
        },
    )
    entities = entities_from_choice(choice, MASTER)
    assert entities["customer"]["id"] == 1 and entities["customer"]["name"] == "Tangail Traders"
    assert entities["product"]["id"] == 7
    assert entities["warehouse"] == {"text": "Nowhere", "id": None, "name": None}


def test_documents_periods_amounts_and_numbers_take_the_nlu_shapes() -> None:
    choice = ToolChoice(
        tool="purchase_orders",
        arguments={
            "document_ref": "PO-2026-0042",
            "period": {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)},
            "as_of": dt.date(2026, 3, 31),
            "min_amount": Decimal("5000"),
            "top_n": 5,
            "quantity": Decimal("12.5"),
            "status": "approved",
        },
    )
    entities = entities_from_choice(choice, MASTER)
    assert entities["document_ref"]["value"] == "PO-2026-0042"
    assert entities["document_ref"]["prefix"] == "PO"
    assert entities["period"] == {"start": "2026-01-01", "end": "2026-03-31"}
    assert entities["date"] == "2026-03-31"
    assert entities["amount_range"] == {"min": Decimal("5000"), "max": None}
    assert entities["top_n"] == 5 and entities["quantity"] == Decimal("12.5")
    assert entities["status"] == "approved"


def test_a_malformed_document_number_is_left_out() -> None:
    choice = ToolChoice(tool="order_status", arguments={"document_ref": "forty-two"})
    assert "document_ref" not in entities_from_choice(choice, MASTER)


def test_progress_forwards_steps_and_text_and_remembers_cancellation() -> None:
    seen: list[tuple[str, dict[str, object]]] = []
    progress = Progress(lambda kind, data: seen.append((kind, data)))
    progress.status("retrieving")
    progress.token("Hotels ")
    progress.token("")  # nothing to show: no event
    assert seen == [("status", {"step": "retrieving"}), ("token", {"text": "Hotels "})]
    assert not progress.cancelled
    progress.cancel()
    assert progress.cancelled
    with pytest.raises(ValueError, match="unknown step"):
        progress.status("dancing")
