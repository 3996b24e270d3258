"""``/api/v1/ai/usage``: summary, breakdown, quota and the CSV export, over the real app.

Usage is written the way the meter writes it (``Metering.record``), for both companies, so
every route can show it sees only its own company's and only to the roles that may.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from e2e_support import Tenants
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import BudgetCaps
from companion.governance.usage.budgets import Payer
from companion.governance.usage.models import TURN
from companion.governance.usage.service import CallFigures
from companion.kit.clock import FixedClock

USAGE = "/api/v1/ai/usage"


@pytest.fixture
def recorded(container: Container, tenants: Tenants, session: Session, clock: FixedClock) -> None:
    """acme: two model calls and a turn by finance, one call by sales; globex: one big call."""
    metering = container.usage_meter().metering
    now = clock.now()

    def payer(company: str, role: str) -> Payer:
        ctx = tenants.context(company, role)
        return Payer(ctx.company_id, ctx.company_slug, ctx.user_id, "UTC")

    fin, sales, gfin = payer("acme", "finance"), payer("acme", "sales"), payer("globex", "finance")
    calls = [
        (fin, CallFigures("tool_choice", "openai_compat", "gpt-x", 100, 20, 300.0), "0.5"),
        (fin, CallFigures("knowledge_answer", "llamacpp", "smollm2", 400, 80, 900.0), "0"),
        (sales, CallFigures("tool_choice", "openai_compat", "gpt-x", 50, 10, 250.0), "0.25"),
        (gfin, CallFigures("tool_choice", "openai_compat", "=evil()", 9999, 9999, 1.0), "99"),
    ]
    for who, figures, cost in calls:
        metering.record(who, figures, Decimal(cost), now, session)
    turn = CallFigures("chat", "", None, 500, 100, 1234.5)
    metering.record(fin, turn, Decimal("0.5"), now, session, "conv-1", kind=TURN)
    session.commit()


def test_summary_totals_the_companys_month(
    client: TestClient, tenants: Tenants, recorded: None, clock: FixedClock
) -> None:
    r = client.get(f"{USAGE}/summary", headers=tenants.headers("acme", "finance"))
    assert r.status_code == 200, r.text
    body = r.json()
    today = clock.now().date()
    assert body["from_day"] == today.replace(day=1).isoformat()
    assert body["to_day"] == today.isoformat()
    assert (body["turns"], body["model_calls"]) == (1, 3)
    assert (body["tokens_in"], body["tokens_out"]) == (550, 110)  # the turn is not counted twice
    assert body["cost"] == pytest.approx(0.75) and body["currency"] == "USD"
    assert body["turn_latency_ms_avg"] == pytest.approx(1234.5)


def test_breakdowns_by_model_use_case_user_and_day(
    client: TestClient, tenants: Tenants, recorded: None, clock: FixedClock
) -> None:
    headers = tenants.headers("acme", "executive")

    def rows(by: str) -> list[dict[str, object]]:
        r = client.get(f"{USAGE}/breakdown", params={"by": by}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["rows"]  # type: ignore[no-any-return]

    assert [(r["key"], r["calls"], r["cost"]) for r in rows("model")] == [
        ("gpt-x", 2, 0.75),
        ("smollm2", 1, 0.0),
    ]
    assert {r["key"]: r["tokens_in"] for r in rows("use_case")} == {
        "tool_choice": 150,
        "knowledge_answer": 400,
    }
    assert [r["key"] for r in rows("user")] == ["acme-finance", "acme-sales"]
    assert [r["key"] for r in rows("day")] == [clock.now().date().isoformat()]
    assert "=evil()" not in str(rows("model"))  # globex's model never shows


def test_the_csv_export_lists_every_event_for_billing(
    client: TestClient, tenants: Tenants, recorded: None
) -> None:
    r = client.get(f"{USAGE}/export.csv", headers=tenants.headers("acme", "finance"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="usage-acme-' in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert len(table) == 4 and {row["kind"] for row in table} == {"model_call", "turn"}
    assert sum(Decimal(row["cost"]) for row in table if row["kind"] == "model_call") == Decimal(
        "0.75"
    )
    assert {row["user"] for row in table} == {"acme-finance", "acme-sales"}
    globex = client.get(f"{USAGE}/export.csv", headers=tenants.headers("globex", "finance"))
    (only,) = list(csv.DictReader(io.StringIO(globex.text)))
    assert only["model"] == "'=evil()"  # never a formula in a spreadsheet


def test_usage_is_for_finance_executives_and_admins_only(
    client: TestClient, tenants: Tenants, recorded: None
) -> None:
    for role in ("sales", "viewer", "procurement", "inventory", "norole"):
        for path in ("/summary", "/breakdown?by=model", "/export.csv"):
            r = client.get(USAGE + path, headers=tenants.headers("acme", role))
            assert r.status_code == 403, (role, path)
            assert r.json()["error"]["details"]["permission"] == "usage.read"
    for role in ("finance", "executive", "admin"):
        assert (
            client.get(f"{USAGE}/summary", headers=tenants.headers("acme", role)).status_code == 200
        )
    assert client.get(f"{USAGE}/summary").status_code == 401


def test_another_companys_usage_never_shows(
    client: TestClient, tenants: Tenants, recorded: None
) -> None:
    acme = client.get(f"{USAGE}/summary", headers=tenants.headers("acme", "admin")).json()
    globex = client.get(f"{USAGE}/summary", headers=tenants.headers("globex", "admin")).json()
    assert acme["cost"] == pytest.approx(0.75) and globex["cost"] == pytest.approx(99)
    assert globex["model_calls"] == 1 and globex["turns"] == 0


@pytest.mark.parametrize(
    "query",
    [
        {"by": "colour"},
        {"by": "model", "from": "2026-13-01"},
        {"by": "model", "from": "yesterday"},
        {"by": "model", "from": "2026-12-06", "to": "2026-12-01"},
        {"by": "model", "from": "2020-01-01", "to": "2026-01-01"},
        {"by": "model", "from": "9" * 400},
    ],
)
def test_bad_ranges_and_dimensions_are_422s(
    client: TestClient, tenants: Tenants, query: dict[str, str]
) -> None:
    r = client.get(f"{USAGE}/breakdown", params=query, headers=tenants.headers("acme", "finance"))
    assert r.status_code == 422, r.text
    assert set(r.json()["error"]) == {"code", "message", "details"}


def test_an_empty_range_is_zeros_not_an_error(client: TestClient, tenants: Tenants) -> None:
    r = client.get(
        f"{USAGE}/summary",
        params={"from": "2001-01-01", "to": "2001-01-31"},
        headers=tenants.headers("acme", "finance"),
    )
    assert r.status_code == 200
    assert r.json()["model_calls"] == 0 and r.json()["cost"] == 0
    empty = client.get(
        f"{USAGE}/export.csv",
        params={"from": "2001-01-01", "to": "2001-01-31"},
        headers=tenants.headers("acme", "finance"),
    )
    assert empty.text.splitlines()[0].startswith("created_at,day,kind")
    assert len(empty.text.splitlines()) == 1


def test_quota_shows_caps_warnings_and_reset_times(
    client: TestClient,
    container: Container,
    tenants: Tenants,
    session: Session,
    clock: FixedClock,
) -> None:
    usage = container.settings.usage
    usage.budgets = BudgetCaps(user_day_tokens=100, company_month_tokens=1000)
    metering = container.usage_meter().metering
    ctx = tenants.context("acme", "sales")
    payer = Payer(ctx.company_id, ctx.company_slug, ctx.user_id, "UTC")
    metering.budgets.reserve(payer, clock.now(), tokens=85, cost=Decimal(0), session=session)
    session.commit()
    r = client.get(f"{USAGE}/quota", headers=tenants.headers("acme", "sales"))
    assert r.status_code == 200, r.text
    limits = {q["limit"]: q for q in r.json()["limits"]}
    # A sales user sees their own budgets only, not the company's.
    assert set(limits) == {"user_day_tokens", "user_day_cost"}
    mine = limits["user_day_tokens"]
    assert (mine["used"], mine["cap"], mine["ratio"], mine["warning"], mine["exceeded"]) == (
        85,
        100,
        0.85,
        True,
        False,
    )
    tomorrow = dt.datetime.combine(clock.now().date() + dt.timedelta(days=1), dt.time(0), dt.UTC)
    assert dt.datetime.fromisoformat(mine["resets_at"]) == tomorrow
    finance = client.get(f"{USAGE}/quota", headers=tenants.headers("acme", "finance")).json()
    company = {q["limit"]: q for q in finance["limits"]}["company_month_tokens"]
    assert company["used"] == 85 and company["cap"] == 1000 and not company["warning"]
