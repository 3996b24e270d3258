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


def test_the_promoted_model_is_read_with_the_master_datas_fingerprint(session: Session) -> None:
    """A turn reads its company's promoted model in the fingerprint's statement: the same
    answer as ``active_version``, per company, the newest active version."""
    from companion.assistant.learning import repository as learning_repo
    from companion.assistant.learning.models import ModelStatus, NluModel

    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    acme_ctx = make_context(session, acme, ["finance"])
    globex_ctx = make_context(session, globex, ["finance"])
    nlu = CompanyNLU(cast(NLU, None))
    assert nlu._read(session, acme_ctx)[1] is None  # none promoted: the shipped model

    for company, version, status in [
        (acme, 1, ModelStatus.RETIRED),
        (acme, 2, ModelStatus.ACTIVE),
        (acme, 3, ModelStatus.REFUSED),
        (globex, 1, ModelStatus.ACTIVE),
    ]:
        session.add(
            NluModel(
                company_id=company.id,
                version=version,
                status=status.value,
                examples=[],
                fingerprint=f"{company.slug}-v{version}",
                parameters={},
                gate={},
                train_seconds=0.0,
            )
        )
    session.flush()
    assert nlu._read(session, acme_ctx)[1] == (2, "acme-v2")
    assert nlu._read(session, globex_ctx)[1] == (1, "globex-v1")
    for ctx in (acme_ctx, globex_ctx):
        assert nlu._read(session, ctx)[1] == learning_repo.active_version(session, ctx)
