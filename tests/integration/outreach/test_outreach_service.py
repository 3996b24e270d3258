"""Outreach on both databases with a scripted model: scores, ranking, drafts and their guard."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from outreach_world import TODAY, World, build_world, llm_with
from sqlalchemy.orm import Session

from companion.errors import NotFound, PermissionDenied
from companion.llm import FakeProvider, LLMTimeout
from companion.outreach import service
from companion.outreach.service import NothingOverdue, PurchaseOrderNotLate
from factories import make_context
from finance_factories import make_books

D = Decimal


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def reply(subject: str, body: str, **extra: object) -> str:
    return json.dumps({"subject": subject, "body": body, **extra})


def honest_reminder(world: World) -> str:
    first, second = (i.number for i in world.overdue)
    return reply(
        f"Overdue invoices {first} and {second}",
        f"Dear Customer C1, our invoices {first} (USD 1,500.00, due 31 January 2026) and "
        f"{second} (USD 250.50, due 2026-03-03) are unpaid, USD 1,750.50 in total. "
        "Kind regards, Acme",
    )


# --- scores -------------------------------------------------------------------------------


def test_score_reads_overdue_history_and_credit_from_the_ledger(
    session: Session, world: World
) -> None:
    llm = llm_with()
    score = service.collection_score(session, world.books.ctx, llm, world.c1.id, TODAY)
    factors = {f.name: f for f in score.factors}
    assert score.overdue_amount == D("1750.50") and score.overdue_invoices == 2
    assert score.outstanding == D("1830.50")  # the invoice not yet due counts as outstanding
    assert factors["oldest_days_overdue"].value == 43
    # (43 x 1500 + 12 x 250.50) / 1750.50 = 38.57 -> 39 days.
    assert factors["weighted_days_overdue"].value == 39
    # c1 owes the most: the full amount points.
    assert factors["overdue_amount"].points == 30
    # One invoice settled in the window, 20 days after its due date.
    assert factors["late_payment_share"].value == D("100.0")
    assert factors["average_days_late"].value == D("20.0")
    assert factors["credit_limit_use"].value == D("91.5")  # 1830.50 / 2000
    assert score.score == round(sum(f.points for f in score.factors))
    assert score.band == "high"
    assert score.rationale_by == "template" and score.reason == "policy_off"
    assert score.rationale.startswith(f"Customer C1 scores {score.score}/100")


def test_score_of_a_customer_with_nothing_overdue_is_low_not_an_error(
    session: Session, world: World
) -> None:
    score = service.collection_score(session, world.books.ctx, llm_with(), world.c3.id, TODAY)
    assert score.overdue_invoices == 0 and score.band == "low"
    assert {f.name: f.points for f in score.factors}["overdue_amount"] == 0


def test_the_same_ledger_gives_the_same_score(session: Session, world: World) -> None:
    llm = llm_with()
    first = service.collection_score(session, world.books.ctx, llm, world.c1.id, TODAY)
    again = service.collection_score(session, world.books.ctx, llm, world.c1.id, TODAY)
    assert first == again


def test_model_rationale_is_kept_when_its_figures_are_the_factors(
    session: Session, world: World
) -> None:
    plain = service.collection_score(session, world.books.ctx, llm_with(), world.c1.id, TODAY)
    sentence = (
        f"Customer C1 is a {plain.band} priority at {plain.score}/100: USD 1,750.50 is "
        "overdue and the oldest invoice is 43 days late."
    )
    fake = FakeProvider([sentence])
    score = service.collection_score(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert score.rationale == sentence
    assert score.rationale_by == "model" and score.reason == "generated"
    assert fake.calls and fake.calls[0]["kind"] == "generate"
    # The score itself never comes from the model.
    assert score.score == plain.score and score.factors == plain.factors


def test_model_rationale_with_a_wrong_figure_falls_back_to_the_template(
    session: Session, world: World
) -> None:
    fake = FakeProvider(["Customer C1 owes USD 9,999.00 and scores 97/100."])
    score = service.collection_score(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert score.rationale_by == "template" and score.reason == "guard_rejected"
    assert "9,999.00" in score.offending
    assert score.rationale.startswith("Customer C1 scores")


def test_failing_model_rationale_falls_back_to_the_template(session: Session, world: World) -> None:
    fake = FakeProvider(["unused"])
    fake.fail_next(LLMTimeout("slow"))
    score = service.collection_score(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert score.rationale_by == "template" and score.reason == "provider_failed"


def test_priorities_rank_every_customer_who_owes_anything(session: Session, world: World) -> None:
    items, total = service.collection_priorities(
        session, world.books.ctx, TODAY, limit=50, offset=0
    )
    assert total == 3
    assert [i.customer_id for i in items] == [world.c1.id, world.c2.id, world.c3.id]
    assert [i.rank for i in items] == [1, 2, 3]
    assert items[0].score >= items[1].score >= items[2].score
    page, total = service.collection_priorities(session, world.books.ctx, TODAY, limit=1, offset=1)
    assert total == 3 and [(p.rank, p.customer_id) for p in page] == [(2, world.c2.id)]


def test_scores_and_priorities_keep_to_the_company(session: Session, world: World) -> None:
    other = build_world(session, "globex")
    with pytest.raises(NotFound):
        service.collection_score(session, world.books.ctx, llm_with(), other.c1.id, TODAY)
    items, total = service.collection_priorities(
        session, world.books.ctx, TODAY, limit=50, offset=0
    )
    assert total == 3 and {i.customer_id for i in items} == {world.c1.id, world.c2.id, world.c3.id}


def test_scores_need_finance_read(session: Session, world: World) -> None:
    sales = make_context(session, world.books.company, ["sales"])
    with pytest.raises(PermissionDenied):
        service.collection_score(session, sales, llm_with(), world.c1.id, TODAY)


# --- payment reminders --------------------------------------------------------------------


def test_model_reminder_is_kept_when_every_figure_and_invoice_is_right(
    session: Session, world: World
) -> None:
    fake = FakeProvider([honest_reminder(world)])
    draft = service.payment_reminder(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert draft.drafted_by == "model" and draft.reason == "generated", draft.offending
    assert draft.subject.startswith("Overdue invoices")
    assert draft.sent is False and draft.model == "fake-model"
    assert [d.number for d in draft.documents] == [i.number for i in world.overdue]
    assert world.current.number not in draft.body
    assert draft.total == D("1750.50") and draft.currency == "USD"
    assert fake.calls[0]["kind"] == "json"


def test_model_reminder_with_a_wrong_amount_keeps_the_template(
    session: Session, world: World
) -> None:
    wrong = honest_reminder(world).replace("1,500.00", "1,550.00")
    draft = service.payment_reminder(
        session, world.books.ctx, llm_with(FakeProvider([wrong])), world.c1.id, TODAY
    )
    assert draft.drafted_by == "template" and draft.reason == "guard_rejected"
    assert "1,550.00" in draft.offending
    assert draft.subject == "Payment reminder: 2 overdue invoices, USD 1,750.50"


def test_model_reminder_with_an_invented_invoice_keeps_the_template(
    session: Session, world: World
) -> None:
    first, second = (i.number for i in world.overdue)
    invented = honest_reminder(world).replace(second, "INV-2026-0999")
    draft = service.payment_reminder(
        session, world.books.ctx, llm_with(FakeProvider([invented])), world.c1.id, TODAY
    )
    assert draft.drafted_by == "template" and draft.reason == "guard_rejected"
    assert "INV-2026-0999" in draft.offending and f"missing {second}" in draft.offending
    assert first in draft.body and second in draft.body


def test_malformed_model_output_keeps_the_template(session: Session, world: World) -> None:
    fake = FakeProvider(['{"subject": "Overdue", "body": '])
    draft = service.payment_reminder(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert draft.drafted_by == "template" and draft.reason == "invalid_output"
    assert "Total overdue: USD 1,750.50" in draft.body


def test_failing_provider_keeps_the_template(session: Session, world: World) -> None:
    fake = FakeProvider([honest_reminder(world)])
    fake.fail_next(LLMTimeout("slow"))
    draft = service.payment_reminder(session, world.books.ctx, llm_with(fake), world.c1.id, TODAY)
    assert draft.drafted_by == "template" and draft.reason == "provider_failed"


def test_policy_off_keeps_the_template_without_calling_the_model(
    session: Session, world: World, tmp_path: Path
) -> None:
    fake = FakeProvider([honest_reminder(world)])
    llm = llm_with(fake, tmp_path, "use_cases:\n  draft_email: {enabled: false}\n")
    draft = service.payment_reminder(session, world.books.ctx, llm, world.c1.id, TODAY)
    assert draft.drafted_by == "template" and draft.reason == "policy_off"
    assert fake.calls == []


def test_recipients_come_from_the_ledger_never_from_the_model(
    session: Session, world: World
) -> None:
    first, second = (i.number for i in world.overdue)
    hijack = reply(
        f"Overdue {first} and {second}",
        f"Invoices {first} and {second} are overdue, USD 1,750.50 in total.",
        recipients=[{"name": "Mallory", "email": "mallory@evil.example"}],
        to="mallory@evil.example",
    )
    draft = service.payment_reminder(
        session, world.books.ctx, llm_with(FakeProvider([hijack])), world.c1.id, TODAY
    )
    assert draft.drafted_by == "model"  # the text is fine; the extra keys are ignored
    assert [(r.name, r.email) for r in draft.recipients] == [("Customer C1", "ap@c1.example")]
    # An address in the text itself is refused.
    in_body = hijack.replace("in total.", "in total. Pay via mallory@evil.example.")
    draft = service.payment_reminder(
        session, world.books.ctx, llm_with(FakeProvider([in_body])), world.c1.id, TODAY
    )
    assert draft.drafted_by == "template" and "mallory@evil.example" in draft.offending
    assert [r.email for r in draft.recipients] == ["ap@c1.example"]


def test_customer_without_email_gets_no_recipient_and_a_warning(
    session: Session, world: World
) -> None:
    draft = service.payment_reminder(session, world.books.ctx, llm_with(), world.c2.id, TODAY)
    assert draft.recipients == []
    assert draft.warnings == [
        "Customer Customer C2 has no e-mail address on file; add one before sending."
    ]
    assert world.c2_overdue.number in draft.body and "(27 days overdue)" in draft.body


def test_reminder_for_nothing_overdue_is_refused(session: Session, world: World) -> None:
    with pytest.raises(NothingOverdue) as caught:
        service.payment_reminder(session, world.books.ctx, llm_with(), world.c3.id, TODAY)
    assert caught.value.status_code == 409 and caught.value.code == "nothing_overdue"


def test_reminder_for_another_companys_customer_is_not_found(
    session: Session, world: World
) -> None:
    other = make_books(session, "globex")
    with pytest.raises(NotFound):
        service.payment_reminder(session, world.books.ctx, llm_with(), other.customer.id, TODAY)


# --- supplier follow-ups ------------------------------------------------------------------


def test_follow_up_template_for_a_late_order(session: Session, world: World) -> None:
    number = world.order.number
    for ref in (number, number.lower(), world.order.id, str(world.order.id)):
        draft = service.supplier_follow_up(session, world.books.ctx, llm_with(), ref, TODAY)
        assert draft.kind == "supplier_follow_up" and draft.drafted_by == "template"
        assert "expected by 2026-03-01 and is now 14 days late" in draft.body
        assert "Item G1: 6 of 10 outstanding (4 received)" in draft.body
        assert [r.email for r in draft.recipients] == ["sales@s1.example"]
        assert draft.documents[0].number == number and draft.documents[0].days_late == 14


def test_model_follow_up_is_kept_when_right_and_refused_when_the_date_is_wrong(
    session: Session, world: World
) -> None:
    number = world.order.number
    honest = reply(
        f"{number}: delivery overdue",
        f"Dear Supplier S1, {number} was expected on 1 March 2026; 6 of the 10 units are "
        "still outstanding. When can we expect them?",
    )
    draft = service.supplier_follow_up(
        session, world.books.ctx, llm_with(FakeProvider([honest])), number, TODAY
    )
    assert draft.drafted_by == "model" and draft.body.startswith("Dear Supplier S1")
    wrong = honest.replace("1 March 2026", "20 February 2026")
    draft = service.supplier_follow_up(
        session, world.books.ctx, llm_with(FakeProvider([wrong])), number, TODAY
    )
    assert draft.drafted_by == "template" and draft.reason == "guard_rejected"
    assert draft.offending == ["20 February 2026"]


@pytest.mark.parametrize(
    ("status", "received", "expected_day"),
    [
        ("partially_received", "4", 20),  # expected in the future
        ("received", "10", 1),  # everything arrived
        ("draft", "0", 1),  # never sent to the supplier
        ("cancelled", "0", 1),
    ],
)
def test_follow_up_on_an_order_that_is_not_late_is_refused(
    session: Session, world: World, status: str, received: str, expected_day: int
) -> None:
    order = world.order
    order.status = status
    order.lines[0].received_quantity = D(received)
    order.expected_date = order.expected_date.replace(month=3, day=expected_day)  # type: ignore[union-attr]
    session.flush()
    with pytest.raises(PurchaseOrderNotLate) as caught:
        service.supplier_follow_up(session, world.books.ctx, llm_with(), order.number, TODAY)
    assert caught.value.status_code == 409 and caught.value.code == "purchase_order_not_late"
    assert caught.value.details["status"] == status


def test_follow_up_keeps_to_the_company_and_needs_procurement_read(
    session: Session, world: World
) -> None:
    other = build_world(session, "globex")
    with pytest.raises(NotFound):
        service.supplier_follow_up(session, world.books.ctx, llm_with(), other.order.id, TODAY)
    with pytest.raises(NotFound):
        service.supplier_follow_up(session, world.books.ctx, llm_with(), "PO-2026-9999", TODAY)
    sales = make_context(session, world.books.company, ["sales"])
    with pytest.raises(PermissionDenied):
        service.supplier_follow_up(session, sales, llm_with(), world.order.number, TODAY)
