import datetime as dt
from decimal import Decimal

import pytest

from companion.erp.payments.rules import OpenDocument, allocate_oldest_first, check_allocations
from companion.errors import BusinessRuleViolation

D = Decimal


def doc(id_: int, number: str, due: str, open_amount: str) -> OpenDocument:
    return OpenDocument(id_, number, dt.date.fromisoformat(due), D(open_amount))


DOCS = [
    doc(1, "INV-2026-0003", "2026-03-01", "300.00"),
    doc(2, "INV-2026-0001", "2026-01-31", "100.00"),
    doc(3, "INV-2026-0002", "2026-01-31", "200.00"),
]


def test_oldest_due_first_then_by_number() -> None:
    assert allocate_oldest_first(D("350.00"), DOCS) == [
        (2, D("100.00")),
        (3, D("200.00")),
        (1, D("50.00")),
    ]


def test_a_small_payment_settles_part_of_the_oldest_document() -> None:
    assert allocate_oldest_first(D("40.00"), DOCS) == [(2, D("40.00"))]


def test_more_than_everything_open_leaves_the_rest_unallocated() -> None:
    shares = allocate_oldest_first(D("1000.00"), DOCS)
    assert sum(s for _, s in shares) == D("600.00")
    assert [i for i, _ in shares] == [2, 3, 1]


def test_documents_with_nothing_open_are_skipped() -> None:
    docs = [doc(1, "A", "2026-01-01", "0.00"), doc(2, "B", "2026-02-01", "10.00")]
    assert allocate_oldest_first(D("5.00"), docs) == [(2, D("5.00"))]
    assert allocate_oldest_first(D("5.00"), []) == []


BY_ID = {d.id: d for d in DOCS}


def test_explicit_allocations_within_limits_return_their_sum() -> None:
    requested = [(1, D("300.00")), (2, D("50.00"))]
    assert check_allocations(D("400.00"), requested, BY_ID) == D("350.00")


def test_an_allocation_over_the_open_amount_is_refused_with_details() -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        check_allocations(D("1000.00"), [(2, D("100.01"))], BY_ID)
    assert err.value.details == {
        "invoice_id": 2,
        "number": "INV-2026-0001",
        "requested": "100.01",
        "open_amount": "100.00",
    }


def test_allocations_over_the_payment_are_refused() -> None:
    with pytest.raises(BusinessRuleViolation) as err:
        check_allocations(D("250.00"), [(2, D("100.00")), (3, D("150.01"))], BY_ID)
    assert err.value.details == {"allocated": "250.01", "amount": "250.00"}


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        ([(2, D("10")), (2, D("10"))], "allocated twice"),
        ([(2, D("0"))], "must be positive"),
        ([(2, D("-1"))], "must be positive"),
        ([(2, D("0.001"))], "more than two decimals"),
    ],
)
def test_malformed_allocations_are_refused(
    requested: list[tuple[int, Decimal]], message: str
) -> None:
    with pytest.raises(BusinessRuleViolation, match=message):
        check_allocations(D("1000.00"), requested, BY_ID)
