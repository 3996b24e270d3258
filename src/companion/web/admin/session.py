"""The command center's sign-in session: a signed, expiring cookie carrying a CSRF token.

Stateless on purpose: the cookie is a JWT signed with a key derived from the auth secret
(so an API bearer token is never accepted as a session, nor the reverse). It holds the
user id, its expiry and the session's CSRF token; every POST must send that token back in
a form field or the ``X-CSRF-Token`` header. The cookie is HttpOnly (scripts cannot read
it), SameSite=Strict (other sites cannot send it) and Secure over https.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import Response

from companion.config import Settings

COOKIE = "companion_admin"
# Before sign-in there is no session: the login form's token lives in a cookie of its own.
LOGIN_COOKIE = "companion_admin_login"
COOKIE_PATH = "/admin"
AUDIENCE = "companion-admin"
LOGIN_TTL = dt.timedelta(minutes=30)
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class AdminSession:
    """A valid session: who signed in, until when, and the token every POST must echo."""

    user_id: int
    csrf: str
    expires_at: dt.datetime


def _key(settings: Settings, purpose: str) -> str:
    return hmac.new(
        settings.auth.secret_key.encode(), f"companion-admin:{purpose}".encode(), hashlib.sha256
    ).hexdigest()


def _secure(settings: Settings, request: Request) -> bool:
    configured = settings.admin.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def _set(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    ttl: dt.timedelta,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(ttl.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(settings, request),
    )


def start(
    response: Response, request: Request, settings: Settings, user_id: int, now: dt.datetime
) -> AdminSession:
    """Sign ``user_id`` in: a new session (and CSRF token) in the cookie of ``response``."""
    ttl = dt.timedelta(minutes=settings.admin.session_minutes)
    session = AdminSession(user_id=user_id, csrf=secrets.token_urlsafe(24), expires_at=now + ttl)
    claims = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "csrf": session.csrf,
        "iat": int(now.timestamp()),
        "exp": int(session.expires_at.timestamp()),
    }
    _set(
        response,
        request,
        settings,
        COOKIE,
        jwt.encode(claims, _key(settings, "session"), _ALGORITHM),
        ttl,
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return session


def end(response: Response) -> None:
    """Sign out: the browser drops the cookie."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def read(request: Request, settings: Settings, now: dt.datetime) -> AdminSession | None:
    """The request's session, or None when there is none or it is forged or expired."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            _key(settings, "session"),
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            # Expiry follows the clock port (tests move it), not the wall clock.
            options={"require": ["sub", "exp", "csrf"], "verify_exp": False},
        )
        user_id = int(claims["sub"])
        expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
        csrf = str(claims["csrf"])
    except (jwt.InvalidTokenError, TypeError, ValueError, OverflowError, OSError):
        return None
    if now >= expires or not csrf:
        return None
    return AdminSession(user_id=user_id, csrf=csrf, expires_at=expires)


def login_token(request: Request) -> str:
    """The login form's CSRF token: the one already in its cookie, else a new one."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    if 16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum():
        return token
    return secrets.token_urlsafe(24)


def keep_login_token(response: Response, request: Request, settings: Settings, token: str) -> None:
    """Put the login form's token in its cookie (double submit: form field == cookie)."""
    _set(response, request, settings, LOGIN_COOKIE, token, LOGIN_TTL)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
