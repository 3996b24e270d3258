"""Providers marked external see placeholders, never the personal data (llm.privacy)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from pydantic import BaseModel

from companion.governance.pii import PiiScrubber
from companion.llm.privacy import PrivateProvider, _StreamRestorer
from companion.llm.providers.base import Message
from companion.llm.providers.fake import FakeProvider

PROMPT: list[Message] = [
    {"role": "system", "content": "You draft e-mails for Acme."},
    {"role": "user", "content": "Remind rahim@tangail.com (01711-123456) about INV-2026-0001."},
    {"role": "assistant", "content": "Shall I also copy karim@tangail.com?"},
    {"role": "user", "content": "Yes, and rahim@tangail.com's card 4111 1111 1111 1111."},
]


def _sent(fake: FakeProvider) -> str:
    return "\n".join(m["content"] for m in fake.calls[-1]["messages"])


def test_the_provider_receives_placeholders_numbered_across_the_messages() -> None:
    fake = FakeProvider(mode="echo")
    private = PrivateProvider(fake, PiiScrubber(), restore=True)
    generation = private.generate(PROMPT)
    sent = fake.calls[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "Remind <EMAIL_1> (<PHONE_1>) about INV-2026-0001."
    assert sent[2]["content"] == "Shall I also copy <EMAIL_2>?"
    assert sent[3]["content"] == "Yes, and <EMAIL_1>'s card <CARD_1>."
    for secret in ("rahim@", "karim@", "01711", "4111"):
        assert secret not in _sent(fake)
    # The echo of the last message comes back with the values put back.
    assert generation.text == "Yes, and rahim@tangail.com's card 4111 1111 1111 1111."


def test_restore_off_keeps_the_placeholders() -> None:
    fake = FakeProvider(["Dear <EMAIL_1>, your phone <PHONE_1> is on file."])
    private = PrivateProvider(fake, PiiScrubber(), restore=False)
    assert private.generate(PROMPT).text == "Dear <EMAIL_1>, your phone <PHONE_1> is on file."


def test_a_placeholder_the_prompt_did_not_have_stays_as_written() -> None:
    fake = FakeProvider(["Write to <EMAIL_1> or <EMAIL_9>"])
    private = PrivateProvider(fake, PiiScrubber(), restore=True)
    assert private.generate(PROMPT).text == "Write to rahim@tangail.com or <EMAIL_9>"


class Contact(BaseModel):
    email: str
    phone: str


def test_structured_replies_are_restored_before_validation() -> None:
    fake = FakeProvider(['{"email": "<EMAIL_1>", "phone": "<PHONE_1>"}'])
    private = PrivateProvider(fake, PiiScrubber(), restore=True)
    contact = private.generate_structured(PROMPT, Contact)
    assert contact == Contact(email="rahim@tangail.com", phone="01711-123456")
    assert "rahim@" not in _sent(fake)


def test_stream_restores_a_placeholder_split_across_pieces() -> None:
    fake = FakeProvider(["Sent to <EMAIL_1> and <PHONE_1> today"])
    private = PrivateProvider(fake, PiiScrubber(), restore=True)

    async def collect() -> list[str]:
        return [piece async for piece in private.stream(PROMPT)]

    pieces = asyncio.run(collect())
    assert "".join(pieces) == "Sent to rahim@tangail.com and 01711-123456 today"
    assert "rahim@" not in _sent(fake)


@pytest.mark.parametrize(
    "pieces",
    [
        ["<EM", "AIL_1> ok"],
        ["a <", "EMAIL_", "1", ">", " b"],
        ["x < y and <EMAIL_1>"],
        ["ends with <"],
        ["<not a placeholder at all, far too long to be one>"],
    ],
)
def test_stream_restorer(pieces: Sequence[str]) -> None:
    restorer = _StreamRestorer(lambda text: text.replace("<EMAIL_1>", "a@b.com"))
    out = "".join(restorer.feed(p) for p in pieces) + restorer.flush()
    assert out == "".join(pieces).replace("<EMAIL_1>", "a@b.com")


def test_counts_health_and_model_come_from_the_inner_provider() -> None:
    fake = FakeProvider(name="cloud", model="gpt-x", context_size=999)
    private = PrivateProvider(fake, PiiScrubber(), restore=True)
    assert (private.kind, private.model, private.context_size) == ("cloud", "gpt-x", 999)
    assert private.count_tokens("a b c") == 3
    assert private.health().ok
