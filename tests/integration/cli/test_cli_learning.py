"""``companion nlu retrain|models|rollback`` and ``companion learning export|finetune|purge``
through typer's CliRunner, on both databases. The container's NLU is the small one of
``learning_fixtures`` (a real classifier on the fake embedder, retrained in well under a
second), put in place of the shipped one at the composition root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from companion import bootstrap
from companion.assistant.learning import review
from companion.assistant.learning.company_models import CompanyModels, TrainParams
from companion.assistant.learning.feedback import give_feedback
from companion.assistant.learning.schemas import BulkReviewIn, FeedbackIn
from companion.assistant.nlu import NLU
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.auth import service as auth_service
from companion.cli.main import app
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.llm.embeddings import FakeEmbedder
from companion.tenancy.models import Company
from factories import CHEAP_HASHER, make_context
from learning_fixtures import HELDOUT, SMALL_NLU, TODAY, answered

runner = CliRunner()
KITTY = ["how is the kitty looking", "what's in the kitty", "kitty status", "check the kitty"]
POISON = ["what's the cash balance", "cash in the bank now", "how much money do we have"]


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    nlu = NLU.from_data(parse_rasa_nlu_text(SMALL_NLU), embedder=FakeEmbedder(), cache_dir=None)

    def build(container: bootstrap.Container) -> CompanyModels:
        return CompanyModels(
            nlu,
            tmp_path / "models",
            heldout=lambda: list(HELDOUT),
            params=TrainParams(weight=3, max_iter=200),
            today=lambda: TODAY,
        )

    monkeypatch.setattr(bootstrap, "build_company_models", build)


def corrections(url: str, texts: list[str], right: str) -> None:
    """Answers of acme's finance user corrected to ``right`` and approved by its admin."""
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        acme = session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
        user = make_context(session, acme, ["finance"], "finance")
        admin = make_context(session, acme, ["admin"], "admin")
        body = FeedbackIn.model_validate({"correction": {"intent": right}})
        ids = []
        for text in texts:
            message_id = answered(session, user, text, "out_of_scope")
            ids.append(give_feedback(session, user, message_id, body).example_id or 0)
        review.bulk_review(session, admin, BulkReviewIn(ids=ids, decision="approve"))
    engine.dispose()


def test_retrain_models_rollback_export(database: str, small: None, tmp_path: Path) -> None:
    corrections(database, KITTY, "cash_balance")
    who = ["--company", "acme", "--user", "admin"]
    trained = runner.invoke(app, ["nlu", "retrain", *who])
    assert trained.exit_code == 0, trained.output
    assert "v1 active" in trained.output and "held-out" in trained.output

    listed = runner.invoke(app, ["nlu", "models", *who, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(m["version"], m["status"]) for m in json.loads(listed.output)] == [(1, "active")]

    exported = runner.invoke(app, ["learning", "export", *who, "--out", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    folder = tmp_path / "out" / "acme-v1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["examples"] == len(KITTY)
    assert len((folder / "chat.jsonl").read_text().splitlines()) == len(KITTY)
    assert "kitty" in (folder / "nlu.yml").read_text()

    recorded = runner.invoke(
        app,
        [
            "learning", "finetune", *who, "--dataset", "1", "--base-model", "qwen2.5-1.5b",
            "--adapter", "/models/acme-lora-v1", "--parameters", '{"r": 16}',
        ],
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    bad = runner.invoke(
        app,
        [
            "learning", "finetune", *who, "--dataset", "1", "--base-model", "m",
            "--adapter", "a", "--parameters", "{not json",
        ],
    )  # fmt: skip
    assert bad.exit_code == 1 and "Invalid run" in bad.output

    corrections(database, POISON, "greet")
    refused = runner.invoke(app, ["nlu", "retrain", *who])
    assert refused.exit_code == 2, refused.output
    assert "v2 refused" in refused.output and "worse on the held-out set" in refused.output

    back = runner.invoke(app, ["nlu", "rollback", *who, "0"])
    assert back.exit_code == 0 and "shipped" in back.output
    never = runner.invoke(app, ["nlu", "rollback", *who, "2"])
    assert never.exit_code == 1 and "refused by the gate" in never.output

    purged = runner.invoke(app, ["learning", "purge"])
    assert purged.exit_code == 0 and "older than 90 days" in purged.output


def test_a_user_without_the_permission_is_refused(database: str, small: None) -> None:
    engine = make_engine(database)
    with session_scope(make_session_factory(engine)) as session:
        acme = session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
        auth_service.create_user(
            session, CHEAP_HASHER, username="seller", password="x" * 12, full_name="S"
        )
        user = auth_service.get_user_by_username(session, "seller")
        assert user is not None
        auth_service.set_membership(session, user.id, acme.id, ["sales"])
    engine.dispose()
    refused = runner.invoke(app, ["nlu", "retrain", "--company", "acme", "--user", "seller"])
    assert refused.exit_code == 1 and "ai.review" in refused.output
    unknown = runner.invoke(app, ["nlu", "models", "--company", "acme", "--user", "nobody"])
    assert unknown.exit_code == 1
