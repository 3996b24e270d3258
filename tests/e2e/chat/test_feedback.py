"""Feedback on answers: ``message_id`` in the chat response, thumbs up/down stored on it.

On the small demo with the real NLU, on both databases. Only the user who was answered, in
the company they asked in, may rate an answer; anyone else gets the same 404 as for a
message that does not exist.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.models import Message


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def feedback(client: TestClient, headers: dict[str, str], message_id: str, body: Any) -> Any:
    return client.post(f"/api/v1/ai/messages/{message_id}/feedback", json=body, headers=headers)


def stored(session: Session, message_id: str) -> Message:
    session.expire_all()
    return session.execute(select(Message).where(Message.id == message_id)).scalar_one()


def test_the_answer_names_its_message_and_takes_a_rating(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    headers = login("finance")
    body = ask(chat_client, headers, "what's our cash balance?")
    message_id = body["message_id"]
    message = stored(demo_session, message_id)
    assert (message.role, message.content) == ("assistant", body["message"])

    down = feedback(chat_client, headers, message_id, {"rating": "down", "comment": "too old"})
    assert down.status_code == 200, down.text
    assert down.json() == {
        "message_id": message_id,
        "rating": "down",
        "comment": "too old",
        "score": None,
        "correction": None,
        "example_id": None,
    }
    message = stored(demo_session, message_id)
    assert (message.rating, message.rating_comment) == (-1, "too old")
    detail = chat_client.get(
        f"/api/v1/ai/conversations/{body['conversation_id']}", headers=headers
    ).json()
    assert [m["rating"] for m in detail["messages"]] == [None, -1]

    # A change of mind replaces the rating; no comment clears the old one.
    up = feedback(chat_client, headers, message_id, {"rating": "up"})
    assert up.status_code == 200, up.text
    message = stored(demo_session, message_id)
    assert (message.rating, message.rating_comment) == (1, None)


def test_the_stream_final_event_names_the_message(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    headers = login("finance")
    with chat_client.stream(
        "POST", "/api/v1/ai/chat/stream", json={"message": "cash balance"}, headers=headers
    ) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\n\n") if b.startswith("event: final")]
    assert len(blocks) == 1
    final = json.loads(blocks[0].split("data: ", 1)[1])
    message = stored(demo_session, final["message_id"])
    assert (message.role, message.content) == ("assistant", final["message"])


def test_only_the_user_answered_in_that_company_may_rate(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    body = ask(chat_client, login("ceo", "acme"), "what's our cash balance?")
    message_id = body["message_id"]
    user_message = stored(demo_session, message_id)
    question_id = demo_session.execute(
        select(Message.id).where(
            Message.conversation_id == user_message.conversation_id, Message.role == "user"
        )
    ).scalar_one()
    refused = [
        (login("finance"), message_id),  # same company, another user
        (login("gfinance"), message_id),  # another company
        (login("ceo", "globex"), message_id),  # the same user, in another company
        (login("ceo", "acme"), question_id),  # the user's own question is not an answer
        (login("ceo", "acme"), "no-such-message"),
    ]
    for headers, target in refused:
        response = feedback(chat_client, headers, target, {"rating": "down"})
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert stored(demo_session, message_id).rating is None


def test_bad_feedback_is_a_422_naming_the_field(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    headers = login("finance")
    message_id = ask(chat_client, headers, "cash balance")["message_id"]
    bad_bodies = [
        {"rating": "meh"},
        {"rating": 1},
        {},
        {"rating": "up", "extra": True},
        {"rating": "up", "comment": "x" * 2001},
        {"rating": "up", "comment": "nul\x00"},
        [],
    ]
    for body in bad_bodies:
        response = feedback(chat_client, headers, message_id, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_failed", response.text
    first = feedback(chat_client, headers, message_id, {"rating": "meh"}).json()
    assert first["error"]["details"]["errors"][0]["loc"] == ["body", "rating"]
    too_long = feedback(chat_client, headers, "x" * 65, {"rating": "up"})
    assert too_long.status_code == 422
    unauthenticated = chat_client.post(
        f"/api/v1/ai/messages/{message_id}/feedback", json={"rating": "up"}
    )
    assert unauthenticated.status_code == 401
    assert stored(demo_session, message_id).rating is None
