"""``serve``, ``migrate``, ``users`` and ``audit`` commands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from companion.auth import repository as auth_repo
from companion.auth import service as auth_service
from companion.cli.common import (
    CLI_ACTOR,
    cli_errors,
    container,
    err,
    fail,
    migrated_container,
    out,
    unit_of_work,
)
from companion.cli.main import app
from companion.errors import NotFound
from companion.kit import migrate as migrations
from companion.kit.db import session_scope

users_app = typer.Typer(no_args_is_help=True, help="Manage users and their roles per company.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the hash-chained audit log.")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


def _roles(value: str) -> list[str]:
    return [r.strip() for r in value.split(",") if r.strip()]


def _company_id(session: Session, slug: str) -> int:
    company = auth_repo.get_company_by_slug(session, slug)
    if company is None:
        raise NotFound(f"No company with slug '{slug}'")
    return company.id


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Start the HTTP API (uvicorn)."""
    import uvicorn

    with cli_errors():
        c = container()
        try:
            migrations.ensure_current(c.engine)
        finally:
            c.engine.dispose()
        settings = c.settings
    out.print(f"Serving on http://{host or settings.host}:{port or settings.port}")
    uvicorn.run(
        "companion.web.app:asgi_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=None if reload else workers,
        log_config=None,  # companion.logging configures logging in the app factory
        access_log=False,  # one access line per request comes from the app itself
        # With --workers, uvicorn's supervisor restarts a worker that does not answer its
        # health check in time (5 s by default): a worker still loading its models on a busy
        # machine was killed and restarted for minutes (bench/mixed_load.py at load 15-20).
        timeout_worker_healthcheck=settings.api.worker_healthcheck_s,
    )


@app.command()
def migrate() -> None:
    """Apply the database migrations up to this code's revision."""
    with cli_errors():
        c = container()
        try:
            before = migrations.current_revision(c.engine)
            head = migrations.head_revision()
            url = c.engine.url.render_as_string(hide_password=True)
            if before == head:
                out.print(f"Database {escape(url)} is up to date at revision {head}.")
                return
            out.print(f"Migrating {escape(url)} from {before or 'an empty database'} to {head} ...")
            migrations.upgrade(c.engine)
            out.print(f"Done: the database is at revision {migrations.current_revision(c.engine)}.")
        finally:
            c.engine.dispose()


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password")
    ],
    full_name: Annotated[str, typer.Option(help="Display name")] = "",
    email: Annotated[str | None, typer.Option(help="Email address")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make a system administrator")] = False,
) -> None:
    """Create a user (then give them a company with ``users add-to-company``)."""
    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        user = auth_service.create_user(
            session,
            c.password_hasher,
            username=username,
            password=password,
            full_name=full_name,
            email=email,
            is_system_admin=admin,
            actor=CLI_ACTOR,
        )
        out.print(f"Created user {escape(user.username)} (id {user.id}).")


@users_app.command("add-to-company")
def users_add_to_company(
    username: Annotated[str, typer.Argument(help="Login name")],
    company_slug: Annotated[str, typer.Argument(help="Company slug, e.g. acme")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles, e.g. finance,sales")],
) -> None:
    """Make a user a member of a company with the given roles."""
    with cli_errors(), unit_of_work() as session:
        user = auth_service.get_user_by_username(session, username)
        company_id = _company_id(session, company_slug)
        if auth_repo.get_membership(session, user.id, company_id) is not None:
            raise fail(
                f"{username} already belongs to {company_slug}; use `companion users set-roles`"
            )
        auth_service.set_membership(session, user.id, company_id, _roles(roles), actor=CLI_ACTOR)
        out.print(f"{escape(username)} joined {escape(company_slug)} as {escape(roles)}.")


@users_app.command("set-roles")
def users_set_roles(
    username: Annotated[str, typer.Argument(help="Login name")],
    company_slug: Annotated[str, typer.Argument(help="Company slug, e.g. acme")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles, e.g. finance,sales")],
) -> None:
    """Replace a member's roles in a company."""
    with cli_errors(), unit_of_work() as session:
        user = auth_service.get_user_by_username(session, username)
        company_id = _company_id(session, company_slug)
        if auth_repo.get_membership(session, user.id, company_id) is None:
            raise fail(
                f"{username} does not belong to {company_slug}; "
                "use `companion users add-to-company`"
            )
        auth_service.set_membership(session, user.id, company_id, _roles(roles), actor=CLI_ACTOR)
        out.print(f"{escape(username)} now has {escape(roles)} in {escape(company_slug)}.")


@users_app.command("list")
def users_list() -> None:
    """Every user with their companies and roles."""
    with cli_errors(), unit_of_work() as session:
        memberships = auth_repo.memberships_by_user(session)
        table = Table("id", "username", "full name", "active", "admin", "companies and roles")
        for user in auth_repo.list_users(session):
            access = "; ".join(
                f"{slug}: {','.join(roles) or '-'}" for slug, roles in memberships.get(user.id, [])
            )
            table.add_row(
                str(user.id),
                escape(user.username),
                escape(user.full_name),
                "yes" if user.is_active else "no",
                "yes" if user.is_system_admin else "",
                escape(access or "-"),
            )
        out.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every audit chain; exit 1 if any entry was edited or deleted."""
    from companion.audit.service import verify

    with cli_errors(), unit_of_work() as session:
        report = verify(session)
    if report.ok:
        out.print(f"OK: {report.entries} entries in {report.chains} chains")
        return
    for problem in report.problems:
        err.print(f"[red]FAIL[/red] {escape(problem)}")
    raise fail(
        f"{len(report.problems)} problem(s) in {report.entries} entries in {report.chains} chains"
    )
