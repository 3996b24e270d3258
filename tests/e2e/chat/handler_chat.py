"""Support of the action-handler chat tests: one turn, a caller's context, the demo's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.auth.models import User
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice
from companion.erp.items.models import Item
from companion.erp.parties.models import Customer
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import permissions_for


class Chat:
    """A conversation of one demo user through ``POST /api/v1/ai/chat``."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.conversation_id: str | None = None

    def say(self, message: str) -> dict[str, Any]:
        """One turn; the answer's JSON."""
        body: dict[str, Any] = {"message": message}
        if self.conversation_id:
            body["conversation_id"] = self.conversation_id
        response = self.client.post("/api/v1/ai/chat", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.conversation_id = answer["conversation_id"]
        return answer

    def propose(self, *messages: str) -> dict[str, Any]:
        """Say each message; the last answer must carry a pending confirmation."""
        answer: dict[str, Any] = {}
        for message in messages:
            answer = self.say(message)
        assert answer.get("pending_confirmation"), answer["message"]
        return answer


def context(session: Session, username: str, slug: str = "acme") -> RequestContext:
    """The demo user's context in a company, to read figures through the ERP repositories."""
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    company = session.execute(select(Company).where(Company.slug == slug)).scalar_one()
    roles = session.execute(
        select(Membership.roles).where(
            Membership.user_id == user.id, Membership.company_id == company.id
        )
    ).scalar_one()
    return RequestContext(
        user_id=user.id,
        username=user.username,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=tuple(roles),
        permissions=permissions_for(roles),
    )


def only_in(session: Session, theirs: str, ours: str) -> Invoice:
    """A draft invoice of company ``theirs`` numbered as no invoice of company ``ours`` is."""
    admin = context(session, "admin", theirs)
    ours_id = session.execute(select(Company.id).where(Company.slug == ours)).scalar_one()
    taken = set(
        session.execute(select(Invoice.number).where(Invoice.company_id == ours_id)).scalars()
    )
    party = session.execute(
        select(Customer.id).where(Customer.company_id == admin.company_id).limit(1)
    ).scalar_one()
    item = session.execute(
        select(Item.id).where(Item.company_id == admin.company_id).limit(1)
    ).scalar_one()
    while True:
        invoice = create_invoice(
            session,
            admin,
            kind=InvoiceKind.AR,
            party_id=party,
            issue_date=dt.date(2026, 3, 15),
            lines=[DocLineIn(item_id=item, quantity=Decimal("1"))],
        )
        if invoice.number not in taken:
            session.flush()
            return invoice
