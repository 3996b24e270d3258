"""The bigram index finds every name scoring the cutoff, so the matcher's answers do not move."""

from __future__ import annotations

import json
import random

import pytest
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from companion.assistant.nlu.entities import master
from companion.assistant.nlu.entities.master import MasterData, NumberedMiss, match_master
from companion.assistant.nlu.entities.ratio_index import RatioIndex, bigrams

PARTY_WORDS = (
    "amber blue cedar delta golden harbor jade lotus meadow oak pacific quartz river silver "
    "summit tiger union valley zenith crescent maple royal star coral traders stores mart "
    "supplies enterprises holdings foods textiles pharma motors builders agro logistics "
    "dhaka chittagong khulna sylhet rajshahi rangpur comilla gazipur bogra tangail feni"
).split()
ITEM_WORDS = (
    "steel copper cotton cement bolt cable hinge rope tile lamp fan a205 a208 x1 3mm".split()
)
WORDS = PARTY_WORDS + ITEM_WORDS


def _names(rng: random.Random, count: int, words: list[str] = WORDS) -> list[str]:
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(count)]


def _typo(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 3)):
        k = rng.randrange(len(chars))
        roll = rng.random()
        if roll < 0.4 and len(chars) > 1:
            del chars[k]
        elif roll < 0.7:
            chars.insert(k, rng.choice("aeiou rst"))
        else:
            chars[k] = rng.choice("aeiou rst")
    return "".join(chars)


def test_bigrams_number_repeats() -> None:
    assert bigrams("abab") == ["ab", "ba", "ab2"]
    assert bigrams("a") == []


def test_candidates_hold_every_name_that_scores_the_cutoff() -> None:
    rng = random.Random(20)
    names = _names(rng, 3000)
    index = RatioIndex(names, 86.0)
    phrases = [_typo(rng, rng.choice(names)) for _ in range(300)]
    phrases += [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) for _ in range(200)]
    phrases += ["", "a", "ab", "how much does golden traders owe", "x1 bolt"]
    scores = cdist(phrases, names, scorer=fuzz.ratio, workers=1)
    checked = kept = 0
    for row, phrase in enumerate(phrases):
        scoring = set((scores[row] >= 86.0).nonzero()[0].tolist())
        found = index.candidates(phrase)
        assert found == sorted(set(found))
        assert scoring <= set(found), phrase
        checked += len(scoring)
        kept += len(found)
    assert checked > 300  # the typos still score: the test says something
    assert kept < len(phrases) * len(names) / 20  # and the index rules most names out


MESSAGES = [
    "how much does Rahim Traders owe",
    "rahim tradrs balance",
    "Khulna dues",
    "khulna corporation statement",
    "Khulna Emporium invoices",
    "stock of Bearing A209",
    "stock of Bearing A208 and bearing a205",
    "golden traders dhaka and silver mart khulna",
    "goldn tradrs dhka balance",
    "cust-0003 balance",
    "co",
    "what is our cash balance this month",
    "Green Valley dues",
    "green light the purchase order",
]


def _answers(data: MasterData) -> list[str]:
    out = []
    for text in MESSAGES:
        misses: list[NumberedMiss] = []
        found = match_master(text, data, misses=misses)
        out.append(
            json.dumps(
                [
                    [[m.kind, m.start, m.end, m.to_dict()] for m in found],
                    [[m.kind, m.text, [[r.id, s] for r, s in m.close]] for m in misses],
                ]
            )
        )
    return out


def _rows() -> dict[str, list[tuple[int, str, str | None]]]:
    rng = random.Random(7)
    customers = [
        (1, "Rahim Traders Ltd", "CUST-0001"),
        (2, "Rahim Steel House", "CUST-0002"),
        (3, "Green Valley Agro", "CUST-0003"),
        (4, "Khulna Corporation", None),
        (5, "Khulna Emporium", None),
        (6, "Golden Traders Dhaka", None),
        (7, "Silver Mart Khulna", None),
        (8, "Co", None),
    ]
    customers += [
        (100 + n, name.title(), None) for n, name in enumerate(_names(rng, 1600, PARTY_WORDS))
    ]
    products = [(1, "Bearing A205", None), (2, "Bearing A208", None)]
    products += [
        (100 + n, name.title(), None) for n, name in enumerate(_names(rng, 400, ITEM_WORDS))
    ]
    return {"customers": customers, "products": products}


def test_the_index_gives_the_answers_of_scoring_every_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(master, "INDEXED_FROM", 10**9)
    everyone = _answers(MasterData.build(**_rows()))
    monkeypatch.setattr(master, "INDEXED_FROM", 0)
    indexed = MasterData.build(**_rows())
    assert indexed.index("customer").ratio is not None
    assert _answers(indexed) == everyone
    assert '"Rahim Traders Ltd"' in everyone[0] and '"Bearing A209"' in everyone[5]
