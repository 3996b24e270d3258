"""New alerts delivered after the scan commits: a signed webhook to a real local HTTP
server (retried on 5xx) and e-mail to a real local SMTP sink (aiosmtpd), on both databases."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from companion.alerts import outbound
from companion.alerts import service as alerts
from companion.config import AlertSettings
from operations_factories import DAY, make_shop

SECRET = "s3cret-of-sixteen-chars"


class Receiver:
    """A webhook endpoint on loopback: records each request, fails the first ``failures``."""

    def __init__(self, failures: int = 0, status: int = 500) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures, self.status = failures, status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                code = receiver.status if len(receiver.requests) <= receiver.failures else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Sink:
    """aiosmtpd's handler interface: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=1)
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def _settings(receiver: Receiver, port: int) -> AlertSettings:
    return AlertSettings.model_validate(
        {
            "webhooks": {"acme": {"url": receiver.url, "secret": SECRET}},
            "webhook_backoff_seconds": 0.01,
            "email": {"acme": ["ops@example.com"]},
            "smtp_port": port,
        }
    )


def test_new_alerts_go_out_signed_after_commit_and_once(
    session: Session, receiver: Receiver, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    shop = make_shop(session, "acme", stock="3")
    settings = _settings(receiver, port)
    alerts.scan_company(session, shop.company.id, DAY, settings)
    assert receiver.requests == [] and sink.messages == []  # nothing before the commit
    session.commit()
    assert len(receiver.requests) == 2  # a 500, then delivered on the retry
    last = receiver.requests[-1]
    headers = {k.lower(): v for k, v in last["headers"].items()}
    assert outbound.verify(
        SECRET, headers["x-companion-timestamp"], last["body"], headers["x-companion-signature"]
    )
    assert not outbound.verify("another-secret-123", headers["x-companion-timestamp"],
                               last["body"], headers["x-companion-signature"])  # fmt: skip
    payload = json.loads(last["body"])
    assert payload["event"] == "alerts.created" and payload["company"] == "acme"
    assert [a["type"] for a in payload["alerts"]] == ["low_stock"]
    (mail,) = sink.messages
    assert mail.rcpt_tos == ["ops@example.com"]
    text = mail.content.decode()
    assert "Subject: Companion: 1 new alert for acme" in text and "Widget" in text
    # A re-scan finds nothing new: nothing more goes out.
    alerts.scan_company(session, shop.company.id, DAY, settings)
    session.commit()
    assert len(receiver.requests) == 2 and len(sink.messages) == 1


def test_a_rolled_back_scan_sends_nothing(
    session: Session, receiver: Receiver, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    shop = make_shop(session, "acme", stock="3")
    nested = session.begin_nested()
    alerts.scan_company(session, shop.company.id, DAY, _settings(receiver, port))
    nested.rollback()
    session.commit()
    assert receiver.requests == [] and sink.messages == []


def test_a_company_without_targets_sends_nothing(
    session: Session, receiver: Receiver, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    other = make_shop(session, "globex", stock="3")
    alerts.scan_company(session, other.company.id, DAY, _settings(receiver, port))
    session.commit()
    assert receiver.requests == [] and sink.messages == []


def test_a_refusal_is_final_and_an_outage_is_retried_with_backoff() -> None:
    refusing = Receiver(failures=10, status=400)
    waits: list[float] = []
    try:
        result = outbound.post_webhook(refusing.url, SECRET, {"x": 1}, sleep=waits.append)
        assert result == outbound.Delivery(False, 1, 400) and waits == []
    finally:
        refusing.close()
    down = Receiver(failures=10, status=503)
    try:
        result = outbound.post_webhook(
            down.url, SECRET, {"x": 1}, attempts=4, backoff_seconds=0.5, sleep=waits.append
        )
        assert result == outbound.Delivery(False, 4, 503) and waits == [0.5, 1.0, 2.0]
        assert len(down.requests) == 4
    finally:
        down.close()
    result = outbound.post_webhook("http://127.0.0.1:9/nothing", SECRET, {}, sleep=waits.append)
    assert result.ok is False and result.status is None and result.attempts == 3
