"""Reading one company's audit log, and verifying only its chain (the command center's)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from companion.audit import repository as audit_repo
from companion.audit import service as audit
from companion.audit.models import AuditEntry
from companion.auth.models import User
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_user


def _ctx(company: Company, *, via_ai: bool = False) -> RequestContext:
    session = object_session(company)
    assert session is not None
    user = session.execute(select(User).where(User.username == "auditor")).scalar_one_or_none()
    user = user or make_user(session, "auditor")
    return RequestContext(
        user_id=user.id,
        username=f"{company.slug}-admin",
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=("admin",),
        permissions=frozenset({"audit.read"}),
        via_ai=via_ai,
    )


def test_entries_are_the_companys_own_newest_first_and_filtered(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    for n in range(3):
        audit.record(session, _ctx(acme), "invoice.post", "invoice", n, new={"n": n})
    audit.record(session, _ctx(acme, via_ai=True), "ai.action.execute", "ai_action", "t1")
    audit.record(session, _ctx(globex), "invoice.post", "invoice", 99)
    everything = audit_repo.AuditFilter()
    rows, total = audit_repo.list_entries(session, _ctx(acme), everything, limit=2, offset=0)
    assert total == 4 and [r.seq for r in rows] == [4, 3]
    assert all(r.company_id == acme.id for r in rows)
    posted, n = audit_repo.list_entries(
        session, _ctx(acme), audit_repo.AuditFilter(action="invoice."), limit=10, offset=0
    )
    assert n == 3 and {r.entity_id for r in posted} == {"0", "1", "2"}
    by_ai, n = audit_repo.list_entries(
        session, _ctx(acme), audit_repo.AuditFilter(via_ai=True), limit=10, offset=0
    )
    assert n == 1 and by_ai[0].action == "ai.action.execute"
    one, n = audit_repo.list_entries(
        session,
        _ctx(acme),
        audit_repo.AuditFilter(entity_type="invoice", entity_id="1"),
        limit=10,
        offset=0,
    )
    assert n == 1 and one[0].new_values == {"n": 1}
    assert audit_repo.get_entry(session, _ctx(acme), one[0].id) is not None
    assert audit_repo.get_entry(session, _ctx(globex), one[0].id) is None
    assert audit_repo.action_names(session, _ctx(acme)) == ["ai.action.execute", "invoice.post"]


def test_verifying_one_chain_ignores_the_others(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    audit.record(session, _ctx(acme), "a", "x", 1)
    audit.record(session, _ctx(acme), "b", "x", 2)
    other = audit.record(session, _ctx(globex), "c", "x", 3)
    acme_chain = {audit.company_chain(acme.id)}
    report = audit.verify(session, acme_chain)
    assert report.ok and report.chains == 1 and report.entries == 2
    session.execute(update(AuditEntry).where(AuditEntry.id == other.id).values(actor="forged"))
    session.expire_all()
    assert audit.verify(session, acme_chain).ok
    assert not audit.verify(session, {audit.company_chain(globex.id)}).ok
    assert not audit.verify(session).ok
    empty = audit.verify(session, {audit.company_chain(2_000_000)})
    assert empty.ok and empty.chains == 0
