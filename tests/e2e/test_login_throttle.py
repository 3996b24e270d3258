"""Sign-in rate limits: failed tries per username and per address, 429 with Retry-After."""

from __future__ import annotations

import time

from e2e_support import PASSWORD, Tenants
from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import RateLimitSettings

LOGIN = "/api/v1/auth/login"


def attempt(client: TestClient, username: str, password: str) -> int:
    r = client.post(LOGIN, json={"username": username, "password": password})
    return r.status_code


def limit(container: Container, **values: object) -> None:
    """Rate limits for this test's app (the limiter is built on first use)."""
    container.settings.rate_limits = RateLimitSettings(**values)  # type: ignore[arg-type]
    container._rate_limiter = None


def test_five_failures_lock_the_username_and_the_right_password_waits_too(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    limit(container, login_per_username="5 per 15 minutes")
    assert [attempt(client, "acme-finance", "wrong") for _ in range(5)] == [401] * 5
    r = client.post(LOGIN, json={"username": "acme-finance", "password": PASSWORD})
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["code"] == "login_throttled" and "this account" in error["message"]
    retry_after = int(r.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60 and error["details"]["retry_after"] == retry_after
    # Another user is not locked out by someone guessing this one's password.
    assert attempt(client, "acme-sales", PASSWORD) == 200
    # The username is matched without regard to case or surrounding spaces.
    assert attempt(client, " ACME-Finance ", PASSWORD) == 429


def test_unknown_usernames_count_like_known_ones(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    limit(container, login_per_username="2 per minute")
    assert [attempt(client, "nobody", "x") for _ in range(3)] == [401, 401, 429]


def test_one_address_trying_many_usernames_is_locked_out(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    limit(container, login_per_username="100 per minute", login_per_ip="3 per minute")
    codes = [attempt(client, f"guess-{i}", "x") for i in range(4)]
    assert codes == [401, 401, 401, 429]
    r = client.post(LOGIN, json={"username": "acme-finance", "password": PASSWORD})
    assert r.status_code == 429 and "this address" in r.json()["error"]["message"]


def test_successful_sign_ins_do_not_count(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    limit(container, login_per_username="2 per minute", login_per_ip="2 per minute")
    assert [attempt(client, "acme-finance", PASSWORD) for _ in range(5)] == [200] * 5


def test_the_lockout_ends_when_the_window_has_passed(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    limit(container, login_per_username="1 per 3 seconds")
    assert attempt(client, "acme-finance", "wrong") == 401
    assert attempt(client, "acme-finance", PASSWORD) == 429
    time.sleep(3.2)  # the limits library keeps real time
    assert attempt(client, "acme-finance", PASSWORD) == 200


def test_limits_can_be_switched_off(
    client: TestClient, tenants: Tenants, container: Container, app: FastAPI
) -> None:
    limit(container, login_per_username="1 per minute", enabled=False)
    assert [attempt(client, "acme-finance", "wrong") for _ in range(3)] == [401] * 3
