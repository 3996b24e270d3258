from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.erp.items import repository as repo
from companion.erp.items.schemas import ItemIn
from companion.erp.items.service import create_item, create_warehouse, default_warehouse
from companion.erp.stock.service import issue_stock, receive_stock
from companion.errors import (
    BusinessRuleViolation,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from factories import make_company, make_context
from operations_factories import DAY, make_shop

D = Decimal


def _item(sku: str, **kwargs: object) -> ItemIn:
    return ItemIn.model_validate(
        {"sku": sku, "name": f"Item {sku}", "unit_price": "10.00", "unit_cost": "6.00", **kwargs}
    )


def test_items_can_be_created_by_inventory_or_procurement_only(session: Session) -> None:
    company = make_company(session, "acme")
    storekeeper = make_context(session, company, ["inventory"])
    buyer = make_context(session, company, ["procurement"])
    sales = make_context(session, company, ["sales"])
    assert create_item(session, storekeeper, _item("A")).sku == "A"
    assert create_item(session, buyer, _item("b")).sku == "B"
    with pytest.raises(PermissionDenied) as err:
        create_item(session, sales, _item("C"))
    assert "inventory.adjust" in err.value.message
    assert repo.item_by_sku(session, sales, "C") is None


def test_duplicate_sku_is_a_conflict_within_a_company_only(session: Session) -> None:
    acme = make_context(session, make_company(session, "acme"), ["admin"])
    globex = make_context(session, make_company(session, "globex"), ["admin"])
    create_item(session, acme, _item("SKU-1"))
    with pytest.raises(Conflict):
        create_item(session, acme, _item("sku-1"))
    assert create_item(session, globex, _item("SKU-1")).id


def test_item_creation_is_audited(session: Session) -> None:
    ctx = make_context(session, make_company(session, "acme"), ["inventory"])
    item = create_item(session, ctx, _item("AUD", tax_rate="15", reorder_level="4"))
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "item.create")
    ).scalar_one()
    assert entry.entity_id == str(item.id)
    assert entry.new_values is not None
    assert entry.new_values["tax_rate"] == "15.00"
    assert entry.new_values["reorder_level"] == "4.000"


def test_warehouses_need_inventory_adjust_and_unique_codes(session: Session) -> None:
    company = make_company(session, "acme")
    storekeeper = make_context(session, company, ["inventory"])
    buyer = make_context(session, company, ["procurement"])
    wh = create_warehouse(session, storekeeper, code="main", name="Main store")
    assert (wh.code, wh.name) == ("MAIN", "Main store")
    with pytest.raises(Conflict):
        create_warehouse(session, storekeeper, code="MAIN", name="Again")
    with pytest.raises(PermissionDenied):
        create_warehouse(session, buyer, code="EAST", name="East")
    with pytest.raises(ValidationFailed) as err:
        create_warehouse(session, storekeeper, code="EAST", name="   ")
    assert err.value.status_code == 422
    assert [w.code for w in repo.list_warehouses(session, storekeeper)] == ["MAIN"]


def test_default_warehouse_is_the_only_active_one(session: Session) -> None:
    ctx = make_context(session, make_company(session, "acme"), ["admin"])
    with pytest.raises(BusinessRuleViolation, match="no active warehouse"):
        default_warehouse(session, ctx)
    main = create_warehouse(session, ctx, code="MAIN", name="Main")
    assert default_warehouse(session, ctx).id == main.id
    create_warehouse(session, ctx, code="WEST", name="West")
    with pytest.raises(BusinessRuleViolation) as err:
        default_warehouse(session, ctx)
    assert [w["code"] for w in err.value.details["warehouses"]] == ["MAIN", "WEST"]


def test_another_companys_item_and_warehouse_are_not_found(session: Session) -> None:
    acme, globex = make_shop(session, "acme"), make_shop(session, "globex")
    with pytest.raises(NotFound):
        repo.get_item(session, acme.viewer, globex.goods.id)
    with pytest.raises(NotFound):
        repo.get_warehouse(session, acme.viewer, globex.main.id)
    assert repo.items_by_ids(session, acme.viewer, [acme.goods.id, globex.goods.id]) == {
        acme.goods.id: acme.goods
    }


def test_item_list_searches_and_finds_items_below_reorder(session: Session) -> None:
    acme = make_shop(session, "acme", stock="20")
    globex = make_shop(session, "globex", stock="1")
    rows, total = repo.list_items(session, acme.viewer, q="widg")
    assert [r.sku for r in rows] == ["G1"] and total == 1
    assert repo.list_items(session, acme.viewer, below_reorder=True) == ([], 0)
    issue_stock(
        session,
        acme.admin,
        item_id=acme.goods.id,
        warehouse_id=acme.main.id,
        quantity=D("16"),
        on=DAY,
    )
    rows, total = repo.list_items(session, acme.viewer, below_reorder=True)
    assert [r.id for r in rows] == [acme.goods.id] and total == 1
    # Globex's own shortage is not Acme's.
    rows, _ = repo.list_items(session, globex.viewer, below_reorder=True)
    assert [r.id for r in rows] == [globex.goods.id]
    # Exactly at the reorder level is not below it.
    receive_stock(
        session,
        acme.admin,
        item_id=acme.goods.id,
        warehouse_id=acme.main.id,
        quantity=D("1"),
        on=DAY,
    )
    assert repo.list_items(session, acme.viewer, below_reorder=True) == ([], 0)
    rows, total = repo.list_items(session, acme.viewer, limit=1, offset=1)
    assert [r.sku for r in rows] == ["SV"] and total == 2
