"""The learning loop on the shipped NLU, through the services and a real database:

1. 20 corrections of a phrasing the shipped model gets wrong (petty-cash slang: "kitty",
   "till", "war chest", "coffers" for the cash balance) go feedback -> review -> export ->
   retrain; the gate compares the candidate with the shipped model on the held-out set and
   on the company's approved examples. Scored on 10 phrasings of the same slang that were
   never corrected.
2. A poisoned batch (20 overdue-invoice questions "corrected" to cash_balance) is refused by
   the gate; the promoted model stays.
3. Rollback to the shipped model and back.
4. Parse latency with the company model against the shipped one, in the same run (median,
   p95, ratio), and the retrain against training a classifier from scratch on the same data.

    .venv/bin/python bench/learning_loop.py [--data-dir var] [--runs 200] [--full-baseline]

The first run computes the shipped data's features once (~25 s idle, minutes on a loaded
machine) and caches them under DATA_DIR/nlu; the shipped model itself is trained there too
if it is not cached yet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.evaluation import load_eval_set
from companion.assistant.learning import export, retrain, review
from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.learning.company_models import CompanyModels, TrainParams
from companion.assistant.learning.feedback import give_feedback
from companion.assistant.learning.schemas import BulkReviewIn, FeedbackIn
from companion.assistant.models import Conversation, Message
from companion.assistant.nlu import NLU, EvalExample, IntentClassifier, TrainingData
from companion.assistant.nlu.delex import delexicalised_examples
from companion.assistant.nlu.rasa import Example
from companion.assistant.understanding import CompanyNLU
from companion.auth.models import User
from companion.kit import migrate
from companion.kit.db import make_engine
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import permissions_for

TODAY = dt.date(2026, 3, 15)
CORRECTIONS = [
    "how's the kitty looking",
    "what's in the kitty",
    "how much is left in the kitty",
    "kitty balance",
    "check the kitty for me",
    "is the kitty running low",
    "how full is the kitty",
    "what's the till holding",
    "how much is in the till",
    "what's the war chest at",
    "how big is our war chest",
    "what's sitting in the coffers",
    "how full are the coffers",
    "kitty status today",
    "tell me what the kitty has",
    "the till, how much?",
    "war chest size",
    "coffers balance",
    "whats left in the coffers",
    "how healthy is the kitty",
]
UNSEEN = [
    "how much money is in the kitty right now",
    "is there enough in the kitty",
    "kitty update please",
    "what does the till say",
    "till total",
    "how deep is the war chest",
    "war chest update",
    "what do the coffers look like",
    "are the coffers empty",
    "give me the kitty figure",
]
POISON = [
    "show overdue invoices",
    "which invoices are overdue",
    "list overdue invoices",
    "overdue invoices please",
    "what invoices are past due",
    "invoices past their due date",
    "show me late invoices",
    "which customers haven't paid on time",
    "list past due invoices",
    "unpaid overdue invoices",
    "overdue receivables list",
    "show invoices that are late",
    "which bills to customers are overdue",
    "any overdue invoices",
    "invoices overdue this month",
    "late paying customers invoices",
    "show the overdue ones",
    "outstanding overdue invoices",
    "past due invoices for all customers",
    "overdue invoice report",
]


def setup(session: Session) -> tuple[RequestContext, RequestContext]:
    company = Company(slug="acme", name="Acme Trading Ltd", base_currency="BDT")
    session.add(company)
    session.flush()
    contexts = []
    for name, roles in (("finance", ["finance"]), ("admin", ["admin"])):
        user = User(username=name, full_name=name.title(), password_hash="x")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, company_id=company.id, roles=roles))
        contexts.append(
            RequestContext(
                user_id=user.id,
                username=name,
                company_id=company.id,
                company_slug=company.slug,
                currency=company.base_currency,
                roles=tuple(roles),
                permissions=permissions_for(roles),
            )
        )
    session.flush()
    return contexts[0], contexts[1]


def corrected(
    session: Session, ctx: RequestContext, nlu: NLU, texts: list[str], right: str
) -> list[int]:
    """Each text asked, answered as the shipped model reads it, corrected to ``right``."""
    ids = []
    for text in texts:
        reading = nlu.parse(text, today=TODAY).intent
        conversation = Conversation(
            company_id=ctx.company_id, user_id=ctx.user_id, title=text, last_seq=2
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                company_id=ctx.company_id,
                conversation_id=conversation.id,
                seq=1,
                role="user",
                content=text,
                intent=reading,
            )
        )
        answer = Message(
            company_id=ctx.company_id,
            conversation_id=conversation.id,
            seq=2,
            role="assistant",
            content=f"(read as {reading})",
            intent=reading,
        )
        session.add(answer)
        session.flush()
        body = FeedbackIn.model_validate({"rating": "down", "correction": {"intent": right}})
        out = give_feedback(session, ctx, answer.id, body)
        assert out.example_id is not None
        ids.append(out.example_id)
    return ids


def accuracy(nlu: NLU, texts: list[str], intent: str) -> float:
    return sum(nlu.parse(t, today=TODAY).intent == intent for t in texts) / len(texts)


def latencies(nlu: NLU, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        nlu.parse(text, today=TODAY)
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    parser.add_argument("--runs", type=int, default=200, help="parse-latency messages")
    parser.add_argument("--full-baseline", action="store_true", help="also train from scratch")
    args = parser.parse_args()
    learning_telemetry.install()
    folder = args.data_dir / "nlu"

    started = time.perf_counter()
    base = NLU.load(cache_dir=folder)
    print(f"shipped NLU loaded in {time.perf_counter() - started:.1f} s")
    models = CompanyModels(
        base,
        folder,
        heldout=lambda: [EvalExample(e.text, e.intent) for e in load_eval_set()],
        params=TrainParams(),
        today=lambda: TODAY,
    )
    started = time.perf_counter()
    models.base_features()
    print(f"shipped data's features ready in {time.perf_counter() - started:.1f} s (cached after)")

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/learning.db")
        migrate.upgrade(engine)
        session = sessionmaker(bind=engine, expire_on_commit=False)()
        user, reviewer = setup(session)
        company_nlu = CompanyNLU(base, models=models)

        print("\n1. twenty corrections of petty-cash slang")
        before_unseen = accuracy(base, UNSEEN, "cash_balance")
        before_corrected = accuracy(base, CORRECTIONS, "cash_balance")
        ids = corrected(session, user, base, CORRECTIONS, "cash_balance")
        review.bulk_review(session, reviewer, BulkReviewIn(ids=ids, decision="approve"))
        dataset, _ = export.export_dataset(session, reviewer)
        print(f"   dataset v{dataset.version}: {dataset.count} examples, {dataset.sha256[:12]}…")
        started = time.perf_counter()
        model = retrain.retrain(session, reviewer, models)
        total = time.perf_counter() - started
        session.commit()
        gate = model.gate
        after = company_nlu.nlu_for(session, user)
        print(
            f"   model v{model.version}: {model.status}; training {model.train_seconds:.1f} s, "
            f"retrain with the gate {total:.1f} s"
        )
        print(
            f"   held-out set ({gate['heldout']['count']}): {gate['heldout']['before']:.4f} -> "
            f"{gate['heldout']['after']:.4f} (fixed {gate['heldout']['fixed']}, newly wrong "
            f"{gate['heldout']['broken']})"
        )
        shipped = gate["shipped"]
        print(
            f"   shipped training examples ({shipped['count']}): {shipped['before']:.4f} -> "
            f"{shipped['after']:.4f} (newly wrong {shipped['broken']})"
        )
        for wrong in gate["heldout"]["newly_wrong"][:5]:
            print(
                f"     newly wrong: {wrong['text']!r} ({wrong['intent']} -> {wrong['now']}; "
                f"read right before by a margin of {wrong.get('margin', '?')})"
            )
        print(f"   gate: tolerance {gate['tolerance']}, borderline {gate.get('borderline')}")
        print(
            f"   company's approved examples ({gate['company']['count']}): "
            f"{gate['company']['before']:.4f} -> {gate['company']['after']:.4f}"
        )
        print(
            f"   the 20 corrected phrasings: {before_corrected:.2f} -> "
            f"{accuracy(after, CORRECTIONS, 'cash_balance'):.2f}"
        )
        print(
            f"   10 unseen phrasings of the slang: {before_unseen:.2f} -> "
            f"{accuracy(after, UNSEEN, 'cash_balance'):.2f}"
        )

        print("\n2. a poisoned batch: 20 overdue-invoice questions 'corrected' to cash_balance")
        poison_before = accuracy(after, POISON, "overdue_invoices")
        ids = corrected(session, user, after, POISON, "cash_balance")
        review.bulk_review(session, reviewer, BulkReviewIn(ids=ids, decision="approve"))
        refused = retrain.retrain(session, reviewer, models)
        session.commit()
        gate = refused.gate
        print(f"   model v{refused.version}: {refused.status} ({'; '.join(gate['reasons'])})")
        print(
            f"   held-out set: {gate['heldout']['before']:.4f} -> {gate['heldout']['after']:.4f} "
            f"(newly wrong {gate['heldout']['broken']}, e.g. "
            f"{json.dumps(gate['heldout']['newly_wrong'][:2])})"
        )
        print(
            f"   company's approved examples: {gate['company']['before']:.4f} -> "
            f"{gate['company']['after']:.4f}"
        )
        print(
            f"   shipped training examples: {gate['shipped']['before']:.4f} -> "
            f"{gate['shipped']['after']:.4f} (newly wrong {gate['shipped']['broken']}: "
            f"{json.dumps(gate['shipped']['broken_by_intent'])})"
        )
        still = company_nlu.nlu_for(session, user)
        print(
            f"   active model still v{model.version}: overdue questions read right "
            f"{poison_before:.2f} -> {accuracy(still, POISON, 'overdue_invoices'):.2f}"
        )

        print("\n3. rollback")
        started = time.perf_counter()
        retrain.rollback(session, reviewer, 0)
        session.commit()
        shipped_again = company_nlu.nlu_for(session, user) is base
        retrain.rollback(session, reviewer, model.version)
        session.commit()
        back = company_nlu.nlu_for(session, user)
        print(
            f"   to the shipped model and back to v{model.version} in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms; shipped in between: "
            f"{shipped_again}; slang read right again: {accuracy(back, UNSEEN, 'cash_balance'):.2f}"
        )

        print(f"\n4. parse latency, {args.runs} held-out messages each, same run (loaded machine)")
        texts = [e.text for e in load_eval_set()][: args.runs]
        latencies(base, texts[:20])
        latencies(back, texts[:20])
        # Interleaved, message by message: the machine's load drifts during a run.
        shipped: list[float] = []
        company: list[float] = []
        for text in texts:
            shipped.extend(latencies(base, [text]))
            company.extend(latencies(back, [text]))
        for name, values in (("shipped", shipped), ("company v1", company)):
            median, p95 = statistics.median(values), pct(values, 0.95)
            print(f"   {name:12} median {median:.1f} ms  p95 {p95:.1f} ms")
        ratio = statistics.median(company) / statistics.median(shipped)
        print(
            f"   ratio company/shipped: median {ratio:.2f}"
            f"  p95 {pct(company, 0.95) / pct(shipped, 0.95):.2f}"
        )
        if args.full_baseline:
            data = base.data
            pairs = [Example(t, "cash_balance") for t in CORRECTIONS]
            training = TrainingData(
                examples=[*data.examples, *pairs, *delexicalised_examples(data.examples)]
            )
            started = time.perf_counter()
            IntentClassifier.train(training, base.classifier.embedder, base.classifier.config)
            full = time.perf_counter() - started
            print(
                f"\n   baseline, training from scratch on the same data: {full:.1f} s; "
                f"retrain/scratch = {model.train_seconds / full:.3f}"
            )
        session.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
