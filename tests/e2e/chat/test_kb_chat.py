"""Policy and how-to questions in chat: answers from the caller's own documents, with sources.

The demo build stores both companies' policy documents and the product help; the real
retriever (ONNX embedder, local index rebuilt from the chunk table) answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.demo.documents import policy_documents
from companion.knowledge.answers import NOT_FOUND
from companion.knowledge.models import KnowledgeDocument


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def document_ids(session: Session, slug: str) -> set[int]:
    titles = {d.title for d in policy_documents(slug)}
    rows = session.execute(
        select(KnowledgeDocument.id).where(KnowledgeDocument.title.in_(titles))
    ).scalars()
    return set(rows)


def cited_documents(body: dict[str, Any]) -> set[int]:
    return {int(s["id"].split("#")[0].removeprefix("kb_")) for s in body["sources"] or []}


def test_the_travel_policy_comes_from_acmes_document_with_sources(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    body = ask(chat_client, login("finance"), "what is the travel policy?")
    assert body["intent"] == "explain_policy" and body["skill"] == "knowledge"
    assert body["sources"], body["message"]
    acme, globex = document_ids(demo_session, "acme"), document_ids(demo_session, "globex")
    cited = cited_documents(body)
    assert cited and cited <= acme and not cited & globex
    travel = next(d for d in policy_documents("acme") if d.kind == "travel")
    assert body["sources"][0]["title"] == travel.title
    assert body["sources"][0]["url"].startswith("/api/v1/ai/knowledge/")
    assert "[1]" in body["message"] and "Globex" not in body["message"]


def test_a_hotel_limit_is_quoted_and_the_other_company_gets_its_own(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    # Whatever the NLU makes of it (explain_policy or out_of_scope), the documents answer.
    acme = ask(chat_client, login("finance"), "how much can I spend on a hotel in Dhaka?")
    assert acme["skill"] == "knowledge", acme
    assert "BDT 6,000" in acme["message"] or "BDT 9,000" in acme["message"], acme["message"]
    globex = ask(chat_client, login("gfinance"), "how much can I spend on a hotel?")
    assert globex["skill"] == "knowledge", globex
    cited = cited_documents(globex)
    assert cited and cited <= document_ids(demo_session, "globex")
    assert "BDT" not in globex["message"] and "Motijheel" not in globex["message"]


def test_no_answer_in_the_documents_is_said_honestly(chat_client: TestClient, login: Any) -> None:
    body = ask(chat_client, login("finance"), "what is the policy on bringing pets to the office?")
    assert not body["sources"], body
    if body["intent"] == "explain_policy":
        assert body["message"] == NOT_FOUND


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("when are salaries paid?", "when salaries are paid"),
        ("who is responsible for stock counts?", "who is responsible for stock counts"),
    ],
)
def test_a_passage_that_names_the_subject_without_answering_is_not_quoted_as_the_answer(
    chat_client: TestClient, login: Any, message: str, said: str
) -> None:
    # Leave encashment "is paid at the basic salary rate"; petty cash "is counted": neither
    # says when salaries are paid or who counts stock.
    body = ask(chat_client, login("finance"), message)
    assert body["skill"] == "knowledge", body["message"]
    assert body["message"].startswith(NOT_FOUND) and f"don't say {said}" in body["message"]
    assert "“" not in body["message"], body["message"]  # nothing quoted as an answer


def test_a_policy_question_read_as_a_memory_is_answered_from_the_documents(
    chat_client: TestClient, login: Any
) -> None:
    body = ask(chat_client, login("sales"), "what discount can I give a customer who pays early?")
    assert body["skill"] == "knowledge", body["message"]
    assert "prompt-payment discount" in body["message"], body["message"]


def test_how_to_questions_are_answered_from_the_product_help(
    chat_client: TestClient, login: Any
) -> None:
    upload = ask(chat_client, login("finance"), "how do I upload a document to the knowledge base?")
    assert upload["skill"] == "knowledge", upload
    assert upload["sources"][0]["title"] == "Uploading documents to the knowledge base"
    roles = ask(chat_client, login("sales"), "what roles are there and what can they do?")
    assert roles["skill"] == "knowledge", roles
    assert "Roles and permissions" in {s["title"] for s in roles["sources"]}
    bare = ask(chat_client, login("finance"), "help")
    assert bare["skill"] == "dialogue" and bare["choices"] and not bare["sources"]
