"""An expense account named in a question: "how much did we pay in salaries last month?".

The ledger posts expenses to accounts (Rent, Salaries and wages, Utilities, ...) and the
analytics engine has expenses by account, but no reading put an account's name into a
question, so "utilities expense last month" was answered with the whole profit and loss and
"how much did we pay in salaries" with the supplier payments. Here a question that asks what
was spent, paid or cost and names one of the company's expense accounts (every word of the
name, or of one of its "and" parts, singular or plural) is the expenses measure filtered to
that account; "how much did we spend on electricity?" where no account is called that says
so and names the accounts there are.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from companion.analytics.query import AnalyticsQuery
from companion.assistant import adhoc
from companion.erp.ledger import repository as ledger_repo
from companion.erp.ledger.models import AccountType
from companion.tenancy.context import RequestContext

_ASKS_SPENDING = re.compile(
    r"\b(?:spen[dt]|spending|expenses?|costs?|cost\s+us|paid|pay|paying)\b", re.IGNORECASE
)
_SPENT_ON = re.compile(r"\bspen[dt]\s+on\s+(?:the\s+|our\s+)?([a-z]+)", re.IGNORECASE)
# Words of an account's name that name no expense of their own ("Operating expenses").
_GENERIC = frozenset(
    {"and", "of", "the", "expense", "cost", "good", "sold", "operating", "other", "general"}
)
_SYNONYMS = {"payroll": "salary"}
# What "spent on X" may name besides an account: other measures' words.
_MEASURE_WORDS = frozenset(
    {"purchase", "purchasing", "supplier", "stock", "inventory", "item", "good", "product"}
)
_WORD = re.compile(r"[a-z]+")


def _stem(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return _SYNONYMS.get(word, word)


def _parts(name: str) -> list[frozenset[str]]:
    """The stems each "and" part of an account's name must all show (none: never named)."""
    parts = []
    for part in re.split(r"\s+(?:and|&)\s+", name.lower()):
        stems = frozenset(_stem(w) for w in _WORD.findall(part)) - _GENERIC
        if stems:
            parts.append(stems)
    return parts


def _period(entities: dict[str, Any], today: dt.date) -> tuple[dt.date, dt.date, str | None]:
    period = entities.get("period")
    if isinstance(period, dict) and period.get("start") and period.get("end"):
        start = dt.date.fromisoformat(str(period["start"]))
        return start, dt.date.fromisoformat(str(period["end"])), None
    return today.replace(day=1), today, "this month so far"


def reading(
    session: Session,
    ctx: RequestContext,
    text: str,
    entities: dict[str, Any],
    today: dt.date,
) -> adhoc.Reading | adhoc.Refusal | None:
    """Expenses on the account the question names, or why none is; None if it names none."""
    if not _ASKS_SPENDING.search(text):
        return None
    accounts = [
        (a.id, a.name)
        for a in ledger_repo.list_accounts(session, ctx)
        if a.account_type == AccountType.EXPENSE.value
    ]
    said = {_stem(w) for w in _WORD.findall(text.lower())}
    named = [(i, n) for i, n in accounts if any(p <= said for p in _parts(n))]
    if len(named) == 1:
        (account_id, name), (start, end, defaulted) = named[0], _period(entities, today)
        query = AnalyticsQuery(
            measure="expenses", filters={"account": account_id}, start=start, end=end
        )
        return adhoc.Reading(query, {"account": name}, defaulted)
    on = _SPENT_ON.search(text)
    records = any(isinstance(v, dict) and v.get("id") is not None for v in entities.values())
    if named or on is None or records:
        return None
    word = _stem(on.group(1))
    every = {_stem(w) for _, n in accounts for w in _WORD.findall(n.lower())}
    if word in _MEASURE_WORDS or word in every:
        return None  # "spend on operating expenses": an account's own word, read as before
    kept = [n for _, n in accounts]
    listed = ", ".join(kept[:-1]) + (" and " if len(kept) > 1 else "") + (kept[-1] if kept else "")
    return adhoc.Refusal(
        f"I can't find what was spent on {on.group(1)}: Companion records expenses by account, "
        f"and no expense account is called that"
        + (f" (they are {listed})" if listed else "")
        + ". I can show expenses by account instead.",
        ("expenses by account this month",),
    )
