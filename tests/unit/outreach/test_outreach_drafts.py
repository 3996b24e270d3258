"""Template drafts and the checks a model's draft must pass (no database, no model)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from companion.llm import FakeProvider, LLMService, PolicyBook, ProviderRegistry
from companion.outreach.drafts import (
    FollowUpFacts,
    OutstandingLine,
    ReminderFacts,
    check_draft,
    draft_follow_up,
    draft_reminder,
    follow_up_data,
    follow_up_template,
    reminder_data,
    reminder_template,
)
from companion.outreach.schemas import EmailDraft
from companion.outreach.scoring import OpenItem

D = Decimal
TODAY = dt.date(2026, 3, 15)
REMINDER = ReminderFacts(
    company_name="Acme Trading Ltd",
    customer_name="Beta Stores",
    customer_email="ap@beta.example",
    currency="BDT",
    today=TODAY,
    invoices=[
        OpenItem("INV-2026-0003", dt.date(2026, 1, 1), dt.date(2026, 1, 31), D("1500.00"), "BDT"),
        OpenItem("INV-2026-0007", dt.date(2026, 2, 1), dt.date(2026, 3, 3), D("250.50"), "BDT"),
    ],
)
FOLLOW_UP = FollowUpFacts(
    company_name="Acme Trading Ltd",
    supplier_name="Delta Supplies",
    supplier_email="sales@delta.example",
    number="PO-2026-0042",
    order_date=dt.date(2026, 2, 1),
    expected_date=dt.date(2026, 3, 1),
    today=TODAY,
    currency="BDT",
    total=D("6600.00"),
    lines=[OutstandingLine("Widget", D("10.000"), D("4.000"))],
)


def test_reminder_template_states_every_invoice_and_the_total() -> None:
    draft = reminder_template(REMINDER)
    assert draft.subject == "Payment reminder: 2 overdue invoices, BDT 1,750.50"
    assert "Dear Beta Stores," in draft.body
    assert (
        "- INV-2026-0003 dated 2026-01-01, due 2026-01-31: BDT 1,500.00 outstanding "
        "(43 days overdue)" in draft.body
    )
    assert "INV-2026-0007" in draft.body and "(12 days overdue)" in draft.body
    assert "Total overdue: BDT 1,750.50" in draft.body
    assert draft.body.endswith("Acme Trading Ltd")


def test_reminder_template_passes_its_own_checks() -> None:
    template = reminder_template(REMINDER)
    required = ["INV-2026-0003", "INV-2026-0007"]
    assert check_draft(template, template, reminder_data(REMINDER), required=required) == []


def test_reworded_reminder_with_the_same_facts_passes() -> None:
    template = reminder_template(REMINDER)
    draft = EmailDraft(
        subject="Overdue: INV-2026-0003 and INV-2026-0007",
        body="Hello, invoices INV-2026-0003 (BDT 1,500.00, due 31 January 2026) and "
        "INV-2026-0007 (BDT 250.50, due 2026-03-03) remain unpaid, BDT 1,750.50 in all. "
        "Write to us at ap@beta.example if anything is unclear.",
    )
    offending = check_draft(
        draft,
        template,
        reminder_data(REMINDER),
        required=["INV-2026-0003", "INV-2026-0007"],
        emails=["ap@beta.example"],
    )
    assert offending == []


def test_a_changed_amount_an_invented_invoice_and_a_stray_address_are_caught() -> None:
    template = reminder_template(REMINDER)
    draft = EmailDraft(
        subject="Overdue invoices",
        body="INV-2026-0003 (BDT 1,600.00) and INV-2026-0099 are overdue; "
        "pay to billing@elsewhere.example.",
    )
    offending = check_draft(
        draft,
        template,
        reminder_data(REMINDER),
        required=["INV-2026-0003", "INV-2026-0007"],
        emails=["ap@beta.example"],
    )
    assert "1,600.00" in offending
    assert "INV-2026-0099" in offending
    assert "missing INV-2026-0007" in offending
    assert "billing@elsewhere.example" in offending


def test_follow_up_template_states_what_is_outstanding() -> None:
    draft = follow_up_template(FOLLOW_UP)
    assert draft.subject == "Follow-up on purchase order PO-2026-0042, expected 2026-03-01"
    assert "expected by 2026-03-01 and is now 14 days late" in draft.body
    assert "- Widget: 6 of 10 outstanding (4 received)" in draft.body
    assert "BDT 6,600.00" in draft.body
    assert check_draft(draft, draft, follow_up_data(FOLLOW_UP), required=["PO-2026-0042"]) == []


def test_follow_up_with_a_wrong_date_is_caught() -> None:
    template = follow_up_template(FOLLOW_UP)
    draft = EmailDraft(subject="PO-2026-0042", body="PO-2026-0042 was due on 2026-02-20.")
    offending = check_draft(draft, template, follow_up_data(FOLLOW_UP), required=["PO-2026-0042"])
    assert offending == ["2026-02-20"]


def _llm(provider: FakeProvider) -> LLMService:
    return LLMService(ProviderRegistry({"default": lambda: provider}), PolicyBook.load())


def test_empty_or_overlong_model_drafts_keep_the_template() -> None:
    template = reminder_template(REMINDER)
    empty = FakeProvider([json.dumps({"subject": " ", "body": "INV-2026-0003"})])
    draft = draft_reminder(_llm(empty), "acme", REMINDER)
    assert (draft.drafted_by, draft.reason) == ("template", "empty")
    assert (draft.subject, draft.body) == (template.subject, template.body)
    long_body = "INV-2026-0003 INV-2026-0007 " + "a" * 4100  # few words: the fake cuts words
    overlong = FakeProvider([json.dumps({"subject": "Overdue", "body": long_body})])
    draft = draft_reminder(_llm(overlong), "acme", REMINDER)
    assert (draft.drafted_by, draft.reason) == ("template", "too_long")
    assert draft.model == "fake-model"


def test_model_follow_up_must_name_the_order() -> None:
    vague = FakeProvider([json.dumps({"subject": "Late delivery", "body": "Where is it?"})])
    draft = draft_follow_up(_llm(vague), "acme", FOLLOW_UP)
    assert draft.drafted_by == "template" and draft.offending == ("missing PO-2026-0042",)
