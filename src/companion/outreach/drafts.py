"""E-mail drafts from ledger facts: a template always, a model's draft only when checked.

A model draft (use case ``draft_email``) is kept only when every number, date and currency
in its subject and body is one of the facts or of the template (``llm.guard``), every
document number it names is one of the facts, every document the e-mail is about is named,
and it shows no e-mail address but the recipient's. Anything else keeps the template, with
the reason. Recipients are never the model's: the service sets them from the ledger.

A score's rationale (use case ``score_customer``) follows the same rule: the model's
sentence is kept only when the figure guard finds nothing in it the factors do not state.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from companion.kit.money import format_money
from companion.llm.errors import LLMError, LLMInvalidOutput
from companion.llm.guard import check_figures, data_fingerprint
from companion.llm.service import LLMService
from companion.outreach.schemas import EmailDraft
from companion.outreach.scoring import OpenItem, Score

log = logging.getLogger(__name__)

DRAFT_USE_CASE = "draft_email"
SCORE_USE_CASE = "score_customer"
# Document numbers as the ERP writes them: INV-2026-0107, PO-2026-0042, BILL-2025-0003.
DOC_REF = re.compile(r"\b[A-Z]{2,5}-\d{4}-\d{2,}\b", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_SUBJECT = 200
MAX_BODY = 4000

DRAFT_RULES = (
    "You write short, polite business e-mails from ledger facts. Use only the facts given. "
    "Copy every document number, date and amount exactly as written; never add, round, "
    "convert or compute a figure. Do not write e-mail addresses. Reply with JSON holding "
    '"subject" and "body".'
)
RATIONALE_RULES = (
    "You explain a customer's collection-priority score to a credit controller in one short "
    "sentence. Use only the figures given, exactly as written; never compute a new figure. "
    "Reply with the sentence only."
)


@dataclass(frozen=True)
class ReminderFacts:
    """What a payment reminder states: the customer's overdue invoices."""

    company_name: str
    customer_name: str
    customer_email: str | None
    currency: str
    today: dt.date
    invoices: Sequence[OpenItem]  # overdue, oldest due first
    locale: str = "en"

    @property
    def total(self) -> Decimal:
        """The overdue total."""
        return sum((i.open_amount for i in self.invoices), Decimal("0.00"))


@dataclass(frozen=True)
class OutstandingLine:
    """An order line not fully received."""

    description: str
    ordered: Decimal
    received: Decimal

    @property
    def outstanding(self) -> Decimal:
        """What is still to come."""
        return self.ordered - self.received


@dataclass(frozen=True)
class FollowUpFacts:
    """What a supplier follow-up states: the late order and what is still to come."""

    company_name: str
    supplier_name: str
    supplier_email: str | None
    number: str
    order_date: dt.date
    expected_date: dt.date
    today: dt.date
    currency: str
    total: Decimal
    lines: Sequence[OutstandingLine]
    locale: str = "en"

    @property
    def days_late(self) -> int:
        """Days since the expected date."""
        return (self.today - self.expected_date).days


@dataclass(frozen=True)
class Draft:
    """A draft's subject and body, who wrote it and, for the template, why."""

    subject: str
    body: str
    drafted_by: str  # model | template
    reason: str  # generated | policy_off | provider_failed | invalid_output | empty | ...
    offending: tuple[str, ...] = ()
    model: str | None = None


@dataclass(frozen=True)
class Worded:
    """A rationale sentence, who wrote it and, for the template, why."""

    text: str
    by_model: bool
    reason: str
    offending: tuple[str, ...] = ()
    model: str | None = None


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _qty(value: Decimal) -> str:
    # 10.000 reads "10"; normalize() alone would write "1E+1".
    return f"{value.normalize():f}"


def reminder_template(facts: ReminderFacts) -> EmailDraft:
    """The payment reminder written from the facts alone."""

    def money(amount: Decimal) -> str:
        return format_money(amount, facts.currency, facts.locale)

    count = len(facts.invoices)
    noun = "invoice" if count == 1 else "invoices"
    lines = [
        f"- {i.number} dated {i.issue_date.isoformat()}, due {i.due_date.isoformat()}: "
        f"{money(i.open_amount)} outstanding ({_days((facts.today - i.due_date).days)} overdue)"
        for i in facts.invoices
    ]
    body = "\n".join(
        [
            f"Dear {facts.customer_name},",
            "",
            f"According to our records, the following {noun} "
            f"{'is' if count == 1 else 'are'} past due:",
            "",
            *lines,
            "",
            f"Total overdue: {money(facts.total)}",
            "",
            "If you have already paid, thank you, and please disregard this reminder. "
            "Otherwise we would be grateful if you could arrange payment at your earliest "
            "convenience, or let us know if anything is in dispute.",
            "",
            "Kind regards,",
            facts.company_name,
        ]
    )
    subject = f"Payment reminder: {count} overdue {noun}, {money(facts.total)}"
    return EmailDraft(subject=subject, body=body)


def reminder_data(facts: ReminderFacts) -> dict[str, Any]:
    """The reminder's figures as the guard reads them."""
    return {
        "columns": ["number", "issue_date", "due_date", "days_overdue", "outstanding"],
        "rows": [
            [
                i.number,
                i.issue_date,
                i.due_date,
                (facts.today - i.due_date).days,
                i.open_amount,
            ]
            for i in facts.invoices
        ],
        "totals": {"outstanding": facts.total, "today": facts.today},
        "currency": facts.currency,
    }


def follow_up_template(facts: FollowUpFacts) -> EmailDraft:
    """The supplier follow-up written from the facts alone."""
    lines = [
        f"- {line.description}: {_qty(line.outstanding)} of {_qty(line.ordered)} outstanding "
        f"({_qty(line.received)} received)"
        for line in facts.lines
    ]
    body = "\n".join(
        [
            f"Dear {facts.supplier_name},",
            "",
            f"Our purchase order {facts.number} of {facts.order_date.isoformat()} "
            f"({format_money(facts.total, facts.currency, facts.locale)}) was expected by "
            f"{facts.expected_date.isoformat()} and is now {_days(facts.days_late)} late. "
            "The following items have not been received yet:",
            "",
            *lines,
            "",
            "Please let us know when we can expect delivery of the outstanding quantities.",
            "",
            "Kind regards,",
            facts.company_name,
        ]
    )
    subject = (
        f"Follow-up on purchase order {facts.number}, expected {facts.expected_date.isoformat()}"
    )
    return EmailDraft(subject=subject, body=body)


def follow_up_data(facts: FollowUpFacts) -> dict[str, Any]:
    """The follow-up's figures as the guard reads them."""
    return {
        "columns": ["description", "ordered", "received", "outstanding"],
        "rows": [
            [line.description, line.ordered, line.received, line.outstanding]
            for line in facts.lines
        ],
        "totals": {
            "number": facts.number,
            "order_date": facts.order_date,
            "expected_date": facts.expected_date,
            "today": facts.today,
            "days_late": facts.days_late,
            "total": facts.total,
        },
        "currency": facts.currency,
    }


def check_draft(
    draft: EmailDraft,
    template: EmailDraft,
    data: dict[str, Any],
    *,
    required: Sequence[str],
    emails: Sequence[str] = (),
) -> list[str]:
    """What is wrong with a model's draft: figures, documents, addresses; empty when right."""
    text = f"{draft.subject}\n{draft.body}"
    template_text = f"{template.subject}\n{template.body}"
    offending = list(check_figures(text, template_text, data).offending)
    known = {ref.upper() for ref in required} | {
        m.group(0).upper() for m in DOC_REF.finditer(template_text)
    }
    named = {m.group(0).upper() for m in DOC_REF.finditer(text)}
    offending += sorted(ref for ref in named if ref not in known)
    offending += [f"missing {ref}" for ref in required if ref.upper() not in named]
    allowed_emails = {e.lower() for e in emails}
    offending += [
        m.group(0) for m in EMAIL.finditer(text) if m.group(0).lower() not in allowed_emails
    ]
    return offending


def _model_draft(
    llm: LLMService,
    company: str | int,
    request: str,
    template: EmailDraft,
    data: dict[str, Any],
    *,
    required: Sequence[str],
    emails: Sequence[str],
) -> Draft:
    """The model's draft if it passes ``check_draft``, else the template with the reason."""

    def keep(reason: str, offending: Sequence[str] = (), model: str | None = None) -> Draft:
        return Draft(template.subject, template.body, "template", reason, tuple(offending), model)

    if not llm.enabled(DRAFT_USE_CASE, company):
        return keep("policy_off")
    example = f"Subject: {template.subject}\n\n{template.body}"
    messages = [
        {"role": "system", "content": DRAFT_RULES},
        {"role": "user", "content": f"{request}\n\nA correct draft to improve on:\n{example}"},
    ]
    try:
        answer = llm.generate_structured(
            DRAFT_USE_CASE,
            company,
            messages,
            EmailDraft,
            data_fingerprint=data_fingerprint(example, data),
        )
    except LLMInvalidOutput as exc:
        log.info("outreach.draft_invalid", extra={"code": exc.code})
        return keep("invalid_output")
    except LLMError as exc:
        log.info("outreach.draft_failed", extra={"code": exc.code})
        return keep("provider_failed")
    model = answer.generation.model
    draft = EmailDraft(subject=answer.value.subject.strip(), body=answer.value.body.strip())
    if not draft.subject or not draft.body:
        return keep("empty", model=model)
    if len(draft.subject) > MAX_SUBJECT or len(draft.body) > MAX_BODY:
        return keep("too_long", model=model)
    offending = check_draft(draft, template, data, required=required, emails=emails)
    if offending:
        # Worth a log line: it measures how often the model gets the facts wrong.
        log.info("outreach.guard_rejected", extra={"offending": offending[:10], "model": model})
        return keep("guard_rejected", offending, model)
    return Draft(draft.subject, draft.body, "model", "generated", (), model)


def draft_reminder(llm: LLMService, company: str | int, facts: ReminderFacts) -> Draft:
    """A payment reminder: the model's if it passes the checks, else the template."""
    template = reminder_template(facts)
    request = (
        f"Write a payment reminder from {facts.company_name} to {facts.customer_name} for "
        "the overdue invoices below, naming each invoice."
    )
    return _model_draft(
        llm,
        company,
        request,
        template,
        reminder_data(facts),
        required=[i.number for i in facts.invoices],
        emails=[facts.customer_email] if facts.customer_email else [],
    )


def draft_follow_up(llm: LLMService, company: str | int, facts: FollowUpFacts) -> Draft:
    """A supplier follow-up: the model's if it passes the checks, else the template."""
    template = follow_up_template(facts)
    request = (
        f"Write a follow-up from {facts.company_name} to {facts.supplier_name} about the late "
        f"purchase order {facts.number}, asking when the outstanding items will arrive."
    )
    return _model_draft(
        llm,
        company,
        request,
        template,
        follow_up_data(facts),
        required=[facts.number],
        emails=[facts.supplier_email] if facts.supplier_email else [],
    )


def score_data(score: Score) -> dict[str, Any]:
    """A score's figures as the guard reads them."""
    return {
        "columns": ["factor", "value", "weight", "points"],
        "rows": [[f.label, f.value, f.weight, f.points] for f in score.factors],
        "totals": {"score": score.total, "of": 100, "overdue": score.overdue_amount},
        "currency": score.currency,
    }


def word_rationale(llm: LLMService, company: str | int, score: Score) -> Worded:
    """The model's one-sentence rationale if the figure guard passes it, else the template."""
    template = score.rationale
    if not llm.enabled(SCORE_USE_CASE, company):
        return Worded(template, False, "policy_off")
    data = score_data(score)
    factors = "\n".join(
        f"- {f.label}: {f.detail} ({f.points} of {f.weight} points)" for f in score.factors
    )
    messages = [
        {"role": "system", "content": RATIONALE_RULES},
        {
            "role": "user",
            "content": f"{score.customer_name} scores {score.total}/100 ({score.band} "
            f"priority).\nFactors:\n{factors}\n\nExplain the score in one sentence.",
        },
    ]
    try:
        generation = llm.generate(
            SCORE_USE_CASE, company, messages, data_fingerprint=data_fingerprint(template, data)
        )
    except LLMError as exc:
        log.info("outreach.rationale_failed", extra={"code": exc.code})
        return Worded(template, False, "provider_failed")
    text = generation.text.strip()
    if not text:
        return Worded(template, False, "empty", model=generation.model)
    # No document is part of a score: a document number in the sentence is made up.
    offending = check_figures(text, template, data).offending
    offending += [m.group(0) for m in DOC_REF.finditer(text)]
    if offending:
        log.info(
            "outreach.guard_rejected",
            extra={"offending": offending[:10], "model": generation.model},
        )
        return Worded(template, False, "guard_rejected", tuple(offending), generation.model)
    return Worded(text, True, "generated", (), generation.model)
