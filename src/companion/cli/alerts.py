"""``companion alerts scan``: run the alert detectors by hand (the scheduler runs the same)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import select

from companion.cli.common import cli_errors, fail, migrated_container, out
from companion.cli.main import app
from companion.kit.db import session_scope
from companion.tenancy.models import Company

alerts_app = typer.Typer(no_args_is_help=True, help="Proactive alerts.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("scan")
def scan(
    company: Annotated[
        str | None, typer.Option(help="Only this company's slug (default: every company)")
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Scan as of this date (default COMPANION_TODAY or today)")
    ] = None,
) -> None:
    """Run every detector for each company and store new alerts (safe to repeat)."""
    from companion.alerts.service import scan_company
    from companion.jobs.alert_sources import detectors_for

    with cli_errors(), migrated_container() as container:
        try:
            day = dt.date.fromisoformat(today) if today else container.settings.current_date()
        except ValueError as exc:
            raise fail(f"--today must be a date like 2026-03-31, not {today!r}", 2) from exc
        with session_scope(container.session_factory) as session:
            stmt = select(Company).where(Company.is_active.is_(True)).order_by(Company.id)
            companies = list(session.execute(stmt).scalars())
            if company is not None:
                companies = [c for c in companies if c.slug == company]
                if not companies:
                    raise fail(f"No active company {company!r}", 2)
            for c in companies:
                result = scan_company(
                    session,
                    c.id,
                    day,
                    container.settings.alerts,
                    now=container.clock.now(),
                    extra=detectors_for(container),
                )
                found = ", ".join(f"{k} {v}" for k, v in sorted(result.by_type.items()))
                out.print(
                    f"{escape(c.slug)}: {result.found} condition(s) ({escape(found or 'none')}); "
                    f"{result.created} new alert(s), {result.cleared} cleared"
                )
