from __future__ import annotations

from pathlib import Path

import pytest

from companion.assistant.nlu import TrainingDataError, load_rasa_nlu
from companion.assistant.nlu.rasa import parse_annotated, parse_rasa_nlu_text
from nlu_fixtures import DATASETS

FINANCIAL = DATASETS / "rasa-financial-demo"


def test_inline_annotations_all_forms() -> None:
    example = parse_annotated(
        'pay [500](amount) to my [credit card]{"entity": "account_type", "value": "credit"} '
        'from [savings](account:checking) [Bob][{"entity": "PERSON"}, {"entity": "payee", '
        '"role": "to"}]',
        "pay",
    )
    assert example.text == "pay 500 to my credit card from savings Bob"
    spans = [(s.text, s.entity, s.value, s.role) for s in example.entities]
    assert spans == [
        ("500", "amount", "500", None),
        ("credit card", "account_type", "credit", None),
        ("savings", "account", "checking", None),
        ("Bob", "PERSON", "Bob", None),
        ("Bob", "payee", "Bob", "to"),
    ]
    for span in example.entities:
        assert example.text[span.start : span.end] == span.text


def test_synonyms_lookups_regexes_and_domain() -> None:
    data = parse_rasa_nlu_text(
        """
version: "3.1"
nlu:
- intent: status
  examples: |
    - is it [late]{"entity": "status", "value": "overdue"}
    - show [paid](status) ones
- synonym: overdue
  examples: |
    - past due
- lookup: bank
  examples: |
    - City Bank
    - BRAC Bank
- regex: account_number
  examples: |
    - \\d{10,12}
intents:
- status
- greet:
    use_entities: []
entities:
- status
"""
    )
    assert [e.text for e in data.examples] == ["is it late", "show paid ones"]
    assert data.synonyms == {"late": "overdue", "past due": "overdue"}
    assert data.lookups == {"bank": ["City Bank", "BRAC Bank"]}
    assert data.regexes == {"account_number": [r"\d{10,12}"]}
    assert data.domain_intents == ["status", "greet"]
    assert data.domain_entities == ["status"]


def test_long_form_examples_with_metadata() -> None:
    data = parse_rasa_nlu_text(
        """
nlu:
- intent: greet
  examples:
  - text: |
      hello there
    metadata: {sentiment: neutral}
  - text: hi
"""
    )
    assert [e.text for e in data.examples] == ["hello there", "hi"]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("nlu: {a: 1}", "'nlu' must be a list"),
        ("nlu:\n- examples: |\n    - hi\n", "needs one of intent, synonym, lookup or regex"),
        ("nlu:\n- intent: a\n  examples: |\n    hi\n", "must start with '- '"),
        ("nlu:\n- regex: r\n  examples: |\n    - ([a-z\n", "does not compile"),
        ("nlu:\n- intent: a\n  examples: |\n    - [x]{not json}\n", "not valid JSON"),
        ("nlu:\n- intent: a\n  examples: 42\n", "block string or a list"),
        ("- just\n- a list\n", "expected a mapping"),
        ("nlu: [\n", "not valid YAML"),
        ("intents: {a: 1}", "'intents' must be a list"),
    ],
)
def test_malformed_data_is_a_clear_error(yaml_text: str, message: str) -> None:
    with pytest.raises(TrainingDataError, match=message):
        parse_rasa_nlu_text(yaml_text, source="bad.yml")


def test_loader_reads_folders_and_reports_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("nlu:\n- intent: x\n  examples: |\n    - one\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("nlu:\n- intent: y\n  examples: |\n    - two\n")
    (tmp_path / "notes.txt").write_text("ignored")
    data = load_rasa_nlu(tmp_path)
    assert sorted(e.text for e in data.examples) == ["one", "two"]
    with pytest.raises(TrainingDataError, match="does not exist"):
        load_rasa_nlu(tmp_path / "nope.yml")
    with pytest.raises(TrainingDataError, match="no Rasa YAML files"):
        load_rasa_nlu([])


def test_fingerprint_is_order_independent_and_content_sensitive() -> None:
    a = parse_rasa_nlu_text("nlu:\n- intent: x\n  examples: |\n    - one\n    - two\n")
    b = parse_rasa_nlu_text("nlu:\n- intent: x\n  examples: |\n    - two\n    - one\n")
    c = parse_rasa_nlu_text("nlu:\n- intent: x\n  examples: |\n    - two\n    - three\n")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_rasa_financial_demo_loads() -> None:
    data = load_rasa_nlu([FINANCIAL / "nlu.yml", FINANCIAL / "domain.yml"])
    assert len(data.examples) == 578
    assert len(data.intents) == 17
    assert "check_balance" in data.domain_intents and "session_start" in data.domain_intents
    assert "amount-of-money" in data.domain_entities
    assert data.synonyms["credit card"] == "credit"
    annotated = [e for e in data.examples if e.entities]
    assert annotated and all(
        e.text[s.start : s.end] == s.text for e in annotated for s in e.entities
    )


def test_rasa_split_loads() -> None:
    data = load_rasa_nlu(FINANCIAL / "split" / "train_nlu.yml")
    assert len(data.examples) == 464
