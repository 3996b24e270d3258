"""Action parameters: ids fit their column and strings can be stored, before any handler."""

from __future__ import annotations

from typing import Any

import pytest

from companion.assistant.actions.params import check_params
from companion.errors import ValidationFailed
from companion.kit.fields import DB_INT_MAX


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"customer_id": 1, "bank_account_id": DB_INT_MAX, "amount": "12.50"},
        {"customer_id": "42", "warehouse_id": None, "quantity": 10**30},
        {"lines": [{"item_id": 7, "quantity": "2", "name": "Fan"}], "confirm": True},
        {"customer_candidates": [{"id": 3, "name": "Rahman"}], "name": "ঢাকা ট্রেডার্স"},
    ],
)
def test_good_params_pass_unchanged(params: dict[str, Any]) -> None:
    assert check_params(params) is params


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"customer_id": 10**30}, ["params", "customer_id"]),
        ({"bank_account_id": 2**63}, ["params", "bank_account_id"]),
        ({"supplier_id": DB_INT_MAX + 1}, ["params", "supplier_id"]),
        ({"customer_id": 0}, ["params", "customer_id"]),
        ({"customer_id": "9" * 5000}, ["params", "customer_id"]),
        ({"customer_id": 1e300}, ["params", "customer_id"]),
        ({"customer_id": 1.5}, ["params", "customer_id"]),
        ({"customer_id": "abc"}, ["params", "customer_id"]),
        ({"customer_id": True}, ["params", "customer_id"]),
        ({"lines": [{"item_id": 1}, {"item_id": 10**30}]}, ["params", "lines", 1, "item_id"]),
        ({"customer_candidates": [{"id": -4}]}, ["params", "customer_candidates", 0, "id"]),
        ({"name": "\x00"}, ["params", "name"]),
        ({"name": "\ud800 Traders"}, ["params", "name"]),
        ({"lines": [{"name": "a\x00"}]}, ["params", "lines", 0, "name"]),
        ({"bad\x00key": 1}, ["params", "bad\x00key"]),
        ({"amount": float("nan")}, ["params", "amount"]),
    ],
)
def test_bad_params_are_a_422_naming_the_parameter(params: dict[str, Any], loc: list[Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_params(params)
    error = caught.value
    assert error.status_code == 422
    assert error.details["errors"][0]["loc"] == loc
    assert error.message.startswith(f"Invalid parameters: {'.'.join(map(str, loc[1:]))} must")
