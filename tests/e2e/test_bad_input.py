"""Bad input of every kind gets a clear 4xx JSON envelope, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import jwt
import pytest
from e2e_support import PASSWORD, Tenants
from httpx import Response
from starlette.testclient import TestClient

from companion.auth import service as auth_service

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/me"


def envelope(response: Response, status: int, code: str) -> dict:
    """Assert ``response`` is the JSON error envelope with ``status`` and ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert response.headers["x-request-id"]
    return body["error"]


def reason(response: Response) -> str:
    return str(response.json()["error"]["details"].get("reason"))


# --- bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"username": "a", "password": }',
        b"\xff\xfe not utf-8",
        b"[" * 50_000,
        b"[" * 100_000 + b"]" * 100_000,  # valid JSON, but deeper than any parser allows
    ],
)
def test_a_body_that_is_not_json_is_a_400(client: TestClient, raw: bytes) -> None:
    response = client.post(LOGIN, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {"malformed_json", "bad_request"}


def test_malformed_json_names_the_position(client: TestClient) -> None:
    response = client.post(
        LOGIN, content=b'{"username": "a",,}', headers={"Content-Type": "application/json"}
    )
    error = envelope(response, 400, "malformed_json")
    assert error["details"]["position"] == 17


def test_wrong_types_are_422_with_each_field(client: TestClient) -> None:
    response = client.post(LOGIN, json={"username": 123, "password": ["x"]})
    error = envelope(response, 422, "validation_failed")
    locs = {tuple(e["loc"]) for e in error["details"]["errors"]}
    assert locs == {("body", "username"), ("body", "password")}
    assert all("input" not in e for e in error["details"]["errors"])


def test_unknown_fields_on_login_are_refused(client: TestClient) -> None:
    response = client.post(LOGIN, json={"username": "a", "password": "b", "is_system_admin": True})
    error = envelope(response, 422, "validation_failed")
    assert error["details"]["errors"][0]["type"] == "extra_forbidden"
    assert error["details"]["errors"][0]["loc"] == ["body", "is_system_admin"]


def test_a_password_is_never_echoed_back(client: TestClient) -> None:
    response = client.post(LOGIN, json={"username": "x" * 65, "password": "s3cret-value"})
    envelope(response, 422, "validation_failed")
    assert "s3cret-value" not in response.text


def test_a_body_sent_as_text_is_unsupported_media_type(client: TestClient) -> None:
    response = client.post(
        LOGIN, content=b'{"username": "a", "password": "b"}', headers={"Content-Type": "text/plain"}
    )
    envelope(response, 415, "unsupported_media_type")


def test_an_empty_body_is_a_422(client: TestClient) -> None:
    error = envelope(client.post(LOGIN), 422, "validation_failed")
    assert error["details"]["errors"][0]["loc"] == ["body"]


def test_a_10_mb_body_is_413(client: TestClient) -> None:
    response = client.post(
        LOGIN, content=b"x" * 10_000_000, headers={"Content-Type": "application/json"}
    )
    error = envelope(response, 413, "payload_too_large")
    assert error["details"]["max_body_bytes"] == 1_048_576


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(40):
            yield b"y" * 65_536
        yield b'", "password": "x"}'

    response = client.post(LOGIN, content=chunks(), headers={"Content-Type": "application/json"})
    envelope(response, 413, "payload_too_large")


def test_a_body_just_under_the_limit_is_read(client: TestClient) -> None:
    body = json.dumps({"username": "u", "password": "p", "pad": "z" * 1_000_000}).encode()
    assert len(body) < 1_048_576
    response = client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
    envelope(response, 422, "validation_failed")  # the unknown field, not the size


# --- routes and parameters --------------------------------------------------------------


def test_an_unknown_route_is_a_json_404(client: TestClient) -> None:
    error = envelope(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert "/api/v1/no-such-thing" in error["message"]
    envelope(client.get("/nowhere"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(client: TestClient) -> None:
    response = client.get(LOGIN)
    envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("key_id", ["abc", "0", "-5", "99999999999999999999999", "1.5"])
def test_a_bad_path_id_is_a_422(client: TestClient, tenants: Tenants, key_id: str) -> None:
    response = client.get(f"/api/v1/api-keys/{key_id}", headers=tenants.headers("acme", "admin"))
    envelope(response, 422, "validation_failed")


# --- credentials ------------------------------------------------------------------------


def test_missing_credentials_are_401(client: TestClient) -> None:
    response = client.get(ME)
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "missing_credentials"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic dXNlcjpwYXNz", "invalid_authorization_header"),
        ("Bearer", "invalid_authorization_header"),
        ("Bearer not-a-token", "token_malformed"),
        ("Bearer a.b.c", "token_malformed"),
    ],
)
def test_a_malformed_authorization_header_is_401(
    client: TestClient, header: str, expected: str
) -> None:
    response = client.get(ME, headers={"Authorization": header})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == expected


def test_an_expired_token_is_401(client: TestClient, tenants: Tenants) -> None:
    headers = tenants.headers("acme", "finance")
    assert client.get(ME, headers=headers).status_code == 200
    tenants.clock.advance(dt.timedelta(minutes=tenants.settings.auth.token_ttl_minutes))
    response = client.get(ME, headers=headers)
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "token_expired"


def test_a_tampered_token_is_401(client: TestClient, tenants: Tenants) -> None:
    token = tenants.token("acme-finance")
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(tenants.user("acme", "admin").id)  # try to become the admin
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = client.get(ME, headers={"Authorization": f"Bearer {head}.{forged}.{signature}"})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "token_bad_signature"


def test_a_token_signed_with_another_secret_is_401(client: TestClient, tenants: Tenants) -> None:
    now = int(tenants.clock.now().timestamp())
    claims = {"sub": str(tenants.user("acme", "admin").id), "iat": now, "exp": now + 600}
    token = jwt.encode({**claims, "jti": "x"}, "another-secret-of-sufficient-length-123456")
    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "token_bad_signature"


def test_an_unsigned_token_is_401(client: TestClient, tenants: Tenants) -> None:
    now = int(tenants.clock.now().timestamp())
    claims = {"sub": str(tenants.user("acme", "admin").id), "iat": now, "exp": now + 600}
    token = jwt.encode({**claims, "jti": "x"}, None, algorithm="none")
    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    envelope(response, 401, "not_authenticated")


def test_a_token_of_a_deactivated_user_is_401(client: TestClient, tenants: Tenants) -> None:
    headers = tenants.headers("acme", "finance")
    tenants.user("acme", "finance").is_active = False
    tenants.session.commit()
    response = client.get(ME, headers=headers)
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "inactive_user"


def test_an_unknown_company_and_a_foreign_one_get_the_same_403(
    client: TestClient, tenants: Tenants
) -> None:
    token = {"Authorization": f"Bearer {tenants.token('acme-finance')}"}
    foreign = client.get(ME, headers={**token, "X-Company": "globex"})
    unknown = client.get(ME, headers={**token, "X-Company": "initech"})
    for response in (foreign, unknown):
        envelope(response, 403, "permission_denied")
        assert reason(response) == "not_a_member"
    assert foreign.json()["error"]["message"].replace("globex", "?") == unknown.json()["error"][
        "message"
    ].replace("initech", "?")


def test_a_user_without_any_company_is_403(client: TestClient, tenants: Tenants) -> None:
    response = client.get(ME, headers=tenants.user_headers("outsider"))
    envelope(response, 403, "permission_denied")
    assert reason(response) == "no_company"


def test_an_oversized_company_header_is_a_client_error(
    client: TestClient, tenants: Tenants
) -> None:
    response = client.get(ME, headers=tenants.user_headers("ceo", "x" * 5000))
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_a_token_and_an_api_key_together_are_401(client: TestClient, tenants: Tenants) -> None:
    # 401, not 400: the OpenAPI's security schemes are alternatives and cannot say "not both".
    headers = {**tenants.headers("acme", "admin"), "X-Api-Key": "cmp_0123456789ab_" + "x" * 30}
    response = client.get(ME, headers=headers)
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "ambiguous_credentials"


@pytest.mark.parametrize(
    "key", ["garbage", "cmp_0123456789ab_" + "x" * 43, "cmp_zz_short", "cmp_" + "_" * 40]
)
def test_an_unknown_or_malformed_api_key_is_401(
    client: TestClient, tenants: Tenants, key: str
) -> None:
    response = client.get(ME, headers={"X-Api-Key": key})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "invalid_api_key"


def _api_key(tenants: Tenants, expires_at: dt.datetime | None = None) -> tuple[int, str]:
    admin = tenants.user("acme", "admin")
    key, plaintext = auth_service.create_api_key(
        tenants.session,
        user_id=admin.id,
        company_id=tenants.acme.id,
        name="bot",
        roles=["admin"],
        expires_at=expires_at,
        now=tenants.clock.now(),
    )
    tenants.session.commit()
    return key.id, plaintext


def test_a_right_prefix_with_a_wrong_secret_is_401(client: TestClient, tenants: Tenants) -> None:
    _, plaintext = _api_key(tenants)
    prefix = plaintext.split("_")[1]
    response = client.get(ME, headers={"X-Api-Key": f"cmp_{prefix}_{'A' * 43}"})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "invalid_api_key"


def test_a_revoked_api_key_is_401(client: TestClient, tenants: Tenants) -> None:
    key_id, plaintext = _api_key(tenants)
    assert client.get(ME, headers={"X-Api-Key": plaintext}).status_code == 200
    client.delete(f"/api/v1/api-keys/{key_id}", headers=tenants.headers("acme", "admin"))
    response = client.get(ME, headers={"X-Api-Key": plaintext})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "api_key_revoked"


def test_an_expired_api_key_is_401(client: TestClient, tenants: Tenants) -> None:
    _, plaintext = _api_key(tenants, expires_at=tenants.clock.now() + dt.timedelta(hours=1))
    assert client.get(ME, headers={"X-Api-Key": plaintext}).status_code == 200
    tenants.clock.advance(dt.timedelta(hours=1))
    response = client.get(ME, headers={"X-Api-Key": plaintext})
    envelope(response, 401, "not_authenticated")
    assert reason(response) == "api_key_expired"


def test_an_api_key_used_for_another_company_is_403(client: TestClient, tenants: Tenants) -> None:
    _, plaintext = _api_key(tenants)
    response = client.get(ME, headers={"X-Api-Key": plaintext, "X-Company": "globex"})
    envelope(response, 403, "permission_denied")


def test_api_key_bodies_are_checked(client: TestClient, tenants: Tenants) -> None:
    admin = tenants.headers("acme", "admin")
    cases = [
        ({"name": "x", "roles": []}, 422),
        ({"name": "x", "roles": ["wizard"]}, 422),
        ({"name": "x", "roles": ["admin"], "scopes": ["all"]}, 422),
        ({"name": "x", "roles": ["admin"], "expires_at": "2000-01-01T00:00:00Z"}, 422),
        ({"name": "x", "roles": ["admin"], "expires_at": "not a date"}, 422),
        ({"name": "x", "roles": ["admin"], "user_id": tenants.user("globex", "admin").id}, 404),
    ]
    for body, status in cases:
        response = client.post("/api/v1/api-keys", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] in {"validation_failed", "not_found"}


def test_login_of_a_real_user_still_works_after_all_that(
    client: TestClient, tenants: Tenants
) -> None:
    response = client.post(LOGIN, json={"username": "acme-viewer", "password": PASSWORD})
    assert response.status_code == 200
