"""Validation messages read as sentences, and an error echoing bad text is still JSON."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, field_validator
from starlette.testclient import TestClient

from companion.errors import ValidationFailed
from companion.web.errors import human_message, install_error_handlers


class Amount(BaseModel):
    value: str

    @field_validator("value")
    @classmethod
    def _number(cls, value: str) -> str:
        try:
            Decimal(value).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise ValueError(str(exc)) from exc  # the text is "[<class '...'>]"
        if Decimal(value) < 0:
            raise ValueError("must not be negative")
        return value


def _client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/amounts")
    def amounts(body: Amount) -> Amount:
        return body

    @app.get("/echo")
    def echo() -> None:
        raise ValidationFailed("There is no customer called '\ud800'", details={"name": "\ud800"})

    return TestClient(app)


def test_a_validator_that_leaks_a_class_name_reads_as_a_sentence() -> None:
    response = _client().post("/amounts", json={"value": "1e999999999"})
    assert response.status_code == 422
    error = response.json()["error"]["details"]["errors"][0]
    assert error == {"loc": ["body", "value"], "msg": "is not valid", "type": "value_error"}


def test_a_validators_own_words_lose_pydantics_prefix() -> None:
    response = _client().post("/amounts", json={"value": "-1"})
    assert response.json()["error"]["details"]["errors"][0]["msg"] == "must not be negative"


def test_an_error_echoing_a_lone_surrogate_is_still_a_json_envelope() -> None:
    response = _client().get("/echo")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert b"\\ud800" in response.content
    assert response.json()["error"]["details"] == {"name": "\ud800"}


@pytest.mark.parametrize(
    ("msg", "kind", "expected"),
    [
        ("Input should be a valid integer", "int_parsing", "Input should be a valid integer"),
        ("[<class 'decimal.ConversionSyntax'>]", "decimal_parsing", "must be a number"),
        ("Value error, [<class 'decimal.InvalidOperation'>]", "value_error", "is not valid"),
        ("Assertion failed, x must be set", "assertion_error", "x must be set"),
    ],
)
def test_human_message(msg: str, kind: str, expected: str) -> None:
    assert human_message(msg, kind) == expected
