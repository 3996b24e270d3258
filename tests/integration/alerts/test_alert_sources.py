"""Stalled imports and budget breaches as alerts, on both databases; alert telemetry.

The detectors live in ``jobs.alert_sources`` (they read what sits above the alerts floor)
and reach a scan as ``extra``, as the scheduler, the CLI and the command center pass them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from companion.alerts import repository as repo
from companion.alerts import service as alerts
from companion.alerts.detectors.base import Detector
from companion.alerts.models import Alert
from companion.assistant.learning.models import TelemetryEvent
from companion.assistant.learning.telemetry import install as store_telemetry
from companion.config import AlertSettings, BudgetCaps, UsageSettings
from companion.governance.usage.budgets import Budgets, Payer
from companion.governance.usage.counter_repository import SqlCounters
from companion.jobs.alert_sources import BudgetBreach, StalledImports
from companion.jobs.imports.models import DataImport
from companion.tenancy.models import Company
from factories import make_company, make_context

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _import(
    session: Session, company: Company, kind: str, status: str, age: dt.timedelta
) -> DataImport:
    row = DataImport(
        company_id=company.id,
        kind=kind,
        filename=f"{kind}.csv",
        file_format="csv",
        status=status,
        total_rows=3,
        valid_rows=3,
        errors=[],
        summary={},
        created_at=NOW - age,
        updated_at=NOW - age,
    )
    session.add(row)
    session.flush()
    return row


def _scan(
    session: Session, company: Company, extra: list[Detector], now: dt.datetime = NOW
) -> alerts.ScanResult:
    return alerts.scan_company(
        session, company.id, now.date(), AlertSettings(), now=now, extra=extra
    )


def _open(session: Session, company: Company, type_: str) -> list[Alert]:
    return [
        a
        for a in repo.alerts_of_company(session, company.id)
        if a.type == type_ and a.cleared_at is None
    ]


def test_stalled_and_stuck_imports_alert_once_each_and_clear_when_they_move(
    session: Session,
) -> None:
    acme = make_company(session, "acme")
    waiting = _import(session, acme, "customers", "validated", dt.timedelta(hours=30))
    _import(session, acme, "customers", "validated", dt.timedelta(hours=2))  # not yet
    stuck = _import(session, acme, "opening_balances", "validating", dt.timedelta(hours=2))
    _import(session, acme, "items", "committed", dt.timedelta(days=9))  # done: no alert
    other = make_company(session, "globex")
    _import(session, other, "customers", "validated", dt.timedelta(hours=50))
    result = _scan(session, acme, [StalledImports()])
    assert result.by_type.get("stalled_import") == 2 and result.created >= 2
    found = {a.condition_key: a for a in _open(session, acme, "stalled_import")}
    assert set(found) == {
        f"stalled_import:{waiting.id}:validated",
        f"stalled_import:{stuck.id}:validating",
    }
    reminder = found[f"stalled_import:{waiting.id}:validated"]
    assert reminder.permission == "sales.write"  # who may import customers
    assert "validated 30 hours ago" in reminder.message and reminder.severity == "info"
    # One click opens the chat action's confirmation (commit_import), nothing more.
    assert reminder.suggested_action == {
        "action": "commit_import",
        "label": f"Commit import {waiting.id}",
        "params": {"import_id": waiting.id},
    }
    jam = found[f"stalled_import:{stuck.id}:validating"]
    assert jam.permission == "finance.post" and jam.severity == "warning"
    assert "validating for 120 minutes" in jam.message
    # A rescan adds nothing; the import committed clears its alert.
    assert _scan(session, acme, [StalledImports()]).created == 0
    waiting.status = "committed"
    waiting.updated_at = NOW
    session.flush()
    again = _scan(session, acme, [StalledImports()])
    assert again.cleared == 1
    assert [a.condition_key for a in _open(session, acme, "stalled_import")] == [
        f"stalled_import:{stuck.id}:validating"
    ]
    # Without the detector (a caller that does not pass it) nothing of this kind appears.
    assert _open(session, other, "stalled_import") == []


def test_budget_soft_and_hard_caps_alert_with_who_may_read_usage(
    session: Session, connection: Connection
) -> None:
    acme = make_company(session, "acme")
    session.commit()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    settings = UsageSettings(budgets=BudgetCaps(company_day_tokens=1000))
    budgets = Budgets(settings, SqlCounters(factory))
    detector = BudgetBreach(budgets)
    payer = Payer(acme.id, acme.slug, None, None)
    assert _scan(session, acme, [detector]).by_type == {}  # nothing used yet
    budgets.reserve(payer, NOW, tokens=850, cost=Decimal("0"), session=session)
    _scan(session, acme, [detector])
    [soft] = _open(session, acme, "budget_breach")
    assert soft.severity == "warning" and soft.permission == "usage.read"
    assert soft.condition_key == "budget_breach:company_day_tokens:2026-12-07:soft"
    assert "85% of the company's daily token limit" in soft.message
    budgets.reserve(payer, NOW, tokens=150, cost=Decimal("0"), capped=False, session=session)
    _scan(session, acme, [detector])
    [hard] = _open(session, acme, "budget_breach")  # the soft one cleared
    assert hard.severity == "critical" and hard.condition_key.endswith(":hard")
    assert "Model calls are refused until it resets at 2026-12-07T00:00" in hard.message
    # A sales user does not see it; finance does.
    assert alerts_for(session, acme, "sales") == []
    assert [a.id for a in alerts_for(session, acme, "finance")] == [hard.id]
    # The next day's counters are empty: the alert clears.
    _scan(session, acme, [detector], now=NOW + dt.timedelta(days=1))
    assert _open(session, acme, "budget_breach") == []


def alerts_for(session: Session, company: Company, role: str) -> list[Alert]:
    ctx = make_context(session, company, [role], username=f"{company.slug}-{role}")
    rows, _ = repo.list_alerts(session, ctx, types=["budget_breach"])
    return rows


def test_raised_and_acted_alerts_are_telemetry_events(session: Session) -> None:
    store_telemetry()
    acme = make_company(session, "acme")
    row = _import(session, acme, "customers", "validated", dt.timedelta(hours=30))
    result = _scan(session, acme, [StalledImports()])
    assert result.created == 1
    [alert] = _open(session, acme, "stalled_import")
    ctx = make_context(session, acme, ["sales"], username="acme-sales")
    alerts.dismiss(session, ctx, alert.id, NOW)
    alerts.dismiss(session, ctx, alert.id, NOW)  # again: no second event
    events = session.scalars(
        select(TelemetryEvent)
        .where(TelemetryEvent.company_id == acme.id, TelemetryEvent.kind.like("alert.%"))
        .order_by(TelemetryEvent.id)
    ).all()
    assert [(e.kind, e.data["alert_id"], e.data["type"]) for e in events] == [
        ("alert.raised", alert.id, "stalled_import"),
        ("alert.acted", alert.id, "stalled_import"),
    ]
    assert events[1].data["how"] == "dismissed" and events[1].user_id == ctx.user_id
    assert row.id == alert.details["import_id"]
