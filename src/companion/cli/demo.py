"""``companion demo``: build the deterministic demo and start the server."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from companion.bootstrap import Container, bootstrap
from companion.cli.admin import serve as serve_command
from companion.cli.common import cli_errors, fail
from companion.cli.main import app
from companion.config import get_settings
from companion.demo import repository as demo_repo
from companion.demo.plan import CompanyPlan
from companion.demo.planner import plan_demo
from companion.demo.profiles import PASSWORD, USERS
from companion.demo.schemas import DemoSummary
from companion.demo.service import build_planned
from companion.kit import migrate
from companion.kit.db import session_scope

out = Console(highlight=False)


@app.command()
def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the database and build the demo afresh")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server once the demo is ready")
    ] = True,
    today: Annotated[
        str | None,
        typer.Option(help="The demo's 'today' (YYYY-MM-DD); default COMPANION_TODAY or the date"),
    ] = None,
    months: Annotated[int, typer.Option(min=1, max=36, help="Months of history")] = 13,
    scale: Annotated[
        float, typer.Option(min=0.05, max=5.0, help="Volume of customers, items and orders")
    ] = 1.0,
) -> None:
    """Create or migrate the database, load the demo data and serve on 127.0.0.1:8000."""
    with cli_errors():
        if today is not None:
            try:
                dt.date.fromisoformat(today)
            except ValueError as exc:
                raise fail(f"--today must be a date like 2026-03-31, not {today!r}", 2) from exc
            os.environ["COMPANION_TODAY"] = today
        # Demo mode allows the built-in secret; the server started below reads it too.
        os.environ["COMPANION_DEMO_MODE"] = "true"
        get_settings.cache_clear()
        container = bootstrap(get_settings())
        day = container.settings.current_date()
        try:
            # Plan before --reset drops anything: a demo that cannot be planned loses nothing.
            plans = _plan(day, months, scale) if reset else None
            if reset:
                container = _reset(container)
            migrate.upgrade(container.engine)
            with session_scope(container.session_factory) as session:
                present = demo_repo.companies_exist(session)
            if present:
                out.print("The database already holds the demo (use --reset to rebuild it).")
            else:
                _build(container, plans if plans is not None else _plan(day, months, scale), months)
            # Train (or load) the assistant's language model now, not on the first question.
            with out.status("Preparing the assistant's language model…"):
                container.assistant()
            # The index is derived from the chunk table: rebuild it so it matches this database.
            with out.status("Indexing the knowledge base…"):
                _index_documents(container)
        finally:
            container.engine.dispose()
        _print_users()
    if serve:
        settings = get_settings()
        out.print(
            f"Open [bold]http://{settings.host}:{settings.port}/demo/[/bold] in a browser: sign"
            " in as any user above; Companion is the round button on every page."
        )
        serve_command(host=None, port=None, reload=False)


def _plan(day: dt.date, months: int, scale: float) -> list[CompanyPlan]:
    """The demo's plans, or a clear error (exit 2) when these options cannot make one."""
    try:
        with out.status("Planning the demo…"):
            return plan_demo(day, months=months, scale=scale)
    except (ValueError, OverflowError) as exc:
        # Only a "today" near the calendar's ends gets here (the options are range-checked).
        raise fail(
            f"Cannot plan {months} months ending {day.isoformat()} at scale {scale}: {exc}", 2
        ) from exc


def _build(container: Container, plans: list[CompanyPlan], months: int) -> None:
    url = container.engine.url.render_as_string(hide_password=True)
    day = plans[0].today
    out.print(f"Building the demo in {escape(url)}: {months} months ending {day.isoformat()}")
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task("Creating users", total=1000)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=escape(message), completed=int(fraction * 1000))

        with session_scope(container.session_factory) as session:
            summary = build_planned(session, container.password_hasher, plans, progress=progress)
    elapsed = time.perf_counter() - started
    _print_summary(summary)
    out.print(f"Built in {elapsed:.1f} s.")


def _index_documents(container: Container) -> None:
    from companion.knowledge.repository import iter_chunk_docs

    with session_scope(container.session_factory) as session:
        version = container.retriever().rebuild(iter_chunk_docs(session))
    out.print(f"Knowledge index {escape(version)} ready.")


def _reset(container: Container) -> Container:
    """Remove the SQLite file, or drop every table of another database."""
    url = container.engine.url
    container.engine.dispose()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        out.print(f"Deleted {escape(str(path))}.")
        return bootstrap(container.settings)
    config = migrate.alembic_config()
    with container.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    out.print("Dropped every table.")
    return container


def _print_summary(summary: DemoSummary) -> None:
    table = Table(title=f"Demo companies ({summary.start} to {summary.today})")
    for column in ("company", "currency", "customers", "items", "sales orders", "invoices", "POs"):
        table.add_column(column)
    for c in summary.companies:
        table.add_row(
            f"{c.name} ({c.slug})",
            c.currency,
            str(c.customers),
            str(c.items),
            str(c.sales_orders),
            str(c.ar_invoices),
            str(c.purchase_orders),
        )
    out.print(table)


def _print_users() -> None:
    table = Table(title=f"Demo users (password: {PASSWORD})")
    table.add_column("username")
    table.add_column("name")
    table.add_column("companies and roles")
    for user in USERS:
        access = ", ".join(f"{slug}: {'+'.join(roles)}" for slug, roles in user.memberships)
        table.add_row(user.username, user.full_name, access)
    out.print(table)
    out.print(f"Password for every demo user: [bold]{PASSWORD}[/bold]")
