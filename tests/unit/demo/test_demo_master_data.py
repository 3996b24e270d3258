from decimal import Decimal

from companion.demo.catalog import CATALOGS, catalog
from companion.demo.names import customer_names, supplier_names
from companion.demo.plan_master import plan_customers, plan_items, plan_suppliers
from companion.demo.profiles import PROFILES, USERS
from companion.tenancy.permissions import ROLES


def test_party_names_are_distinct_within_and_across_companies() -> None:
    names = {slug: [p.name for p in customer_names(slug, 120)] for slug in PROFILES}
    suppliers = {slug: [p.name for p in supplier_names(slug, 40)] for slug in PROFILES}
    for slug in PROFILES:
        assert len(set(names[slug])) == 120
        assert len(set(suppliers[slug])) == 40
        assert not set(names[slug]) & set(suppliers[slug])
    assert not set(names["acme"]) & set(names["globex"])
    assert not set(suppliers["acme"]) & set(suppliers["globex"])
    assert customer_names("acme", 5) == customer_names("acme", 5)


def test_the_largest_demo_gets_more_names_and_keeps_the_smaller_ones_first() -> None:
    """Scale 5 needs more names than some pools hold; scale 1's names stay exactly as they were."""
    for names, full, large in ((customer_names, 120, 600), (supplier_names, 40, 200)):
        for slug in PROFILES:
            many = names(slug, large)
            assert len({p.name for p in many}) == large
            assert many[:full] == names(slug, full)
    acme = [p.name for p in customer_names("acme", 600)]
    assert not any(n.startswith("New ") for n in acme[:532])  # the pool holds 532 names
    assert all(n.startswith("New ") and n[4:] in acme[:532] for n in acme[532:])
    globex = [p.name for p in supplier_names("globex", 200)]
    assert all(n.endswith(" Company") and n[:-8] in globex[:110] for n in globex[110:])
    # Past every template the names are numbered, so any count can be met.
    numbered = [p.name for p in supplier_names("globex", 400)][220:]
    assert all(n.endswith(" 2") and n[:-2] in globex[:110] for n in numbered[:110])
    assert all(n.endswith(" 3") and n[:-2] in globex[:110] for n in numbered[110:])
    assert len(set(numbered)) == 180


def test_emails_look_like_addresses() -> None:
    for slug in PROFILES:
        for party in customer_names(slug, 120) + supplier_names(slug, 40):
            assert party.email is None or ("@" in party.email and " " not in party.email)
            assert party.phone.startswith("+")


def test_catalogues_sell_above_cost_with_unique_skus() -> None:
    for items in CATALOGS.values():
        assert len(items) == 80
        assert len({i.sku for i in items}) == 80
        assert all(i.price > i.cost >= 0 for i in items)
        assert any(not i.is_tracked for i in items)
    assert not {i.sku for i in CATALOGS["acme"]} & {i.sku for i in CATALOGS["globex"]}


def test_a_scaled_catalogue_keeps_every_family_and_the_services() -> None:
    small = catalog("acme", 16)
    assert len(small) == 16
    families = {i.sku.split("-")[1] for i in CATALOGS["acme"]}
    assert {i.sku.split("-")[1] for i in small} == families


def test_items_have_reorder_points_and_a_home() -> None:
    for profile in PROFILES.values():
        suppliers = plan_suppliers(profile, 1.0)
        items = plan_items(profile, 1.0, suppliers)
        main = profile.warehouses[0].code
        for item in items:
            if item.spec.is_tracked:
                assert item.reorder_level > 0 and item.reorder_qty > item.reorder_level
                assert main in item.warehouses
            else:
                assert item.warehouses == ()
        assert {c for i in items for c in i.warehouses} == {w.code for w in profile.warehouses}


def test_customers_have_terms_limits_and_warehouses_from_their_profile() -> None:
    for profile in PROFILES.values():
        customers = plan_customers(profile, 1.0)
        assert len(customers) == 120
        assert {c.terms for c in customers} <= set(profile.customer_terms)
        assert all(c.credit_limit in profile.credit_limits for c in customers)
        assert {c.payer for c in customers} == {"prompt", "normal", "late", "slow"}
        assert all(
            c.discount_pct in (Decimal("0"), Decimal("2.5"), Decimal("5")) for c in customers
        )


def test_demo_users_match_the_contract() -> None:
    table = {u.username: dict(u.memberships) for u in USERS}
    assert table == {
        "ceo": {"acme": ("executive",), "globex": ("executive",)},
        "finance": {"acme": ("finance",)},
        "sales": {"acme": ("sales",)},
        "buyer": {"acme": ("procurement",)},
        "storekeeper": {"acme": ("inventory",)},
        "viewer": {"acme": ("viewer",)},
        "gfinance": {"globex": ("finance",)},
        "admin": {"acme": ("admin",), "globex": ("admin",)},
    }
    assert [u.username for u in USERS if u.is_system_admin] == ["admin"]
    assert all(r in ROLES for u in USERS for _, roles in u.memberships for r in roles)


def test_approvers_can_approve_and_thresholds_rise() -> None:
    for profile in PROFILES.values():
        amounts = [lv.min_amount for lv in profile.levels]
        assert amounts == sorted(amounts) and amounts[0] == 0
        for level in profile.levels:
            assert "procurement.approve" in ROLES[level.role]
