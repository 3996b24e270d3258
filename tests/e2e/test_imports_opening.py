"""Opening-balance imports over HTTP on SQLite and PostgreSQL: validated, posted as one voucher.

The e2e sessions share one connection, so the runner holds the validation and commit jobs
until the test drains it (between requests, as a real runner would run them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import Tenants, make_settings
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.learning.models import TelemetryEvent
from companion.audit.models import AuditEntry
from companion.bootstrap import Container
from companion.config import Settings
from companion.erp.ledger.models import Account
from companion.erp.ledger.service import setup_company_ledger
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.web.app import create_app

URL = "/api/v1/ai/imports"
HEADER = "account_code,debit,credit,date,description\n"
BALANCED = (
    HEADER + "1100,5000,,2026-01-01,Receivables brought forward\n"
    "1200,3000.50,,2026-01-01,\n"
    "2000,,2500,2026-01-01,\n"
    "3000,,5500.50,2026-01-01,Opening balance equity\n"
)


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return make_settings(engine.url.render_as_string(hide_password=False), data_dir=tmp_path)


@pytest.fixture
def runner(container: Container) -> JobRunner:
    return JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0)


@pytest.fixture
def app(container: Container, runner: JobRunner) -> FastAPI:
    job_runner.install(container, runner)
    return create_app(container)


@pytest.fixture
def finance(tenants: Tenants) -> dict[str, str]:
    """acme with the standard chart of accounts; its finance member's headers."""
    setup_company_ledger(tenants.session, tenants.companies["acme"].id)
    tenants.session.commit()
    return tenants.headers("acme", "finance")


def validated(
    client: TestClient, runner: JobRunner, headers: dict[str, str], csv: str
) -> dict[str, Any]:
    r = client.post(
        URL,
        headers=headers,
        data={"kind": "opening_balances"},
        files={"file": ("opening.csv", csv.encode())},
    )
    assert r.status_code == 202, r.text
    assert runner.drain() == ["done"]
    body = client.get(f"{URL}/{r.json()['data_import']['id']}", headers=headers).json()
    assert isinstance(body, dict)
    return body


def vouchers(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/v1/journal-vouchers", headers=headers, params={"limit": 100})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert isinstance(items, list)
    return items


def status_trail(session: Session, import_id: int) -> tuple[list[str], list[str]]:
    """The import's status changes as telemetry events and as audit entries, in order."""
    events = session.scalars(
        select(TelemetryEvent)
        .where(TelemetryEvent.kind == "import.status")
        .order_by(TelemetryEvent.id)
    )
    told = [e.data["to"] for e in events if e.data["import_id"] == import_id]
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.action == "import.status",
            AuditEntry.entity_type == "data_import",
            AuditEntry.entity_id == str(import_id),
        )
        .order_by(AuditEntry.seq)
    )
    return told, [str((e.new_values or {})["status"]) for e in entries]


def test_a_balanced_file_is_posted_as_one_voucher(
    client: TestClient, tenants: Tenants, finance: dict[str, str], runner: JobRunner
) -> None:
    body = validated(client, runner, finance, BALANCED)
    assert body["status"] == "validated", body
    assert (body["total_rows"], body["valid_rows"], body["error_count"]) == (4, 4, 0)
    assert vouchers(client, finance) == []  # validating posts nothing
    r = client.post(f"{URL}/{body['id']}/commit", headers=finance)
    assert r.status_code == 202, r.text
    assert runner.drain() == ["done"]
    done = client.get(f"{URL}/{body['id']}", headers=finance).json()
    assert done["status"] == "committed"
    # Every status change is an event, an audit entry and a telemetry event.
    changes = ["uploaded", "validating", "validated", "committing", "committed"]
    assert [e["to_status"] for e in done["events"]] == changes
    assert status_trail(tenants.session, body["id"]) == (changes, changes)
    [voucher] = vouchers(client, finance)
    assert voucher["source_type"] == "data_import" and voucher["source_id"] == body["id"]
    assert voucher["voucher_date"] == "2026-01-01"
    assert [(x["account_code"], x["debit"], x["credit"]) for x in voucher["lines"]] == [
        ("1100", "5000.00", "0.00"),
        ("1200", "3000.50", "0.00"),
        ("2000", "0.00", "2500.00"),
        ("3000", "0.00", "5500.50"),
    ]
    tb = client.get("/api/v1/reports/trial-balance", headers=finance).json()
    assert tb["balanced"] is True and tb["total_debit"] == "8000.50"
    balances = {
        a["code"]: a["balance"]
        for a in client.get("/api/v1/accounts/balances", headers=finance).json()
    }
    assert (balances["1100"], balances["2000"], balances["3000"]) == (
        "5000.00",
        "2500.00",
        "5500.50",
    )


def test_row_errors_name_their_lines_and_an_unbalanced_file_is_refused(
    client: TestClient, finance: dict[str, str], runner: JobRunner
) -> None:
    csv = (
        HEADER + "1100,5000,,2026-01-01,\n"
        "9999,100,,2026-01-01,\n"  # line 3: no such account
        "1200,10,10,2026-01-01,\n"  # line 4: both sides
        "2000,,,2026-01-01,\n"  # line 5: neither
        "1100,,20,2026-01-01,\n"  # line 6: 1100 again
        "2200,-5,,2026-01-01,\n"  # line 7: negative
        "3000,,4000,2026-02-01,\n"  # line 8: another date
    )
    body = validated(client, runner, finance, csv)
    assert body["status"] == "invalid"
    found = {(e["line"], e["column"]) for e in body["errors"]}
    assert found == {
        (3, "account_code"),
        (4, None),
        (5, None),
        (6, "account_code"),
        (7, "debit"),
        (8, "date"),
        (0, None),
    }
    messages = {e["line"]: e["message"] for e in body["errors"]}
    assert messages[3] == "No account with this code"
    assert messages[4] == "Give a debit or a credit, not both"
    assert messages[5].startswith("Give a debit or a credit")
    assert messages[6] == "Same account_code as line 2"
    assert "do not balance" in messages[0] and "differ by 1000.00" in messages[0]
    assert client.post(f"{URL}/{body['id']}/commit", headers=finance).status_code == 409
    assert vouchers(client, finance) == []


def test_a_file_that_only_fails_to_balance_is_invalid_at_file_level(
    client: TestClient, finance: dict[str, str], runner: JobRunner
) -> None:
    body = validated(client, runner, finance, HEADER + "1100,100,,2026-01-01,\n")
    assert body["status"] == "invalid" and body["valid_rows"] == 1
    [error] = body["errors"]
    assert error["line"] == 0 and error["column"] is None
    assert error["message"].startswith("The opening balances do not balance: debits 100.00")


def test_a_commit_that_fails_posts_nothing(
    client: TestClient, tenants: Tenants, finance: dict[str, str], runner: JobRunner
) -> None:
    body = validated(client, runner, finance, BALANCED)
    assert body["status"] == "validated"
    # The chart changes between review and commit: the commit checks again and posts none.
    acme = tenants.companies["acme"].id
    tenants.session.execute(
        update(Account)
        .where(Account.company_id == acme, Account.code == "2000")
        .values(code="2001")
    )
    tenants.session.commit()
    assert client.post(f"{URL}/{body['id']}/commit", headers=finance).status_code == 202
    assert runner.drain() == ["failed"]
    done = client.get(f"{URL}/{body['id']}", headers=finance).json()
    assert done["status"] == "failed"
    assert "no longer valid (line 4: No account with this code)" in done["events"][-1]["message"]
    assert vouchers(client, finance) == []
    told, audited = status_trail(tenants.session, body["id"])
    assert told[-2:] == audited[-2:] == ["committing", "failed"]


def test_only_finance_posters_import_opening_balances(
    client: TestClient, tenants: Tenants, finance: dict[str, str]
) -> None:
    for role in ("sales", "inventory", "viewer"):
        r = client.post(
            URL,
            headers=tenants.headers("acme", role),
            data={"kind": "opening_balances"},
            files={"file": ("o.csv", BALANCED.encode())},
        )
        assert r.status_code == 403, (role, r.text)
    r = client.post(
        URL,
        headers=finance,
        data={"kind": "opening_balances"},
        files={"file": ("o.csv", b"account_code,debit\n1100,5\n")},
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "Missing column(s): credit, date"
