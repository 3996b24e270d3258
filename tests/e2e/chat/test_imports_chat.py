"""Data imports in chat, on the demo (SQLite and PostgreSQL): what validation found, with line
numbers, and "commit import N" through the confirmation flow into the commit job.

Files are uploaded through ``jobs.imports.service.upload`` (as the API does); the runner holds
the validation and commit jobs until the test drains it (the e2e sessions share one
connection), as a real runner would run them after each commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from actions_chat import Talk, member
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.imports import imports_port, install_imports
from companion.bootstrap import Container
from companion.config import Settings
from companion.erp.parties.models import Customer
from companion.jobs import runner as job_runner
from companion.jobs.imports import service as imports
from companion.jobs.imports.models import DataImport
from companion.jobs.runner import JobRunner

GOOD = b"code,name,email\nCHAT-1,Padma Chat Traders,padma@example.com\nCHAT-2,Meghna Chat Stores,\n"


@pytest.fixture
def runner(demo_container: Container) -> Iterator[JobRunner]:
    held = JobRunner(
        demo_container.session_factory, job_runner.default_handlers(demo_container), workers=0
    )
    job_runner.install(demo_container, held)
    previous = imports_port()
    yield held
    install_imports(previous)


def _upload(
    session: Session,
    settings: Settings,
    runner: JobRunner,
    data: bytes,
    *,
    user: str = "sales",
    kind: str = "customers",
    validate: bool = True,
) -> int:
    """Upload ``data`` as ``user`` through the service; run its validation job unless told."""
    row, _ = imports.upload(
        session,
        member(session, user),
        kind_name=kind,
        filename=f"{kind}.csv",
        data=data,
        data_dir=settings.data_dir,
        runner=runner,
    )
    session.commit()
    if validate:
        assert runner.drain() == ["done"]
    return row.id


def _status(session: Session, import_id: int) -> str:
    session.expire_all()
    row = session.get(DataImport, import_id)
    assert row is not None
    return row.status


def _customers(session: Session, *codes: str) -> int:
    return session.scalar(select(func.count()).where(Customer.code.in_(codes))) or 0


def test_whats_wrong_with_the_last_import_gives_row_errors_with_line_numbers(
    chat_client: TestClient,
    login: Any,
    demo_session: Session,
    demo_settings: Settings,
    runner: JobRunner,
) -> None:
    acme = member(demo_session, "sales").company_id
    taken = demo_session.scalars(
        select(Customer.name).where(Customer.company_id == acme).order_by(Customer.id)
    ).first()
    csv = (
        "code,name,email\n"
        "BAD-1,Padma Traders,padma@example.com\n"  # line 2: fine
        "BAD-2,,\n"  # line 3: no name
        "BAD-3,Meghna Stores,not-an-email\n"  # line 4: bad email
        "BAD-1,Jamuna Agro,\n"  # line 5: same code as line 2
        f"BAD-6,{taken},\n"  # line 6: a customer of that name exists
    )
    import_id = _upload(demo_session, demo_settings, runner, csv.encode())
    talk = Talk(chat_client, login("sales"))
    answer = talk.say("what's wrong with the last import?")
    assert answer["intent"] == "import_status" and answer["skill"] == "imports", answer
    assert answer["pending_confirmation"] is None
    message = answer["message"]
    assert f"Import {import_id} (customers, customers.csv)" in message
    assert "4 errors in 5 rows (2 of them duplicates)" in message, message
    assert "line 3, name: Field required" in message
    assert "line 5, code: Same code as line 2" in message
    assert "line 6, name: A record with this name already exists" in message
    assert "can't be committed" in message
    assert [row[0] for row in answer["data"]["rows"]] == [3, 4, 5, 6]
    assert answer["data"]["totals"]["errors"] == 4
    # "validate my customer import": what validation found for the latest customer import.
    again = talk.say("validate my customer import")
    assert again["intent"] == "import_status" and str(import_id) in again["message"], again
    # It cannot be committed in chat either; nothing is proposed.
    refused = talk.say(f"commit import {import_id}")
    assert refused["intent"] == "commit_import", refused
    assert refused["pending_confirmation"] is None
    assert "only a validated import can be committed" in refused["message"]
    assert _status(demo_session, import_id) == "invalid"


def test_commit_import_is_confirmed_with_yes_and_runs_the_commit_job_once(
    chat_client: TestClient,
    login: Any,
    demo_session: Session,
    demo_settings: Settings,
    runner: JobRunner,
) -> None:
    import_id = _upload(demo_session, demo_settings, runner, GOOD)
    talk = Talk(chat_client, login("sales"))
    status = talk.say(f"status of import {import_id}")
    assert status["intent"] == "import_status", status
    assert "is validated: 2 rows, no errors" in status["message"]
    # A question about committing is answered, never proposed.
    asked = talk.say(f"is import {import_id} committed yet?")
    assert asked["intent"] == "import_status" and asked["pending_confirmation"] is None, asked
    proposed = talk.say(f"commit import {import_id}")
    assert proposed["intent"] == "commit_import" and proposed["skill"] == "action", proposed
    pending = proposed["pending_confirmation"]
    assert pending is not None and pending["action"] == "commit_import"
    assert f"import {import_id} (customers, customers.csv)" in pending["summary"]
    assert "2 customers rows" in pending["summary"]
    # Nothing is written or queued before the confirmation.
    assert _status(demo_session, import_id) == "validated"
    assert runner.drain() == []
    done = talk.say("yes")
    assert done["skill"] == "action", done
    assert f"Committing import {import_id}" in done["message"]
    assert _status(demo_session, import_id) == "committing"
    assert runner.drain() == ["done"]
    assert _status(demo_session, import_id) == "committed"
    assert _customers(demo_session, "CHAT-1", "CHAT-2") == 2
    # A second "yes" commits nothing more: no job, no second copy of the rows.
    twice = talk.say("yes")
    assert twice["pending_confirmation"] is None
    assert runner.drain() == []
    assert _customers(demo_session, "CHAT-1", "CHAT-2") == 2
    # Asking to commit it again says it is committed already.
    again = talk.say(f"commit import {import_id}")
    assert again["pending_confirmation"] is None and "was committed" in again["message"], again
    after = talk.say(f"status of import {import_id}")
    assert "was committed" in after["message"] and "2 rows written" in after["message"]


def test_an_import_still_validating_cannot_be_committed(
    chat_client: TestClient,
    login: Any,
    demo_session: Session,
    demo_settings: Settings,
    runner: JobRunner,
) -> None:
    import_id = _upload(demo_session, demo_settings, runner, GOOD, validate=False)
    talk = Talk(chat_client, login("sales"))
    status = talk.say(f"status of import {import_id}")
    assert "is still being validated" in status["message"], status
    refused = talk.say(f"commit import {import_id}")
    assert refused["pending_confirmation"] is None, refused
    assert "only a validated import can be committed" in refused["message"]
    assert runner.drain() == ["done"]  # the validation job only
    assert _status(demo_session, import_id) == "validated"


def test_another_companys_import_is_not_found_and_no_permission_is_refused(
    chat_client: TestClient,
    login: Any,
    demo_session: Session,
    demo_settings: Settings,
    runner: JobRunner,
) -> None:
    import_id = _upload(demo_session, demo_settings, runner, GOOD)
    # globex's finance user may import (opening balances), but not acme's files.
    other = Talk(chat_client, login("gfinance"))
    status = other.say(f"status of import {import_id}")
    assert status["intent"] == "import_status", status
    assert f"I can't find import {import_id}" in status["message"]
    assert "customers.csv" not in status["message"]
    commit = other.say(f"commit import {import_id}")
    assert commit["pending_confirmation"] is None, commit
    assert f"there is no import {import_id}" in commit["message"]
    # acme's viewer may import nothing: the refusal names the roles that may.
    viewer = Talk(chat_client, login("viewer"))
    denied = viewer.say("what's wrong with the last import?")
    assert denied["skill"] == "denied" and "sales" in denied["message"], denied
    refused = viewer.say(f"commit import {import_id}")
    assert refused["skill"] == "denied" and refused["pending_confirmation"] is None, refused
    # A buyer imports suppliers, not customers: this customers import needs the sales role.
    buyer = Talk(chat_client, login("buyer"))
    not_theirs = buyer.say(f"status of import {import_id}")
    assert not_theirs["skill"] == "denied" and "sales" in not_theirs["message"], not_theirs
    assert runner.drain() == []
    assert _status(demo_session, import_id) == "validated"
    assert _customers(demo_session, "CHAT-1", "CHAT-2") == 0
