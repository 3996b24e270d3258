"""Signing in to the command center through its real form, as a browser would."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
DEMO_PASSWORD = "demo"


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign ``username`` in (the client keeps the cookie); the session's CSRF token.

    Every page carries it, the error pages too (their sign-out form).
    """
    client.cookies.clear()
    form = client.get("/admin/login")
    assert form.status_code == 200, form.text
    response = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    landing = client.get("/admin/", follow_redirects=True)
    return csrf_of(landing.text)
