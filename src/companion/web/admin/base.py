"""What every command-center page shares: the signed-in caller, CSRF, templates, HTML errors.

The API answers errors as JSON; a page answers them as a page with the same status (a
viewer sees a 403 page, a missing or another company's record a 404 page), through
``AdminRoute``, which every admin router uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Header, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from companion.auth import repository as auth_repo
from companion.auth import service as auth_service
from companion.auth.models import User
from companion.bootstrap import Container
from companion.errors import CompanionError, NotAuthenticated, PermissionDenied
from companion.tenancy.context import RequestContext
from companion.tenancy.permissions import permissions_for, roles_granting
from companion.web.admin import session as cookie
from companion.web.deps import ContainerDep, SessionDep
from companion.web.errors import human_message

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Each section of the command center and the permission that opens it, in menu order.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "ai.admin"),
    ("conversations", "Conversations", "ai.admin"),
    ("knowledge", "Knowledge base", "kb.manage"),
    ("actions", "AI actions", "ai.admin"),
    ("alerts", "Alerts", "ai.admin"),
    ("jobs", "Jobs", "ai.admin"),
    ("models", "Models", "ai.admin"),
    ("learning", "Learning", "ai.review"),
    ("metrics", "Metrics", "ai.admin"),
    ("audit", "Audit log", "audit.read"),
    ("usage", "Usage and budgets", "usage.read"),
)
ADMIN_PERMISSIONS = frozenset(p for _, _, p in SECTIONS)
SECURITY_HEADERS = {
    # Only this server's own scripts and styles; no framing (clickjacking on the buttons).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CompanySlug = Annotated[
    str, PathParam(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


class SignInRequired(NotAuthenticated):
    """No valid session: pages redirect to the sign-in form."""

    code = "sign_in_required"


class CsrfRejected(PermissionDenied):
    """A POST without this session's CSRF token."""

    code = "csrf_rejected"


@dataclass(frozen=True)
class CompanyChoice:
    """A company the signed-in user can administer, for the switcher."""

    slug: str
    name: str


@dataclass(frozen=True)
class AdminPage:
    """The signed-in caller on a page: context in the URL's company, session, companies."""

    ctx: RequestContext
    user: User
    session: cookie.AdminSession
    companies: list[CompanyChoice]

    @property
    def sections(self) -> list[tuple[str, str]]:
        """The sections this caller may open in this company (the menu)."""
        return [(key, title) for key, title, perm in SECTIONS if self.ctx.can(perm)]


def administrable(session: Session, user_id: int) -> list[CompanyChoice]:
    """The user's companies where some role grants a command-center permission."""
    return [
        CompanyChoice(c.slug, c.name)
        for c in auth_service.user_companies(session, user_id)
        if permissions_for(c.roles) & ADMIN_PERMISSIONS
    ]


def signed_in_user(
    request: Request, session: Session, container: Container
) -> tuple[User, cookie.AdminSession]:
    """The active user of the request's session, else ``SignInRequired``."""
    found = cookie.read(request, container.settings, container.clock.now())
    user = auth_repo.get_user(session, found.user_id) if found is not None else None
    if found is None or user is None or not user.is_active:
        raise SignInRequired("Sign in to the command center")
    return user, found


class RequireAdmin:
    """A page's dependency: a signed-in member of the URL's company holding ``permission``."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(
        self, request: Request, company: CompanySlug, session: SessionDep, container: ContainerDep
    ) -> AdminPage:
        user, found = signed_in_user(request, session, container)
        ctx = auth_service.context_for_user(session, user.username, company)
        request.state.context = ctx  # the access log names the user and company
        ctx.require(self.permission)
        return AdminPage(ctx, user, found, administrable(session, user.id))


def page_for(permission: str) -> Any:
    """``Depends`` for a page that needs ``permission`` in the URL's company."""
    return Depends(RequireAdmin(permission))


def csrf_checked(
    request: Request,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
    x_csrf_token: Annotated[str | None, Header(max_length=200)] = None,
) -> None:
    """403 unless the POST carries this session's CSRF token (form field or header)."""
    container = request.app.state.container
    found = cookie.read(request, container.settings, container.clock.now())
    if found is None:
        raise SignInRequired("Sign in to the command center")
    if not cookie.tokens_match(found.csrf, csrf or x_csrf_token):
        raise CsrfRejected(
            "The form's security token is missing or wrong; reload the page and try again",
            details={"reason": "csrf"},
        )


CsrfChecked = Depends(csrf_checked)


def render(
    request: Request,
    template: str,
    page: AdminPage | None = None,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page from ``template`` with the layout's values (menu, companies, CSRF token)."""
    html = templates.get_template(template).render(
        request=request,
        page=page,
        ctx=page.ctx if page else None,
        csrf=page.session.csrf if page else None,
        **values,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def error_page(
    request: Request, status_code: int, title: str, message: str, **details: Any
) -> HTMLResponse:
    """The page shown for an error (the status is the API's for the same error).

    A signed-in caller gets a sign-out button on it: a viewer refused here can switch user.
    """
    container = request.app.state.container
    found = cookie.read(request, container.settings, container.clock.now())
    return render(
        request,
        "error.html",
        status_code=status_code,
        title=title,
        message=message,
        details=details,
        signout_csrf=found.csrf if found else None,
    )


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in form, coming back here afterwards (a GET only)."""
    target = "/admin/login"
    if request.method == "GET":
        target += "?next=" + quote(request.url.path, safe="/")
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported file",
    422: "Please check the form",
    429: "Too many requests",
    503: "Unavailable",
}


def _validation_message(exc: RequestValidationError) -> tuple[str, list[str]]:
    problems = []
    for error in list(exc.errors())[:20]:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or "request"
        problems.append(
            f"{field}: {human_message(str(error.get('msg', '')), str(error.get('type', '')))}"
        )
    return "Some of what was sent is not valid.", problems


class AdminRoute(APIRoute):
    """An admin route: errors become pages with the same status; no session, the sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except RequestValidationError as exc:
                message, problems = _validation_message(exc)
                return error_page(request, 422, _TITLES[422], message, problems=problems)
            except CompanionError as exc:
                if exc.status_code >= 500:
                    log.warning("%s: %s", exc.code, exc.message)
                needs = ""
                if isinstance(exc, PermissionDenied) and exc.details.get("permission"):
                    roles = roles_granting(str(exc.details["permission"]))
                    needs = ", ".join(roles)
                return error_page(
                    request,
                    exc.status_code,
                    _TITLES.get(exc.status_code, "Error"),
                    exc.message,
                    code=exc.code,
                    roles=needs,
                )

        return admin_handler
