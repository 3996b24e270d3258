"""Each command-center page on the demo's data, and what its forms change."""

from __future__ import annotations

import re
from typing import Any

from actions_chat import Talk, member, submitted_po
from admin_support import sign_in
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.actions import settings as action_settings
from companion.audit.models import AuditEntry
from companion.demo.documents import policy_documents
from companion.knowledge.models import KnowledgeDocument
from companion.tenancy.models import Company

SMALL = "12000"  # within the buyer's own approval level


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">(?:<a [^>]*>)?([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_the_overview_counts_todays_turns_by_outcome(chat_client: TestClient, login: Any) -> None:
    sign_in(chat_client, "admin")
    before = chat_client.get("/admin/acme/overview").text
    assert figure(before, "turns") == "0" and figure(before, "p95") == "—"
    Talk(chat_client, login("finance")).say("what is our cash balance?")  # answered
    Talk(chat_client, login("viewer")).say("what is our cash balance?")  # refused
    Talk(chat_client, login("gfinance")).say("what is our cash balance?")  # another company
    page = chat_client.get("/admin/acme/overview")
    assert page.status_code == 200
    assert figure(page.text, "turns") == "2"
    assert figure(page.text, "answered") == "1" and figure(page.text, "refused") == "1"
    assert figure(page.text, "p95").endswith(" ms")
    assert "no model configured" in page.text  # the test app runs without a model


def test_conversations_are_found_by_user_intent_skill_and_text(
    chat_client: TestClient, login: Any
) -> None:
    cash = Talk(chat_client, login("finance"))
    cash.say("what is our cash balance?")
    denied = Talk(chat_client, login("viewer"))
    denied.say("what is our cash balance?")
    sign_in(chat_client, "admin")
    base = "/admin/acme/conversations"
    everyone = chat_client.get(base).text
    assert cash.conversation_id in everyone and denied.conversation_id in everyone
    by_user = chat_client.get(base, params={"user": "viewer"}).text
    assert denied.conversation_id in by_user and cash.conversation_id not in by_user
    by_skill = chat_client.get(base, params={"skill": "denied"}).text
    assert denied.conversation_id in by_skill and cash.conversation_id not in by_skill
    by_intent = chat_client.get(base, params={"intent": "cash_balance"}).text
    assert cash.conversation_id in by_intent
    by_text = chat_client.get(base, params={"q": "CASH BALANCE", "rating": "unrated"}).text
    assert cash.conversation_id in by_text
    assert cash.conversation_id not in chat_client.get(base, params={"rating": "down"}).text
    future = chat_client.get(base, params={"date_from": "2999-01-01"}).text
    assert cash.conversation_id not in future and "No conversation matches." in future
    transcript = chat_client.get(f"{base}/{cash.conversation_id}")
    assert transcript.status_code == 200
    assert "cash_balance" in transcript.text and "data_query" in transcript.text
    assert "what is our cash balance?" in transcript.text


def test_a_transcript_shows_sources_and_escapes_what_users_wrote(
    chat_client: TestClient, login: Any
) -> None:
    talk = Talk(chat_client, login("finance"))
    policy = talk.say("what is the travel policy?")
    assert policy["sources"]
    talk.say('<script>alert("x")</script> <img src=x onerror=alert(1)>')
    sign_in(chat_client, "admin")
    page = chat_client.get(f"/admin/acme/conversations/{talk.conversation_id}").text
    assert policy["sources"][0]["title"] in page and policy["sources"][0]["id"] in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_disabling_an_action_makes_the_assistant_refuse_it(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    buyer = member(demo_session, "buyer")
    first, second = (
        submitted_po(demo_session, buyer, SMALL),
        submitted_po(demo_session, buyer, SMALL),
    )
    proposed = Talk(chat_client, login("buyer")).say(f"reject {first.number}")
    assert proposed["pending_confirmation"] is not None, proposed
    csrf = sign_in(chat_client, "admin")
    actions = chat_client.get("/admin/acme/actions")
    assert actions.status_code == 200 and "reject_purchase_order" in actions.text
    assert first.number in actions.text or "reject" in actions.text  # the proposal is listed
    saved = chat_client.post(
        "/admin/acme/actions/reject_purchase_order",
        data={"csrf": csrf, "second_approval_above": ""},  # no "enabled": unchecked
    )
    assert saved.status_code == 200 and "Saved the rule for reject_purchase_order" in saved.text
    refused = Talk(chat_client, login("buyer")).say(f"reject {second.number}")
    assert refused["pending_confirmation"] is None
    assert "in the ERP itself" in refused["message"]
    # The change is audited with its old and new values, on acme's chain only.
    audit = chat_client.get("/admin/acme/audit", params={"action": "ai.action_setting.set"})
    assert audit.status_code == 200 and '"disabled": true' in audit.text
    globex = {
        r.action: r
        for r in action_settings.list_rules(
            demo_session, member(demo_session, "gfinance", "globex")
        )
    }
    assert globex["reject_purchase_order"].disabled is False


def test_a_second_approval_threshold_is_saved(
    chat_client: TestClient, demo_session: Session
) -> None:
    csrf = sign_in(chat_client, "admin")
    chat_client.post(
        "/admin/acme/actions/create_purchase_order",
        data={"csrf": csrf, "enabled": "on", "second_approval_above": "250,000.50"},
    )
    rule = action_settings.rule_for(
        demo_session, member(demo_session, "admin"), "create_purchase_order"
    )
    assert rule.disabled is False and str(rule.second_approval_above) == "250000.50"
    assert "second approval above 250,000.50 BDT" in chat_client.get("/admin/acme/actions").text


def test_verify_now_reports_the_chain_and_catches_an_edit(
    chat_client: TestClient, demo_session: Session
) -> None:
    csrf = sign_in(chat_client, "admin")
    chat_client.post("/admin/acme/actions/void_document", data={"csrf": csrf})  # an entry
    ok = chat_client.post("/admin/acme/audit/verify", data={"csrf": csrf})
    assert ok.status_code == 200 and 'data-verify="ok"' in ok.text, ok.text[-2000:]
    entries = int(re.search(r"Chain OK: (\d+) entries", ok.text).group(1))  # type: ignore[union-attr]
    acme = demo_session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
    expected = demo_session.execute(
        select(AuditEntry.id).where(AuditEntry.company_id == acme.id)
    ).all()
    assert entries == len(expected) > 0
    demo_session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == max(r[0] for r in expected))
        .values(actor="someone-else")
    )
    demo_session.commit()
    broken = chat_client.post("/admin/acme/audit/verify", data={"csrf": csrf})
    assert 'data-verify="broken"' in broken.text and "edited" in broken.text


def test_the_knowledge_page_lists_the_companys_documents_and_uploads_one(
    chat_client: TestClient, demo_session: Session
) -> None:
    csrf = sign_in(chat_client, "admin")
    page = chat_client.get("/admin/acme/knowledge")
    assert page.status_code == 200
    for doc in policy_documents("acme"):
        assert doc.title in page.text
    for doc in policy_documents("globex"):
        assert doc.title not in page.text
    assert "Live version:" in page.text
    uploaded = chat_client.post(
        "/admin/knowledge-upload",
        data={"csrf": csrf, "company": "acme", "roles": "finance", "doc_type": "policy"},
        files={"file": ("parking.md", b"# Parking policy\n\nStaff park in bay C from 8 am.\n")},
    )
    assert uploaded.status_code == 200 and "created (version 1)" in uploaded.text
    doc = demo_session.execute(
        select(KnowledgeDocument).where(KnowledgeDocument.source_name == "parking.md")
    ).scalar_one()
    assert doc.roles == ["finance"] and doc.company_id is not None
    detail = chat_client.get(f"/admin/acme/knowledge/{doc.id}")
    assert detail.status_code == 200 and "bay C" in detail.text and "kb.create" in detail.text
    reindexed = chat_client.post(f"/admin/acme/knowledge/{doc.id}/reindex", data={"csrf": csrf})
    assert reindexed.status_code == 200 and "chunks sent to the index" in reindexed.text
    assert chat_client.get(f"/admin/globex/knowledge/{doc.id}").status_code == 404
    # Who may read it is changed on its page (same version), and the change is audited.
    roles = chat_client.post(
        f"/admin/acme/knowledge/{doc.id}/roles",
        data={"csrf": csrf, "roles": ["sales", "finance"]},
    )
    assert roles.status_code == 200 and "Readable by: finance, sales" in roles.text
    demo_session.expire_all()
    changed = demo_session.get(KnowledgeDocument, doc.id)
    assert changed is not None and changed.roles == ["finance", "sales"] and changed.version == 1
    assert "kb.roles" in chat_client.get(f"/admin/acme/knowledge/{doc.id}").text
    unknown = chat_client.post(
        f"/admin/acme/knowledge/{doc.id}/roles", data={"csrf": csrf, "roles": ["wizard"]}
    )
    assert unknown.status_code == 422
    no_csrf = chat_client.post(f"/admin/acme/knowledge/{doc.id}/roles", data={"roles": []})
    assert no_csrf.status_code == 403
    everything = chat_client.post("/admin/acme/knowledge/reindex", data={"csrf": csrf})
    assert everything.status_code == 200
    sent = re.search(r"(\d+) documents \((\d+) chunks\) sent to the index", everything.text)
    assert sent and int(sent.group(1)) == len(policy_documents("acme")) + 1


def test_the_models_page_shows_policies_and_says_why_a_prompt_gets_no_answer(
    chat_client: TestClient,
) -> None:
    csrf = sign_in(chat_client, "admin")
    page = chat_client.get("/admin/acme/models")
    assert page.status_code == 200
    for use_case in ("chat", "knowledge_answer", "tool_choice"):
        assert f'<th scope="row">{use_case}</th>' in page.text
    tried = chat_client.post(
        "/admin/acme/models/test", data={"csrf": csrf, "use_case": "summarize", "prompt": "Hi"}
    )
    assert tried.status_code == 200 and "No answer:" in tried.text


def test_bad_input_is_a_4xx_page(chat_client: TestClient) -> None:
    csrf = sign_in(chat_client, "admin")
    cases = [
        chat_client.get("/admin/acme/conversations", params={"date_from": "yesterday"}),
        chat_client.get("/admin/acme/conversations", params={"rating": "five"}),
        chat_client.get("/admin/acme/conversations", params={"p": "0"}),
        chat_client.get("/admin/acme/conversations", params={"q": "x" * 5000}),
        chat_client.get("/admin/acme/audit", params={"via": "robots"}),
        chat_client.post(
            "/admin/acme/actions/create_customer",
            data={"csrf": csrf, "second_approval_above": "lots"},
        ),
        chat_client.post(
            "/admin/acme/actions/create_customer",
            data={"csrf": csrf, "second_approval_above": "-5"},
        ),
        chat_client.post(
            "/admin/acme/actions/create_customer", data={"csrf": csrf, "enabled": "maybe"}
        ),
        chat_client.post("/admin/acme/models/test", data={"csrf": csrf, "prompt": "x" * 3000}),
        chat_client.post(
            "/admin/knowledge-upload",
            data={"csrf": csrf, "company": "acme", "doc_type": "SECRET"},
            files={"file": ("a.md", b"# A\n\ntext\n")},
        ),
    ]
    for response in cases:
        assert response.status_code == 422, (response.request.url, response.text[-600:])
        assert "text/html" in response.headers["content-type"]
    assert (
        chat_client.post(
            "/admin/acme/actions/no_such_action", data={"csrf": csrf, "enabled": "on"}
        ).status_code
        == 404
    )
    assert chat_client.get("/admin/acme/knowledge/99999999999").status_code == 422
    huge = chat_client.post(
        "/admin/acme/actions/create_customer", data={"csrf": csrf, "x": "y" * 2_000_000}
    )
    assert huge.status_code == 413
    malformed = chat_client.post(
        "/admin/acme/actions/create_customer",
        content=b"\xff\xfe{{{",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= malformed.status_code < 500


def test_a_company_narrows_a_use_case_on_the_models_page(
    chat_client: TestClient, demo_session: Session, login: Any
) -> None:
    csrf = sign_in(chat_client, "admin")
    url = "/admin/acme/models/policy"
    form = {"csrf": csrf, "use_case": "summarize", "max_tokens": "64", "temperature": "0.1"}
    saved = chat_client.post(url, data=form)  # no "enabled": switched off
    assert saved.status_code == 200, saved.text
    assert "summarize: off, 64 tokens, temperature 0.1" in saved.text
    status = chat_client.get("/api/v1/ai/status", headers=login("admin", "acme"))
    acme = status.json()["policies"]["summarize"]
    assert acme["enabled"] is False and acme["max_tokens"] == 64
    # Only this company: globex keeps the deployment's policy.
    other = chat_client.get("/api/v1/ai/status", headers=login("admin", "globex"))
    assert other.json()["policies"]["summarize"]["enabled"] is True
    entry = demo_session.execute(
        select(AuditEntry).where(AuditEntry.action == "llm.policy.edit")
    ).scalar_one()
    assert entry.old_values["enabled"] is True and entry.new_values["max_tokens"] == 64
    # A company cannot widen what the deployment allows, nor switch on what it has off.
    more = chat_client.post(url, data={**form, "enabled": "on", "max_tokens": "999999"})
    assert more.status_code == 422
    over = chat_client.post(url, data={**form, "enabled": "on", "max_tokens": "32000"})
    assert over.status_code == 422 and "deployment" in over.text
    off = chat_client.post(url, data={**form, "use_case": "tool_choice", "enabled": "on"})
    assert off.status_code == 422 and "off for the whole deployment" in off.text
    bogus = chat_client.post(url, data={**form, "use_case": "mind_reading"})
    assert bogus.status_code == 422
    assert chat_client.post(url, data={**form, "csrf": ""}).status_code == 403
