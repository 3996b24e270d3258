"""Policies: the shipped file, overrides per deployment and company, errors with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.llm import USE_CASES, PolicyBook, PolicyFileInvalid


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_default_covers_every_use_case() -> None:
    book = PolicyBook.load()
    policies = book.policies()
    assert set(policies) == set(USE_CASES)
    # Phrasing of data answers is off by default; knowledge answers stream.
    assert policies["chat"].enabled is False
    assert policies["knowledge_answer"].stream is True
    assert policies["tool_choice"].temperature == 0.0
    assert all(p.provider == "default" for p in policies.values())
    assert book.health.failure_threshold == 3


def test_deployment_file_overrides_fields_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "site.yml",
        """
providers:
  big:
    kind: openai_compat
    base_url: http://127.0.0.1:9/v1
    model: qwen
defaults:
  provider: big
  fallback: [default]
use_cases:
  summarize:
    max_tokens: 99
""",
    )
    book = PolicyBook.load(path)
    summarize = book.policy("summarize")
    assert summarize.max_tokens == 99
    # The deployment's defaults beat the shipped file's per-use-case values.
    assert summarize.provider == "big"
    assert summarize.chain() == ("big", "default")
    # Untouched fields keep the shipped values.
    assert summarize.cache_ttl_s == 1800
    assert book.policy("chat").enabled is False
    assert set(book.providers) == {"big"}


def test_company_override_applies_to_that_company_only(tmp_path: Path) -> None:
    site = write(
        tmp_path,
        "site.yml",
        "companies:\n  globex:\n    use_cases:\n      chat:\n        enabled: true\n",
    )
    companies = tmp_path / "companies"
    write(companies, "acme.yml", "use_cases:\n  knowledge_answer:\n    temperature: 0.7\n")
    book = PolicyBook.load(site, company_dir=companies)
    assert book.policy("chat", "globex").enabled is True
    assert book.policy("chat", "acme").enabled is False
    assert book.policy("chat").enabled is False
    assert book.policy("knowledge_answer", "acme").temperature == 0.7
    assert book.policy("knowledge_answer", "globex").temperature == 0.1


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yml", "use_cases:\n  chat:\n    enabled: true\n   bad: [1, 2\n")
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 4
    assert str(path) in caught.value.message
    assert "line 4" in caught.value.message


def test_invalid_value_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yml",
        "# comment\nuse_cases:\n  chat:\n    enabled: true\n    temperature: 7\n",
    )
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 5
    assert "use_cases.chat.temperature" in caught.value.message


def test_unknown_use_case_and_field_name_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yml", "use_cases:\n  chitchat:\n    enabled: true\n")
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 2
    path = write(tmp_path, "bad2.yml", "defaults:\n  temprature: 0.1\n")
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 2


def test_unknown_provider_in_a_fallback_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yml",
        "use_cases:\n  summarize:\n    fallback:\n      - none\n      - cloud\n",
    )
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 5
    assert "'cloud'" in caught.value.message


def test_company_file_may_not_define_providers(tmp_path: Path) -> None:
    companies = tmp_path / "companies"
    write(companies, "acme.yml", "providers:\n  x:\n    kind: none\n")
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(company_dir=companies)
    assert caught.value.line == 1


def test_missing_deployment_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(tmp_path / "absent.yml")
    assert "absent.yml" in caught.value.message
    assert caught.value.line is None


def test_unknown_use_case_lookup_is_refused() -> None:
    with pytest.raises(KeyError):
        PolicyBook.load().policy("poetry")


def test_yaml_boolean_key_is_reported_at_its_line(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `off` as false: the error must still point at the right line.
    path = write(tmp_path, "bad.yml", "providers:\n  big: {kind: none}\n  off: {kind: none}\n")
    with pytest.raises(PolicyFileInvalid) as caught:
        PolicyBook.load(path)
    assert caught.value.line == 3


def test_a_companys_own_file_wins_over_the_deployments_section_for_it(tmp_path: Path) -> None:
    deployment = tmp_path / "deployment.yml"
    deployment.write_text(
        "companies:\n  acme:\n    use_cases:\n      chat: {max_tokens: 100, temperature: 0.5}\n"
    )
    companies = tmp_path / "companies"
    companies.mkdir()
    (companies / "acme.yml").write_text("use_cases:\n  chat: {max_tokens: 50}\n")
    book = PolicyBook.load(deployment, company_dir=companies)
    chat = book.policy("chat", "acme")
    assert chat.max_tokens == 50 and chat.temperature == 0.5
    book.replace_company_file("acme", {"use_cases": {"chat": {"enabled": False}}})
    chat = book.policy("chat", "acme")  # the cache was dropped with the old file
    assert chat.enabled is False and chat.max_tokens == 100
    assert book.company_file_values("acme") == {"use_cases": {"chat": {"enabled": False}}}
    assert book.company_file_values("globex") == {}
