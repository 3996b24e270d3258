"""The demo host's routes: sign-in, dashboard, invoices, purchase orders, stock."""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from companion.assistant.queries import registry as queries
from companion.assistant.queries.registry import QueryParams
from companion.assistant.queries.runner import run_query
from companion.assistant.skills.data_query import table_data
from companion.auth import service as auth_service
from companion.demo.profiles import PASSWORD, USERS
from companion.erp.invoicing import repository as invoices_repo
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.schemas import InvoiceFilters
from companion.erp.parties import repository as parties_repo
from companion.erp.purchasing import repository as po_repo
from companion.erp.purchasing.approvals import pending_approvals_for
from companion.erp.stock import repository as stock_repo
from companion.errors import CompanionError, NotAuthenticated, NotFound
from companion.kit.fields import Text
from companion.kit.money import format_money
from companion.tenancy.context import RequestContext
from companion.tenancy.figures import FIGURES
from companion.web.deps import ContainerDep, RecordId, SessionDep

TOKEN_COOKIE = "companion_demo_token"
COMPANY_COOKIE = "companion_demo_company"
PAGE_SIZE = 25

router = APIRouter(prefix="/demo", include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(str(resources.files(__package__).joinpath("templates"))),
    autoescape=select_autoescape(default=True),  # every value rendered is escaped
    trim_blocks=True,
    lstrip_blocks=True,
)
# Quantities as written (610, 2.5), never Decimal.normalize()'s exponent form (6.1E+2).
_templates.filters["qty"] = lambda value: format(value.normalize(), "f")


def install(app: FastAPI) -> None:
    """Mount the demo pages and send ``/`` to them."""
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/demo/", status_code=307)


def _render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _caller(request: Request, session: Session, container: ContainerDep) -> RequestContext | None:
    """The signed-in demo user in the chosen company, or None (signed out, expired)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        return auth_service.resolve_context(
            session,
            container.settings,
            container.clock,
            authorization=f"Bearer {token}",
            api_key=None,
            company_slug=request.cookies.get(COMPANY_COOKIE),
        )
    except CompanionError:
        return None  # an expired token or a company left: sign in again


def _page(
    request: Request,
    session: Session,
    container: ContainerDep,
    figure: str | None,
    build: Callable[[RequestContext], dict[str, Any]],
    *,
    template: str,
    module: str,
    record: str | None = None,
) -> Response:
    """A page for the signed-in user, or the sign-in page; a 403 page without the figure."""
    ctx = _caller(request, session, container)
    if ctx is None:
        return RedirectResponse("/demo/login", status_code=303)
    shell = _shell(request, session, ctx, module)
    permission = FIGURES[figure].permission if figure else None
    if figure and permission and not ctx.can(permission):
        return _render(
            "denied.html", 403, **shell, needs=permission, meaning=FIGURES[figure].meaning
        )
    values = build(ctx)
    return _render(template, **shell, record=values.pop("record", record), **values)


def _shell(request: Request, session: Session, ctx: RequestContext, module: str) -> dict[str, Any]:
    """What every page shows: the user, the company (and the others), the widget's settings."""
    companies = auth_service.user_companies(session, ctx.user_id)
    name = next((c.name for c in companies if c.slug == ctx.company_slug), ctx.company_slug)
    return {
        "user": auth_service.get_user(session, ctx.user_id),
        "company": {"slug": ctx.company_slug, "name": name, "currency": ctx.currency},
        "companies": companies,
        "roles": list(ctx.roles),
        "module": module,
        "token": request.cookies.get(TOKEN_COOKIE),
        "locale": ctx.locale.replace("_", "-"),
        "path": request.url.path,
    }


def _money(ctx: RequestContext) -> Callable[[Any, str | None], str]:
    def fmt(amount: Any, currency: str | None = None) -> str:
        return format_money(amount, currency or ctx.currency, ctx.locale)

    return fmt


def _pages(total: int, page: int) -> dict[str, int]:
    return {"page": page, "pages": max(1, math.ceil(total / PAGE_SIZE)), "total": total}


PageNo = Annotated[int, Query(ge=1, le=100_000)]


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    """Sign in as any demo user."""
    return _render("login.html", users=USERS, password=PASSWORD, error=None)


@router.post("/login")
def login(
    session: SessionDep,
    container: ContainerDep,
    username: Annotated[Text, Form(max_length=64)],
    password: Annotated[Text, Form(max_length=256)],
) -> Response:
    """Exchange the password for the API's bearer token, kept in an HttpOnly cookie."""
    try:
        user = auth_service.authenticate(session, container.password_hasher, username, password)
    except NotAuthenticated:
        return _render(
            "login.html", 401, users=USERS, password=PASSWORD, error="Wrong username or password."
        )
    token, _ = auth_service.issue_token(container.settings, container.clock, user)
    response = RedirectResponse("/demo/", status_code=303)
    max_age = container.settings.auth.token_ttl_minutes * 60
    response.set_cookie(
        TOKEN_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", path="/demo"
    )
    # A user of several companies starts in the first (the header switches).
    first = auth_service.user_companies(session, user.id)[:1]
    if first:
        response.set_cookie(
            COMPANY_COOKIE, first[0].slug, httponly=True, samesite="lax", path="/demo"
        )
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the demo sign-in."""
    response = RedirectResponse("/demo/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/demo")
    response.delete_cookie(COMPANY_COOKIE, path="/demo")
    return response


@router.post("/company")
def switch_company(company: Annotated[Text, Form(max_length=64)]) -> Response:
    """Work in another of the user's companies (checked on the next page)."""
    response = RedirectResponse("/demo/", status_code=303)
    response.set_cookie(COMPANY_COOKIE, company, httponly=True, samesite="lax", path="/demo")
    return response


@router.get("/")
def dashboard(request: Request, session: SessionDep, container: ContainerDep) -> Response:
    """The headline figures and the approvals waiting for the user."""

    def build(ctx: RequestContext) -> dict[str, Any]:
        # Every role lands here: the headline figures only for those who may read them.
        values: dict[str, Any] = {"summary": None, "table": None, "needs": None}
        spec = queries.get("dashboard_summary")
        assert spec is not None  # registered with the assistant's queries
        if ctx.can(spec.permission):
            result = run_query(session, ctx, spec, QueryParams(), container.clock.today())
            values.update(summary=result.summary, table=table_data(result))
        else:
            values["needs"] = spec.permission
        approver = ctx.can(FIGURES["purchase_orders"].permission)
        values["waiting"] = pending_approvals_for(session, ctx) if approver else []
        return values

    return _page(request, session, container, None, build, template="dashboard.html", module="home")


@router.get("/invoices")
def invoices(
    request: Request, session: SessionDep, container: ContainerDep, page: PageNo = 1
) -> Response:
    """Customer invoices, newest first."""

    def build(ctx: RequestContext) -> dict[str, Any]:
        rows, total = invoices_repo.list_invoices(
            session,
            ctx,
            InvoiceFilters(kind=InvoiceKind.AR),
            today=container.clock.today(),
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        ids = {r.customer_id for r in rows if r.customer_id is not None}
        names = {i: parties_repo.get_customer(session, ctx, i).name for i in ids}
        return {
            "invoices": rows,
            "names": names,
            "money": _money(ctx),
            "today": container.clock.today(),
            **_pages(total, page),
        }

    return _page(
        request, session, container, "invoices", build, template="invoices.html", module="finance"
    )


@router.get("/purchase-orders")
def purchase_orders(
    request: Request, session: SessionDep, container: ContainerDep, page: PageNo = 1
) -> Response:
    """Purchase orders, newest first."""

    def build(ctx: RequestContext) -> dict[str, Any]:
        rows, total = po_repo.list_orders(
            session, ctx, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        return {
            "orders": rows,
            "names": _supplier_names(session, ctx, [r.supplier_id for r in rows]),
            "money": _money(ctx),
            **_pages(total, page),
        }

    return _page(
        request,
        session,
        container,
        "purchase_orders",
        build,
        template="purchase_orders.html",
        module="purchasing",
    )


@router.get("/purchase-orders/{order_id}")
def purchase_order(
    order_id: RecordId, request: Request, session: SessionDep, container: ContainerDep
) -> Response:
    """One purchase order: lines and approvals; the widget knows it is this order's page."""

    def build(ctx: RequestContext) -> dict[str, Any]:
        order = po_repo.get_order(session, ctx, order_id)
        return {
            "order": order,
            "supplier": _supplier_names(session, ctx, [order.supplier_id])[order.supplier_id],
            "money": _money(ctx),
            "record": order.number,
        }

    try:
        return _page(
            request,
            session,
            container,
            "purchase_orders",
            build,
            template="purchase_order.html",
            module="purchasing",
        )
    except NotFound:  # another company's order looks exactly like a missing one
        ctx = _caller(request, session, container)
        assert ctx is not None  # _page redirects a signed-out caller before reading
        shell = _shell(request, session, ctx, "purchasing")
        return _render("missing.html", 404, **shell, what=f"Purchase order {order_id}")


@router.get("/stock")
def stock(
    request: Request, session: SessionDep, container: ContainerDep, page: PageNo = 1
) -> Response:
    """On-hand quantities by item and warehouse, low ones marked."""

    def build(ctx: RequestContext) -> dict[str, Any]:
        rows, total = stock_repo.list_levels(
            session, ctx, limit=PAGE_SIZE * 2, offset=(page - 1) * PAGE_SIZE * 2
        )
        return {
            "levels": rows,
            "page": page,
            "pages": max(1, math.ceil(total / (PAGE_SIZE * 2))),
            "total": total,
        }

    return _page(
        request, session, container, "stock", build, template="stock.html", module="inventory"
    )


def _supplier_names(session: Session, ctx: RequestContext, ids: list[int]) -> dict[int, str]:
    return {i: parties_repo.get_supplier(session, ctx, i).name for i in set(ids)}
