"""Memory in chat: "remember ...", "remind me to ... tomorrow", references resolved from memory,
the turn context, and a purge that leaves the text in no table, index or cache."""

from __future__ import annotations

from typing import Any

from actions_chat import member, submitted_po
from sqlalchemy import JSON, String, Text, cast, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.audit import service as audit
from companion.auth.models import User
from companion.bootstrap import Container
from companion.erp.items.models import Warehouse
from companion.erp.parties.models import Customer
from companion.models import Base
from companion.tenancy.models import Company

MARKER = "Zebrafish Holdings wants invoices at the Gulshan office"


def ask(client: TestClient, headers: dict[str, str], message: str, **context: str) -> Any:
    body: dict[str, Any] = {"message": message}
    if context:
        body["context"] = context
    response = client.post("/api/v1/ai/chat", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _acme(session: Session, model: Any) -> Any:
    company = session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
    return session.execute(
        select(model).where(model.company_id == company.id).order_by(model.id).limit(1)
    ).scalar_one()


def _user_id(session: Session, username: str) -> int:
    return int(session.execute(select(User.id).where(User.username == username)).scalar_one())


def holders(session: Session, text: str) -> list[str]:
    """Every table.column holding ``text`` (every text and JSON column of every table)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(getattr(column.type, "impl", column.type), String | JSON):
                continue
            count = session.execute(
                select(func.count())
                .select_from(table)
                .where(cast(column, Text).contains(text, autoescape=True))
            ).scalar_one()
            if count:
                found.append(f"{table.name}.{column.name}")
    return found


def test_remind_me_is_kept_not_read_as_a_sales_order(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    customer = _acme(demo_session, Customer)
    headers = login("sales")
    body = ask(chat_client, headers, f"remind me to call {customer.name} tomorrow")
    assert (body["intent"], body["skill"]) == ("remember", "memory"), body
    assert body["pending_confirmation"] is None
    kept = body["data"]["memory"]
    assert kept["kind"] == "reminder" and kept["due_on"] == "2026-03-16"
    assert kept["text"] == f"Call {customer.name}"
    assert "2026-03-16" in body["message"]
    slash = ask(chat_client, headers, "/remember I prefer figures in lakh")
    assert slash["data"]["memory"]["kind"] == "preference"
    again = ask(chat_client, headers, "remember that I prefer figures in lakh")
    assert again["data"]["memory"]["action"] == "duplicate"
    listed = chat_client.get("/api/v1/ai/memory", headers=headers).json()
    assert listed["total"] == 2
    recited = ask(chat_client, headers, "what do you remember?")
    assert recited["intent"] == "remember"
    assert f"Call {customer.name}" in recited["message"] and "lakh" in recited["message"]
    too_long = ask(chat_client, headers, "remember that " + "lakh " * 500)
    assert too_long["skill"] == "memory" and "can't keep that" in too_long["message"]
    assert chat_client.get("/api/v1/ai/memory", headers=headers).json()["total"] == 2
    # Nobody else's chat sees them.
    other = ask(chat_client, login("finance"), "what do you remember?")
    assert customer.name not in other["message"] and other["data"]["total"] == 0


def test_the_customer_i_mentioned_is_read_from_memory(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    customer = _acme(demo_session, Customer)
    headers = login("finance")
    ask(chat_client, headers, f"remember that {customer.name} prefers e-mail")
    body = ask(chat_client, headers, "how much does the customer I mentioned owe us?")
    assert body["intent"] == "customer_balance", body
    named = body["entities"]["customer"]
    assert (named["id"], named["source"]) == (customer.id, "memory")
    assert customer.name in body["message"]
    assert any(customer.name in m["text"] for m in body["context"]["memories"])
    # Another user's memory names nothing for them.
    theirs = ask(
        chat_client, login("ceo", "acme"), "how much does the customer I mentioned owe us?"
    )
    assert (theirs["entities"].get("customer") or {}).get("source") != "memory"


def test_my_usual_warehouse_is_read_from_memory(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    warehouse = _acme(demo_session, Warehouse)
    headers = login("storekeeper")
    ask(chat_client, headers, f"/remember my usual warehouse is {warehouse.name}")
    body = ask(chat_client, headers, "show stock levels in my usual warehouse")
    assert body["intent"] == "stock_levels", body
    assert body["entities"]["warehouse"]["id"] == warehouse.id
    assert body["entities"]["warehouse"]["source"] == "memory"
    column = body["data"]["columns"].index("warehouse")
    assert body["data"]["rows"] and {r[column] for r in body["data"]["rows"]} == {warehouse.name}


def test_the_context_shows_the_company_and_what_waits(chat_client: TestClient, login: Any) -> None:
    body = ask(chat_client, login("buyer"), "hello", module="purchasing", page="/demo/po")
    context = body["context"]
    assert context["company"] == "acme" and context["roles"] == ["procurement"]
    assert (context["module"], context["page"]) == ("purchasing", "/demo/po")
    assert context["company_name"] == "Acme Trading Ltd" and context["currency"] == "BDT"
    assert context["timezone"] and context["fiscal_year_start_month"] in range(1, 13)
    assert len(context["pending"]) <= 3
    assert all(p["kind"] in ("confirmation", "approval") for p in context["pending"])
    assert context["memories"] == []
    # Open alerts come from the alerts package's source (assistant.context hook): a list.
    assert isinstance(context["alerts"], list) and len(context["alerts"]) <= 5


def test_the_context_lists_confirmations_and_approvals_waiting(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), "12000")
    headers = login("buyer")
    first = ask(chat_client, headers, "hello")
    waiting = [p for p in first["context"]["pending"] if p["kind"] == "approval"]
    assert order.number in {p["document"] for p in waiting}
    proposed = ask(chat_client, headers, f"approve {order.number}")
    token = proposed["pending_confirmation"]["token"]
    later = ask(chat_client, headers, "hello")
    pending = later["context"]["pending"]
    assert pending[0]["kind"] == "confirmation" and pending[0]["token"] == token
    assert len(pending) <= 3
    # Another user of the company is not shown the buyer's confirmation.
    assert all(
        p.get("token") != token
        for p in ask(chat_client, login("ceo", "acme"), "hi")["context"]["pending"]
    )


def test_a_purge_leaves_the_text_in_no_table_index_or_cache(
    chat_client: TestClient, login: Any, demo_session: Session, demo_container: Container
) -> None:
    headers = login("sales")
    first = ask(chat_client, headers, f"remember that {MARKER}")
    ask(chat_client, headers, "what do you remember?")
    ask(chat_client, headers, "hello", module="sales")
    assert first["data"]["memory"]["action"] == "add"
    demo_session.expire_all()
    assert {"memories.text", "messages.content"} <= set(holders(demo_session, MARKER))
    user_id = _user_id(demo_session, "sales")
    r = chat_client.delete(
        f"/api/v1/ai/memory/purge?user_id={user_id}&conversations=true", headers=headers
    )
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["removed"]["memories"] == 1 and receipt["removed"]["conversations"] >= 3
    demo_session.expire_all()
    assert holders(demo_session, MARKER) == []
    # The knowledge index holds documents only; nothing of the purged text is found there.
    company_id = _acme(demo_session, Customer).company_id
    found = demo_container.retriever().search(MARKER, company_id=company_id, roles=["sales"])
    assert not any("Zebrafish" in hit.chunk.text for hit in found.hits)
    # The model response cache (when a model was built) was emptied.
    llm = demo_container.built_llm()
    assert llm is None or len(llm.cache) == 0
    assert chat_client.get("/api/v1/ai/conversations", headers=headers).json()["total"] == 0
    assert audit.verify(demo_session).ok
    logs = chat_client.get("/api/v1/ai/memory/audit-logs", headers=login("admin", "acme")).json()
    assert any(e["new"] and e["new"].get("digest") == receipt["digest"] for e in logs["items"])
