"""Entities as Acme's people write them: Banglish and Bangla periods, lakh/crore/hajar amounts,
Bangla digits everywhere, and yes/no words for a proposal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.answers import yes_or_no
from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.entities.periods import extract_dates
from companion.assistant.nlu.entities.script import ascii_digits, romanise
from companion.assistant.nlu.features import _WORD, FeatureConfig, ngram_features

TODAY = dt.date(2026, 11, 23)  # a Monday


def period(text: str) -> tuple[str, str] | None:
    found = extract_dates(text, today=TODAY).period
    return (found.start.isoformat(), found.end.isoformat()) if found else None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("aj koto bikri holo", "2026-11-23", "2026-11-23"),
        ("aaj er sales", "2026-11-23", "2026-11-23"),
        ("ajke cash koto", "2026-11-23", "2026-11-23"),
        ("gotokal er bikri", "2026-11-22", "2026-11-22"),
        ("gatkal koto ashlo", "2026-11-22", "2026-11-22"),
        ("ei mash e koto", "2026-11-01", "2026-11-30"),
        ("ei maser sales", "2026-11-01", "2026-11-30"),
        ("gto mash er P&L", "2026-10-01", "2026-10-31"),
        ("last mash e koto", "2026-10-01", "2026-10-31"),
        ("ei bochor er labh", "2026-01-01", "2026-12-31"),
        ("last bochor total", "2025-01-01", "2025-12-31"),
        ("goto bochor", "2025-01-01", "2025-12-31"),
        ("ei soptaho", "2026-11-23", "2026-11-29"),
        ("আজ বিক্রি কত", "2026-11-23", "2026-11-23"),
        ("আজকের সারাংশ", "2026-11-23", "2026-11-23"),
        ("গতকাল কত এল", "2026-11-22", "2026-11-22"),
        ("গতকালের বিক্রি", "2026-11-22", "2026-11-22"),
        ("এই মাস", "2026-11-01", "2026-11-30"),
        ("এই মাসের বিক্রি", "2026-11-01", "2026-11-30"),
        ("গত মাসে লাভ কত", "2026-10-01", "2026-10-31"),
        ("এই বছর", "2026-01-01", "2026-12-31"),
        ("গত বছরের বিক্রি", "2025-01-01", "2025-12-31"),
        ("গত সপ্তাহে", "2026-11-16", "2026-11-22"),
    ],
)
def test_banglish_and_bangla_periods(text: str, start: str, end: str) -> None:
    assert period(text) == (start, end)


@pytest.mark.parametrize(
    "text", ["raja babu", "ajax report", "kalke", "এইমাত্র", "আজকাল কী চলছে", "the mashed figures"]
)
def test_words_that_only_look_like_periods_are_not(text: str) -> None:
    assert period(text) is None


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("5 lakh taka payment", Decimal(500_000), "BDT"),
        ("1.5 crore received", Decimal(15_000_000), None),
        ("50 hajar takar invoice", Decimal(50_000), "BDT"),
        ("৫ লাখ টাকা", Decimal(500_000), "BDT"),
        ("২ লাখ টাকার ইনভয়েস", Decimal(200_000), "BDT"),
        ("১.৫ কোটি", Decimal(15_000_000), None),
        ("৫০,০০০ টাকা জমা হয়েছে", Decimal(50_000), "BDT"),
        ("৫০ হাজার টাকা", Decimal(50_000), "BDT"),
        ("৳১,২০,০০০ এর বিল", Decimal(120_000), "BDT"),
    ],
)
def test_lakh_crore_hajar_and_bangla_digits(
    text: str, amount: Decimal, currency: str | None
) -> None:
    found = extract_entities(text, today=TODAY).entities
    assert found["amount"] == amount
    assert found.get("currency") == currency


def test_a_decimal_with_a_scale_is_an_amount_not_a_date() -> None:
    found = extract_entities("payment entry dao: 1.5 crore", today=TODAY).entities
    assert found["amount"] == Decimal(15_000_000)
    assert "date" not in found and "period" not in found
    # Without a scale word "1.5" is still read as a day and month, as before.
    assert extract_entities("due on 1.5", today=TODAY).entities["date"] == "2026-05-01"


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("10 ta Pressure Cooker order koro", Decimal(10)),
        ("২০টা ফ্যানের অর্ডার নাও", Decimal(20)),
        ("৩ খানা চেয়ার", Decimal(3)),
        ("৫ বস্তা সিমেন্ট কমাও", Decimal(5)),
    ],
)
def test_banglish_and_bangla_counters(text: str, quantity: Decimal) -> None:
    assert extract_entities(text, today=TODAY).entities["quantity"] == quantity


def test_bangla_digits_in_document_refs_keep_their_place() -> None:
    text = "INV-২০২৬-০০৩৩ এর স্ট্যাটাস কী"
    (ref,) = extract_document_refs(text)
    assert ref.value == "INV-2026-0033"
    assert text[ref.start : ref.end] == "INV-২০২৬-০০৩৩"
    found = extract_entities("পিও ২০২৬-০০৭১ অ্যাপ্রুভ করো", today=TODAY).entities
    assert "document_ref" not in found  # "পিও" is not a prefix: no guessed document


def test_ascii_digits_keeps_the_length() -> None:
    assert ascii_digits("৳১২৩ ০৯") == "৳123 09"
    assert len(ascii_digits("০১২৩৪৫৬৭৮৯")) == 10


@pytest.mark.parametrize(
    "text",
    [
        "hae koro", "haa", "ji", "ji ha", "thik ache", "ok koro", "thik ache, kore dao",
        "haan bhai koro", "হ্যাঁ", "জি", "ঠিক আছে", "আচ্ছা, করো", "yes please",
    ],
)  # fmt: skip
def test_yes_words(text: str) -> None:
    assert yes_or_no(text) == "yes"


@pytest.mark.parametrize(
    "text",
    [
        "na", "na thak", "thak", "bad dao", "lagbe na", "dorkar nai", "korben na bhai",
        "না", "থাক", "বাদ দাও", "দরকার নেই", "না, বাতিল করো", "no", "nope, cancel",
    ],
)  # fmt: skip
def test_no_words(text: str) -> None:
    assert yes_or_no(text) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "no, the other warehouse",
        "yes but make it 20 units",
        "haa na",  # both: the classifier decides
        "pore kotha hobe",
        "amader cash koto ache",
        "",
        "ok ok ok ok ok ok ok",  # longer than a reply
    ],
)
def test_not_only_yes_or_no(text: str) -> None:
    assert yes_or_no(text) is None


def test_bangla_words_stay_whole_for_the_ngrams() -> None:
    assert _WORD.findall("আমাদের ক্যাশ কত আছে? ৳500") == ["আমাদের", "ক্যাশ", "কত", "আছে", "৳", "500"]
    config = FeatureConfig()
    a, b, c = ngram_features(["আমাদের ক্যাশ", "আমাদের ক্যাস", "সাপ্লায়ার বিল"], config)
    # A one-letter misspelling shares most n-grams; another sentence shares none.
    assert float(a @ b) > 0.5
    assert float(a @ c) < 0.2


@pytest.mark.parametrize(
    ("bangla", "banglish"),
    [
        ("কত", "kot"),
        ("দেখাও", "dekhao"),
        ("গতকাল", "gotokal"),
        ("বিক্রি", "bikri"),
        ("হ্যাঁ", "hya"),
        ("না, বাতিল করো", "na, batil koro"),
        ("এই মাসের", "ei maser"),
        ("কোথায়", "kothay"),  # য় (with its nukta) and the o-sign, which NFD would split
        ("পড়ে", "pore"),
        ("approve PO-2026-0042 ৳500", "approve PO-2026-0042 ৳500"),  # no Bangla letters: as is
    ],
)
def test_bangla_script_is_romanised_the_way_banglish_is_typed(bangla: str, banglish: str) -> None:
    assert romanise(bangla) == banglish


def test_a_bangla_message_shares_ngrams_with_its_banglish_twin() -> None:
    config = FeatureConfig()
    bangla, banglish, other = ngram_features(
        [romanise("আমাদের ক্যাশ কত আছে"), "amader cash koto ache", "supplier der bill"], config
    )
    assert float(bangla @ banglish) > float(bangla @ other) + 0.2
