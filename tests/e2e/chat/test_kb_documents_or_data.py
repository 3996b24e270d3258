"""Documents versus data in chat: questions about the company's own manuals that sound like
ledger questions are answered from the manuals; ledger questions stay with the ledger.

The manual below is uploaded by acme's admin through the API (the real parser, chunker,
embedder and index) next to the demo's own documents; the real NLU reads every message.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from companion.knowledge.answers import NOT_FOUND

MANUAL = b"""# Records and pay manual

## 4. Retention of financial records

4.1 Invoices, receipts and credit notes are kept for 7 years from the end of the financial
year they belong to. This applies to paper and scanned copies alike.

4.2 Bank statements are kept for 5 years.

## 5. Overtime

5.1 All overtime work must have prior approval from the Head of Department.

5.2 Overtime payments are made with the salary of the following month.

## 6. Telecommuting

6.1 Staff can apply for telecommuting to balance personal commitments with work.

## 7. Computer loan

7.1 Confirmed staff can obtain an interest-free computer loan of up to BDT 150,000.

7.2 Loan repayment shall be for a maximum period of 2 years.
"""
DATA_SKILLS = {"data_query", "analytics", "clarify"}


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def upload(client: TestClient, login: Any) -> None:
    uploaded = client.post(
        "/api/v1/ai/knowledge",
        headers=login("admin", "acme"),
        files={"file": ("records.md", MANUAL, "text/markdown")},
    )
    assert uploaded.status_code == 201, uploaded.text


def test_document_questions_that_sound_like_ledger_questions_are_answered_from_the_manual(
    chat_client: TestClient, login: Any
) -> None:
    upload(chat_client, login)
    finance = login("finance")
    kept = ask(chat_client, finance, "how long must invoices be kept?")
    assert kept["skill"] == "knowledge", kept
    assert "7 years" in kept["message"] and kept["sources"], kept["message"]
    assert kept["sources"][0]["title"] == "Records and pay manual"
    overtime = ask(chat_client, finance, "who approves overtime payments?")
    assert overtime["skill"] == "knowledge", overtime
    assert "Head of Department" in overtime["message"], overtime["message"]
    loan = ask(chat_client, finance, "what is the repayment period of the computer loan?")
    assert loan["skill"] == "knowledge", loan
    assert "2 years" in loan["message"], loan["message"]


def test_ledger_questions_stay_with_the_ledger_with_the_manual_loaded(
    chat_client: TestClient, login: Any
) -> None:
    upload(chat_client, login)
    finance = login("finance")
    for message in (
        "what's our cash balance?",
        "which invoices are overdue?",
        "show me the receivables aging",
        "sales last month",
    ):
        body = ask(chat_client, finance, message)
        assert body["skill"] in DATA_SKILLS, (message, body["skill"], body["message"])
        assert "From your documents" not in body["message"], (message, body["message"])


def test_policy_yes_no_and_how_many_questions_lead_with_the_answer(
    chat_client: TestClient, login: Any
) -> None:
    upload(chat_client, login)
    finance = login("finance")
    yes = ask(chat_client, finance, "Can staff apply for telecommuting?")
    assert yes["skill"] == "knowledge", yes
    assert yes["message"].startswith("Yes [1] — from your documents:"), yes["message"]
    assert "telecommuting" in yes["message"] and yes["sources"]
    years = ask(chat_client, finance, "How long is the computer loan repayment period?")
    assert years["message"].startswith("2 years ["), years["message"]


def test_a_near_miss_says_it_could_not_find_it(chat_client: TestClient, login: Any) -> None:
    upload(chat_client, login)
    # The manual has a computer loan and the demo's travel policy a car: no housing loan.
    body = ask(chat_client, login("finance"), "Is there a housing loan scheme?")
    assert not body["sources"], body
    assert body["skill"] not in DATA_SKILLS, body
    if body["skill"] == "knowledge":
        assert body["message"] == NOT_FOUND
