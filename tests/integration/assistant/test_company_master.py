"""The master data a chat turn resolves names against: the caller's company's, kept per
company and rebuilt when it changes (``CompanyNLU.master``, on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session

from companion.assistant.nlu import NLU
from companion.assistant.understanding import CompanyNLU, load_master
from factories import make_company, make_context
from finance_factories import make_customer, make_supplier


def _customers(master: object) -> set[str]:
    return {record.name for record in master.customers}  # type: ignore[attr-defined]


def test_each_company_gets_its_own_names_cached_until_they_change(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    acme_ctx = make_context(session, acme, ["finance"])
    globex_ctx = make_context(session, globex, ["finance"])
    make_customer(session, acme, "A1")
    make_customer(session, globex, "G1")
    nlu = CompanyNLU(cast(NLU, None))  # master data needs no classifier

    acme_master = nlu.master(session, acme_ctx)
    globex_master = nlu.master(session, globex_ctx)
    assert _customers(acme_master) == {"Customer A1"}
    assert _customers(globex_master) == {"Customer G1"}
    assert acme_master == load_master(session, acme_ctx)
    assert nlu.master(session, acme_ctx) is acme_master  # unchanged: the cached one

    make_customer(session, acme, "A2")  # a new customer is known on the next message
    assert _customers(nlu.master(session, acme_ctx)) == {"Customer A1", "Customer A2"}
    make_supplier(session, acme, "S1")
    assert {r.name for r in nlu.master(session, acme_ctx).suppliers} == {"Supplier S1"}
    assert nlu.master(session, globex_ctx) is globex_master  # another company's change
