"""Order lines read from a sentence, and how a later turn corrects them (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from companion.assistant.actions.handlers.lines import (
    bare_quantity,
    discount_in,
    gather_lines,
    lone_number,
    merge_lines,
    parse_lines,
    price_in,
    tax_in,
    unknown_product,
)
from companion.assistant.actions.handlers.support import reason_in
from companion.assistant.nlu.entities.master import MasterData

TODAY = dt.date(2026, 3, 15)
MASTER = MasterData.build(
    products=[
        (1, "Steel Rod", "SR-1"),
        (2, "Copper Wire", "CW-1"),
        (3, "Ceiling Fan 56in", "AC-HAP-201"),
        (4, "Ceiling Fan 48in", "AC-HAP-202"),
        (5, "LED Bulb 9W", "AC-LGT-301"),
    ],
    customers=[(10, "Rahman Traders", "C1")],
)
D = Decimal


def lines_of(text: str) -> list[tuple[int | None, Decimal | None, Decimal | None]]:
    return [(m.item_id, m.quantity, m.unit_price) for m in parse_lines(text, MASTER, TODAY)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "10 units of Steel Rod and 5 Copper Wire at 450 each",
            [(1, D(10), None), (2, D(5), D(450))],
        ),
        (
            "order for Rahman Traders: 3 Ceiling Fan 56in, 2x LED Bulb 9W @ 160",
            [(3, D(3), None), (5, D(2), D(160))],
        ),
        ("Steel Rod x 10 at 450, Copper Wire qty 4", [(1, D(10), D(450)), (2, D(4), None)]),
        ("change Steel Rod to 8", [(1, D(8), None)]),
        ("ten steel rods please", [(1, D(10), None)]),
        ("5% discount on 10 Steel Rod on 5 March", [(1, D(10), None)]),
        ("Steel Rod for INV-2026-0012", [(1, None, None)]),
        ("nothing we sell", []),
    ],
)
def test_products_with_their_quantities_and_prices(
    text: str, expected: list[tuple[int | None, Decimal | None, Decimal | None]]
) -> None:
    assert lines_of(text) == expected


def test_an_ambiguous_product_lists_its_candidates() -> None:
    [mention] = parse_lines("sell 12 Ceiling Fan to Rahman Traders", MASTER, TODAY)
    assert (mention.item_id, mention.quantity) == (None, D(12))
    assert {c[0] for c in mention.candidates} == {3, 4}


def test_a_product_the_company_does_not_sell_is_named() -> None:
    assert unknown_product("10 units of Unobtainium for Rahman", MASTER, TODAY) == "Unobtainium"
    assert unknown_product("10 units of Steel Rod", MASTER, TODAY) is None


def test_replies_prices_and_percentages() -> None:
    assert (bare_quantity("120"), bare_quantity("make it 120 units"), bare_quantity("hi")) == (
        D(120),
        D(120),
        None,
    )
    assert lone_number("remove 3 please", TODAY) == D(3)
    assert lone_number("3 or 4", TODAY) is None
    assert (price_in("at 500 each"), price_in("for 15,000")) == (D(500), None)
    assert (discount_in("with 5% discount"), discount_in("no discount")) == (D(5), D(0))
    assert (tax_in("7.5% VAT"), tax_in("tax free"), tax_in("hello")) == (D("7.5"), D(0), None)


def test_corrections_overwrite_the_line_they_are_about() -> None:
    lines = merge_lines(
        [],
        parse_lines("3 Steel Rod and Copper Wire", MASTER, TODAY),
        "",
        quantity=None,
        unit_price=None,
    )
    assert [(ln["item_id"], ln["quantity"]) for ln in lines] == [(1, "3"), (2, None)]
    # A bare quantity fills the line still missing one, a price the last line talked about.
    lines = merge_lines(lines, [], "7", quantity=D(7), unit_price=None)
    assert [ln["quantity"] for ln in lines] == ["3", "7"]
    lines = merge_lines(lines, [], "at 90 each", quantity=None, unit_price=D(90))
    assert [ln["unit_price"] for ln in lines] == [None, "90"]
    lines = merge_lines(
        lines,
        parse_lines("remove Steel Rod", MASTER, TODAY),
        "remove Steel Rod",
        quantity=None,
        unit_price=None,
    )
    assert [ln["item_id"] for ln in lines] == [2]


def test_the_answer_to_which_product_keeps_the_quantity_said_first() -> None:
    params: dict[str, object] = {}
    gather_lines(params, "sell 12 Ceiling Fan", {}, MASTER, TODAY)
    assert params["lines"] == [] and params["product_candidates"]
    gather_lines(params, "Ceiling Fan 48in", {}, MASTER, TODAY)
    assert "product_candidates" not in params
    assert [(ln["item_id"], ln["quantity"]) for ln in params["lines"]] == [(4, "12")]  # type: ignore[union-attr]


def test_reasons() -> None:
    assert reason_in("void it because the cheque bounced") == "The cheque bounced"
    assert reason_in("3 were damaged") == "Damaged"
    assert reason_in("just do it") is None


def test_the_seven_handlers_register_with_their_permissions() -> None:
    from companion.assistant.actions.base import action_for

    expected = {
        "create_sales_order": "sales.write",
        "create_customer": "sales.write",
        "post_ar_invoice": "finance.post",
        "record_payment": "finance.post",
        "void_document": "finance.post",
        "create_purchase_order": "procurement.write",
        "adjust_inventory": "inventory.adjust",
    }
    found = {name: getattr(action_for(name), "permission", None) for name in expected}
    assert found == expected
