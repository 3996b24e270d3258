"""The labelled NLU set of ``companion eval``: loading it and resolving its periods.

The harness that runs it against a database (``run_eval``) is in ``cli/evaluation.py``.

Each example names its company and user; the NLU sees that company's master data and
fiscal calendar, exactly as in a chat turn. Symbolic periods in the set (``last_month``,
``q3``, ``ytd``, ``2026-01-01..2026-03-31``) are resolved against the clock's today with the
product's own calendar rules, so the set does not go stale as the date moves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from companion.assistant.nlu.entities.periods import extract_dates
from companion.errors import ValidationFailed

_PHRASES = {
    "ytd": "year to date",
    "last_30_days": "last 30 days",
    "last_7_days": "last 7 days",
}


@dataclass(frozen=True)
class LabelledExample:
    text: str
    intent: str
    company: str | None = None
    user: str | None = None
    entities: dict[str, Any] = field(default_factory=dict)


def default_set_path() -> Path:
    """The shipped held-out set (never used for training)."""
    return Path(str(resources.files("companion.assistant.nlu") / "eval" / "heldout.yml"))


def load_eval_set(path: Path | None = None) -> list[LabelledExample]:
    """Read a labelled set: ``examples: [{text, intent, company?, user?, entities?}]``."""
    source = path or default_set_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(f"Cannot read the evaluation set {source}: {exc}") from exc
    items = raw.get("examples") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise ValidationFailed(f"{source} has no 'examples' list")
    examples = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("text") or not item.get("intent"):
            raise ValidationFailed(f"{source}: example {n} needs 'text' and 'intent'")
        examples.append(
            LabelledExample(
                text=str(item["text"]),
                intent=str(item["intent"]),
                company=item.get("company"),
                user=item.get("user"),
                entities=dict(item.get("entities") or {}),
            )
        )
    return examples


def resolve_period(symbol: str, today: dt.date, fiscal_year_start_month: int) -> dict[str, str]:
    """A symbolic period of the set as ``{start, end}`` ISO dates."""
    if ".." in symbol:
        start, end = symbol.split("..", 1)
        return {"start": start.strip(), "end": end.strip()}
    phrase = _PHRASES.get(symbol, symbol.replace("_", " "))
    dates = extract_dates(phrase, today=today, fiscal_year_start_month=fiscal_year_start_month)
    if dates.period is None:
        raise ValidationFailed(f"Unknown period symbol {symbol!r} in the evaluation set")
    return {"start": dates.period.start.isoformat(), "end": dates.period.end.isoformat()}
