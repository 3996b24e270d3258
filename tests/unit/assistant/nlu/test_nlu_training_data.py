"""The shipped training data: complete, well-formed, and consistent with the extractors."""

from __future__ import annotations

from collections import Counter

import pytest

from companion.assistant.evaluation import default_set_path, load_eval_set
from companion.assistant.nlu import ACTIONS, DATA_QUERIES, DIALOGUE, load_rasa_nlu
from companion.assistant.nlu.delex import delexicalised_examples
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.understanding import _exact_key, default_data_dir
from nlu_fixtures import TODAY

DATA = load_rasa_nlu(default_data_dir())
CONTRACT_ENTITIES = {
    "amount", "currency", "period", "date", "customer", "supplier", "product", "warehouse",
    "document_ref", "status", "quantity", "unit_price", "bank_account", "module",
}  # fmt: skip


def test_every_contract_intent_has_a_balanced_share_of_examples() -> None:
    counts = Counter(e.intent for e in DATA.examples)
    assert set(counts) == DATA_QUERIES | ACTIONS | DIALOGUE
    in_scope = {k: n for k, n in counts.items() if k != "out_of_scope"}
    # Confirm and cancel carry the most ways of saying yes and no (English, Banglish, Bangla).
    assert all(40 <= n <= 130 for n in in_scope.values()), in_scope
    # "None of the above" is learnt from many kinds of negatives, not one small cluster.
    assert counts["out_of_scope"] >= 150, counts["out_of_scope"]


def test_training_data_is_spread_over_the_shipped_files() -> None:
    names = {p.name for p in default_data_dir().glob("*.yml")}
    assert {"nlu.yml", "nlu_phrasing.yml", "domain.yml"} <= names
    assert {"nlu_typos.yml", "nlu_banglish.yml", "nlu_bangla.yml"} <= names


@pytest.mark.parametrize("name", ["nlu_typos.yml", "nlu_banglish.yml", "nlu_bangla.yml"])
def test_typos_banglish_and_bangla_cover_every_intent(name: str) -> None:
    data = load_rasa_nlu(default_data_dir() / name)
    assert set(data.intents) == DATA_QUERIES | ACTIONS | DIALOGUE


def test_no_held_out_message_is_a_training_sentence() -> None:
    keys = {_exact_key(e.text) for e in [*DATA.examples, *delexicalised_examples(DATA.examples)]}
    held_out = load_eval_set(default_set_path().with_name("heldout_mixed.yml"))
    assert len(held_out) >= 200
    assert [e.text for e in held_out if _exact_key(e.text) in keys] == []


def test_domain_lists_the_intents_and_contract_entities() -> None:
    assert set(DATA.domain_intents) == set(DATA.intents)
    assert CONTRACT_ENTITIES <= set(DATA.domain_entities)


def test_annotations_use_domain_entities_and_examples_are_unique() -> None:
    used = {s.entity for e in DATA.examples for s in e.entities}
    assert used <= set(DATA.domain_entities)
    texts = [e.text.lower() for e in DATA.examples]
    assert len(texts) == len(set(texts))


def test_has_synonyms_lookups_and_a_regex() -> None:
    assert DATA.synonyms["past due"] == "overdue"
    assert "overdue" in DATA.lookups["status"]
    assert DATA.regexes["document_ref"]


@pytest.mark.parametrize("entity", ["document_ref", "period", "status"])
def test_extractors_find_the_annotated_spans(entity: str) -> None:
    spans = [(e, s) for e in DATA.examples for s in e.entities if s.entity == entity]
    assert len(spans) >= 20
    hits = 0
    for example, span in spans:
        found = extract_entities(example.text, today=TODAY)
        if entity == "document_ref":
            refs = extract_document_refs(example.text)
            hits += any(r.start <= span.start and span.end <= r.end for r in refs)
        elif entity == "period":
            hits += "period" in found.entities or "date" in found.entities
        else:
            hits += found.entities.get("status") == span.value
    assert hits / len(spans) >= 0.9, (entity, hits, len(spans))
