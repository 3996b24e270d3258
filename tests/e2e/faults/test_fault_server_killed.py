"""The server SIGKILLed with actions proposed, one of them mid-confirm, then started again.

Two proposals on a real ``companion serve``: one waits (killed between propose and
confirm), the other is being confirmed when the process dies. To kill it mid-action for
sure, the test holds a lock the confirm needs: on PostgreSQL the company's audit-chain
head, which the ERP takes after it has written the voucher and the invoice's new status
(so the transaction dies half-done); on SQLite the write lock, which the confirm waits for.
After the kill the ledger must be whole, both proposals still pending; a new process on
the same database executes each exactly once (a second confirm is 409) and the audit
chains verify.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import httpx
import pytest
from faults_support import Served, draft_invoices, ledger_problems, member, server_env
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.assistant.actions.models import AiAction
from companion.audit.models import AuditHead
from companion.erp.invoicing.models import Invoice
from companion.erp.ledger.models import JournalVoucher
from companion.kit.db import WRITE_INTENT

TODAY = dt.date(2026, 3, 15)


def hold_lock_the_confirm_needs(engine: Engine, company_id: int) -> Connection:
    """Block the next confirm: an open transaction holding what it must lock."""
    if engine.dialect.name == "sqlite":
        conn = engine.connect().execution_options(**{WRITE_INTENT: True})
        conn.begin()  # BEGIN IMMEDIATE: the database's one write lock
        return conn
    conn = engine.connect()
    conn.begin()
    conn.execute(
        select(AuditHead).where(AuditHead.chain == f"company:{company_id}").with_for_update()
    ).one()
    return conn


def wait_until_blocked(engine: Engine, holder: Connection) -> None:
    """Until the server's confirm waits on the lock (observable on PostgreSQL only)."""
    if engine.dialect.name == "sqlite":
        time.sleep(2.0)  # the request reaches BEGIN IMMEDIATE and waits (busy timeout 60 s)
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        holder.execute(text("SELECT pg_stat_clear_snapshot()"))  # else one per transaction
        waiting = holder.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        if waiting:
            # Half-done: the blocked transaction has already written the journal.
            written = holder.execute(
                text(
                    "SELECT l.relation::regclass::text FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'"
                    " AND l.mode = 'RowExclusiveLock' AND l.granted"
                )
            ).scalars()
            assert {"journal_vouchers", "journal_lines"} <= set(written)
            return
        time.sleep(0.05)
    raise AssertionError("the confirm never reached the audit lock")


def state_of(session: Session, token: str, number: str) -> tuple[str, str, int]:
    """The proposal's status, the invoice's status, and how many vouchers it has."""
    session.rollback()  # a new transaction: see what the servers committed since
    action = session.execute(select(AiAction).where(AiAction.token == token)).scalar_one()
    invoice = session.execute(select(Invoice).where(Invoice.number == number)).scalar_one()
    vouchers = session.execute(
        select(JournalVoucher.id).where(
            JournalVoucher.source_type == "invoice", JournalVoucher.source_id == invoice.id
        )
    ).all()
    return action.status, invoice.status, len(vouchers)


@pytest.mark.slow
def test_a_server_killed_mid_action_leaves_proposals_answerable_once(
    demo_engine: Engine, fresh_session: Session, demo_url: str, tmp_path: Path
) -> None:
    waiting, in_flight = draft_invoices(fresh_session, 2, on=TODAY)
    company_id = member(fresh_session, "admin").company_id
    fresh_session.rollback()
    env = server_env(demo_url, tmp_path / "data", TODAY.isoformat())
    log = tmp_path / "server.log"
    tokens: dict[str, str] = {}
    outcome: list[object] = []

    first = Served(env, log)
    try:
        with first.client("finance") as http:
            for number in (waiting, in_flight):
                proposed = http.post(
                    "/ai/actions", json={"action": "post_ar_invoice", "params": {"number": number}}
                )
                assert proposed.status_code == 201, proposed.text
                tokens[number] = proposed.json()["token"]
            holder = hold_lock_the_confirm_needs(demo_engine, company_id)
            try:

                def confirm() -> None:
                    try:
                        outcome.append(http.post(f"/ai/actions/{tokens[in_flight]}/confirm"))
                    except httpx.TransportError as exc:
                        outcome.append(exc)

                sender = threading.Thread(target=confirm)
                sender.start()
                wait_until_blocked(demo_engine, holder)
                first.kill()
                sender.join(10)
            finally:
                holder.rollback()
                holder.close()
    finally:
        first.kill()
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError), outcome

    # What the kill left: nothing half-written, both proposals still waiting.
    for number in (waiting, in_flight):
        assert state_of(fresh_session, tokens[number], number) == ("pending", "draft", 0)
    assert ledger_problems(fresh_session) == []

    with Served(env, log) as second, second.client("finance") as http:
        for number in (waiting, in_flight):
            token = tokens[number]
            shown = http.get(f"/ai/actions/{token}")
            assert shown.status_code == 200 and shown.json()["status"] == "pending", shown.text
            done = http.post(f"/ai/actions/{token}/confirm")
            assert done.status_code == 200, done.text
            assert (done.json()["status"], done.json()["document_ref"]) == ("executed", number)
            again = http.post(f"/ai/actions/{token}/confirm")
            assert again.status_code == 409, again.text

    for number in (waiting, in_flight):
        assert state_of(fresh_session, tokens[number], number) == ("executed", "posted", 1)
    assert ledger_problems(fresh_session) == []
    tracebacks = [line for line in log.read_text().splitlines() if "Traceback" in line]
    assert not tracebacks, log.read_text()[-6000:]
