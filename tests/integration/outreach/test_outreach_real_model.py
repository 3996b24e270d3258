"""Outreach with the real SmolLM2: whatever it writes, the checks decide what is shown.

A 135M model is a weak writer; the test pins down that its draft is either kept and clean
(every figure, date and document is a fact, every overdue invoice is named) or replaced by
the template with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from outreach_world import TODAY, build_world, llm_with
from sqlalchemy.orm import Session

from companion.llm.guard import check_figures
from companion.llm.providers.llamacpp import LlamaCppProvider
from companion.outreach import drafts, service
from companion.outreach.facts import repository as repo
from companion.outreach.schemas import EmailDraft

pytestmark = pytest.mark.slow

POLICIES = """
defaults: {timeout_s: 300, latency_budget_ms: 300000, cache_ttl_s: 0}
use_cases:
  draft_email: {temperature: 0.0}
  score_customer: {temperature: 0.0}
"""
FALLBACK_REASONS = {"guard_rejected", "invalid_output", "empty", "too_long", "provider_failed"}


def test_smollm2_reminder_is_clean_or_the_template(
    session: Session, smol: LlamaCppProvider, tmp_path: Path
) -> None:
    world = build_world(session)
    llm = llm_with(smol, tmp_path, POLICIES)
    draft = service.payment_reminder(session, world.books.ctx, llm, world.c1.id, TODAY)
    # A reply that never parsed has no generation to name; every other outcome has one.
    assert (draft.model is None) == (draft.reason in {"invalid_output", "provider_failed"})
    assert [r.email for r in draft.recipients] == ["ap@c1.example"]
    assert draft.sent is False
    facts = drafts.ReminderFacts(
        company_name=world.books.company.name,
        customer_name=world.c1.name,
        customer_email=world.c1.email,
        currency="USD",
        today=TODAY,
        invoices=[
            i
            for i in repo.open_items(session, world.books.ctx, [world.c1.id])[world.c1.id]
            if i.due_date < TODAY
        ],
    )
    template = drafts.reminder_template(facts)
    if draft.drafted_by == "model":
        assert draft.reason == "generated"
        offending = drafts.check_draft(
            EmailDraft(subject=draft.subject, body=draft.body),
            template,
            drafts.reminder_data(facts),
            required=[i.number for i in world.overdue],
            emails=["ap@c1.example"],
        )
        assert offending == []
    else:
        assert draft.reason in FALLBACK_REASONS, draft.reason
        assert (draft.subject, draft.body) == (template.subject, template.body)
        if draft.reason == "guard_rejected":
            assert draft.offending


def test_smollm2_rationale_is_clean_or_the_template(
    session: Session, smol: LlamaCppProvider, tmp_path: Path
) -> None:
    world = build_world(session)
    llm = llm_with(smol, tmp_path, POLICIES)
    plain = service.collection_score(
        session, world.books.ctx, llm, world.c1.id, TODAY, explain=False
    )
    score = service.collection_score(session, world.books.ctx, llm, world.c1.id, TODAY)
    assert score.score == plain.score and score.factors == plain.factors
    if score.rationale_by == "model":
        assert score.reason == "generated" and score.rationale.strip()
        data = {
            "rows": [[f.label, f.value, f.weight, f.points] for f in score.factors],
            "totals": {"score": score.score, "of": 100, "overdue": score.overdue_amount},
            "currency": score.currency,
        }
        assert check_figures(score.rationale, plain.rationale, data).ok
    else:
        assert score.reason in FALLBACK_REASONS, score.reason
        assert score.rationale == plain.rationale
