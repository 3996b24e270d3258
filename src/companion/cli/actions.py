"""``actions`` commands: the sweep a scheduler runs to expire unanswered confirmations."""

from __future__ import annotations

import typer

from companion.cli.common import cli_errors, out, unit_of_work
from companion.cli.main import app

actions_app = typer.Typer(no_args_is_help=True, help="AI actions waiting for confirmation.")
app.add_typer(actions_app, name="actions")


@actions_app.command("sweep")
def sweep() -> None:
    """Mark confirmations past their expiry as expired (run it every minute or so)."""
    from companion.assistant.actions.sweep import expire_pending
    from companion.kit.db import utcnow

    with cli_errors(), unit_of_work() as session:
        count = expire_pending(session, utcnow())
    out.print(f"Expired {count} confirmation(s)")
