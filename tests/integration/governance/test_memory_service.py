"""Memories on both databases: scope, dedup with the shipped MiniLM embedder, expiry, policy."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.audit.models import AuditEntry
from companion.errors import NotFound, PermissionDenied, ValidationFailed
from companion.governance.memory import repository as memory_repo
from companion.governance.memory import service as memories
from companion.governance.memory.models import GlobalMemory, Memory
from companion.llm.embeddings import load_embedder
from factories import make_company, make_context

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
ABOUT_KHULNA = {"customer": {"id": 7, "name": "Khulna Emporium"}}


@pytest.fixture(scope="module")
def minilm():  # type: ignore[no-untyped-def]
    """The shipped embedder (int8 all-MiniLM-L6-v2 on onnxruntime)."""
    return load_embedder("onnx")


def _tenants(session: Session):  # type: ignore[no-untyped-def]
    acme, globex = make_company(session, "acme", "BDT"), make_company(session, "globex")
    return (
        make_context(session, acme, ["sales"]),
        make_context(session, acme, ["finance"]),
        make_context(session, acme, ["admin"]),
        make_context(session, globex, ["sales"]),
    )


def test_add_repeat_and_update_lose_no_fact(session: Session, minilm) -> None:  # type: ignore[no-untyped-def]
    sales, *_ = _tenants(session)
    first = memories.remember(
        session,
        sales,
        "Khulna Emporium prefers e-mail",
        now=NOW,
        kind="preference",
        entities=ABOUT_KHULNA,
        embedder=minilm,
    )
    assert first.action == "add"
    again = memories.remember(
        session,
        sales,
        "  khulna emporium prefers E-MAIL. ",
        now=NOW,
        kind="preference",
        entities=ABOUT_KHULNA,
        embedder=minilm,
    )
    assert (again.action, again.memory.id) == ("duplicate", first.memory.id)
    changed = memories.remember(
        session,
        sales,
        "Khulna Emporium prefers phone calls",
        now=NOW,
        kind="preference",
        entities=ABOUT_KHULNA,
        embedder=minilm,
    )
    assert (changed.action, changed.memory.id) == ("update", first.memory.id)
    assert changed.similarity is not None and changed.similarity >= 0.6
    assert changed.memory.history == ["Khulna Emporium prefers e-mail"]  # kept, not lost
    # Two facts differing in a figure are two facts, however alike they read.
    a = memories.remember(
        session, sales, "Rupsha Traders credit limit is 50000", now=NOW, embedder=minilm
    )
    b = memories.remember(
        session, sales, "Rupsha Traders credit limit is 60000", now=NOW, embedder=minilm
    )
    assert a.action == b.action == "add" and a.memory.id != b.memory.id
    rows, total = memories.list_memories(session, sales, NOW)
    assert total == 3
    assert {m.text for m in rows} == {
        "Khulna Emporium prefers phone calls",
        "Rupsha Traders credit limit is 50000",
        "Rupsha Traders credit limit is 60000",
    }


def test_another_users_or_companys_memory_is_never_visible(session: Session) -> None:
    sales, finance, admin, globex = _tenants(session)
    mine = memories.remember(session, sales, "my usual warehouse is Dhaka Central", now=NOW)
    shared = memories.remember(
        session, admin, "month end close is on the 5th", now=NOW, scope="company"
    )
    assert [m.id for m in memories.list_memories(session, finance, NOW)[0]] == [shared.memory.id]
    assert memories.list_memories(session, globex, NOW) == ([], 0)
    for outsider in (finance, globex):
        with pytest.raises(NotFound):
            memories.forget(session, outsider, mine.memory.id)
    with pytest.raises(NotFound):
        memories.forget(session, globex, shared.memory.id)
    # A company memory is everyone's to read but only an assistant admin's to change.
    with pytest.raises(PermissionDenied):
        memories.forget(session, finance, shared.memory.id)
    with pytest.raises(PermissionDenied):
        memories.remember(session, sales, "we are closed on Friday", now=NOW, scope="company")
    # A turn's read (one statement built once, the caller bound at each run): the same page.
    for caller in (sales, finance, admin, globex):
        page = memories.list_memories(session, caller, NOW)[0]
        assert memory_repo.newest_memories(session, caller, NOW, limit=50) == page
    memories.forget(session, sales, mine.memory.id)
    assert memories.list_memories(session, sales, NOW)[1] == 1


def test_expiry_deletes_and_an_expired_memory_is_never_returned(session: Session) -> None:
    sales, _, admin, globex = _tenants(session)
    short = memories.remember(session, sales, "call back at noon", now=NOW, retention="short")
    kept = memories.remember(session, sales, "my name is Farhana", now=NOW, retention="permanent")
    other = memories.remember(session, globex, "short note", now=NOW, retention="short")
    shared = memories.remember(
        session,
        admin,
        "the product is called Companion",
        now=NOW,
        scope="global",
        retention="short",
    )
    assert short.memory.expires_at == NOW + dt.timedelta(hours=1)
    assert kept.memory.expires_at is None
    later = NOW + dt.timedelta(hours=2)
    # A chat turn's read skips the expired rows and deletes nothing (the sweep's work).
    found = memories.relevant(session, sales, later, query_vector=None)
    assert [m.id for m in found] == [kept.memory.id]
    assert session.get(Memory, short.memory.id) is not None
    # Listing sweeps lazily: the caller's company's expired rows are deleted, not only hidden.
    assert [m.id for m in memories.list_memories(session, sales, later)[0]] == [kept.memory.id]
    assert session.get(Memory, short.memory.id) is None
    assert session.get(Memory, other.memory.id) is not None  # another company: the job's work
    assert memories.sweep_expired(session, later) == 2  # globex's and the global one
    assert session.get(Memory, other.memory.id) is None
    assert session.get(GlobalMemory, shared.memory.id) is None
    assert session.get(Memory, kept.memory.id) is not None
    assert memories.sweep_expired(session, later) == 0


def test_the_company_policy_sets_ttls_and_pii_scrubbing(session: Session) -> None:
    sales, _, admin, globex = _tenants(session)
    with pytest.raises(PermissionDenied):
        memories.set_policy(session, sales, {"short_ttl_s": 120}, NOW)
    with pytest.raises(ValidationFailed):
        memories.set_policy(session, admin, {"short_ttl_s": 5}, NOW)
    policy = memories.set_policy(session, admin, {"short_ttl_s": 120, "compliance_mode": True}, NOW)
    assert policy.ttls["short"] == 120 and policy.compliance_mode
    assert not memories.policy_of(session, admin.company_id).allows_external_providers()
    assert memories.policy_of(session, globex.company_id).allows_external_providers()
    note = memories.remember(session, sales, "ping me", now=NOW, retention="short")
    assert note.memory.expires_at == NOW + dt.timedelta(seconds=120)
    scrubbed = memories.remember(
        session,
        sales,
        "Rahim's e-mail is rahim@example.com and card 4111 1111 1111 1111",
        now=NOW,
    )
    assert "rahim@example.com" not in scrubbed.memory.text
    assert "<EMAIL_1>" in scrubbed.memory.text and "4111" not in scrubbed.memory.text
    memories.set_policy(session, admin, {"pii_scrubbing": False}, NOW)
    raw = memories.remember(session, sales, "Karim's e-mail is karim@example.com", now=NOW)
    assert "karim@example.com" in raw.memory.text
    # Other companies keep the defaults.
    assert memories.policy_for(session, globex).ttls["short"] == 3600


def test_the_audit_chain_names_memories_by_digest_never_by_text(session: Session) -> None:
    sales, *_ = _tenants(session)
    memories.remember(session, sales, "Padma Cement raised prices by 4%", now=NOW)
    rows = (
        session.execute(select(AuditEntry).where(AuditEntry.action.startswith("memory.")))
        .scalars()
        .all()
    )
    assert [r.action for r in rows] == ["memory.add"]
    assert "Padma" not in str(rows[0].new_values)
    assert len(rows[0].new_values["text_sha256"]) == 64
    assert audit.verify(session).ok


@pytest.mark.parametrize(
    "bad",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 2001},
        {"kind": "secret"},
        {"retention": "forever"},
        {"scope": "everyone"},
    ],
)
def test_bad_memories_are_refused_clearly(session: Session, bad: dict) -> None:  # type: ignore[type-arg]
    sales, *_ = _tenants(session)
    args = {"text": "fine", **bad}
    with pytest.raises(ValidationFailed):
        memories.remember(session, sales, args.pop("text"), now=NOW, **args)
    count = session.execute(select(func.count()).select_from(Memory)).scalar_one()
    assert count == 0


def test_the_scheduled_sweep_deletes_one_companys_expired_memories(session: Session) -> None:
    from companion.jobs.periodic import registered
    from companion.jobs.tasks import sweep_memories
    from companion.kit.clock import FixedClock
    from companion.tenancy.models import Company

    sales, _, _, globex = _tenants(session)
    mine = memories.remember(session, sales, "call back at noon", now=NOW, retention="short")
    theirs = memories.remember(session, globex, "short note", now=NOW, retention="short")
    kept = memories.remember(session, sales, "my name is Farhana", now=NOW, retention="medium")
    assert "memory.sweep" in {job.name for job in registered()}
    later = FixedClock(NOW + dt.timedelta(hours=2))
    acme = session.get(Company, sales.company_id)
    assert acme is not None
    assert sweep_memories(session, acme, later) == {"deleted": 1}
    assert session.get(Memory, mine.memory.id) is None
    assert session.get(Memory, theirs.memory.id) is not None  # globex's own run deletes it
    assert session.get(Memory, kept.memory.id) is not None
    assert sweep_memories(session, acme, later) == {"deleted": 0}


def test_a_reminder_asked_again_for_another_day_moves_to_that_day(session: Session) -> None:
    sales, *_ = _tenants(session)
    first = memories.remember(
        session, sales, "call Khulna Emporium", now=NOW, kind="reminder", due_on=NOW.date()
    )
    same = memories.remember(
        session, sales, "call Khulna Emporium", now=NOW, kind="reminder", due_on=NOW.date()
    )
    assert same.action == "duplicate"
    later = NOW.date() + dt.timedelta(days=3)
    moved = memories.remember(
        session, sales, "call Khulna Emporium", now=NOW, kind="reminder", due_on=later
    )
    assert (moved.action, moved.memory.id, moved.memory.due_on) == (
        "update",
        first.memory.id,
        later,
    )
