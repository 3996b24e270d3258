"""The request context every tenant read and write takes, and the one scoping helper."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam

from companion.errors import PermissionDenied
from companion.tenancy.permissions import roles_granting

# Any SELECT, whatever its columns (SQLAlchemy 2.1 types them as a variadic tuple).
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class RequestContext:
    """Who is acting, in which company, with which roles and permissions."""

    user_id: int
    username: str
    company_id: int
    company_slug: str
    currency: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    locale: str = "en"
    fiscal_year_start_month: int = 1
    # The company's name and time zone as signed in (None: not known, read when needed).
    company_name: str | None = None
    timezone: str | None = None
    via_ai: bool = False
    api_key_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def can(self, permission: str) -> bool:
        """Whether the caller holds ``permission`` in the active company."""
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise ``PermissionDenied`` naming the roles that grant ``permission``."""
        if permission not in self.permissions:
            roles = roles_granting(permission)
            raise PermissionDenied(
                f"This needs the '{permission}' permission"
                + (f" (role {' or '.join(roles)})" if roles else ""),
                details={"permission": permission, "roles": roles},
            )

    def as_ai(self) -> RequestContext:
        """The same context, marked as acting through the assistant (audit ``via_ai``)."""
        return RequestContext(**{**self.__dict__, "via_ai": True})


def scoped(stmt: S, model: Any, ctx: RequestContext) -> S:
    """Restrict ``stmt`` to the context's company: the only way tenant rows are read.

    A join reads several tenant tables: scope each of them (``scoped(scoped(stmt, A, ctx),
    B, ctx)``), so no table's rows of another company can match a join condition.
    ``make lint`` (scripts/check_tenancy.py) fails on a ``company_id`` filter written by
    hand outside this package and the repositories.
    """
    return stmt.where(in_company(model, ctx))


# The bound parameter a statement scoped by ``scoped_later`` takes the company from.
COMPANY_PARAM = "tenant_company_id"


def scoped_later(stmt: S, model: Any) -> S:
    """``scoped`` for a statement built once and run for many callers: the company is a
    bound parameter, given at each run as ``company_param(ctx)`` (a run without it fails)."""
    return stmt.where(model.company_id == bindparam(COMPANY_PARAM))


def company_param(ctx: RequestContext) -> dict[str, int]:
    """The parameters a ``scoped_later`` statement runs with for the caller."""
    return {COMPANY_PARAM: ctx.company_id}


def in_company(model: Any, ctx: RequestContext) -> ColumnElement[bool]:
    """The condition ``scoped`` adds, for where a statement is not at hand (``exists()``)."""
    condition: ColumnElement[bool] = model.company_id == ctx.company_id
    return condition
