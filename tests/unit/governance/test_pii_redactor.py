"""The redactor's public interface: placeholders, numbering, restore, type selection."""

from __future__ import annotations

import dataclasses
import time

import pytest

from companion.governance.pii import PII_TYPES, PiiSpan, Redaction, UnknownPiiType, redact


def test_the_interface_others_import() -> None:
    r = redact("mail me at a@b.com")
    assert r == Redaction(
        text="mail me at <EMAIL_1>",
        spans=(PiiSpan(type="EMAIL", start=11, end=18, placeholder="<EMAIL_1>", value="a@b.com"),),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.text = "x"  # type: ignore[misc]


def test_numbered_per_type_in_order_and_same_value_same_placeholder() -> None:
    r = redact("a@b.com, 01711-123456, c@d.org, A@B.com, +880 1711 123456, 01819-000111")
    assert r.text == "<EMAIL_1>, <PHONE_1>, <EMAIL_2>, <EMAIL_1>, <PHONE_1>, <PHONE_2>"
    assert [s.placeholder for s in r.spans] == [
        "<EMAIL_1>", "<PHONE_1>", "<EMAIL_2>", "<EMAIL_1>", "<PHONE_1>", "<PHONE_2>",
    ]  # fmt: skip
    text = "a@b.com, 01711-123456, c@d.org, A@B.com, +880 1711 123456, 01819-000111"
    assert all(text[s.start : s.end] == s.value for s in r.spans)


def test_restore_puts_values_back_and_leaves_unknown_placeholders() -> None:
    r = redact("write to a@b.com or call 01711-123456")
    reply = "I'll write to <EMAIL_1> and call <phone_1>; <EMAIL_2> and <IBAN_1> are not mine."
    assert r.restore(reply) == (
        "I'll write to a@b.com and call 01711-123456; <EMAIL_2> and <IBAN_1> are not mine."
    )
    assert r.restore(r.text) == "write to a@b.com or call 01711-123456"
    assert r.mapping == {"<EMAIL_1>": "a@b.com", "<PHONE_1>": "01711-123456"}


def test_nothing_found_returns_the_text_unchanged() -> None:
    for text in ("", "   ", "cash balance?", "INV-2026-0001 for BDT 1,25,000.00"):
        r = redact(text)
        assert r.text == text
        assert r.spans == ()
        assert r.restore("<EMAIL_1>") == "<EMAIL_1>"


def test_types_selects_detectors() -> None:
    text = "a@b.com 01711-123456"
    assert redact(text, types=["PHONE"]).text == "a@b.com <PHONE_1>"
    assert redact(text, types={"email"}).text == "<EMAIL_1> 01711-123456"
    assert redact(text, types=()).text == text
    with pytest.raises(UnknownPiiType) as caught:
        redact(text, types=["EMAIL", "PASSPORT"])
    assert caught.value.status_code == 422
    assert caught.value.details["unknown"] == ["PASSPORT"]
    assert set(PII_TYPES) >= {"EMAIL", "PHONE", "CARD", "IBAN", "NID", "SSN", "IP"}


def test_huge_text_is_redacted_whole() -> None:
    line = "Order for Tangail Traders INV-2026-0001 BDT 1,25,000.00, contact ops@tangail.com.bd\n"
    r = redact(line * 5000)
    assert r.text.count("<EMAIL_1>") == 5000
    assert "@" not in r.text
    assert "INV-2026-0001" in r.text


@pytest.mark.parametrize(
    "text",
    [
        "1" * 20000,
        "1 " * 10000,
        "1-" * 10000,
        "a@" + "aaaa." * 4000 + "1",
        "a@" * 10000,
        "a:" * 10000,
        "1." * 10000,
        "+1 " * 7000,
        "GB82 " * 4000,
    ],
    ids=["digits", "spaced", "dashed", "labels", "ats", "colons", "dots", "plus", "iban"],
)
def test_pathological_input_takes_linear_time(text: str) -> None:
    # 20 KB of the worst shapes for the patterns: each well under a second even on the
    # shared 2-core machine (about 0.1 s measured at 100 KB); backtracking would take minutes.
    began = time.perf_counter()
    redact(text)
    assert time.perf_counter() - began < 2.0
