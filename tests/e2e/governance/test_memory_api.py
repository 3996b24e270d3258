"""The memory API through the app: remember, list, forget, purge with a receipt, policy, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from e2e_support import Tenants
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.audit import service as audit

BASE = "/api/v1/ai/memory"


def test_a_user_remembers_lists_and_forgets_their_own(client: TestClient, tenants: Tenants) -> None:
    me = tenants.headers("acme", "sales")
    made = client.post(BASE, json={"text": "Khulna Emporium prefers e-mail"}, headers=me)
    assert made.status_code == 201, made.text
    memory = made.json()
    assert memory["action"] == "add" and memory["scope"] == "user" and memory["kind"] == "fact"
    assert memory["retention"] == "long" and memory["expires_at"] is not None
    again = client.post(BASE, json={"text": "khulna emporium prefers e-mail."}, headers=me)
    assert again.status_code == 200 and again.json()["action"] == "duplicate"
    assert again.json()["id"] == memory["id"]
    listed = client.get(BASE, headers=me).json()
    assert listed["total"] == 1 and listed["items"][0]["text"] == "Khulna Emporium prefers e-mail"
    # Nobody else sees it or can delete it: another user, another company, another company's
    # member of the same name of role.
    for who in (("acme", "finance"), ("globex", "sales"), ("acme", "admin")):
        assert client.get(BASE, headers=tenants.headers(*who)).json()["total"] == 0
        gone = client.delete(f"{BASE}/{memory['id']}", headers=tenants.headers(*who))
        assert gone.status_code == 404, who
        assert gone.json()["error"]["code"] == "not_found"
    assert client.delete(f"{BASE}/{memory['id']}", headers=me).status_code == 204
    assert client.get(BASE, headers=me).json()["total"] == 0
    assert client.delete(f"{BASE}/{memory['id']}", headers=me).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "x" * 2001}, 422),
        ({"text": "ok", "kind": "secret"}, 422),
        ({"text": "ok", "scope": "everyone"}, 422),
        ({"text": "ok", "retention": "forever"}, 422),
        ({"text": "ok", "due_on": "tomorrow"}, 422),
        ({"text": "ok", "extra": 1}, 422),
        ({"text": "a\x00b"}, 422),
        ({"text": "ok", "scope": "company"}, 403),
        ({"text": "ok", "scope": "global"}, 403),
    ],
)
def test_bad_input_is_a_clear_error(
    client: TestClient,
    tenants: Tenants,
    body: dict,
    status: int,  # type: ignore[type-arg]
) -> None:
    r = client.post(BASE, json=body, headers=tenants.headers("acme", "sales"))
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) == {"code", "message", "details"}


def test_odd_queries_and_ids_are_4xx(client: TestClient, tenants: Tenants) -> None:
    me = tenants.headers("acme", "sales")
    for url in (
        f"{BASE}?kind=secret",
        f"{BASE}?limit=0",
        f"{BASE}/abc",
        f"{BASE}/99999999999",
        f"{BASE}/purge?category=secret&user_id=1",
        f"{BASE}/purge?before=yesterday",
        f"{BASE}/purge",
    ):
        method = client.delete if "purge" in url or url.endswith(("abc", "999")) else client.get
        r = method(url, headers=me)
        assert 400 <= r.status_code < 500, (url, r.status_code)
        assert "error" in r.json()
    assert client.get(BASE).status_code == 401
    assert client.get(BASE, headers=tenants.headers("acme", "norole")).status_code == 403


def test_an_admin_shares_company_and_global_memories(client: TestClient, tenants: Tenants) -> None:
    admin = tenants.headers("acme", "admin")
    shared = client.post(
        BASE, json={"text": "month end close is on the 5th", "scope": "company"}, headers=admin
    )
    assert shared.status_code == 201
    everyone = client.post(
        BASE, json={"text": "Companion answers from the ledger", "scope": "global"}, headers=admin
    )
    assert everyone.status_code == 201
    sales = tenants.headers("acme", "sales")
    assert [m["text"] for m in client.get(BASE, headers=sales).json()["items"]] == [
        "month end close is on the 5th"
    ]
    assert client.get(BASE, headers=tenants.headers("globex", "sales")).json()["total"] == 0
    assert (
        client.get(f"{BASE}?scope=global", headers=tenants.headers("globex", "sales")).json()[
            "items"
        ][0]["text"]
        == "Companion answers from the ledger"
    )
    assert client.delete(f"{BASE}/{shared.json()['id']}", headers=sales).status_code == 403


def test_policy_sets_ttls_and_compliance(client: TestClient, tenants: Tenants) -> None:
    admin, sales = tenants.headers("acme", "admin"), tenants.headers("acme", "sales")
    assert client.get(f"{BASE}/policy", headers=sales).json() == {
        "ttls": {"short": 3600, "medium": 2592000, "long": 31536000, "permanent": None},
        "pii_scrubbing": True,
        "compliance_mode": False,
        "external_providers_allowed": True,
    }
    assert client.put(f"{BASE}/policy", json={"short_ttl_s": 600}, headers=sales).status_code == 403
    assert client.put(f"{BASE}/policy", json={"short_ttl_s": 1}, headers=admin).status_code == 422
    assert client.put(f"{BASE}/policy", json={"bogus": 1}, headers=admin).status_code == 422
    changed = client.put(
        f"{BASE}/policy", json={"short_ttl_s": 600, "compliance_mode": True}, headers=admin
    )
    assert changed.status_code == 200
    assert changed.json()["ttls"]["short"] == 600
    assert changed.json()["external_providers_allowed"] is False
    assert (
        client.get(f"{BASE}/policy", headers=tenants.headers("globex", "admin")).json()[
            "compliance_mode"
        ]
        is False
    )
    note = client.post(BASE, json={"text": "ping", "retention": "short"}, headers=sales).json()
    expires = dt.datetime.fromisoformat(note["expires_at"])
    assert expires == tenants.clock.now() + dt.timedelta(seconds=600)


def test_an_expired_memory_is_never_listed(client: TestClient, tenants: Tenants) -> None:
    me = tenants.headers("acme", "sales")
    client.post(BASE, json={"text": "call at noon", "retention": "short"}, headers=me)
    client.post(BASE, json={"text": "my name is Farhana", "retention": "permanent"}, headers=me)
    tenants.clock.advance(dt.timedelta(hours=2))
    texts = [
        m["text"]
        for m in client.get(BASE, headers=tenants.headers("acme", "sales")).json()["items"]
    ]
    assert texts == ["my name is Farhana"]


def test_purge_returns_an_audited_receipt(
    client: TestClient, tenants: Tenants, session: Session
) -> None:
    me, admin = tenants.headers("acme", "sales"), tenants.headers("acme", "admin")
    client.post(BASE, json={"text": "Zebrafish Holdings pays by cheque"}, headers=me)
    client.post(BASE, json={"text": "remind: call Zebrafish", "kind": "reminder"}, headers=me)
    own_id = tenants.user("acme", "sales").id
    # Someone else's data needs ai.admin.
    other_id = tenants.user("acme", "finance").id
    refused = client.delete(f"{BASE}/purge?user_id={other_id}", headers=me)
    assert refused.status_code == 403
    r = client.delete(f"{BASE}/purge?user_id={own_id}&category=reminder", headers=me)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["removed"]["memories"] == 1
    assert receipt["criteria"]["categories"] == ["reminder"]
    assert len(receipt["digest"]) == 64 and receipt["audit_seq"] >= 1
    assert [m["kind"] for m in client.get(BASE, headers=me).json()["items"]] == ["fact"]
    logs = client.get(f"{BASE}/audit-logs", headers=admin).json()
    purges = [e for e in logs["items"] if e["action"] == "memory.purge"]
    assert purges[0]["new"]["digest"] == receipt["digest"]
    assert purges[0]["seq"] == receipt["audit_seq"]
    # A user sees only their own memory events; the other company sees none of these.
    mine = client.get(f"{BASE}/audit-logs", headers=me).json()
    assert {e["actor"] for e in mine["items"]} == {"acme-sales"}
    assert (
        client.get(f"{BASE}/audit-logs", headers=tenants.headers("globex", "admin")).json()["total"]
        == 0
    )
    session.expire_all()
    assert audit.verify(session).ok


# Two requests remembering the same thing at once: tests/integration/governance/
# test_memory_purge.py (real transactions; the app's test client shares one connection).
