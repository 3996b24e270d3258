"""``companion ask`` (one chat turn, in-process) and ``companion eval`` (NLU accuracy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from companion.assistant.schemas import ChatRequest, ChatResponse
from companion.auth.service import context_for_user
from companion.cli.common import cli_errors, container, out
from companion.cli.main import app
from companion.jobs.imports import chat as chat_imports
from companion.kit import migrate
from companion.kit.db import session_scope


@app.command()
def ask(
    message: Annotated[str, typer.Argument(help="What to ask, in plain language")],
    company: Annotated[str | None, typer.Option(help="Company slug")] = None,
    user: Annotated[str, typer.Option(help="Ask as this user")] = ...,  # type: ignore[assignment]
    conversation: Annotated[
        str | None, typer.Option(help="Continue this conversation (id)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON response")] = False,
) -> None:
    """One chat turn without a server: same code path and answer as the API."""
    with cli_errors():
        c = container()
        try:
            migrate.ensure_current(c.engine)
            chat_imports.install(c)  # "status of import 12", "commit import 12"
            with session_scope(c.session_factory) as session:
                ctx = context_for_user(session, user, company)
                request = ChatRequest(message=message, conversation_id=conversation)
                response = c.assistant().turn(session, ctx, request)
        finally:
            c.engine.dispose()
    if as_json:
        typer.echo(response.model_dump_json(indent=2))
        return
    _print_answer(response)


def _print_answer(response: ChatResponse) -> None:
    out.print(response.message)
    data = response.data if isinstance(response.data, dict) else None
    if response.data is not None and not isinstance(response.data, dict):
        data = response.data.model_dump()
    if data and data.get("columns") and data.get("rows"):
        table = Table(*[str(c) for c in data["columns"]])
        for row in data["rows"][:50]:
            table.add_row(*[_cell(v) for v in row])
        out.print(table)
        if data.get("provenance"):
            out.print(f"[dim]{data['provenance']}[/dim]")
    if response.choices:
        out.print("Choices: " + " | ".join(response.choices))
    out.print(
        f"[dim]intent {response.intent} ({response.confidence:.2f}) · skill {response.skill} · "
        f"conversation {response.conversation_id}[/dim]"
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


@app.command("eval")
def evaluate(
    set_file: Annotated[
        Path | None, typer.Option("--set", help="A labelled YAML set (default: the shipped one)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Run a labelled set through the NLU: accuracy, per-intent P/R, entities, OOS, latency."""
    from companion.assistant.evaluation import load_eval_set
    from companion.cli.evaluation import run_eval

    with cli_errors():
        c = container()
        try:
            report = run_eval(c, load_eval_set(set_file))
        finally:
            c.engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        out.print(report.format())
