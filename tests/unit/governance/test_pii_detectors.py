"""Each detector on its own: what it must find, and the ERP figures it must leave alone."""

from __future__ import annotations

import pytest

from companion.governance.pii import redact
from companion.governance.pii.checksums import iban_valid, luhn_valid


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, s.value) for s in redact(text).spans]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mail me at a@b.com", "a@b.com"),
        ("ops.team+erp@tangail-traders.com.bd, thanks", "ops.team+erp@tangail-traders.com.bd"),
        ("Send to RAHIM_Uddin@Example.ORG.", "RAHIM_Uddin@Example.ORG"),
        ("email:x9@mail.co", "x9@mail.co"),
    ],
)
def test_emails(text: str, value: str) -> None:
    assert found(text) == [("EMAIL", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call 01711123456 now", "01711123456"),
        ("amar number 01711-123456 e call dio", "01711-123456"),
        ("mobile: 01911 234 567", "01911 234 567"),
        ("+8801711123456", "+8801711123456"),
        ("WhatsApp +880 1711-123456 please", "+880 1711-123456"),
        ("+88 01811 223344", "+88 01811 223344"),
        ("8801611223344 te call", "8801611223344"),
        ("US office (212) 555-0123", "(212) 555-0123"),
        ("212-555-0123 ext 4", "212-555-0123"),
        ("call +1 415 555 2671", "+1 415 555 2671"),
        ("London +44 20 7946 0958", "+44 20 7946 0958"),
        ("Dubai +971-4-123-4567", "+971-4-123-4567"),
        ("Kolkata +91 98300 12345", "+91 98300 12345"),
        ("0044 20 7946 0958 from the UK", "0044 20 7946 0958"),
        ("Tel: 02-9555123 (Dhaka office)", "02-9555123"),
        ("fax 031-712345", "031-712345"),
        ("call 2125550123 after lunch", "2125550123"),
        ("his cell number is 6465550199", "6465550199"),
    ],
)
def test_phones(text: str, value: str) -> None:
    assert found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("my NID 1234567890", "1234567890", "NID"),
        ("NID no: 1992123456789", "1992123456789", "NID"),
        ("national ID 19912694123456789 attached", "19912694123456789", "NID"),
        ("amar jatiyo porichoy potro number 2345678901", "2345678901", "NID"),
        ("5123456789 is the voter id", "5123456789", "NID"),
        ("NID-4567891230 verified", "4567891230", "NID"),
        ("এনআইডি ১২৩৪৫৬৭৮৯০ দিলাম", "১২৩৪৫৬৭৮৯০", "NID"),
        ("SSN 536-22-8451", "536-22-8451", "SSN"),
        ("his ssn is 536228451", "536228451", "SSN"),
        ("social security 536 22 8451", "536 22 8451", "SSN"),
    ],
)
def test_national_ids(text: str, value: str, kind: str) -> None:
    assert found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 000-12-3456",  # area 000 is never issued
        "SSN 666-12-3456",
        "SSN 912-12-3456",
        "SSN 536-00-8451",
        "SSN 536-22-0000",
        "ref 1234567890 for the order",  # ten digits with no NID word near
        "NID 12345678901",  # eleven digits is no NID length
    ],
)
def test_ids_that_are_not(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("card 4111 1111 1111 1111 exp 12/28", "4111 1111 1111 1111"),
        ("4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("paid by 5500005555555559", "5500005555555559"),
        ("amex 3782 822463 10005", "3782 822463 10005"),
        ("visa 4012888888881881.", "4012888888881881"),
        ("card 6011111111111117 use koro", "6011111111111117"),
    ],
)
def test_cards(text: str, value: str) -> None:
    assert found(text) == [("CARD", value)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "4111 11 1111 1111 1111",  # not grouped as a card
        "a/c 4111111111111111 at City Bank",  # a bank account, not a card
        "1234567812345670",  # Luhn-valid, but no issuer starts with 1
    ],
)
def test_card_lookalikes(text: str) -> None:
    assert [t for t, _ in found(text)] != ["CARD"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32"),
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("to fr1420041010050500013m02606.", "fr1420041010050500013m02606"),
        ("pay AE070331234567890123456 today", "AE070331234567890123456"),
    ],
)
def test_ibans(text: str, value: str) -> None:
    assert found(text) == [("IBAN", value)]


def test_iban_checks() -> None:
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("gb82 west 1234 5698 7654 32")  # any case, any spacing
    assert not iban_valid("GBXXWEST12345698765432")  # check digits must be digits
    assert not iban_valid("GB82WEST1234569876543!")
    assert not iban_valid("")
    assert iban_valid("NO9386011117947")  # the shortest (15)
    assert iban_valid("LC55HEMM000100010012001200023015")  # the longest here (32)
    assert not iban_valid("GB83WEST12345698765432")  # check digits off by one
    assert not iban_valid("GB82WEST1234569876543")  # one short for GB
    assert not iban_valid("XX82WEST12345698765432")  # no such country
    assert found("IBAN GB83 WEST 1234 5698 7654 32") == []


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("79927398710")
    assert luhn_valid("0000000000000000")  # valid checksum, but...
    assert found("card 0000 0000 0000 0000") == []  # ...no issuer starts with 0
    assert luhn_valid("0")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("")
    assert not luhn_valid("4111-1111")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("login from 192.168.10.25 failed", "192.168.10.25"),
        ("server 10.0.0.1.", "10.0.0.1"),
        ("ipv6 2001:db8:85a3::8a2e:370:7334 ok", "2001:db8:85a3::8a2e:370:7334"),
        ("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
    ],
)
def test_ips(text: str, value: str) -> None:
    assert found(text) == [("IP", value)]


@pytest.mark.parametrize(
    "text",
    [
        "approve PO-2026-0042",
        "has INV-2026-0001 been paid?",
        "SO-2025-0003 and GRN-2026-000123",
        "BDT 1,25,000.00 received",
        "sales were 12,500,000 last year",
        "USD 1,234,567.89",
        "Tk 5,00,00,000",
        "due on 2026-12-06, or 06/12/2026, or 06.12.2026",
        "meeting at 10:30:00 on 12 Dec 2026",
        "adjust 1500 pcs of item ITM-00042 in WH-02",
        "post to account 1010, 4000-01 and 5100.200",
        "GL code 2100-300-4000",
        "closing balance 1711123456 BDT",
        "reference 01711123456.00 in the ledger",
        "quantity 2125550123 units",
        "sold 2125550123 pcs; call the buyer",  # a phone word after, not before, the figure
        "version 1.2.3.4 of the policy, section 4.2.1.3",
        "invoice total 4111111111111111.00",
        "rate 0.05 for 120 days",
        "FY2026-27 Q3 budget 3,00,000",
        "2026-0001",
        "LC 0012260401234 opened for USD 85,000",
        "cheque no 524-202-1930 for BDT 96,587,773 bounced",
        "our BIN is 673-485-6109 and TIN 78417299563668691",
        "voucher 01711123456 posted yesterday",
        "office 02-9555123",  # a landline's shape, but no phone word before it
        "exchange rate 117.50, VAT 15% on BDT 2,00,000",
        "ratio 1:2:3 and port 8080",
    ],
)
def test_hard_negatives_survive(text: str) -> None:
    r = redact(text)
    assert r.text == text, r.spans


def test_an_iban_wins_over_the_card_digits_inside_it() -> None:
    assert [t for t, _ in found("GB82 WEST 1234 5698 7654 32")] == ["IBAN"]


def test_several_types_in_one_message() -> None:
    r = redact(
        "Rahim (rahim@acme.com.bd, 01711-123456) paid INV-2026-0001 BDT 1,25,000.00 "
        "with card 4111 1111 1111 1111 from 192.168.1.7"
    )
    assert r.text == (
        "Rahim (<EMAIL_1>, <PHONE_1>) paid INV-2026-0001 BDT 1,25,000.00 "
        "with card <CARD_1> from <IP_1>"
    )
