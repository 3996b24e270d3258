"""The command center's sign-in, session cookie, CSRF, roles and company separation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from actions_chat import Talk, member
from admin_support import csrf_of, sign_in
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.actions import settings as action_settings
from companion.auth.models import User
from companion.kit.clock import FixedClock


def _set_cookie(response: Any) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    return next(c for c in cookies if c.startswith("companion_admin="))


def test_sign_in_sets_a_strict_http_only_cookie_and_opens_the_overview(
    chat_client: TestClient,
) -> None:
    form = chat_client.get("/admin/login")
    assert form.status_code == 200 and '<h1 id="login-title">Sign in</h1>' in form.text
    response = chat_client.post(
        "/admin/login",
        data={"username": "admin", "password": "demo", "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/"
    cookie = _set_cookie(response).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie.split(";")[1:].__str__()  # plain http here
    page = chat_client.get("/admin/", follow_redirects=True)
    assert page.status_code == 200
    assert str(page.url).endswith("/admin/acme/overview")
    assert "Today's chat turns" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_the_cookie_is_secure_over_https(chat_app: Any) -> None:
    with TestClient(chat_app, base_url="https://testserver") as client:
        form = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={"username": "admin", "password": "demo", "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
    assert response.status_code == 303
    assert "; secure" in _set_cookie(response).lower()


def test_a_wrong_password_shows_the_form_again_with_401(chat_client: TestClient) -> None:
    form = chat_client.get("/admin/login")
    response = chat_client.post(
        "/admin/login",
        data={"username": "admin", "password": "wrong", "csrf": csrf_of(form.text)},
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password" in response.text
    assert "companion_admin=" not in response.headers.get("set-cookie", "")
    # Still signed out: a page sends the browser to the sign-in form.
    page = chat_client.get("/admin/acme/overview", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=/admin/acme/overview"


def test_posts_without_the_csrf_token_are_refused(
    chat_client: TestClient, demo_session: Session
) -> None:
    form = chat_client.get("/admin/login")
    login = {"username": "admin", "password": "demo"}
    assert chat_client.post("/admin/login", data=login).status_code == 403
    token = csrf_of(form.text)
    assert chat_client.post("/admin/login", data={**login, "csrf": token + "x"}).status_code == 403
    csrf = sign_in(chat_client, "admin")
    url = "/admin/acme/actions/create_customer"
    missing = chat_client.post(url, data={})
    assert missing.status_code == 403 and "security token" in missing.text
    wrong = chat_client.post(url, data={"csrf": "not-the-token"})
    assert wrong.status_code == 403
    rule = action_settings.rule_for(demo_session, member(demo_session, "admin"), "create_customer")
    assert rule.disabled is False  # neither refused POST changed anything
    ok = chat_client.post(url, data={"csrf": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    # Through a header works as well (for scripts on the page).
    header = chat_client.post(
        url, data={"enabled": "on"}, headers={"X-CSRF-Token": csrf}, follow_redirects=False
    )
    assert header.status_code == 303


def test_a_forged_or_expired_session_is_signed_out(
    chat_client: TestClient, demo_clock: FixedClock
) -> None:
    sign_in(chat_client, "admin")
    assert chat_client.get("/admin/acme/overview").status_code == 200
    demo_clock.advance(dt.timedelta(hours=9))  # past the 8-hour session
    expired = chat_client.get("/admin/acme/overview", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/admin/login")
    chat_client.cookies.clear()
    chat_client.cookies.set("companion_admin", "eyJhbGciOiJub25lIn0.e30.", path="/admin")
    forged = chat_client.get("/admin/acme/overview", follow_redirects=False)
    assert forged.status_code == 303


def test_a_deactivated_users_session_ends(chat_client: TestClient, demo_session: Session) -> None:
    sign_in(chat_client, "admin")
    user = demo_session.execute(select(User).where(User.username == "admin")).scalar_one()
    user.is_active = False
    demo_session.commit()
    for path in ("/admin/acme/overview", "/admin/", "/admin/acme/"):
        page = chat_client.get(path, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/admin/login")


def test_sign_out_ends_the_session(chat_client: TestClient) -> None:
    csrf = sign_in(chat_client, "admin")
    out = chat_client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    assert chat_client.get("/admin/acme/overview", follow_redirects=False).status_code == 303


def test_roles_open_their_pages_only(chat_client: TestClient) -> None:
    sign_in(chat_client, "viewer")
    landing = chat_client.get("/admin/")
    assert landing.status_code == 403
    assert "text/html" in landing.headers["content-type"]
    assert "administers no company" in landing.text
    denied = chat_client.get("/admin/acme/overview")
    assert denied.status_code == 403 and "ai.admin" in denied.text
    # Finance reads the audit log (audit.read) and nothing else of the command center.
    sign_in(chat_client, "finance")
    assert str(chat_client.get("/admin/", follow_redirects=True).url).endswith("/admin/acme/audit")
    assert chat_client.get("/admin/acme/audit").status_code == 200
    for section in ("overview", "conversations", "knowledge", "actions", "models"):
        assert chat_client.get(f"/admin/acme/{section}").status_code == 403, section
    # A company the user does not belong to is refused like in the API.
    assert chat_client.get("/admin/globex/audit").status_code == 403


def test_another_companys_records_are_not_found(chat_client: TestClient, login: Any) -> None:
    globex = Talk(chat_client, login("gfinance"))
    globex.say("what is our cash balance?")
    acme = Talk(chat_client, login("finance"))
    acme.say("what is our cash balance?")
    sign_in(chat_client, "admin")
    other = chat_client.get(f"/admin/acme/conversations/{globex.conversation_id}")
    assert other.status_code == 404 and "Conversation not found" in other.text
    missing = chat_client.get("/admin/acme/conversations/no-such-conversation")
    assert missing.status_code == 404
    own = chat_client.get(f"/admin/globex/conversations/{globex.conversation_id}")
    assert own.status_code == 200 and "gfinance" in own.text
    listed = chat_client.get("/admin/acme/conversations").text
    assert acme.conversation_id in listed and globex.conversation_id not in listed
    # The switcher goes to the same section of the other company, only among the user's own.
    switched = chat_client.get("/admin/switch?to=globex&section=conversations")
    assert str(switched.url).endswith("/admin/globex/conversations")
    assert chat_client.get("/admin/switch?to=initech").status_code == 403
