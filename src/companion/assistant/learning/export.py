"""Dataset export: approved examples as chat-format JSONL and Rasa NLU YAML, PII-redacted,
versioned with a manifest (counts, sha256, source message ids).

``export_dataset`` is a plain function: the API, ``companion learning export`` and the
periodic job ``learning.export`` (``scheduled_export``, as the system actor) call the same
code. An export whose files are identical to the latest version's returns that version
instead of adding another.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import Dataset, TrainingExample
from companion.assistant.learning.schemas import DatasetFiles, DatasetOut
from companion.audit import service as audit
from companion.errors import InvalidState
from companion.governance.pii import redact
from companion.kit.clock import Clock
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

DEFAULT_LIMIT = 200
# Who the scheduled export is in the audit log (it runs for no user).
SYSTEM_ACTOR = "system:learning.export"
ANSWER_PROMPT = (
    "You are Companion, the assistant of an ERP. Answer the user's question about their "
    "company exactly; never invent a figure."
)
READING_PROMPT = (
    "Read the ERP user's message as JSON: its intent (one of the contract's intents) and "
    "its entities."
)
_RASA_SPECIAL = re.compile(r"[\[\]\(\){}]")


class NothingToExport(InvalidState):
    code = "nothing_to_export"


def dataset_out(dataset: Dataset) -> DatasetOut:
    return DatasetOut.model_validate(dataset, from_attributes=True)


def dataset_files(dataset: Dataset) -> DatasetFiles:
    return DatasetFiles.model_validate(dataset, from_attributes=True)


def export_dataset(
    session: Session, ctx: RequestContext, *, limit: int = DEFAULT_LIMIT
) -> tuple[DatasetOut, bool]:
    """Export up to ``limit`` approved examples (the newest); the version and whether it is new."""
    ctx.require("ai.review")
    examples = repo.approved_examples(session, ctx, limit=limit)
    if not examples:
        raise NothingToExport(
            "There are no approved training examples to export", details={"limit": limit}
        )
    chat_jsonl = "".join(json.dumps(_chat_line(e), ensure_ascii=False) + "\n" for e in examples)
    rasa_yaml = rasa_nlu_yaml(examples)
    digest = hashlib.sha256(f"{chat_jsonl}\0{rasa_yaml}".encode()).hexdigest()
    latest = repo.latest_dataset(session, ctx)
    if latest is not None and latest.sha256 == digest:
        return dataset_out(latest), False
    version = repo.next_dataset_version(session, ctx)
    manifest = {
        "version": version,
        "company": ctx.company_slug,
        "limit": limit,
        "counts": {
            "examples": len(examples),
            "chat_lines": len(examples),
            "rasa_examples": sum(1 for e in examples if e.intent),
            "with_answer": sum(1 for e in examples if e.answer),
            "intents": dict(sorted(Counter(e.intent for e in examples if e.intent).items())),
        },
        "files": {
            "chat.jsonl": {"sha256": _sha(chat_jsonl), "bytes": len(chat_jsonl.encode())},
            "nlu.yml": {"sha256": _sha(rasa_yaml), "bytes": len(rasa_yaml.encode())},
        },
        "sha256": digest,
        "example_ids": [e.id for e in examples],
        "source_message_ids": [e.message_id for e in examples if e.message_id],
        "redaction": "governance.pii.redact on every text, answer and entity value",
    }
    dataset = Dataset(
        company_id=ctx.company_id,
        version=version,
        created_by=ctx.user_id or None,  # 0: the scheduled export (no user)
        count=len(examples),
        sha256=digest,
        manifest=manifest,
        chat_jsonl=chat_jsonl,
        rasa_yaml=rasa_yaml,
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session,
        ctx if ctx.user_id else None,
        "learning_dataset.export",
        "learning_dataset",
        dataset.id,
        new={"version": version, "count": len(examples), "sha256": digest},
        company_id=ctx.company_id,
        actor=ctx.username,
    )
    return dataset_out(dataset), True


def system_context(company: Company) -> RequestContext:
    """The scheduled export's own context: no user, only ``ai.review`` in ``company``; its
    audit entries name ``SYSTEM_ACTOR`` and no user."""
    return RequestContext(
        user_id=0,
        username=SYSTEM_ACTOR,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=(),
        permissions=frozenset({"ai.review"}),
        locale=company.locale,
        fiscal_year_start_month=company.fiscal_year_start_month,
    )


def scheduled_export(
    session: Session, company: Company, clock: Clock, *, container: Any
) -> dict[str, Any]:
    """The periodic ``learning.export`` run: the newest approved examples (up to
    ``COMPANION_LEARNING__EXPORT_LIMIT``) as a dataset version, when an example was reviewed
    since the latest version (an unchanged export adds nothing either way)."""
    ctx = system_context(company)
    limit = int(container.settings.learning.export_limit)
    reviewed = repo.last_review_at(session, ctx)
    latest = repo.latest_dataset(session, ctx)
    if reviewed is None or (latest is not None and reviewed <= latest.created_at):
        return {"exported": False, "reason": "no review since the latest dataset", "limit": limit}
    if not repo.approved_examples(session, ctx, limit=1):
        return {"exported": False, "reason": "no approved examples", "limit": limit}
    dataset, created = export_dataset(session, ctx, limit=limit)
    return {
        "exported": created,
        "version": dataset.version,
        "count": dataset.count,
        "sha256": dataset.sha256,
        "limit": limit,
        **({} if created else {"reason": "same content as the latest dataset"}),
    }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _clean(text: str) -> str:
    return redact(" ".join(text.split())).text


def _entities(example: TrainingExample) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (example.entities or {}).items():
        out[key] = (
            _clean(value)
            if isinstance(value, str)
            else json.loads(_clean(json.dumps(value, ensure_ascii=False)))
            if isinstance(value, dict | list)
            else value
        )
    return out


def _chat_line(example: TrainingExample) -> dict[str, Any]:
    user = _clean(example.text)
    meta = {
        "example_id": example.id,
        "source_message_id": example.message_id,
        "intent": example.intent,
    }
    if example.answer:
        messages = [
            {"role": "system", "content": ANSWER_PROMPT},
            {"role": "user", "content": user},
            {"role": "assistant", "content": _clean(example.answer)},
        ]
    else:
        reading = {"intent": example.intent, "entities": _entities(example)}
        messages = [
            {"role": "system", "content": READING_PROMPT},
            {"role": "user", "content": user},
            {"role": "assistant", "content": json.dumps(reading, ensure_ascii=False)},
        ]
    return {"messages": messages, "metadata": meta}


def rasa_nlu_yaml(examples: list[TrainingExample]) -> str:
    """Rasa 3.x NLU YAML of the examples with an intent, entities annotated where found."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        if example.intent:
            line = _annotated(_RASA_SPECIAL.sub(" ", _clean(example.text)), _entities(example))
            by_intent.setdefault(example.intent, []).append(" ".join(line.split()))
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in dict.fromkeys(by_intent[intent]))
    return "\n".join(lines) + "\n"


def _annotated(text: str, entities: dict[str, Any]) -> str:
    """``text`` with each entity whose words appear in it marked ``[words](entity)`` once."""
    for name, value in entities.items():
        words = value.get("text") if isinstance(value, dict) else value
        if not isinstance(words, str) or not words.strip() or _RASA_SPECIAL.search(words):
            continue
        at = text.lower().find(words.lower())
        if at >= 0 and re.fullmatch(r"[a-z_]+", name):
            text = f"{text[:at]}[{text[at : at + len(words)]}]({name}){text[at + len(words) :]}"
    return text
