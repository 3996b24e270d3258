"""The ``companion`` command: each group of commands lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Companion: an AI companion for a multi-company ERP.")


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from companion.cli import (  # noqa: F401
        actions,
        admin,
        alerts,
        assistant,
        demo,
        jobs,
        knowledge,
        learning,
        pii,
    )


_register()
