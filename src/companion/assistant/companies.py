"""A question about another company than the one the user is working in.

Every answer comes from the active company's records (tenancy scopes every read), so "what's
Acme's cash balance?" asked in Globex would get Globex's cash, confidently, for the wrong
company. When the words name another company of this installation (its name, its name
without "Ltd"/"Inc", its slug, or the first word of its name written as a name), the turn says
whose records it answers from instead, and how to reach the other company's: switching to it
for a member, nothing more for anyone else (which companies exist is not this user's business,
and the answer does not say whether the one named does).

A word that is also one of the active company's own records (a customer "Acme Hardware" found
by the NLU) is that record, not the company.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant import context_repository
from companion.tenancy.context import RequestContext

# Company names change rarely; reading them is kept from every turn for this long (per
# process and database). A company created or renamed meanwhile is recognised after it.
NAMES_TTL_S = 60.0

_LEGAL = re.compile(
    r"[\s,]+(?:ltd|limited|inc|incorporated|llc|plc|corp|corporation|co|company|gmbh|pvt|"
    r"private|pte|sa|ag|bv)\.?$",
    re.IGNORECASE,
)
# First words that name no company on their own ("General Traders", "The Acme Group").
_GENERIC = frozenset(
    {
        "the",
        "general",
        "global",
        "national",
        "international",
        "united",
        "first",
        "new",
        "best",
        "my",
        "our",
        "your",
    }
)


@dataclass(frozen=True)
class NamedCompany:
    """A company of the installation and the patterns that name it in a message."""

    id: int
    slug: str
    name: str
    patterns: tuple[re.Pattern[str], ...]

    def named_in(self, text: str) -> re.Match[str] | None:
        for pattern in self.patterns:
            found = pattern.search(text)
            if found is not None:
                return found
        return None


def _patterns(slug: str, name: str) -> tuple[re.Pattern[str], ...]:
    stripped = name
    while True:
        shorter = _LEGAL.sub("", stripped).strip()
        if shorter == stripped:
            break
        stripped = shorter
    spelled = {name.strip(), stripped, slug.replace("-", " ").replace("_", " ")}
    found = [
        re.compile(rf"(?<![\w-]){re.escape(s)}(?![\w-])", re.IGNORECASE)
        for s in sorted(spelled, key=len, reverse=True)
        if len(s) >= 3
    ]
    first = stripped.split()[0] if stripped.split() else ""
    if len(first) >= 3 and first.lower() not in _GENERIC and first[:1].isupper():
        # "Acme's cash": the first word written as a name (case kept), not the word "acme".
        found.append(re.compile(rf"(?<![\w-]){re.escape(first)}(?![\w-])"))
    return tuple(found)


_cache: dict[str, tuple[float, tuple[NamedCompany, ...]]] = {}
_lock = threading.Lock()


def _companies(session: Session) -> tuple[NamedCompany, ...]:
    """The installation's active companies (cached per database for ``NAMES_TTL_S``)."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = context_repository.active_companies(session)
    companies = tuple(NamedCompany(i, s, n, _patterns(s, n)) for i, s, n in rows)
    with _lock:
        _cache[key] = (now + NAMES_TTL_S, companies)
    return companies


def _own_records(entities: dict[str, Any]) -> Iterable[str]:
    """The words of the message the NLU found as the active company's records."""
    for value in entities.values():
        if isinstance(value, dict) and value.get("id") is not None and value.get("text"):
            yield str(value["text"]).lower()


def other_company(
    session: Session, ctx: RequestContext, text: str, entities: dict[str, Any]
) -> str | None:
    """What to say when ``text`` names a company other than the active one; None otherwise."""
    companies = _companies(session)
    if len(companies) < 2:
        return None
    own = [c for c in companies if c.slug == ctx.company_slug]
    here = own[0].name if own else ctx.company_slug
    records = list(_own_records(entities))
    for company in companies:
        if company.slug == ctx.company_slug:
            continue
        found = company.named_in(text)
        if found is None:
            continue
        word = found.group(0).lower()
        if any(word in record or record in word for record in records):
            continue  # a customer, supplier or item of this company by that name
        if own and own[0].named_in(found.group(0)):
            continue  # "Acme" for Acme Trading, asked in Acme Trading, beside an Acme Foods
        if context_repository.is_member(session, ctx.user_id, company.id):
            return (
                f"You're working in {here}, so I answer only with its records. To ask about "
                f"{company.name}, switch to it and ask again."
            )
        return (
            f"I answer only with the records of {here}, the company you're working in: I "
            f"can't show another company's figures or documents."
        )
    return None
