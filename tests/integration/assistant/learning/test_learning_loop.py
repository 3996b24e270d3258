"""The loop end to end on both databases: feedback -> review -> export -> retrain -> gate ->
promote / refuse -> rollback, and the company's promoted model reads that company's turns."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from learning_support import Shop
from sqlalchemy import select

from companion.assistant.learning import export, retrain, review
from companion.assistant.learning import repository as repo
from companion.assistant.learning.company_models import CompanyModels
from companion.assistant.learning.feedback import give_feedback
from companion.assistant.learning.models import NluModel, TelemetryEvent
from companion.assistant.learning.schemas import BulkReviewIn, FeedbackIn, ReviewIn
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.assistant.understanding import CompanyNLU
from companion.errors import InvalidState, NotFound, PermissionDenied
from learning_fixtures import TODAY

# A phrasing the small model has never seen, and the messages that teach it.
KITTY = [
    "how is the kitty looking",
    "what's in the kitty",
    "kitty status",
    "check the kitty",
    "how fat is the kitty",
    "kitty size today",
]
KITTY_UNSEEN = "is the kitty healthy"


def correct(shop: Shop, question: str, wrong: str, right: str) -> int:
    message_id = shop.answer(shop.user, question, wrong)
    out = give_feedback(
        shop.session,
        shop.user,
        message_id,
        FeedbackIn.model_validate({"rating": "down", "score": 1, "correction": {"intent": right}}),
    )
    assert out.example_id is not None
    return out.example_id


def test_feedback_to_promoted_model_and_back(shop: Shop, models: CompanyModels) -> None:
    session = shop.session
    nlu = CompanyNLU(models.base, models=models)
    assert models.base.parse(KITTY_UNSEEN, today=TODAY).intent != "cash_balance"

    ids = [correct(shop, text, "out_of_scope", "cash_balance") for text in KITTY]
    # A second company's correction never reaches the first's model, nor its review queue.
    correct_other = shop.answer(shop.other_user, "kitty please", "greet")
    give_feedback(
        session,
        shop.other_user,
        correct_other,
        FeedbackIn.model_validate({"correction": {"intent": "cash_balance"}}),
    )
    queue, total = review.list_examples(session, shop.reviewer, status="review", limit=50, offset=0)
    assert total == len(KITTY) and {e.id for e in queue} == set(ids)
    assert all(e.predicted_intent == "out_of_scope" and e.kinds == ["intent"] for e in queue)

    # Review: one edited and approved with a note, the rest approved in bulk.
    edited = review.review(
        session,
        shop.reviewer,
        ids[0],
        ReviewIn(decision="approve", notes="slang for petty cash", intent="cash_balance"),
    )
    assert (edited.status, edited.reviewer_notes) == ("approved", "slang for petty cash")
    bulk = review.bulk_review(session, shop.reviewer, BulkReviewIn(ids=ids[1:], decision="approve"))
    assert bulk.count == len(KITTY) - 1

    # Export: both files, a manifest that names its sources and hashes.
    dataset, created = export.export_dataset(session, shop.reviewer)
    assert created and dataset.version == 1 and dataset.count == len(KITTY)
    files = export.dataset_files(repo.get_dataset(session, shop.reviewer, 1))
    lines = [json.loads(line) for line in files.chat_jsonl.splitlines()]
    assert len(lines) == len(KITTY)
    assert lines[0]["messages"][1]["content"] in KITTY
    rasa = parse_rasa_nlu_text(files.rasa_yaml)
    assert sorted(e.text for e in rasa.examples) == sorted(KITTY)
    assert {e.intent for e in rasa.examples} == {"cash_balance"}
    assert files.manifest["counts"]["intents"] == {"cash_balance": len(KITTY)}
    assert len(files.manifest["source_message_ids"]) == len(KITTY)
    # Nothing changed since: the same version again, not a new one.
    again, created = export.export_dataset(session, shop.reviewer)
    assert (again.version, created) == (1, False)

    # Retrain: the gate compares with the shipped model and promotes.
    promoted = retrain.retrain(session, shop.reviewer, models)
    assert promoted.status == "active" and promoted.version == 1
    gate = promoted.gate
    assert gate["passed"] and gate["company"]["after"] > gate["company"]["before"]
    assert gate["heldout"]["after"] >= gate["heldout"]["before"]
    assert promoted.train_seconds > 0
    assert nlu.understand(session, shop.user, KITTY_UNSEEN, TODAY).intent == "cash_balance"
    # The other company still gets the shipped reading.
    assert nlu.understand(session, shop.other_user, KITTY_UNSEEN, TODAY).intent != "cash_balance"
    with pytest.raises(InvalidState):  # nothing new to learn
        retrain.retrain(session, shop.reviewer, models)

    # A poisoned batch: cash questions relabelled as greetings would break the held-out set.
    poison = [
        "what is our cash balance",
        "how much cash do we have",
        "cash balance in the bank",
        "show cash position now",
        "how much money is in the bank",
        "bank balance",
    ]
    poisoned = [correct(shop, text, "cash_balance", "greet") for text in poison]
    review.bulk_review(session, shop.reviewer, BulkReviewIn(ids=poisoned, decision="approve"))
    refused = retrain.retrain(session, shop.reviewer, models)
    assert refused.status == "refused" and refused.version == 2
    assert "worse on the held-out set" in refused.gate["reasons"]
    assert refused.gate["heldout"]["after"] < refused.gate["heldout"]["before"]
    assert refused.gate["heldout"]["newly_wrong"]
    assert refused.gate["shipped"]["broken"] > 0  # it contradicts the shipped examples too
    assert promoted.gate["shipped"]["broken"] == 0
    assert repo.active_version(session, shop.reviewer) == (1, models_fp(shop))
    assert nlu.understand(session, shop.user, "what is our cash balance", TODAY).intent == (
        "cash_balance"
    )

    # Rollback: to the shipped model, never to a refused one, then to v1 again.
    assert retrain.rollback(session, shop.reviewer, 0) is None
    assert repo.active_version(session, shop.reviewer) is None
    assert nlu.understand(session, shop.user, KITTY_UNSEEN, TODAY).intent != "cash_balance"
    with pytest.raises(InvalidState):
        retrain.rollback(session, shop.reviewer, 2)
    back = retrain.rollback(session, shop.reviewer, 1)
    assert back is not None and back.status == "active"
    assert nlu.understand(session, shop.user, KITTY_UNSEEN, TODAY).intent == "cash_balance"
    listed = retrain.list_models(session, shop.reviewer)
    assert [(m.version, m.status) for m in listed] == [(2, "refused"), (1, "active")]
    with pytest.raises(NotFound):
        retrain.rollback(session, shop.other_reviewer, 1)  # another company's version


def models_fp(shop: Shop) -> str:
    row = shop.session.execute(
        select(NluModel).where(NluModel.version == 1, NluModel.company_id == shop.user.company_id)
    ).scalar_one()
    return row.fingerprint


def test_a_lost_model_file_is_rebuilt_from_the_database(
    shop: Shop, models: CompanyModels, small_nlu: object
) -> None:
    session = shop.session
    ids = [correct(shop, text, "out_of_scope", "cash_balance") for text in KITTY]
    review.bulk_review(session, shop.reviewer, BulkReviewIn(ids=ids, decision="approve"))
    retrain.retrain(session, shop.reviewer, models)
    assert models.folder is not None
    for path in (models.folder / "companies").iterdir():
        path.unlink()
    fresh = CompanyModels(models.base, models.folder, heldout=models.heldout, today=lambda: TODAY)
    nlu = CompanyNLU(models.base, models=fresh)
    assert nlu.understand(session, shop.user, KITTY_UNSEEN, TODAY).intent == "cash_balance"


def test_review_needs_the_permission_and_stays_in_the_company(
    shop: Shop, models: CompanyModels
) -> None:
    example_id = correct(shop, "kitty?", "greet", "cash_balance")
    for call in (
        lambda: review.list_examples(shop.session, shop.user, status=None, limit=5, offset=0),
        lambda: review.review(shop.session, shop.user, example_id, ReviewIn(decision="approve")),
        lambda: export.export_dataset(shop.session, shop.user),
        lambda: retrain.retrain(shop.session, shop.user, models),
    ):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(NotFound):
        review.review(shop.session, shop.other_reviewer, example_id, ReviewIn(decision="approve"))
    with pytest.raises(NotFound):  # all or nothing: one foreign id refuses the batch
        review.bulk_review(
            shop.session, shop.other_reviewer, BulkReviewIn(ids=[example_id], decision="reject")
        )
    with pytest.raises(InvalidState):  # nothing approved yet
        export.export_dataset(shop.session, shop.reviewer)
    with pytest.raises(InvalidState):
        retrain.retrain(shop.session, shop.reviewer, models)


def test_a_correction_again_sends_the_example_back_to_review(shop: Shop) -> None:
    message_id = shop.answer(shop.user, "kitty", "greet")
    body = FeedbackIn.model_validate({"correction": {"intent": "cash_balance"}})
    first = give_feedback(shop.session, shop.user, message_id, body)
    review.review(shop.session, shop.reviewer, first.example_id or 0, ReviewIn(decision="reject"))
    second = give_feedback(
        shop.session,
        shop.user,
        message_id,
        FeedbackIn.model_validate(
            {"score": 2, "correction": {"answer": "Cash is BDT 10 (mail a@b.com)"}}
        ),
    )
    assert second.example_id == first.example_id
    example = repo.get_example(shop.session, shop.reviewer, first.example_id or 0)
    assert (example.status, example.kinds, example.answer) == (
        "review",
        ["answer"],
        "Cash is BDT 10 (mail a@b.com)",
    )
    feedback = repo.feedback_of(shop.session, shop.user, message_id)
    assert feedback is not None and (feedback.score, feedback.thumbs) == (2, None)
    # The telemetry of both feedbacks is stored, redacted.
    review.review(shop.session, shop.reviewer, example.id, ReviewIn(decision="approve"))
    dataset, _ = export.export_dataset(shop.session, shop.reviewer)
    files = export.dataset_files(repo.get_dataset(shop.session, shop.reviewer, dataset.version))
    assert "a@b.com" not in files.chat_jsonl and "<EMAIL_1>" in files.chat_jsonl
    events = shop.session.execute(
        select(TelemetryEvent).where(TelemetryEvent.company_id == shop.user.company_id)
    ).scalars()
    assert [e.kind for e in events].count("feedback") == 2


def test_the_periodic_purge_keeps_the_retention_period_per_company(shop: Shop) -> None:
    import companion.jobs.schedules  # noqa: F401 - registers the shipped periodic jobs
    from companion.assistant.learning.telemetry import purge_company
    from companion.config import LearningSettings
    from companion.jobs.periodic import registered
    from companion.kit import telemetry
    from companion.kit.clock import FixedClock
    from companion.tenancy.models import Company

    job = next(j for j in registered() if j.name == "learning.purge")
    assert job.container and job.target == "companion.assistant.learning.telemetry:purge_company"
    session = shop.session
    clock = FixedClock(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
    for ctx in (shop.user, shop.other_user):
        for age in (1, 89, 91, 400):
            telemetry.emit(
                session, telemetry.FEEDBACK, company_id=ctx.company_id, user_id=ctx.user_id
            )
            session.flush()
            newest = session.execute(
                select(TelemetryEvent).order_by(TelemetryEvent.id.desc()).limit(1)
            ).scalar_one()
            newest.at = clock.now() - dt.timedelta(days=age)
    session.flush()
    container = SimpleNamespace(settings=SimpleNamespace(learning=LearningSettings()))
    company = session.get(Company, shop.user.company_id)
    assert company is not None
    assert purge_company(session, company, clock, container=container) == {"deleted": 2, "days": 90}

    def ages(company_id: int) -> list[int]:
        rows = session.execute(
            select(TelemetryEvent.at).where(TelemetryEvent.company_id == company_id)
        ).scalars()
        return sorted((clock.now() - at).days for at in rows)

    assert ages(shop.user.company_id) == [1, 89]
    assert ages(shop.other_user.company_id) == [1, 89, 91, 400]  # its own run, its own turn
