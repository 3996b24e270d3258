"""Logging in, /me and API keys over HTTP, on both databases."""

from __future__ import annotations

import datetime as dt

from e2e_support import PASSWORD, Tenants
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.audit.models import AuditEntry
from companion.auth.models import ApiKey
from companion.tenancy.permissions import ROLES


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_login_returns_a_token_the_user_and_their_companies(
    client: TestClient, tenants: Tenants
) -> None:
    body = _login(client, "ceo")
    assert body["token_type"] == "bearer"
    assert body["access_token"].count(".") == 2
    assert body["user"]["username"] == "ceo"
    assert body["user"]["id"] == tenants.users["ceo"].id
    assert set(body["user"]) == {"id", "username", "full_name", "email"}
    assert body["companies"] == [
        {"slug": "acme", "name": "Acme", "roles": ["executive"]},
        {"slug": "globex", "name": "Globex", "roles": ["executive"]},
    ]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires - tenants.clock.now() == dt.timedelta(
        minutes=tenants.settings.auth.token_ttl_minutes
    )


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, tenants: Tenants
) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "acme-finance", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "not_authenticated"
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_token_from_login_opens_me(client: TestClient, tenants: Tenants) -> None:
    token = _login(client, "acme-finance")["access_token"]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["user"]["username"] == "acme-finance"
    assert me["company"] == {"slug": "acme", "name": "Acme", "currency": "BDT"}
    assert me["roles"] == ["finance"]
    assert me["permissions"] == sorted(ROLES["finance"])
    assert me["companies"] == [{"slug": "acme", "name": "Acme", "roles": ["finance"]}]
    assert me["api_key_id"] is None


def test_a_user_of_two_companies_picks_one_with_x_company(
    client: TestClient, tenants: Tenants
) -> None:
    none_chosen = client.get("/api/v1/me", headers=tenants.user_headers("ceo"))
    assert none_chosen.status_code == 400
    assert none_chosen.json()["error"]["code"] == "company_required"
    assert none_chosen.json()["error"]["details"]["companies"] == ["acme", "globex"]

    globex = client.get("/api/v1/me", headers=tenants.user_headers("ceo", "globex"))
    assert globex.status_code == 200
    assert globex.json()["company"]["currency"] == "USD"


def test_admin_creates_uses_lists_and_revokes_an_api_key(
    client: TestClient, tenants: Tenants, session: Session
) -> None:
    admin = tenants.headers("acme", "admin")
    created = client.post(
        "/api/v1/api-keys", json={"name": "reporting bot", "roles": ["viewer"]}, headers=admin
    )
    # The admin holds only "admin" in acme, so a viewer key must be refused...
    assert created.status_code == 422, created.text
    assert created.json()["error"]["details"]["not_held"] == ["viewer"]

    created = client.post(
        "/api/v1/api-keys", json={"name": "reporting bot", "roles": ["admin"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith(f"cmp_{key['prefix']}_")
    stored = session.execute(select(ApiKey).where(ApiKey.id == key["id"])).scalar_one()
    assert key["key"].split("_", 2)[2] not in stored.key_hash  # only a hash is stored

    me = client.get("/api/v1/me", headers={"X-Api-Key": key["key"]})
    assert me.status_code == 200, me.text
    assert me.json()["api_key_id"] == key["id"]
    assert me.json()["company"]["slug"] == "acme"

    listed = client.get("/api/v1/api-keys", headers=admin).json()
    assert [k["id"] for k in listed] == [key["id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0]

    revoked = client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = client.get("/api/v1/me", headers={"X-Api-Key": key["key"]})
    assert again.status_code == 401
    assert again.json()["error"]["details"]["reason"] == "api_key_revoked"

    actions = session.execute(
        select(AuditEntry.action).where(AuditEntry.entity_type == "api_key")
    ).scalars()
    assert sorted(actions) == ["api_key.create", "api_key.revoke"]


def test_an_api_key_shows_only_its_own_company(client: TestClient, tenants: Tenants) -> None:
    ceo = tenants.users["ceo"]
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "ceo bot", "roles": ["executive"], "user_id": ceo.id},
        headers=tenants.headers("globex", "admin"),
    )
    assert created.status_code == 201, created.text
    me = client.get("/api/v1/me", headers={"X-Api-Key": created.json()["key"]}).json()
    assert me["company"]["slug"] == "globex"
    assert me["companies"] == [{"slug": "globex", "name": "Globex", "roles": ["executive"]}]


def test_api_key_of_a_member_gets_only_the_roles_given(
    client: TestClient, tenants: Tenants
) -> None:
    member = tenants.user("acme", "finance")
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "finance bot", "roles": ["finance"], "user_id": member.id},
        headers=tenants.headers("acme", "admin"),
    )
    assert created.status_code == 201, created.text
    me = client.get("/api/v1/me", headers={"X-Api-Key": created.json()["key"]}).json()
    assert me["user"]["username"] == "acme-finance"
    assert me["roles"] == ["finance"]
    assert "admin.users" not in me["permissions"]


def test_creating_api_keys_needs_admin_users(client: TestClient, tenants: Tenants) -> None:
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "roles": ["finance"]},
        headers=tenants.headers("acme", "finance"),
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"]["permission"] == "admin.users"


def test_another_companys_api_key_is_not_found(client: TestClient, tenants: Tenants) -> None:
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "globex bot", "roles": ["admin"]},
        headers=tenants.headers("globex", "admin"),
    )
    assert created.status_code == 201
    key_id = created.json()["id"]
    acme_admin = tenants.headers("acme", "admin")
    for response in (
        client.get(f"/api/v1/api-keys/{key_id}", headers=acme_admin),
        client.delete(f"/api/v1/api-keys/{key_id}", headers=acme_admin),
        client.get("/api/v1/api-keys/999999", headers=acme_admin),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # ...and it still works for its own company.
    still = client.get("/api/v1/me", headers={"X-Api-Key": created.json()["key"]})
    assert still.status_code == 200
