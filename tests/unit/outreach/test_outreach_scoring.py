"""The collection-score rules: each factor, the bands, determinism, no limit, no history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from companion.outreach.scoring import (
    WEIGHTS,
    CustomerFacts,
    Factor,
    OpenItem,
    Score,
    SettledItem,
    band_of,
    overdue_items,
    rank,
    score_customer,
)

D = Decimal
TODAY = dt.date(2026, 3, 15)


def item(number: str, days_overdue: int, amount: str) -> OpenItem:
    due = TODAY - dt.timedelta(days=days_overdue)
    return OpenItem(number, due - dt.timedelta(days=30), due, D(amount), "USD")


def settled(number: str, days_late: int) -> SettledItem:
    due = TODAY - dt.timedelta(days=100)
    return SettledItem(number, due, due + dt.timedelta(days=days_late))


def facts(
    open_items: tuple[OpenItem, ...] = (),
    settled_items: tuple[SettledItem, ...] = (),
    limit: str = "0",
    name: str = "Beta Ltd",
    customer_id: int = 1,
) -> CustomerFacts:
    return CustomerFacts(customer_id, name, "USD", D(limit), open_items, settled_items)


def factors(score_facts: CustomerFacts, largest: str = "1000.00") -> dict[str, Factor]:
    score = score_customer(score_facts, TODAY, largest_overdue=D(largest))
    return {f.name: f for f in score.factors}


def test_weights_add_up_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100


def test_days_overdue_oldest_and_amount_weighted() -> None:
    # 90 days on 100.00 and 10 days on 300.00: weighted (9000 + 3000) / 400 = 30 days.
    score = score_customer(
        facts((item("INV-1", 90, "100.00"), item("INV-2", 10, "300.00"))),
        TODAY,
        largest_overdue=D("400.00"),
    )
    by_name = {f.name: f for f in score.factors}
    oldest, weighted = by_name["oldest_days_overdue"], by_name["weighted_days_overdue"]
    assert oldest.value == 90 and oldest.points == D("11.3")  # 15 x 90 / 120 = 11.25
    assert weighted.value == 30 and weighted.points == D("6.7")  # 20 x 30 / 90
    assert score.overdue_amount == D("400.00") and score.overdue_count == 2


def test_days_overdue_are_capped() -> None:
    by_name = factors(facts((item("INV-1", 400, "50.00"),)))
    assert by_name["oldest_days_overdue"].points == 15
    assert by_name["weighted_days_overdue"].points == 20


def test_items_not_yet_due_are_not_overdue() -> None:
    due_today = item("INV-1", 0, "100.00")
    future = item("INV-2", -5, "100.00")
    assert overdue_items([due_today, future], TODAY) == []
    score = score_customer(facts((due_today, future)), TODAY, largest_overdue=D("0"))
    assert score.overdue_amount == 0 and score.overdue_count == 0
    assert score.outstanding == D("200.00")
    by_name = {f.name: f for f in score.factors}
    assert by_name["overdue_amount"].points == 0
    assert by_name["oldest_days_overdue"].detail == "nothing overdue"


def test_overdue_amount_is_relative_to_the_largest_customer() -> None:
    half = factors(facts((item("INV-1", 10, "500.00"),)), largest="1000.00")
    full = factors(facts((item("INV-1", 10, "1000.00"),)), largest="1000.00")
    assert half["overdue_amount"].points == D("15.0")
    assert full["overdue_amount"].points == D("30.0")
    assert "50.0% of the largest" in half["overdue_amount"].detail


def test_payment_history_share_and_average_days_late() -> None:
    history = (settled("INV-1", 0), settled("INV-2", 30), settled("INV-3", -5), settled("X", 60))
    by_name = factors(facts(settled_items=history))
    share, average = by_name["late_payment_share"], by_name["average_days_late"]
    assert share.value == D("50.0") and share.points == D("5.0")
    # Late ones only: (30 + 60) / 2 = 45 days; 10 x 45 / 60 = 7.5.
    assert average.value == D("45.0") and average.points == D("7.5")


def test_history_outside_twelve_months_is_ignored() -> None:
    old_due = TODAY - dt.timedelta(days=500)
    old = SettledItem("INV-OLD", old_due, old_due + dt.timedelta(days=90))
    with_old = factors(facts(settled_items=(old,)))
    without = factors(facts())
    assert with_old == without


def test_no_history_is_neutral_half_weight() -> None:
    by_name = factors(facts())
    share, average = by_name["late_payment_share"], by_name["average_days_late"]
    assert share.value is None and average.value is None
    assert share.points == D("5.0") and average.points == D("5.0")
    assert "no invoice paid" in share.detail


def test_always_on_time_scores_no_history_points() -> None:
    by_name = factors(facts(settled_items=(settled("INV-1", 0), settled("INV-2", -3))))
    assert by_name["late_payment_share"].points == 0
    assert by_name["average_days_late"].points == 0


def test_credit_limit_use() -> None:
    open_items = (item("INV-1", 10, "600.00"), item("INV-2", -10, "200.00"))
    by_name = factors(facts(open_items, limit="1000.00"))
    credit = by_name["credit_limit_use"]
    # Outstanding counts what is not yet due too: 800 / 1000.
    assert credit.value == D("80.0") and credit.points == D("12.0")
    over = factors(facts(open_items, limit="400.00"))["credit_limit_use"]
    assert over.value == D("200.0") and over.points == 15


def test_no_credit_limit_has_no_value_and_no_points() -> None:
    credit = factors(facts((item("INV-1", 10, "600.00"),), limit="0"))["credit_limit_use"]
    assert credit.value is None and credit.points == 0
    assert credit.detail == "no credit limit set"


@pytest.mark.parametrize(
    ("total", "band"), [(100, "high"), (60, "high"), (59, "medium"), (30, "medium"), (29, "low")]
)
def test_bands(total: int, band: str) -> None:
    assert band_of(total) == band


def test_worst_customer_scores_100_and_best_scores_low() -> None:
    worst = score_customer(
        facts((item("INV-1", 200, "1000.00"),), (settled("INV-0", 90),), limit="500.00"),
        TODAY,
        largest_overdue=D("1000.00"),
    )
    assert worst.total == 100 and worst.band == "high"
    best = score_customer(
        facts((item("INV-1", -5, "10.00"),), (settled("INV-0", 0),), limit="1000.00"),
        TODAY,
        largest_overdue=D("1000.00"),
    )
    assert best.total == 0 and best.band == "low"


def test_total_is_the_rounded_sum_of_points() -> None:
    score = score_customer(
        facts((item("INV-1", 45, "250.00"), item("INV-2", 5, "80.00")), (settled("a", 12),)),
        TODAY,
        largest_overdue=D("990.00"),
    )
    points = sum(f.points for f in score.factors)
    assert score.total == int(points.quantize(D(1), rounding="ROUND_HALF_UP"))
    assert 0 <= score.total <= 100


def test_same_facts_give_the_same_score() -> None:
    args = (
        facts(
            (item("INV-2", 33, "123.45"), item("INV-1", 7, "9.99")),
            (settled("a", 3), settled("b", 0)),
            limit="700.00",
        ),
        TODAY,
    )
    first = score_customer(*args, largest_overdue=D("500.00"))
    again = score_customer(*args, largest_overdue=D("500.00"))
    assert first == again
    # The order the ledger returned items in does not matter.
    reordered = facts(
        (item("INV-1", 7, "9.99"), item("INV-2", 33, "123.45")),
        (settled("b", 0), settled("a", 3)),
        limit="700.00",
    )
    assert score_customer(reordered, TODAY, largest_overdue=D("500.00")).factors == first.factors


def test_rationale_is_built_from_the_factors() -> None:
    score = score_customer(
        facts((item("INV-1", 40, "250.00"),), limit="1000.00"),
        TODAY,
        largest_overdue=D("250.00"),
    )
    assert score.rationale.startswith(f"Beta Ltd scores {score.total}/100 ({score.band}")
    for factor in score.factors:
        assert factor.detail in score.rationale
    assert "USD 250.00 overdue on 1 invoice" in score.rationale


def test_rank_orders_by_score_then_amount_then_name() -> None:
    def scored(name: str, cid: int, days: int, amount: str) -> Score:
        return score_customer(
            facts((item("INV", days, amount),), name=name, customer_id=cid),
            TODAY,
            largest_overdue=D("1000.00"),
        )

    low = scored("Alpha", 1, 1, "10.00")
    high = scored("Zeta", 2, 200, "1000.00")
    tie_a = scored("Beta", 3, 1, "10.00")
    ranked = rank([low, high, tie_a])
    assert [s.customer_name for s in ranked] == ["Zeta", "Alpha", "Beta"]
