"""Chunking rules: sections kept together, long ones split by paragraph then sentence."""

from __future__ import annotations

import pytest

from companion.knowledge.chunking import (
    ChunkingOptions,
    chunk_document,
    sections,
    split_sentences,
)
from companion.knowledge.parsers import parse_markdown

DOC = """# Travel policy

Intro paragraph about travel.

## Hotels

Staff may spend up to BDT 6,000 a night in Dhaka.

Managers may spend up to BDT 9,000.

### Abroad

USD 150 a night.

## Meals

A daily allowance covers meals.
"""


def test_each_section_is_its_own_chunk_with_its_heading_path_inside() -> None:
    chunks = chunk_document(DOC, title="Travel policy")
    assert [c.section for c in chunks] == [None, "Hotels", "Hotels > Abroad", "Meals"]
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3]
    hotels = chunks[1]
    assert hotels.text.splitlines()[0] == "Travel policy > Hotels"
    assert "BDT 6,000" in hotels.text and "BDT 9,000" in hotels.text
    assert chunks[2].text.startswith("Travel policy > Hotels > Abroad\n")
    assert "allowance" not in hotels.text


def test_a_long_section_splits_on_paragraphs_then_sentences_with_overlap() -> None:
    paragraphs = [
        " ".join(f"Rule {p}.{s} says something quite specific here." for s in range(6))
        for p in range(4)
    ]
    text = "# Rules\n\n## Long\n\n" + "\n\n".join(paragraphs)
    options = ChunkingOptions(max_chars=200, overlap_chars=60)
    chunks = chunk_document(text, title="Rules", options=options)
    assert len(chunks) > 4
    for chunk in chunks:
        body = chunk.text.split("\n", 1)[1]
        assert len(body) <= 200
        assert chunk.section == "Long" and chunk.text.startswith("Rules > Long\n")
    # Every sentence survives, and consecutive chunks share a sentence (the overlap).
    joined = "\n".join(c.text for c in chunks)
    for p in range(4):
        for s in range(6):
            assert f"Rule {p}.{s} says" in joined
    shared = [
        set(split_sentences(a.text)) & set(split_sentences(b.text))
        for a, b in zip(chunks, chunks[1:], strict=False)
    ]
    assert sum(1 for s in shared if s) >= len(chunks) // 2


def test_without_overlap_no_sentence_repeats() -> None:
    text = "# T\n\n" + " ".join(f"Sentence number {n} is here." for n in range(60))
    chunks = chunk_document(
        text, title="T", options=ChunkingOptions(max_chars=200, overlap_chars=0)
    )
    sentences = [s for c in chunks for s in split_sentences(c.text.split("\n", 1)[1])]
    assert len(sentences) == len(set(sentences)) == 60


def test_a_single_huge_sentence_is_cut_between_words() -> None:
    text = "# T\n\n" + " ".join(["word"] * 400)
    chunks = chunk_document(
        text, title="T", options=ChunkingOptions(max_chars=150, overlap_chars=30)
    )
    assert all(len(c.text.split("\n", 1)[1]) <= 150 for c in chunks)
    assert sum(c.text.count("word") for c in chunks) >= 400


def test_paragraph_and_fixed_strategies() -> None:
    by_paragraph = chunk_document(DOC, title="T", options=ChunkingOptions(strategy="paragraph"))
    assert len(by_paragraph) == 1 and by_paragraph[0].section is None  # all fits in one
    fixed = chunk_document(
        DOC * 5,
        title="T",
        options=ChunkingOptions(strategy="fixed", max_chars=120, overlap_chars=30),
    )
    assert len(fixed) > 3 and all(c.section is None for c in fixed)
    assert all(len(c.text) <= 120 + len("T\n") + 20 for c in fixed)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        ChunkingOptions(strategy="magic")
    with pytest.raises(ValueError):
        ChunkingOptions(max_chars=200, overlap_chars=150)


def test_sentences_respect_abbreviations_and_list_lines() -> None:
    text = "Book e.g. with the desk. It is ext. 214 today.\n- First item\n- Second item."
    assert split_sentences(text) == [
        "Book e.g. with the desk.",
        "It is ext. 214 today.",
        "- First item",
        "- Second item.",
    ]


def test_sections_of_a_parsed_demo_style_document() -> None:
    parsed = parse_markdown(
        "# Acme — Travel\n\n## 5. Hotels\n\n| Place | Staff |\n|---|---|\n| Dhaka | BDT 6,000 |\n"
        "| Sylhet | BDT 5,000 |\n\nAbove the cap is paid by the traveller.\n"
    )
    found = sections(parsed.text)
    assert found[-1].path == ("Acme — Travel", "5. Hotels")
    assert found[-1].paragraphs[0].splitlines() == [
        "Dhaka — Staff: BDT 6,000.",
        "Sylhet — Staff: BDT 5,000.",
    ]


def test_a_numbered_list_marker_stays_with_its_sentence() -> None:
    text = "1. Open the invoice in the ERP. Check the lines.\n2. Say post.\nWe paid 2. Then left."
    assert split_sentences(text) == [
        "1. Open the invoice in the ERP.",
        "Check the lines.",
        "2. Say post.",
        "We paid 2.",
        "Then left.",
    ]
