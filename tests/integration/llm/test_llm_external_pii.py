"""An external provider receives prompts with personal data replaced, over real HTTP.

The peer is a small OpenAI-compatible server on loopback that records every request body
and answers by echoing the last user message. llama-cpp-python's server (the real peer of
test_llm_openai_compat.py) cannot tell us what it was sent, which is the point here.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from companion.bootstrap import bootstrap
from companion.config import LLMSettings, Settings
from companion.governance.pii import PiiScrubber
from companion.kit import migrate
from companion.llm.errors import LLMUnavailable
from companion.llm.factory import build_llm_service
from companion.llm.privacy import PrivateProvider
from dbutil import new_database_url

MODEL = "cloud-model"
SECRET_MESSAGE = (
    "Draft a reminder to rahim.uddin@tangail.com, phone +880 1711-123456, about "
    "INV-2026-0001 for BDT 1,25,000.00 due 2026-12-06; card 4111 1111 1111 1111."
)
SECRETS = ("rahim.uddin@tangail.com", "1711-123456", "4111 1111 1111 1111")


class Recorder:
    """A loopback OpenAI-compatible server that keeps what it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet: the test reads the recorded bodies, not a log."""

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._json({"object": "list", "data": [{"id": MODEL}]})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.bodies.append(body)
                last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
                reply = f"Done: {last}"
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    # Three characters at a time: placeholders arrive cut in pieces.
                    for i in range(0, len(reply), 3):
                        delta = {"choices": [{"index": 0, "delta": {"content": reply[i : i + 3]}}]}
                        self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                self._json(
                    {
                        "model": MODEL,
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": reply}}
                        ],
                        "usage": {"prompt_tokens": 40, "completion_tokens": 20},
                    }
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def sent_text(self) -> str:
        return json.dumps(self.bodies)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _settings(recorder: Recorder, **extra: Any) -> LLMSettings:
    return LLMSettings(provider="openai_compat", base_url=recorder.base_url, model=MODEL, **extra)


def test_the_default_provider_marked_external_gets_placeholders(recorder: Recorder) -> None:
    service = build_llm_service(_settings(recorder, external=True), scrubber=PiiScrubber())
    generation = service.generate(
        "summarize", "acme", [{"role": "user", "content": SECRET_MESSAGE}]
    )
    sent = recorder.sent_text()
    for secret in SECRETS:
        assert secret not in sent
    user = recorder.bodies[-1]["messages"][-1]["content"]
    assert user == (
        "Draft a reminder to <EMAIL_1>, phone <PHONE_1>, about INV-2026-0001 for "
        "BDT 1,25,000.00 due 2026-12-06; card <CARD_1>."
    )
    # The reply names the placeholders; the user gets the values back.
    assert generation.text == f"Done: {SECRET_MESSAGE}"
    service.registry.close()


def test_streamed_replies_are_restored(recorder: Recorder) -> None:
    service = build_llm_service(_settings(recorder, external=True), scrubber=PiiScrubber())

    async def collect() -> str:
        prompt = [{"role": "user", "content": SECRET_MESSAGE}]
        return "".join([piece async for piece in service.stream("summarize", "acme", prompt)])

    assert asyncio.run(collect()) == f"Done: {SECRET_MESSAGE}"
    assert recorder.bodies[-1]["stream"] is True
    for secret in SECRETS:
        assert secret not in recorder.sent_text()
    service.registry.close()


def test_restore_off_leaves_placeholders_in_the_reply(recorder: Recorder) -> None:
    settings = _settings(recorder, external=True, restore_pii=False)
    service = build_llm_service(settings, scrubber=PiiScrubber())
    text = service.generate("summarize", "acme", [{"role": "user", "content": SECRET_MESSAGE}]).text
    assert "<EMAIL_1>" in text and "rahim.uddin@" not in text
    service.registry.close()


def test_a_provider_not_marked_external_gets_the_text_as_written(recorder: Recorder) -> None:
    service = build_llm_service(_settings(recorder), scrubber=PiiScrubber())
    service.generate("summarize", "acme", [{"role": "user", "content": SECRET_MESSAGE}])
    assert SECRET_MESSAGE in recorder.bodies[-1]["messages"][-1]["content"]
    service.registry.close()


def test_a_named_provider_marked_external_in_the_policy_file(
    recorder: Recorder, tmp_path: Path
) -> None:
    policies = tmp_path / "policies.yml"
    policies.write_text(
        "providers:\n"
        "  cloud:\n"
        "    kind: openai_compat\n"
        f"    base_url: {recorder.base_url}\n"
        f"    model: {MODEL}\n"
        "    external: true\n"
        "use_cases:\n"
        "  draft_email:\n"
        "    provider: cloud\n",
        encoding="utf-8",
    )
    settings = LLMSettings(provider="none", policies_file=policies)
    service = build_llm_service(settings, scrubber=PiiScrubber())
    assert isinstance(service.registry.get("cloud"), PrivateProvider)
    text = service.generate("draft_email", "acme", SECRET_MESSAGE).text
    assert text == f"Done: {SECRET_MESSAGE}"
    for secret in SECRETS:
        assert secret not in recorder.sent_text()
    service.registry.close()


def test_external_without_a_scrubber_refuses_to_start(recorder: Recorder) -> None:
    with pytest.raises(LLMUnavailable, match="marked external"):
        build_llm_service(_settings(recorder, external=True))


def test_the_container_wires_the_redactor(
    recorder: Recorder, tmp_path: Path, backend: str, pg_database_factory: list[str]
) -> None:
    settings = Settings(
        database_url=new_database_url(backend, tmp_path, pg_database_factory),
        data_dir=tmp_path,
        demo_mode=True,
        llm=_settings(recorder, external=True),
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    try:
        llm = container.llm()
        assert isinstance(llm.registry.get("default"), PrivateProvider)
        text = llm.generate("summarize", 1, [{"role": "user", "content": SECRET_MESSAGE}]).text
        assert text == f"Done: {SECRET_MESSAGE}"
        for secret in SECRETS:
            assert secret not in recorder.sent_text()
    finally:
        container.llm().registry.close()
        container.dispose()
        container.engine.dispose()


def test_compliance_mode_keeps_every_prompt_from_an_external_provider(recorder: Recorder) -> None:
    from companion.llm.admission import external_providers

    service = build_llm_service(_settings(recorder, external=True), scrubber=PiiScrubber())
    message = [{"role": "user", "content": SECRET_MESSAGE}]
    with external_providers(False), pytest.raises(LLMUnavailable) as refused:
        service.generate("summarize", "acme", message)
    assert "compliance mode" in refused.value.message
    with external_providers(False), pytest.raises(LLMUnavailable):

        async def collect() -> str:
            return "".join([piece async for piece in service.stream("summarize", "acme", message)])

        asyncio.run(collect())
    assert recorder.bodies == []  # nothing reached the provider
    assert service.generate("summarize", "acme", message).text  # outside the block: allowed
    assert len(recorder.bodies) == 1
    # A provider not marked external is used in compliance mode as before.
    local = build_llm_service(_settings(recorder), scrubber=PiiScrubber())
    with external_providers(False):
        assert local.generate("summarize", "acme", message).text
    assert len(recorder.bodies) == 2


def test_compliance_is_asked_only_when_an_external_provider_comes_up(recorder: Recorder) -> None:
    """A chat turn passes its policy read as a callable: a provider not marked external never
    asks it, a provider marked external asks it once and is refused in compliance mode."""
    from companion.llm.admission import external_providers

    asked: list[bool] = []

    def in_compliance_mode() -> bool:
        asked.append(True)
        return False

    local = build_llm_service(_settings(recorder), scrubber=PiiScrubber())
    external = build_llm_service(_settings(recorder, external=True), scrubber=PiiScrubber())
    message = [{"role": "user", "content": SECRET_MESSAGE}]
    with external_providers(in_compliance_mode):
        assert local.generate("summarize", "acme", message).text
        assert asked == []
        for _ in range(2):
            with pytest.raises(LLMUnavailable) as refused:
                external.generate("summarize", "acme", message)
            assert "compliance mode" in refused.value.message
    assert asked == [True]
    assert len(recorder.bodies) == 1  # the local provider's call only
