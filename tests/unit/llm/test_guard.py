"""The figure guard and phrase_answer, with scripted providers (a liar among them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from companion.llm import FakeProvider, LLMService, LLMTimeout, PolicyBook, ProviderRegistry
from companion.llm.guard import allowed_figures, check_figures, mentions, phrase_answer

TEMPLATE = "Cash across 3 bank accounts is BDT 12,34,567.00 as of 23 Nov 2026 (42.5% at City Bank)."
DATA = {
    "columns": ["account", "balance"],
    "rows": [["City Bank", 524700.5], ["Sonali Bank 2", 500000.0], ["BRAC Bank", 209866.5]],
    "totals": {"balance": 1234567.0},
    "currency": "BDT",
}


def llm_with(tmp_path: Path, provider: FakeProvider, chat: str = "enabled: true") -> LLMService:
    path = tmp_path / "policies.yml"
    path.write_text(f"use_cases:\n  chat: {{{chat}}}\n", encoding="utf-8")
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load(path))


def test_mentions_reads_grouping_scales_words_dates_and_currencies() -> None:
    found = mentions(
        "BDT 12,34,567.00 and $1,234,567 or 1.2 million, 2 lakh, three accounts, 42.5%, "
        "on 2026-11-23 or November 23, 2026 or 1st Dec 2026, ৳500"
    )
    assert set(found.numbers) == {
        Decimal("1234567"),
        Decimal("1.2E+6"),
        Decimal("2E+5"),
        Decimal("3"),
        Decimal("42.5"),
        Decimal("500"),
    }
    assert set(found.dates) == {dt.date(2026, 11, 23), dt.date(2026, 12, 1)}
    assert set(found.currencies) == {"BDT", "USD"}


@pytest.mark.parametrize(
    "text",
    [
        "You hold BDT 1,234,567 across 3 accounts as of 23 Nov 2026.",
        "As of November 23, 2026, your three accounts hold ৳12,34,567.00 in total.",
        "City Bank holds 524,700.50, Sonali Bank 2 has 5,00,000 and BRAC Bank 209,866.5.",
        "City Bank has 42.5% of the BDT 1,234,567.00 you hold on 2026-11-23.",
        "Your cash is healthy.",  # no figure at all: nothing to check
    ],
)
def test_faithful_rewordings_pass(text: str) -> None:
    verdict = check_figures(text, TEMPLATE, DATA)
    assert verdict.ok, verdict.offending


@pytest.mark.parametrize(
    ("text", "offending"),
    [
        ("You hold BDT 1,234,568 across 3 accounts.", ["1,234,568"]),
        ("You hold about 1.2 million taka.", ["1.2 million"]),  # rounded is changed
        ("You hold BDT 12 lakh.", ["12 lakh"]),
        ("You hold USD 1,234,567.00.", ["USD"]),  # the currency swapped
        ("Four accounts hold BDT 1,234,567.", ["Four"]),
        ("As of 24 Nov 2026 you hold BDT 1,234,567.", ["24 Nov 2026"]),
        ("City Bank has 45% of your cash.", ["45%"]),
        ("City Bank holds 524,700.05.", ["524,700.05"]),
    ],
)
def test_changed_figures_are_caught(text: str, offending: list[str]) -> None:
    verdict = check_figures(text, TEMPLATE, DATA)
    assert not verdict.ok
    assert verdict.offending == offending


def test_figures_come_from_rows_totals_template_and_dates() -> None:
    data = {
        "columns": ["ref", "due", "amount"],
        "rows": [["INV-2026-0107", dt.date(2026, 10, 1), "1500.25"]],
        "totals": {"amount": Decimal("1500.25")},
        "currency": "USD",
    }
    allowed = allowed_figures("One invoice is overdue.", data)
    assert {Decimal("2026"), Decimal("107"), Decimal("1500.25"), Decimal("1")} <= allowed.numbers
    assert dt.date(2026, 10, 1) in allowed.dates and allowed.currencies == {"USD"}
    assert check_figures("INV-2026-0107 for $1,500.25 was due on 1 Oct 2026.", "", data).ok
    assert not check_figures("INV-2026-0108 is due.", "", data).ok


def test_phrase_answer_uses_a_faithful_model(tmp_path: Path) -> None:
    provider = FakeProvider(["Your three accounts hold BDT 12,34,567.00 as of 23 Nov 2026."])
    answer = phrase_answer(llm_with(tmp_path, provider), "acme", TEMPLATE, DATA)
    assert answer.used_model and answer.reason == "generated"
    assert answer.text == "Your three accounts hold BDT 12,34,567.00 as of 23 Nov 2026."
    assert provider.calls[0]["messages"][-1]["content"] == TEMPLATE


def test_phrase_answer_rejects_a_liar(tmp_path: Path) -> None:
    liar = FakeProvider(mode="liar")  # repeats the template with every number altered
    answer = phrase_answer(llm_with(tmp_path, liar), "acme", TEMPLATE, DATA)
    assert not answer.used_model and answer.reason == "guard_rejected"
    assert answer.text == TEMPLATE
    assert "22,34,567.00" in answer.offending and "4 bank" not in answer.offending
    assert answer.generation is not None and answer.generation.text != TEMPLATE


def test_phrase_answer_keeps_the_template_when_the_policy_is_off(tmp_path: Path) -> None:
    provider = FakeProvider(["never used"])
    llm = llm_with(tmp_path, provider, chat="enabled: false")
    answer = phrase_answer(llm, "acme", TEMPLATE, DATA)
    assert (answer.text, answer.used_model, answer.reason) == (TEMPLATE, False, "policy_off")
    assert provider.calls == []


def test_phrase_answer_keeps_the_template_when_the_provider_fails(tmp_path: Path) -> None:
    provider = FakeProvider(["unused"])
    provider.fail_next(LLMTimeout("slow"))
    answer = phrase_answer(llm_with(tmp_path, provider), "acme", TEMPLATE, DATA)
    assert (answer.text, answer.reason) == (TEMPLATE, "provider_failed")
    assert not answer.used_model


def test_phrase_answer_keeps_the_template_for_an_empty_reply(tmp_path: Path) -> None:
    answer = phrase_answer(llm_with(tmp_path, FakeProvider(["   "])), "acme", TEMPLATE, DATA)
    assert (answer.text, answer.reason) == (TEMPLATE, "empty")
