"""The imports skill's reading of a message (which import, which kind) and its sentences."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.assistant.imports import ImportFacts
from companion.assistant.skills.imports import describe, import_kind, import_number, table


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("status of import 12", 12),
        ("commit import #7", 7),
        ("commit import no. 16", 16),
        ("what about import number 3?", 3),
        ("is #45 done", 45),
        ("ইমপোর্ট ১২ কমিট করে দাও", 12),
        ("what's wrong with the last import?", None),
        ("commit the 2 imports", None),
    ],
)
def test_the_import_number_is_read_from_the_words(text: str, number: int | None) -> None:
    assert import_number(text) == number


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("validate my customer import", "customers"),
        ("were there duplicates in the vendor file", "suppliers"),
        ("did the products import pass", "items"),
        ("how did the opening balance import go", "opening_balances"),
        ("what's wrong with the last import?", None),
    ],
)
def test_the_kind_is_read_from_the_words(text: str, kind: str | None) -> None:
    assert import_kind(text) == kind


def _facts(status: str, **kw: object) -> ImportFacts:
    base: dict[str, object] = {
        "id": 12,
        "kind": "customers",
        "filename": "c.csv",
        "status": status,
        "total_rows": 5,
        "valid_rows": 5,
        "error_count": 0,
        "duplicate_count": 0,
    }
    return ImportFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_an_invalid_import_lists_its_first_errors_with_line_numbers() -> None:
    errors = [
        {"line": 3, "column": "name", "message": "Field required", "value": None},
        {"line": 5, "column": "code", "message": "Same code as line 2", "value": "C-1"},
    ]
    facts = _facts("invalid", valid_rows=3, error_count=2, duplicate_count=1, errors=errors)
    text = describe(facts)
    assert text.startswith("Import 12 (customers, c.csv) has 2 errors in 5 rows (1 of them")
    assert "line 3, name: Field required; line 5, code: Same code as line 2 (“C-1”)" in text
    assert "/api/v1/ai/imports/12/errors.csv" in text
    assert table(facts)["rows"] == [
        [3, "name", "Field required", None],
        [5, "code", "Same code as line 2", "C-1"],
    ]


def test_each_status_reads_as_what_can_be_done_next() -> None:
    assert "say “commit import 12”" in describe(_facts("validated"))
    assert "still being validated (40% done: Checked 2 rows)" in describe(
        _facts("validating", progress=0.4, job_message="Checked 2 rows")
    )
    committed = _facts("committed", committed_at=dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC))
    assert describe(committed).endswith(
        "was committed on 15 Mar 2026 at 09:30 UTC: 5 rows written."
    )
    failed = _facts("failed", last_message="Line 4: A customer named 'X' already exists.")
    assert "could not be committed: Line 4: A customer named 'X' already exists." in describe(
        failed
    )
