"""Knowledge uploads have their own body limit (rag.max_upload_bytes), larger than the app's.

Every other path keeps api.max_body_bytes (1 MiB), whether the body declares its length or
streams it chunked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Tenants, make_settings
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.config import RagSettings, Settings
from companion.knowledge.endpoints import MULTIPART_ALLOWANCE

URL = "/api/v1/ai/knowledge"
MIB = 1024 * 1024


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """Body limits, not routing (test_kb_background): 2 MiB stays inside the request."""
    return make_settings(
        engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        rag=RagSettings(max_sync_bytes=4 * MIB),
    )


def padded_markdown(size: int) -> bytes:
    """A real document of ``size`` bytes: one short section, then blank lines."""
    head = b"# Depot hours\n\nThe Mirpur depot opens at 7 in the morning.\n"
    return head + b"\n" * (size - len(head))


def test_a_2_mib_upload_passes_the_app_limit_and_is_ingested(
    client: TestClient, tenants: Tenants, settings: Settings
) -> None:
    assert settings.api.max_body_bytes == MIB and settings.rag.max_upload_bytes == 10 * MIB
    admin = tenants.headers("acme", "admin")
    data = padded_markdown(2 * MIB)
    response = client.post(URL, headers=admin, files={"file": ("depot.md", data, "text/markdown")})
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert document["title"] == "Depot hours" and document["chunk_count"] == 1
    detail = client.get(f"{URL}/{document['id']}", headers=admin).json()
    assert "Mirpur depot" in detail["content"]


def test_a_2_mib_upload_reaches_the_endpoints_own_checks(
    client: TestClient, tenants: Tenants
) -> None:
    broken = b"%PDF-1.7\n" + b"\x00garbage" * (2 * MIB // 8)
    response = client.post(
        URL,
        headers=tenants.headers("acme", "admin"),
        files={"file": ("broken.pdf", broken, "application/pdf")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unreadable_document"


def test_a_2_mib_body_elsewhere_is_413(client: TestClient, tenants: Tenants) -> None:
    response = client.post(
        "/api/v1/ai/chat",
        headers={**tenants.headers("acme", "admin"), "Content-Type": "application/json"},
        content=b'{"message": "' + b"x" * (2 * MIB) + b'"}',
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"]["max_body_bytes"] == MIB


def test_a_file_over_the_upload_limit_is_413(
    client: TestClient, tenants: Tenants, settings: Settings
) -> None:
    admin = tenants.headers("acme", "admin")
    limit = settings.rag.max_upload_bytes
    # Past the route's limit by Content-Length: the middleware answers before reading.
    too_big = padded_markdown(limit + MULTIPART_ALLOWANCE + 1)
    response = client.post(URL, headers=admin, files={"file": ("big.md", too_big, "text/md")})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"]["max_body_bytes"] == limit + MULTIPART_ALLOWANCE
    # Within the route's limit but over the file limit: the endpoint's own 413.
    just_over = padded_markdown(limit + 1)
    response = client.post(URL, headers=admin, files={"file": ("big.md", just_over, "text/md")})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"]["max_bytes"] == limit
    assert client.get(URL, headers=admin).json()["total"] == 0


def test_a_chunked_upload_over_the_limit_is_413(
    client: TestClient, tenants: Tenants, settings: Settings
) -> None:
    limit = settings.rag.max_upload_bytes + MULTIPART_ALLOWANCE

    def chunks() -> Iterator[bytes]:
        yield b"--b\r\nContent-Disposition: form-data; name=file; filename=big.md\r\n\r\n"
        for _ in range(limit // MIB + 1):
            yield b"\n" * MIB

    response = client.post(
        URL,
        headers={
            **tenants.headers("acme", "admin"),
            "Content-Type": "multipart/form-data; boundary=b",
        },
        content=chunks(),
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"]["max_body_bytes"] == limit


def test_a_chunked_body_elsewhere_is_held_to_the_app_limit(
    client: TestClient, tenants: Tenants
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(3):
            yield b"x" * MIB
        yield b'"}'

    response = client.post(
        "/api/v1/ai/chat",
        headers={**tenants.headers("acme", "admin"), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"]["max_body_bytes"] == MIB
