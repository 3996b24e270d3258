"""Outbound delivery of new alerts: a signed webhook per company and e-mail over SMTP.

Optional and off by default (``COMPANION_ALERTS__WEBHOOKS``, ``__EMAIL``). A scan queues
the delivery with ``kit.after_commit``: nothing leaves before the alerts are committed,
and a rolled-back scan sends nothing. A failure is logged, never raised into the scan.

Webhook: ``POST`` of ``{"event": "alerts.created", "company": slug, "alerts": [...]}``
with ``X-Companion-Timestamp`` and ``X-Companion-Signature: sha256=<hex>``, the HMAC-SHA256
of ``"<timestamp>.<body>"`` under the company's secret (``verify`` checks one). Retried
with exponential backoff on a connection error, a timeout, 429 or 5xx; another 4xx is final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from companion.config import AlertSettings

log = logging.getLogger(__name__)
RETRYABLE = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Delivery:
    """How a webhook delivery ended: delivered or not, after how many attempts, last status."""

    ok: bool
    attempts: int
    status: int | None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is this body's (constant-time), as a receiver checks it."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_webhook(
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    timeout_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> Delivery:
    """POST ``payload`` signed; retry transient failures, waiting backoff x 2^n between."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    status: int | None = None
    for attempt in range(1, attempts + 1):
        timestamp = str(int(now()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "companion-alerts",
                "X-Companion-Timestamp": timestamp,
                "X-Companion-Signature": sign(secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                status = int(response.status)
            return Delivery(True, attempt, status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status < 500 and status not in RETRYABLE:
                return Delivery(False, attempt, status)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            status = None
            log.warning("alert webhook attempt %d to %s failed: %s", attempt, url, exc)
        if attempt < attempts:
            sleep(backoff_seconds * 2 ** (attempt - 1))
    return Delivery(False, attempts, status)


def send_email(settings: AlertSettings, recipients: Sequence[str], subject: str, text: str) -> None:
    """One plain-text e-mail through the configured SMTP server."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def wanted(settings: AlertSettings, company: str) -> bool:
    """Whether ``company`` has a webhook or e-mail recipients configured."""
    return company in settings.webhooks or bool(settings.email.get(company))


def deliver(settings: AlertSettings, company: str, alerts: list[dict[str, Any]]) -> None:
    """Send ``alerts`` (their public JSON) to the company's webhook and recipients."""
    if not alerts:
        return
    hook = settings.webhooks.get(company)
    if hook is not None:
        result = post_webhook(
            hook.url,
            hook.secret,
            {"event": "alerts.created", "company": company, "alerts": alerts},
            attempts=settings.webhook_attempts,
            backoff_seconds=settings.webhook_backoff_seconds,
        )
        if not result.ok:
            log.error(
                "alert webhook for %s not delivered after %d attempt(s) (last status %s)",
                company,
                result.attempts,
                result.status,
            )
    recipients = settings.email.get(company) or []
    if recipients:
        lines = [f"- [{a['severity']}] {a['title']}\n  {a['message']}" for a in alerts]
        try:
            send_email(
                settings,
                recipients,
                f"Companion: {len(alerts)} new alert{'s' if len(alerts) != 1 else ''} "
                f"for {company}",
                "\n".join(lines),
            )
        except (OSError, smtplib.SMTPException):
            log.exception("alert e-mail for %s not sent", company)
