"""The NLU entry point: text -> ``Understanding`` (intent, confidence, alternatives, entities).

Entities are extracted first, so names and document numbers can be replaced by what they are
before the classifier reads the text; then entities that make no sense for the chosen intent
are dropped (a greeting has no period, an out-of-scope message has no entities at all).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from companion.assistant.nlu.classifier import (
    OUT_OF_SCOPE,
    ClassifierConfig,
    IntentClassifier,
    load_or_train,
)
from companion.assistant.nlu.delex import delexicalise, delexicalised_examples
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.answers import yes_or_no
from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.nlu.entities.script import BANGLA, ascii_digits
from companion.assistant.nlu.entities.words import status_vocabulary
from companion.assistant.nlu.features import normalise_text
from companion.assistant.nlu.guard import (
    asks,
    describes,
    looks_like_code,
    reaches_someone,
    reading_for_question,
    requests_elsewhere,
)
from companion.assistant.nlu.rasa import TrainingData, load_rasa_nlu
from companion.llm.embeddings import DEFAULT_EMBEDDER, Embedder, load_embedder

DATA_QUERIES = frozenset(
    "cash_balance ar_aging ap_aging cash_flow purchase_orders pending_approvals stock_levels "
    "below_reorder dashboard_summary sales_summary overdue_invoices invoice_status order_status "
    "customer_list top_customers customer_balance supplier_balance profit_and_loss "
    "inventory_valuation".split()
)
ACTIONS = frozenset(
    "approve_purchase_order reject_purchase_order create_sales_order create_customer "
    "post_ar_invoice record_payment create_purchase_order adjust_inventory void_document "
    "commit_import".split()
)
DIALOGUE = frozenset(
    "confirm cancel greet goodbye help explain_policy remember briefing import_status "
    "out_of_scope".split()
)
_NO_ENTITIES = frozenset(
    {"confirm", "cancel", "greet", "goodbye", "help", "briefing", OUT_OF_SCOPE}
)
_POLICY_ENTITIES = frozenset({"amount", "amount_range", "currency", "module"})
_QUERY_ONLY = frozenset({"status", "top_n", "amount_range"})
# When one name is both a customer and a supplier, the intent says which was meant.
_PARTY = {
    **dict.fromkeys(
        "ar_aging customer_balance customer_list top_customers overdue_invoices invoice_status "
        "order_status sales_summary create_sales_order create_customer post_ar_invoice".split(),
        "customer",
    ),
    **dict.fromkeys(
        "ap_aging supplier_balance purchase_orders pending_approvals approve_purchase_order "
        "reject_purchase_order create_purchase_order below_reorder".split(),
        "supplier",
    ),
}
# An exact training sentence is trusted at least this much ("y", "👍", "nope").
EXACT_MATCH_CONFIDENCE = 0.95
# Bangla vowel signs are not \w but are letters: "হাফেজ" and "হাফিজ" are different words.
_PUNCT = re.compile(rf"[^\w\s{BANGLA}\u2600-\u27bf\U0001f300-\U0001faff]", re.UNICODE)


@dataclass(frozen=True)
class Understanding:
    """What a message asks for: the public result of ``parse``."""

    text: str
    intent: str
    confidence: float
    is_out_of_scope: bool
    alternatives: tuple[tuple[str, float], ...] = ()
    entities: dict[str, Any] = field(default_factory=dict)
    # Cosine similarity to the nearest in-scope training example (1.0: not measured).
    similarity: float = 1.0

    @property
    def ambiguities(self) -> dict[str, list[dict[str, Any]]]:
        """Master-data mentions that matched several records: entity -> candidates."""
        return {
            name: value["candidates"]
            for name, value in self.entities.items()
            if isinstance(value, dict) and value.get("candidates")
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals become JSON numbers (ints where whole)."""
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "is_out_of_scope": self.is_out_of_scope,
            "similarity": round(self.similarity, 4),
            "alternatives": [
                {"intent": i, "confidence": round(p, 4)} for i, p in self.alternatives
            ],
            "entities": _jsonable(self.entities),
        }


class NLU:
    """A loaded classifier plus the vocabulary of its training data; parse messages with it."""

    def __init__(self, classifier: IntentClassifier, data: TrainingData) -> None:
        self.classifier = classifier
        self.data = data
        self._status_vocab = status_vocabulary(data.synonyms, data.lookups.get("status"))
        self._exact = _exact_index(data)

    @classmethod
    def load(
        cls,
        data_paths: list[Path] | None = None,
        *,
        embedder: Embedder | str | None = None,
        cache_dir: Path | None = None,
        config: ClassifierConfig | None = None,
    ) -> NLU:
        """Train, or load the cached model, on Rasa files (by default the shipped data)."""
        data = load_rasa_nlu(data_paths or [default_data_dir()])
        return cls.from_data(data, embedder=embedder, cache_dir=cache_dir, config=config)

    @classmethod
    def from_data(
        cls,
        data: TrainingData,
        *,
        embedder: Embedder | str | None = None,
        cache_dir: Path | None = None,
        config: ClassifierConfig | None = None,
    ) -> NLU:
        """Train, or load the cached model, on training data already in memory."""
        if embedder is None or isinstance(embedder, str):
            # Loaded for this NLU: a process shares one through its container's cache.
            embedder = load_embedder(embedder or DEFAULT_EMBEDDER)
        training = TrainingData(
            examples=[*data.examples, *delexicalised_examples(data.examples)],
            synonyms=data.synonyms,
            lookups=data.lookups,
        )
        classifier = load_or_train(training, embedder, cache_dir=cache_dir, config=config)
        return cls(classifier, data)

    @property
    def intents(self) -> list[str]:
        """The intents this NLU can answer with."""
        return list(self.classifier.labels)

    def parse(
        self,
        text: str,
        *,
        today: dt.date,
        fiscal_year_start_month: int = 1,
        master: MasterData | None = None,
    ) -> Understanding:
        """Classify ``text`` and extract its entities (master data: the caller's company only)."""
        cleaned = ascii_digits(" ".join(unicodedata.normalize("NFKC", text).split()))
        if not normalise_text(cleaned) or looks_like_code(cleaned):
            # Nothing to read, or a SQL statement or code: not a question to answer with data.
            return Understanding(
                text=text, intent=OUT_OF_SCOPE, confidence=1.0, is_out_of_scope=True
            )
        extraction = extract_entities(
            cleaned,
            today=today,
            fiscal_year_start_month=fiscal_year_start_month,
            master=master,
            status_vocabulary=self._status_vocab,
        )
        classified_text = delexicalise(cleaned, extraction.spans) if extraction.spans else cleaned
        prediction = self.classifier.predict([classified_text], top_k=len(self.intents))[0]
        intent, confidence, oos = (
            prediction.intent,
            prediction.confidence,
            prediction.is_out_of_scope,
        )
        exact = self._exact.get(_exact_key(cleaned)) or self._exact.get(_exact_key(classified_text))
        if exact is not None:
            intent, oos = exact, exact == OUT_OF_SCOPE
            confidence = max(EXACT_MATCH_CONFIDENCE, dict(prediction.ranking).get(exact, 0.0))
        elif (answer := yes_or_no(cleaned)) is not None:
            # Only yes words or only no words ("haa", "na thak", "ঠিক আছে"): a reply to a proposal.
            intent, oos = ("confirm" if answer == "yes" else "cancel"), False
            confidence = max(EXACT_MATCH_CONFIDENCE, dict(prediction.ranking).get(intent, 0.0))
        elif intent in ACTIONS and (asks(cleaned) or describes(cleaned, extraction.entities)):
            # A question about an action's subject, or a noun phrase over a period ("new
            # customers last quarter"), is never that action (see guard.py).
            intent, confidence = reading_for_question(
                cleaned, dict(prediction.ranking), extraction.entities, actions=ACTIONS
            )
            oos = intent == OUT_OF_SCOPE
        elif intent != OUT_OF_SCOPE and (
            reaches_someone(cleaned) or (intent in ACTIONS and requests_elsewhere(cleaned))
        ):
            # "send an email to Dhaka Traders about their overdue invoice", "remind Dhaka
            # Traders to pay", "print INV-2026-0042" ask for what no action does: starting the
            # action their ledger words sound like, listing memories or showing a balance would
            # answer a different request. Out of scope: the refusal says it can't be done and
            # what can. ("Share the sales figures" is still a data question.)
            intent, confidence, oos = OUT_OF_SCOPE, 1.0 - confidence, True
        entities = _entities_for(intent, extraction.entities)
        return Understanding(
            text=text,
            intent=intent,
            confidence=confidence,
            is_out_of_scope=oos,
            alternatives=prediction.ranking[:5],
            entities=entities,
            similarity=prediction.similarity,
        )


def default_data_dir() -> Path:
    """The training data shipped in the package (nlu.yml and domain.yml)."""
    return Path(str(resources.files("companion.assistant.nlu") / "data"))


def _entities_for(intent: str, found: dict[str, Any]) -> dict[str, Any]:
    if intent in _NO_ENTITIES:
        return {}
    if intent == "explain_policy":
        return {k: v for k, v in found.items() if k in _POLICY_ENTITIES}
    entities = dict(found)
    if intent not in DATA_QUERIES:
        for key in _QUERY_ONLY:
            entities.pop(key, None)
        # Unknown names are reported for data questions (never answered without the filter);
        # actions ask for what they need their own way.
        entities = {k: v for k, v in entities.items() if not _unknown(v)}
    preferred = _PARTY.get(intent)
    if preferred and "customer" in entities and "supplier" in entities:
        other = "supplier" if preferred == "customer" else "customer"
        if entities[other].get("text") == entities[preferred].get("text"):
            del entities[other]
    return entities


def _unknown(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("unknown"))


def _exact_key(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _exact_index(data: TrainingData) -> dict[str, str]:
    seen: dict[str, set[str]] = {}
    for example in [*data.examples, *delexicalised_examples(data.examples)]:
        seen.setdefault(_exact_key(example.text), set()).add(example.intent)
    return {key: next(iter(intents)) for key, intents in seen.items() if key and len(intents) == 1}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
