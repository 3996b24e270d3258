"""Question shapes beyond a measure's breakdown: documents, no activity, counts of parties,
shares.

- "what was the largest invoice last month?", "show me the invoices for Gulshan Telecom",
  "POs over 2 lakh from Penang": a list of documents (``analytics.documents``);
- "which items haven't sold in the last 90 days?", "customers with no sales this year":
  members with no activity (``analytics.members.inactive``);
- "how many customers bought something in October?": a distinct count measure;
- "what percentage of sales came from Tangail Traders last month?": a share of the total.

Pure functions over the message and the NLU's entities, like ``assistant.adhoc``, which asks
here first; each shape is read whatever intent the classifier picked, since its answer is
none of the fixed queries' (a document list is not the invoice-posting action).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from companion.analytics import MAX_TOP, AnalyticsQuery
from companion.analytics.documents import DocumentQuery
from companion.analytics.members import InactiveQuery
from companion.assistant.nlu import guard

_DOC_WORDS = (
    # (pattern of the document word, kind); "sale" is an invoice, "order" a sales order.
    (r"purchase\s+orders?|p\.?o\.?s?|pos", "purchase_order"),
    (r"(?:supplier\s+|vendor\s+|purchase\s+)?bills?|supplier\s+invoices?", "bill"),
    (r"sales\s+orders?|customer\s+orders?|orders?", "sales_order"),
    (r"(?:customer\s+|sales\s+)?invoices?|sales?|(?:customer\s+)?receivables?", "invoice"),
)
_DOC = "|".join(f"(?:{p})" for p, _ in _DOC_WORDS)
_SUPERLATIVE = re.compile(
    rf"(?:\b(?P<pre>\d{{1,6}})\s+)?\b(?P<dir>largest|biggest|highest|top|smallest|lowest|tiniest|least)\s+(?P<n>\d{{1,6}}\s+)?"
    rf"(?:single\s+)?(?P<doc>{_DOC})\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    rf"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?:show|list|display|give|get|find|see"
    rf"|pull\s+up|what\s+are|which\s+are)\b(?:\s+(?:me|us|all|of|the|our|my|every|any|open"
    rf"|unpaid|outstanding|recent|latest))*\s+(?P<doc>{_DOC})\b",
    re.IGNORECASE,
)
_DOC_RE = re.compile(rf"\b(?P<doc>{_DOC})\b", re.IGNORECASE)
_THRESHOLD = re.compile(
    r"\b(?:over|above|more\s+than|greater\s+than|at\s+least|exceeding|under|below|less\s+than"
    r"|at\s+most|between)\b",
    re.IGNORECASE,
)
_OPEN = re.compile(r"\b(?:open|unpaid|outstanding|not\s+(?:yet\s+)?paid)\b", re.IGNORECASE)
# Measures, breakdowns and counts are the measure reader's, and so are overdue lists.
_NOT_A_LIST = re.compile(
    r"\b(?:how\s+many|how\s+much|number\s+of|count|total|sum|average|avg|by|per|overdue"
    r"|approv\w*|awaiting|pending"
    r"|status\s+of|aging|ageing|percent(?:age)?|share)\b|%",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:haven'?t|hasn'?t|have\s+not|has\s+not|didn'?t|did\s+not|never|not|nothing"
    r"|no\s+(?:sales|orders|purchases|payments|activity|movement|invoices|bills)|without)\b",
    re.IGNORECASE,
)
_MEMBER = re.compile(
    r"\b(?P<who>customers?|clients?|items?|products?|skus?|suppliers?|vendors?)\b", re.IGNORECASE
)
# "customers who haven't paid", "suppliers we haven't paid yet": money owed, not inactivity.
_STILL_OWED = re.compile(
    r"\b(?:customers?|clients?)\b.*\b(?:pa(?:y|id)|settled?)\b|\b(?:yet|still|owe[sd]?)\b",
    re.IGNORECASE,
)
_PAID = re.compile(r"\bpa(?:y|id)\b|\bpayments?\b", re.IGNORECASE)
_ORDERED = re.compile(r"\b(?:order(?:ed)?|pos?|purchase\s+orders?)\b", re.IGNORECASE)
_COUNT = re.compile(
    r"\b(?:how\s+many|number\s+of|count\s+of)\s+(?:different\s+|distinct\s+|unique\s+)?"
    r"(?P<who>customers?|clients?|items?|products?|skus?|suppliers?|vendors?)\b"
    r"(?P<rest>.*)",
    re.IGNORECASE,
)
_BOUGHT = re.compile(
    r"\b(?:bought|buy|purchased|ordered|sold|sell|had\s+(?:sales|invoices)|were\s+invoiced"
    r"|were\s+billed|placed)\b",
    re.IGNORECASE,
)
# "When did Gazipur & Sons last buy from us?", "when was the last time X ordered": the date
# of the party's newest document, not a measure's total (nor the purchase orders).
_LAST_TIME = re.compile(
    r"^\W*when\s+(?:did|was|has|have|were)\b.*\b(?:last|latest|most\s+recent(?:ly)?)\b",
    re.IGNORECASE,
)
_LAST_DONE = re.compile(
    r"\b(?P<order>order(?:ed|s)?|placed)\b|\b(?:buy|bought|purchased?|invoiced?|billed|bill"
    r"|sale|sold|sell)\b",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"\b(?:what\s+)?(?:percent(?:age)?|share|proportion|portion|fraction)\b|%", re.IGNORECASE
)
_SHARE_MEASURES = (
    (re.compile(r"\breceipts?|collect(?:ions?|ed)\b", re.IGNORECASE), "receipts"),
    (re.compile(r"\bpurchases|bought\s+from|bills\b", re.IGNORECASE), "purchases"),
    (re.compile(r"\b(?:supplier\s+)?payments?|paid\s+to\b", re.IGNORECASE), "supplier_payments"),
    (re.compile(r"\b(?:purchase\s+orders?|pos?)\b", re.IGNORECASE), "po_value"),
    (re.compile(r"\bsales|revenue|turnover|sold\b", re.IGNORECASE), "sales"),
)
_PO_QUERIES = ("purchase_orders", "pending_approvals")
_WORD_MEMBER = {
    "customer": "customer",
    "client": "customer",
    "item": "item",
    "product": "item",
    "sku": "item",
    "supplier": "supplier",
    "vendor": "supplier",
}


@dataclass(frozen=True)
class Named:
    """What the NLU resolved (or failed to) among the message's names."""

    filters: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    unknown: tuple[str, str, tuple[str, ...]] | None = None
    ambiguous: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Documents:
    """A list of documents, with the party's name and the default period's label."""

    query: DocumentQuery
    party_name: str | None = None
    defaulted: str | None = None
    named: Named = field(default_factory=Named)
    misnamed: tuple[str, str] | None = None  # (kind, name) named but not this list's party
    last: str | None = None  # "bought", "ordered": when the party last did so was asked


@dataclass(frozen=True)
class Inactive:
    """Members with no activity in the period."""

    query: InactiveQuery
    defaulted: str | None = None


@dataclass(frozen=True)
class Counted:
    """A measure query (a distinct count) read here; ``adhoc`` answers it as its own."""

    query: AnalyticsQuery
    names: dict[str, str]
    defaulted: str | None
    named: Named


@dataclass(frozen=True)
class Shared:
    """A filtered figure as a share of the company's total."""

    query: AnalyticsQuery
    names: dict[str, str]
    defaulted: str | None
    named: Named


Shape = Documents | Inactive | Counted | Shared


def read(text: str, entities: dict[str, Any], today: dt.date, intent: str = "") -> Shape | None:
    """The shape ``text`` asks, or None for the measure reader (or a fixed query).

    ``intent`` is the NLU's reading: a list of purchase orders it read as the fixed
    purchase-order query is left to that query, which lists them by supplier, status and
    amount already; a request to do something ("approve all POs under 50k") is no question.
    """
    said = " ".join(text.split())
    if guard.requests(said):
        return None
    named = _names(entities)
    if _SHARE.search(said) and (named.filters or named.unknown or named.ambiguous):
        return _shared(said, entities, today)
    counted = _COUNT.search(said)
    if counted and (
        _BOUGHT.search(counted.group("rest"))
        or _paid_suppliers(said)
        or (_PAID.search(counted.group("rest")) and not _NEGATION.search(counted.group("rest")))
    ):
        return _counted(said, counted.group("who"), entities, today)
    member = _MEMBER.search(said)
    if member and _NEGATION.search(said) and _activity_words(said) and not _STILL_OWED.search(said):
        return _inactive(said, member.group("who"), entities, today)
    documents = _documents(said, entities, today)
    if (
        documents is not None
        and documents.query.kind == "purchase_order"
        and documents.query.top is None
        and intent in _PO_QUERIES
    ):
        return None
    return documents


def asks_last_time(text: str) -> bool:
    """ "When did X last buy?", "when was the last time X ordered?": the shape alone."""
    said = " ".join(text.split())
    return bool(_LAST_TIME.match(said) and _LAST_DONE.search(said))


def last_document(said: str, entities: dict[str, Any], today: dt.date) -> Documents | None:
    """ "When did X last buy/order?": X's newest invoice or order (a bill or purchase order
    for a supplier), over all time up to today; None unless one party is named."""
    done = _LAST_DONE.search(said)
    if not _LAST_TIME.match(said) or done is None:
        return None
    named = _names(entities)
    party = next((d for d in ("customer", "supplier") if d in named.filters), None)
    if party is None and named.unknown is None and named.ambiguous is None:
        return None
    ordered = done.group("order") is not None
    if party == "supplier":
        kind = "purchase_order" if ordered else "bill"
    else:
        kind = "sales_order" if ordered else "invoice"
    query = DocumentQuery(
        kind=kind,
        party=named.filters.get(party) if party else None,
        end=today,
        order="newest",
        top=1,
    )
    verb = "ordered" if ordered else ("billed us" if party == "supplier" else "bought")
    return Documents(query, named.names.get(party) if party else None, None, named, last=verb)


def _paid_suppliers(text: str) -> bool:
    return bool(re.search(r"\b(?:suppliers?|vendors?)\b", text, re.I) and _PAID.search(text))


def _activity_words(text: str) -> bool:
    return bool(
        re.search(
            r"\b(?:sold|sell|sales?|bought|buy|purchased?|ordered|orders?|paid|pay|payments?"
            r"|activity|movement|moved|invoiced|billed|anything)\b",
            text,
            re.IGNORECASE,
        )
    )


def _period(
    entities: dict[str, Any], today: dt.date, default: str
) -> tuple[dt.date, dt.date, str | None]:
    period = entities.get("period")
    if isinstance(period, dict) and period.get("start") and period.get("end"):
        start = dt.date.fromisoformat(str(period["start"]))
        end = dt.date.fromisoformat(str(period["end"]))
        name = period.get("name")  # "fiscal year 2026–27": said, as the calendar may surprise
        label = (f"{name} so far" if end > today else str(name)) if name else None
        # Nothing after today has happened: the period is cut there, and its dates say so.
        return start, min(end, today) if start <= today else end, label
    if default == "month":
        return today.replace(day=1), today, "this month so far"
    try:
        start = today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28) + dt.timedelta(days=1)
    return start, today, "the last 12 months"


def _names(entities: dict[str, Any]) -> Named:
    filters: dict[str, int] = {}
    names: dict[str, str] = {}
    unknown = ambiguous = None
    for key, dim in (("customer", "customer"), ("supplier", "supplier"), ("product", "item")):
        value = entities.get(key)
        if not isinstance(value, dict):
            continue
        if value.get("id") is not None:
            filters[dim] = int(value["id"])
            names[dim] = str(value.get("name") or value.get("text"))
        elif value.get("candidates") and ambiguous is None:
            ambiguous = (key, tuple(str(c["name"]) for c in value["candidates"][:5]))
        elif value.get("text") and unknown is None:
            close = tuple(str(s["name"]) for s in value.get("suggestions") or [])[:5]
            unknown = (key, str(value["text"]), close)
    return Named(filters, names, unknown, ambiguous)


def _kind(word: str) -> str:
    for pattern, kind in _DOC_WORDS:
        if re.fullmatch(pattern, word, re.IGNORECASE):
            return kind
    return "invoice"  # pragma: no cover - every alternative of _DOC is a kind's


def _documents(said: str, entities: dict[str, Any], today: dt.date) -> Documents | None:
    superlative = _SUPERLATIVE.search(said)
    listed = _LIST.search(said)
    bounds = entities.get("amount_range")
    thresholded = isinstance(bounds, dict) and _THRESHOLD.search(said) is not None
    doc = superlative or listed or (_DOC_RE.search(said) if thresholded else None)
    if doc is None:
        return None
    if superlative is None and _NOT_A_LIST.search(said):
        return None  # "how many invoices", "sales by customer", "overdue invoices"
    kind = _kind(doc.group("doc"))
    if superlative is None and kind == "invoice" and doc.group("doc").lower().startswith("sale"):
        return None  # "show me sales ...": the measure, not a list of documents
    named = _names(entities)
    if superlative is not None and doc.group("doc").lower().startswith(("sales", "receivable")):
        return None  # "the highest sales", "largest receivables": a measure's ranking
    party_dim = "customer" if kind in ("invoice", "sales_order") else "supplier"
    other = "supplier" if party_dim == "customer" else "customer"
    # "POs from Tangail Traders" (a customer), "invoices of cement": not this list's filter,
    # said so rather than listed for everyone.
    misnamed = None
    if party_dim not in named.filters:
        wrong = next((k for k in (other, "item") if k in named.filters), None)
        if wrong is not None:
            misnamed = (wrong, named.names[wrong])
    order = "newest"
    top = None
    if superlative is not None:
        direction = superlative.group("dir").lower()
        order = "smallest" if direction in ("smallest", "lowest", "tiniest", "least") else "largest"
        n = superlative.group("n") or superlative.group("pre")
        plural = doc.group("doc").lower().endswith("s") and doc.group("doc").lower() not in (
            "sales",
        )
        top = int(n) if n else (5 if plural else 1)
    start, end, defaulted = _period(entities, today, "year")
    low = high = None
    if thresholded and isinstance(bounds, dict):
        low = _decimal(bounds.get("min"))
        high = _decimal(bounds.get("max"))
    status = entities.get("status")
    open_only = bool(_OPEN.search(said)) or status == "open"
    query = DocumentQuery(
        kind=kind,
        party=named.filters.get(party_dim),
        start=start,
        end=end,
        open_only=open_only,
        min_amount=low,
        max_amount=high,
        order=order,
        top=top if top is None else max(0, min(top, 1_000_000)),
    )
    return Documents(query, named.names.get(party_dim), defaulted, named, misnamed)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _inactive(said: str, word: str, entities: dict[str, Any], today: dt.date) -> Inactive:
    member = _WORD_MEMBER[word.lower().rstrip("s")]
    measure = "sales"
    if member == "supplier":
        measure = (
            "supplier_payments"
            if _PAID.search(said)
            else "po_value"
            if _ORDERED.search(said)
            else "purchases"
        )
    start, end, defaulted = _period(entities, today, "year")
    return Inactive(
        InactiveQuery(member=member, measure=measure, start=start, end=end, top=MAX_TOP),
        defaulted,
    )


def _counted(said: str, word: str, entities: dict[str, Any], today: dt.date) -> Counted:
    member = _WORD_MEMBER[word.lower().rstrip("s")]
    measure = {"customer": "customers_buying", "item": "items_sold"}.get(member, "suppliers_paid")
    if member == "customer" and _PAID.search(said) and not _BOUGHT.search(said):
        measure = "customers_paying"  # "how many customers paid us last month": receipts
    start, end, defaulted = _period(entities, today, "month")
    named = _names(entities)
    filters = {k: v for k, v in named.filters.items() if k != member}
    query = AnalyticsQuery(measure=measure, filters=filters, start=start, end=end)
    names = {k: v for k, v in named.names.items() if k in filters}
    return Counted(query, names, defaulted, named)


def _shared(said: str, entities: dict[str, Any], today: dt.date) -> Shared:
    measure = next((m for p, m in _SHARE_MEASURES if p.search(said)), "sales")
    start, end, defaulted = _period(entities, today, "month")
    named = _names(entities)
    query = AnalyticsQuery(measure=measure, filters=named.filters, start=start, end=end)
    return Shared(query, named.names, defaulted, named)
