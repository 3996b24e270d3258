from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.parties import repository as repo
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, CustomerUpdate, SupplierIn, SupplierUpdate
from companion.erp.parties.service import (
    create_customer,
    create_customers,
    create_supplier,
    create_suppliers,
    update_customer,
    update_supplier,
)
from companion.errors import Conflict, NotFound, PermissionDenied
from companion.tenancy.context import RequestContext
from factories import make_company, make_context

D = Decimal


@pytest.fixture
def acme(session: Session) -> RequestContext:
    return make_context(session, make_company(session, "acme"), ["admin"])


@pytest.fixture
def globex(session: Session) -> RequestContext:
    return make_context(session, make_company(session, "globex"), ["admin"])


def test_codes_are_assigned_per_company_and_kind(
    session: Session, acme: RequestContext, globex: RequestContext
) -> None:
    first = create_customer(session, acme, CustomerIn(name="Alpha"))
    second = create_customer(session, acme, CustomerIn(name="Beta"))
    supplier = create_supplier(session, acme, SupplierIn(name="Gamma"))
    other = create_customer(session, globex, CustomerIn(name="Alpha"))
    assert (first.code, second.code, supplier.code, other.code) == (
        "CUST-0001",
        "CUST-0002",
        "SUPP-0001",
        "CUST-0001",
    )


def test_an_assigned_code_steps_over_one_entered_by_hand(
    session: Session, acme: RequestContext
) -> None:
    create_customer(session, acme, CustomerIn(name="Manual", code="cust-0001"))
    assert create_customer(session, acme, CustomerIn(name="Auto")).code == "CUST-0002"


def test_duplicate_code_in_the_company_is_a_conflict(
    session: Session, acme: RequestContext
) -> None:
    create_supplier(session, acme, SupplierIn(name="One", code="S-1"))
    with pytest.raises(Conflict) as err:
        create_supplier(session, acme, SupplierIn(name="Two", code="S-1"))
    assert err.value.details["field"] == "code"


def test_exact_duplicate_name_in_the_company_is_a_conflict(
    session: Session, acme: RequestContext, globex: RequestContext
) -> None:
    create_customer(session, acme, CustomerIn(name="Dhaka Traders"))
    with pytest.raises(Conflict) as err:
        create_customer(session, acme, CustomerIn(name=" Dhaka  Traders "))
    assert err.value.details["field"] == "name"
    assert create_customer(session, globex, CustomerIn(name="Dhaka Traders")).id
    # A supplier may carry a customer's name: they are different ledgers.
    assert create_supplier(session, acme, SupplierIn(name="Dhaka Traders")).id


def test_fields_are_stored_as_given(session: Session, acme: RequestContext) -> None:
    customer = create_customer(
        session,
        acme,
        CustomerIn(
            name="Rahim Stores",
            email="ap@rahim.example.com",
            phone="+880 1711 000000",
            payment_terms_days=15,
            credit_limit=D("250000.00"),
        ),
    )
    stored = repo.get_customer(session, acme, customer.id)
    assert (stored.email, stored.payment_terms_days, stored.credit_limit, stored.is_active) == (
        "ap@rahim.example.com",
        15,
        D("250000.00"),
        True,
    )


def test_customers_need_sales_write_and_suppliers_procurement_write(session: Session) -> None:
    company = make_company(session, "acme")
    sales = make_context(session, company, ["sales"])
    buyer = make_context(session, company, ["procurement"])
    viewer = make_context(session, company, ["viewer"])
    assert create_customer(session, sales, CustomerIn(name="A")).id
    assert create_supplier(session, buyer, SupplierIn(name="B")).id
    with pytest.raises(PermissionDenied) as err:
        create_supplier(session, sales, SupplierIn(name="C"))
    assert "procurement.write" in err.value.message
    with pytest.raises(PermissionDenied):
        create_customer(session, buyer, CustomerIn(name="D"))
    with pytest.raises(PermissionDenied):
        create_customer(session, viewer, CustomerIn(name="E"))
    assert session.execute(select(Customer.name).where(Customer.name == "D")).first() is None


def test_update_changes_only_given_fields_and_audits_old_and_new(
    session: Session, acme: RequestContext
) -> None:
    customer = create_customer(session, acme, CustomerIn(name="Old Name", credit_limit=D("100")))
    update_customer(
        session, acme, customer.id, CustomerUpdate(name="New Name", credit_limit=D("500.00"))
    )
    assert (customer.name, customer.credit_limit, customer.payment_terms_days) == (
        "New Name",
        D("500.00"),
        30,
    )
    entry = session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "customer.update", AuditEntry.entity_id == str(customer.id)
        )
    ).scalar_one()
    assert entry.old_values == {"name": "Old Name", "credit_limit": "100.00"}
    assert entry.new_values == {"name": "New Name", "credit_limit": "500.00"}
    assert entry.actor_user_id == acme.user_id


def test_creation_is_audited_with_the_new_values(session: Session, acme: RequestContext) -> None:
    supplier = create_supplier(session, acme, SupplierIn(name="Audited", payment_terms_days=45))
    entry = session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "supplier.create", AuditEntry.entity_id == str(supplier.id)
        )
    ).scalar_one()
    assert entry.new_values is not None
    assert entry.new_values["code"] == "SUPP-0001"
    assert entry.new_values["payment_terms_days"] == 45
    assert entry.company_id == acme.company_id


def test_an_update_that_changes_nothing_writes_no_audit(
    session: Session, acme: RequestContext
) -> None:
    customer = create_customer(session, acme, CustomerIn(name="Same"))
    update_customer(session, acme, customer.id, CustomerUpdate(name="Same"))
    count = session.execute(select(AuditEntry).where(AuditEntry.action == "customer.update")).all()
    assert count == []


def test_update_to_another_partys_name_or_code_is_a_conflict(
    session: Session, acme: RequestContext
) -> None:
    create_supplier(session, acme, SupplierIn(name="Taken", code="TAKEN"))
    mine = create_supplier(session, acme, SupplierIn(name="Mine"))
    with pytest.raises(Conflict):
        update_supplier(session, acme, mine.id, SupplierUpdate(name="Taken"))
    with pytest.raises(Conflict):
        update_supplier(session, acme, mine.id, SupplierUpdate(code="taken"))
    assert repo.get_supplier(session, acme, mine.id).name == "Mine"


def test_another_companys_party_is_not_found(
    session: Session, acme: RequestContext, globex: RequestContext
) -> None:
    theirs = create_customer(session, globex, CustomerIn(name="Theirs"))
    supplier = create_supplier(session, globex, SupplierIn(name="Their supplier"))
    with pytest.raises(NotFound):
        update_customer(session, acme, theirs.id, CustomerUpdate(name="Hijacked"))
    with pytest.raises(NotFound):
        repo.get_supplier(session, acme, supplier.id)
    with pytest.raises(NotFound):
        repo.get_customer(session, acme, 999_999)
    assert theirs.name == "Theirs"


def test_listing_searches_filters_pages_and_stays_in_the_company(
    session: Session, acme: RequestContext, globex: RequestContext
) -> None:
    for name in ("Zeta Foods", "Alpha Foods", "Beta Hardware", "100% Cotton_Mills"):
        create_customer(session, acme, CustomerIn(name=name))
    create_customer(session, globex, CustomerIn(name="Gamma Foods"))
    inactive = create_customer(session, acme, CustomerIn(name="Delta Foods", is_active=False))

    rows, total = repo.list_parties(session, acme, Customer, q="foods")
    assert [r.name for r in rows] == ["Alpha Foods", "Delta Foods", "Zeta Foods"]
    assert total == 3
    rows, total = repo.list_parties(session, acme, Customer, q="foods", active=True)
    assert inactive.id not in {r.id for r in rows} and total == 2
    rows, _ = repo.list_parties(session, acme, Customer, q="0% c")
    assert [r.name for r in rows] == ["100% Cotton_Mills"]
    rows, _ = repo.list_parties(session, acme, Customer, q="_")
    assert [r.name for r in rows] == ["100% Cotton_Mills"]
    rows, _ = repo.list_parties(session, acme, Customer, q="cust-0003")
    assert [r.name for r in rows] == ["Beta Hardware"]
    rows, total = repo.list_parties(session, acme, Customer, limit=2, offset=2)
    assert total == 5 and [r.name for r in rows] == ["Beta Hardware", "Delta Foods"]
    assert repo.list_parties(session, acme, Supplier) == ([], 0)


def test_many_customers_at_once_get_codes_past_manual_ones_and_one_audit_entry_each(
    session: Session, acme: RequestContext, globex: RequestContext
) -> None:
    create_customer(session, acme, CustomerIn(name="Manual", code="cust-0002"))
    ids = create_customers(
        session,
        acme,
        [CustomerIn(name="A"), CustomerIn(name="B", code="B-1"), CustomerIn(name="C")],
    )
    made = [repo.get_customer(session, acme, i) for i in ids]
    assert [(c.code, c.name, c.is_active, c.credit_limit) for c in made] == [
        ("CUST-0001", "A", True, D("0.00")),
        ("B-1", "B", True, D("0.00")),
        ("CUST-0003", "C", True, D("0.00")),
    ]
    # The next single customer continues the same sequence.
    assert create_customer(session, acme, CustomerIn(name="D")).code == "CUST-0004"
    [supplier_id] = create_suppliers(session, globex, [SupplierIn(name="A")])
    assert repo.get_supplier(session, globex, supplier_id).code == "SUPP-0001"
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.create").order_by(AuditEntry.id)
    ).all()
    assert [e.entity_id for e in entries][1:4] == [str(c.id) for c in made]
    assert entries[2].new_values is not None and entries[2].new_values["code"] == "B-1"
    assert verify(session).ok  # the bulk append keeps the hash chain intact


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([CustomerIn(name="Old Co")], "named 'Old Co' already exists"),
        ([CustomerIn(name="New", code="OLD-1")], "with code OLD-1 already exists"),
        ([CustomerIn(name="X"), CustomerIn(name="X")], "have the name X"),
    ],
)
def test_many_customers_refuse_duplicates_and_write_nothing(
    session: Session, acme: RequestContext, rows: list[CustomerIn], message: str
) -> None:
    create_customer(session, acme, CustomerIn(name="Old Co", code="OLD-1"))
    with pytest.raises(Conflict) as err:
        create_customers(session, acme, [CustomerIn(name="Fine"), *rows])
    assert message in err.value.message
    assert session.scalars(select(Customer.name).where(Customer.name == "Fine")).all() == []
