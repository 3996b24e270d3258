import re

import pytest

from companion.demo.documents import KINDS, policy_documents, read_document
from companion.demo.profiles import PROFILES
from companion.kit.money import format_money


def test_each_company_ships_the_five_policies() -> None:
    for slug in PROFILES:
        documents = policy_documents(slug)
        assert [d.kind for d in documents] == list(KINDS)
        assert all(d.company == slug for d in documents)
        for document in documents:
            text = read_document(document)
            assert text.startswith("# ") and text.count("\n## ") >= 3, document.resource
    assert len(policy_documents()) == 2 * len(KINDS)


def test_each_marker_is_in_its_document_and_nowhere_in_the_other_company() -> None:
    for document in policy_documents():
        assert document.marker in read_document(document), document.resource
        others = [d for d in policy_documents() if d.company != document.company]
        for other in others:
            assert document.marker.lower() not in read_document(other).lower(), (
                document.marker,
                other.resource,
            )


@pytest.mark.parametrize("kind", KINDS)
def test_the_companies_rules_differ(kind: str) -> None:
    acme, globex = (read_document(d) for d in policy_documents() if d.kind == kind)
    numbers = {re.sub(r"\D", "", n) for n in re.findall(r"\d[\d,.]*", acme)}
    other = {re.sub(r"\D", "", n) for n in re.findall(r"\d[\d,.]*", globex)}
    assert "Acme" in acme and "Globex" not in acme
    assert "Globex" in globex and "Acme" not in globex
    assert "BDT" not in globex
    assert len(numbers - other) >= 3, "the figures should differ between the companies"


def test_procurement_thresholds_match_the_configured_approval_levels() -> None:
    texts = {d.company: read_document(d) for d in policy_documents() if d.kind == "procurement"}
    acme, globex = PROFILES["acme"], PROFILES["globex"]
    for level in acme.levels[1:]:
        amount = format_money(level.min_amount, "BDT").removeprefix("BDT ").removesuffix(".00")
        assert f"BDT {amount}" in texts["acme"], amount
    for level in globex.levels[1:]:
        amount = format_money(level.min_amount, "USD").removeprefix("USD ").removesuffix(".00")
        assert f"${amount}" in texts["globex"], amount
    for profile in (acme, globex):
        for level in profile.levels:
            assert level.name in texts[profile.slug], level.name


def test_credit_terms_in_the_policy_match_the_customers_terms() -> None:
    texts = {
        d.company: read_document(d)
        for d in policy_documents()
        if d.kind == "credit-and-collections"
    }
    assert "**30 days**" in texts["acme"] and "**Net 30**" in texts["globex"]
    for slug, profile in PROFILES.items():
        for terms in set(profile.customer_terms):
            assert str(terms) in texts[slug], (slug, terms)
