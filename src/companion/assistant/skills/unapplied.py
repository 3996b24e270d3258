"""Names a data question gave that its query can't filter by: said plainly, never dropped.

"Cash balance for Tangail Traders" names a customer, and the cash balance can't be broken
down by customer. A figure is then refused, with offers of the nearest questions that do
take a customer and of the figure for the whole company; a list is answered for the whole
company and says so. Not names of this kind: the company's own name ("profit and loss for
Acme Trading"), words an applied name already used ("Dhaka" of "Dhaka Central Warehouse"),
and anything named by a single-document question (the document is the filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from companion.assistant import choices
from companion.assistant.answers import join_words
from companion.assistant.queries import registry as queries
from companion.assistant.queries.registry import QuerySpec
from companion.assistant.skills.base import Answer, Turn
from companion.auth import repository as auth_repo

# entity name -> QueryParams field, for entities that resolve to a master-data id
ID_ENTITIES = {
    "customer": "customer_id",
    "supplier": "supplier_id",
    "product": "item_id",
    "warehouse": "warehouse_id",
    "bank_account": "bank_account_id",
}
# The questions nearest to one record of each kind, best first; any other query taking the
# filter comes after these.
_NEAREST = {
    "customer": ("customer_balance", "sales_summary", "overdue_invoices", "ar_aging"),
    "supplier": ("supplier_balance", "purchase_orders", "pending_approvals", "ap_aging"),
    "product": ("sales_summary", "stock_levels", "inventory_valuation", "purchase_orders"),
    "warehouse": ("stock_levels", "inventory_valuation", "below_reorder", "purchase_orders"),
    "bank_account": ("cash_balance", "cash_flow"),
}
MAX_OFFERS = 2
_LEGAL = {"ltd", "limited", "inc", "co", "corp", "plc", "llc", "pvt", "company", "the"}


@dataclass(frozen=True)
class Unapplied:
    """A name the query can't filter by: the entity keys it was read as, and how it reads."""

    keys: tuple[str, ...]
    text: str
    entity: dict[str, Any]

    @property
    def known(self) -> bool:
        """Whether it names a record (or several) of the company, not an unknown name."""
        return not self.entity.get("unknown")

    @property
    def shown(self) -> str:
        """The record's name, or what the user wrote, quoted."""
        name = self.entity.get("name")
        return str(name) if name else f"\u201c{self.text}\u201d"


def unapplied_names(turn: Turn, spec: QuerySpec) -> list[Unapplied]:
    """The names in ``turn.entities`` that ``spec`` can't filter by, in the order said."""
    if spec.required:
        return []
    supported = spec.filters
    applied = [
        str(v.get("text") or "").casefold()
        for k, v in turn.entities.items()
        if k in ID_ENTITIES and ID_ENTITIES[k] in supported and isinstance(v, dict)
    ]
    found: dict[str, Unapplied] = {}
    for key, field_name in ID_ENTITIES.items():
        value = turn.entities.get(key)
        if field_name in supported or not isinstance(value, dict) or not value.get("text"):
            continue
        text = str(value["text"])
        folded = text.casefold()
        if any(folded in a or a in folded for a in applied if a):
            continue  # the same words were read as a name the query does take
        seen = found.get(folded)
        if seen is None:
            found[folded] = Unapplied((key,), text, value)
        elif seen.entity.get("unknown") and not value.get("unknown"):
            found[folded] = Unapplied((key,), text, value)  # the record it does name wins
        elif bool(seen.entity.get("unknown")) == bool(value.get("unknown")):
            found[folded] = Unapplied((*seen.keys, key), seen.text, seen.entity)
    names = list(found.values())
    if names and any(not n.known for n in names):
        own = _own_words(turn)
        names = [n for n in names if n.known or not _words(n.text) <= own]
    return names


def refusal(turn: Turn, spec: QuerySpec, names: list[Unapplied]) -> Answer:
    """A figure that can't be broken down by what was named: no figure, offers instead."""
    kinds = _kinds(names)
    offered = _offers(turn, spec, names)
    whole = {k: v for k, v in turn.entities.items() if k not in _keys(names)}
    offered.append((f"{spec.title} for the whole company", spec.intent, whole))
    unknown = [n.shown for n in names if not n.known]
    said = [n.shown for n in names]
    if unknown:
        which = "that name" if unknown == said else join_words(unknown)
        unknown_too = f"; I don't know {which} either"
    else:
        unknown_too = ""
    labels = [label for label, _, _ in offered]
    text = (
        f"I can't break the {spec.title} down by {kinds}, so I haven't answered for "
        f"{join_words(said)}{unknown_too}. I can show {_either(labels)}."
    )
    asked = {"intent": turn.intent, "entities": turn.entities}
    return Answer(
        text=text,
        skill="clarify",
        choices=labels,
        remember={**asked, choices.OFFER: choices.offer(offered, asked)},
    )


def scope_note(spec: QuerySpec, names: list[Unapplied]) -> str:
    """The sentence saying a list is for the whole company, not for what was named."""
    if any(not n.entity.get("name") for n in names):
        # Words that name no one record ("customers in Dhaka"): not said to be a supplier.
        return (
            f"I can't narrow the {spec.title} to {join_words([n.shown for n in names])}, so "
            "this is for the whole company."
        )
    return (
        f"The {spec.title} can't be broken down by {_kinds(names)}, so this is for the whole "
        f"company, not just {join_words([n.shown for n in names])}."
    )


def scoped_remember(turn: Turn, spec: QuerySpec, names: list[Unapplied]) -> dict[str, Any]:
    """What a list answered for the whole company remembers: its question, offers to narrow."""
    answered = {k: v for k, v in turn.entities.items() if k not in _keys(names)}
    remember: dict[str, Any] = {"intent": turn.intent, "entities": answered}
    offered = _offers(turn, spec, names)
    if offered:
        remember[choices.OFFER] = choices.offer(offered, remember)
    return remember


def offer_labels(remember: dict[str, Any]) -> list[str] | None:
    """The labels of the choices ``remember`` offers, if any."""
    offered = remember.get(choices.OFFER) or {}
    return [str(c["label"]) for c in offered.get("choices") or []] or None


def _offers(
    turn: Turn, spec: QuerySpec, names: list[Unapplied]
) -> list[tuple[str, str, dict[str, Any]]]:
    """The nearest questions that do take the first known name, as (label, intent, entities)."""
    name = next((n for n in names if n.known), None)
    if name is None:
        return []
    others = _keys(names) - set(name.keys)
    out: list[tuple[str, str, dict[str, Any]]] = []
    everything = queries.all_queries()
    for key in name.keys:
        field_name = ID_ENTITIES[key]
        ranked = [*_NEAREST.get(key, ()), *sorted(everything)]
        for intent in dict.fromkeys(ranked):
            other = everything.get(intent)
            if (
                other is None
                or other.intent == spec.intent
                or other.required
                or field_name not in other.filters
                or not turn.ctx.can(other.permission)
                or any(label.startswith(f"{other.title} for") for label, _, _ in out)
            ):
                continue
            entities = {k: v for k, v in turn.entities.items() if k not in others}
            entities = {k: v for k, v in entities.items() if k not in name.keys or k == key}
            out.append((f"{other.title} for {name.shown}", intent, entities))
            if len(out) == MAX_OFFERS:
                return out
    return out


def _own_words(turn: Turn) -> set[str]:
    company = auth_repo.get_company_by_slug(turn.session, turn.ctx.company_slug)
    own = _words(company.name) if company is not None else set()
    return own | {turn.ctx.company_slug.casefold()}


def _words(text: str) -> set[str]:
    return {w.strip(".,").casefold() for w in text.split()} - _LEGAL


def _keys(names: list[Unapplied]) -> set[str]:
    return {k for n in names for k in n.keys}


def _kinds(names: list[Unapplied]) -> str:
    kinds = list(dict.fromkeys(k.replace("_", " ") for n in names for k in n.keys))
    return " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)


def _either(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" or {labels[-1]}"
