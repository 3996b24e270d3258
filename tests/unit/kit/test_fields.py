"""The shared bounded types: ids fit an INTEGER column, text can be stored and sent."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from companion.kit.fields import DB_INT_MAX, Id, Text, check_text


class Body(BaseModel):
    id: Id
    name: Text = Field(default="x", max_length=20)
    note: Text = ""


@pytest.mark.parametrize("value", [1, DB_INT_MAX])
def test_an_id_in_range_is_kept(value: int) -> None:
    assert Body(id=value).id == value


@pytest.mark.parametrize("value", [0, -1, DB_INT_MAX + 1, 2**63, 10**30])
def test_an_id_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(ValidationError) as caught:
        Body(id=value)
    assert caught.value.errors()[0]["loc"] == ("id",)


def test_the_bounds_reach_the_json_schema() -> None:
    schema = Body.model_json_schema()["properties"]["id"]
    assert (schema["minimum"], schema["maximum"]) == (1, DB_INT_MAX)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("\ud800 cash", "string_unicode"), ("a\x00b", "string_nul"), ("\udfff", "string_unicode")],
)
def test_text_that_cannot_be_stored_is_refused(text: str, kind: str) -> None:
    for field in ("name", "note"):  # with and without a length constraint
        with pytest.raises(ValidationError) as caught:
            Body(id=1, **{field: text})
        error = caught.value.errors()[0]
        assert error["loc"] == (field,)
        assert error["type"] == kind or field == "name"  # pydantic's own check may come first


@pytest.mark.parametrize("text", ["Dhaka Traders", "ঢাকা ট্রেডার্স", "😀 emoji", "tab\there"])
def test_ordinary_text_passes(text: str) -> None:
    assert Body(id=1, note=text).note == text
    assert check_text(text) == text


def test_check_text_leaves_other_values_alone() -> None:
    assert check_text(5) == 5
    with pytest.raises(ValueError, match="NUL"):
        check_text("\x00")
