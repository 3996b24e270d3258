"""Signing in and out of the command center, choosing a company, and its static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from companion.auth import service as auth_service
from companion.errors import NotAuthenticated, NotFound, PermissionDenied
from companion.web.admin import session as cookie
from companion.web.admin.base import (
    HERE,
    SECTIONS,
    SECURITY_HEADERS,
    AdminRoute,
    CsrfChecked,
    CsrfRejected,
    administrable,
    render,
    signed_in_user,
)
from companion.web.deps import ContainerDep, SessionDep

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)
STATIC = {"admin.css": "text/css", "admin.js": "text/javascript"}
SECTION_KEYS = frozenset(key for key, _, _ in SECTIONS)


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a command-center path only (no open redirect)."""
    if value and value.startswith("/admin/") and "//" not in value and "\\" not in value:
        return value[:300]
    return "/admin/"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def _login_page(
    request: Request,
    container: ContainerDep,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = cookie.login_token(request)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        title="Sign in",
        login_csrf=token,
        next=next_url,
        username=username,
        error=error,
    )
    cookie.keep_login_token(response, request, container.settings, token)
    return response


@router.get("/static/{name}")
def static_file(name: Annotated[str, Path(max_length=32)]) -> Response:
    """The command center's stylesheet and script (served here: no CDN, no build step)."""
    if name not in STATIC:
        raise NotFound("No such file", details={"name": name[:32]})
    return FileResponse(
        HERE / "static" / name,
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/login")
def login_form(
    request: Request,
    container: ContainerDep,
    next: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """The sign-in form."""
    return _login_page(request, container, next_url=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Check the password; on success a session cookie and the page asked for."""
    if not cookie.tokens_match(request.cookies.get(cookie.LOGIN_COOKIE), csrf):
        raise CsrfRejected(
            "The sign-in form expired or was not sent from this site; reload it and try again",
            details={"reason": "csrf"},
        )
    # The API's sign-in limits, counted together: 429 while the name or address is locked.
    limiter = container.rate_limiter()
    address = request.client.host if request.client else None
    limiter.check_login(username, address)
    try:
        user = auth_service.authenticate(
            session, container.password_hasher, username.strip(), password
        )
    except NotAuthenticated as exc:
        limiter.login_failed(username, address)
        return _login_page(
            request,
            container,
            next_url=_safe_next(next),
            username=username,
            error=exc.message,
            status_code=401,
        )
    response = _redirect(_safe_next(next))
    cookie.start(response, request, container.settings, user.id, container.clock.now())
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout() -> Response:
    """Sign out and go back to the sign-in form."""
    response = _redirect("/admin/login")
    cookie.end(response)
    return response


@router.get("/")
def landing(request: Request, session: SessionDep, container: ContainerDep) -> Response:
    """The first company the signed-in user can administer (403 when there is none)."""
    user, _ = signed_in_user(request, session, container)
    companies = administrable(session, user.id)
    if not companies:
        raise PermissionDenied(
            "Your account administers no company: the command center needs the ai.admin, "
            "kb.manage or audit.read permission",
            details={"permission": "ai.admin"},
        )
    return _redirect(f"/admin/{companies[0].slug}/")


@router.get("/switch")
def switch(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    to: Annotated[str, Query(min_length=1, max_length=64)],
    section: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The company switcher: the same section in the chosen company."""
    user, _ = signed_in_user(request, session, container)
    if to not in {c.slug for c in administrable(session, user.id)}:
        raise PermissionDenied(
            f"You do not administer company '{to[:64]}'",
            details={"company": to[:64], "reason": "not_a_member"},
        )
    return _redirect(f"/admin/{to}/{section if section in SECTION_KEYS else ''}")
