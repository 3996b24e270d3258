"""Support of the action-handler chat tests: one turn, a caller's context, the demo's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from actions_chat import Talk, member
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice
from companion.erp.items.models import Item
from companion.erp.parties.models import Customer
from companion.tenancy.models import Company


class Chat(Talk):
    """A conversation of one demo user, with a helper for turns that end in a proposal."""

    def propose(self, *messages: str) -> dict[str, Any]:
        """Say each message; the last answer must carry a pending confirmation."""
        answer: dict[str, Any] = {}
        for message in messages:
            answer = self.say(message)
        assert answer.get("pending_confirmation"), answer["message"]
        return answer


# The demo user's context in a company, to read figures through the ERP repositories.
context = member


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
