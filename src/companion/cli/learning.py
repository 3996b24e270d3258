"""``nlu`` and ``learning`` commands: retrain a company's NLU behind the gate, list and roll
back its models; export a dataset version, record a fine-tune run, purge old telemetry.

Each acts as a user of the company (``--user``, who needs ``ai.review``), like ``ask``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from companion.cli.common import cli_errors, fail, migrated_container, out
from companion.cli.main import app
from companion.kit.db import session_scope

nlu_app = typer.Typer(no_args_is_help=True, help="Per-company NLU models from corrections.")
learning_app = typer.Typer(no_args_is_help=True, help="Training data, datasets and telemetry.")
app.add_typer(nlu_app, name="nlu")
app.add_typer(learning_app, name="learning")

Company = Annotated[str, typer.Option("--company", help="Company slug")]
User = Annotated[str, typer.Option("--user", help="A user of the company with ai.review")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _context(session: Session, user: str, company: str) -> Any:
    from companion.auth.service import context_for_user

    return context_for_user(session, user, company)


def _model_line(model: Any) -> str:
    if model is None:
        return "v0 (the shipped model) is active"
    gate = model.gate
    held, own = gate.get("heldout", {}), gate.get("company", {})
    reasons = f" ({'; '.join(gate.get('reasons', []))})" if gate.get("reasons") else ""
    return (
        f"v{model.version} {model.status}{reasons}: held-out {held.get('before')} -> "
        f"{held.get('after')} ({held.get('count')}), company {own.get('before')} -> "
        f"{own.get('after')} ({own.get('count')}), {model.examples} examples, "
        f"trained in {model.train_seconds:.1f} s"
    )


@nlu_app.command("retrain")
def retrain(company: Company, user: User, as_json: Json = False) -> None:
    """Retrain the company's NLU on its approved intent corrections; promoted if the gate passes."""
    from companion.assistant.learning import retrain as service

    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        ctx = _context(session, user, company)
        model = service.retrain(
            session, ctx, c.company_models(), tolerance=c.settings.learning.gate_tolerance
        )
    out.print(model.model_dump_json(indent=2) if as_json else escape(_model_line(model)))
    if model.status == "refused":
        raise typer.Exit(2)


@nlu_app.command("models")
def models(company: Company, user: User, as_json: Json = False) -> None:
    """The company's retrained models, newest first, with their gate figures."""
    from companion.assistant.learning import retrain as service

    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        rows = service.list_models(session, _context(session, user, company))
    if as_json:
        out.print(json.dumps([m.model_dump(mode="json") for m in rows], indent=2))
        return
    if not any(m.status == "active" for m in rows):
        out.print(_model_line(None))
    for model in rows:
        out.print(escape(_model_line(model)))


@nlu_app.command("rollback")
def rollback(
    company: Company,
    user: User,
    version: Annotated[int, typer.Argument(min=0, help="The version to use; 0: shipped")],
) -> None:
    """Make an earlier model the company's active one again (0: the shipped model)."""
    from companion.assistant.learning import retrain as service

    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        model = service.rollback(session, _context(session, user, company), version)
    out.print(escape(_model_line(model)))


@learning_app.command("export")
def export(
    company: Company,
    user: User,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="At most this many")] = 200,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Also write chat.jsonl, nlu.yml, manifest.json")
    ] = None,
) -> None:
    """Export the newest approved examples as a dataset version (JSONL + Rasa YAML)."""
    from companion.assistant.learning import export as service
    from companion.assistant.learning import repository as repo

    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        ctx = _context(session, user, company)
        dataset, created = service.export_dataset(session, ctx, limit=limit)
        files = service.dataset_files(repo.get_dataset(session, ctx, dataset.version))
    if out_dir is not None:
        folder = out_dir / f"{company}-v{dataset.version}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "chat.jsonl").write_text(files.chat_jsonl, encoding="utf-8")
            (folder / "nlu.yml").write_text(files.rasa_yaml, encoding="utf-8")
            (folder / "manifest.json").write_text(json.dumps(files.manifest, indent=2) + "\n")
        except OSError as exc:
            raise fail(f"Cannot write {folder}: {exc}") from exc
    state = "new" if created else "unchanged, the latest"
    out.print(f"Dataset v{dataset.version} ({state}): {dataset.count} examples, {dataset.sha256}")


@learning_app.command("finetune")
def finetune(
    company: Company,
    user: User,
    dataset_version: Annotated[int, typer.Option("--dataset", min=1, help="Dataset version")],
    base_model: Annotated[str, typer.Option("--base-model")],
    adapter: Annotated[str, typer.Option("--adapter", help="Where the LoRA adapter is")],
    parameters: Annotated[str, typer.Option(help="JSON: r, alpha, epochs, lr ...")] = "{}",
    evaluation: Annotated[str, typer.Option(help="JSON: the run's figures")] = "{}",
    status: Annotated[str, typer.Option(help="planned, running, done or failed")] = "done",
) -> None:
    """Record a LoRA fine-tune run made here or elsewhere (not a trainer)."""
    from pydantic import ValidationError

    from companion.assistant.learning import finetune as service
    from companion.assistant.learning.schemas import FinetuneIn

    try:
        body = FinetuneIn(
            dataset_version=dataset_version,
            base_model=base_model,
            adapter=adapter,
            status=status,
            parameters=json.loads(parameters),
            evaluation=json.loads(evaluation),
        )
    except (ValueError, ValidationError) as exc:
        raise fail(f"Invalid run: {str(exc).splitlines()[0]}") from exc
    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        run = service.record_run(session, _context(session, user, company), body)
    out.print(f"Recorded fine-tune run {run.id} on dataset v{run.dataset_version}")


@learning_app.command("purge")
def purge() -> None:
    """Delete telemetry events older than the retention period (every company)."""
    from companion.assistant.learning.telemetry import purge as service
    from companion.kit.db import utcnow

    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        days = c.settings.learning.telemetry_retention_days
        count = service(session, now=utcnow(), retention_days=days)
    out.print(f"Deleted {count} telemetry event(s) older than {days} days")
