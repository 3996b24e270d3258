"""The knowledge API end to end: uploads of every format, bad files, tenants, permissions.

The app runs with the real retriever (ONNX embedder, local index in a temporary folder).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import pytest
from e2e_support import Tenants, make_settings
from fpdf import FPDF
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import RagSettings, Settings

URL = "/api/v1/ai/knowledge"

MARKDOWN = b"""---
title: Acme fleet policy
type: policy
tags: [fleet]
---
# Acme fleet policy

## Vans

Company vans are parked at the Tejgaon yard overnight.
"""


def pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Parking Rules", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Visitors park in bay C behind the Kawran Bazar warehouse.")
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Uniform rules", level=1)
    document.add_paragraph("Warehouse staff wear the orange Narayanganj vest on duty.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FILES: dict[str, tuple[bytes, str, str]] = {
    "fleet.md": (MARKDOWN, "text/markdown", "Tejgaon yard"),
    "phones.txt": (
        b"PHONES\n\nDesk phones are answered by the Banani reception.\n",
        "text/plain",
        "Banani reception",
    ),
    "visitors.html": (
        b"<html><head><title>Visitors</title></head><body><script>alert(1)</script>"
        b"<h1>Visitors</h1><p>Visitors sign the Gulshan guest book.</p></body></html>",
        "text/html",
        "Gulshan guest book",
    ),
    "parking.pdf": (pdf_bytes(), "application/pdf", "Kawran Bazar warehouse"),
    "uniform.docx": (
        docx_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Narayanganj vest",
    ),
}


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """Every format inside the request: routing by size is test_kb_background's (a DOCX of one
    paragraph is a 36 KB zip, over the shipped 16 KiB synchronous limit)."""
    return make_settings(
        engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        rag=RagSettings(max_sync_bytes=1024 * 1024),
    )


def upload(
    client: TestClient, headers: dict[str, str], name: str, data: bytes, kind: str, **form: str
) -> Any:
    return client.post(URL, headers=headers, files={"file": (name, data, kind)}, data=form)


def test_every_format_uploads_indexes_and_reads_back(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    admin = tenants.headers("acme", "admin")
    ids = {}
    for name, (data, kind, phrase) in FILES.items():
        response = upload(client, admin, name, data, kind, tags="office")
        assert response.status_code == 201, (name, response.text)
        body = response.json()
        assert body["status"] == "created"
        document = body["document"]
        assert document["chunk_count"] >= 1 and document["version"] == 1
        assert document["source_name"] == name and "office" in document["tags"]
        ids[name] = document["id"]
        detail = client.get(f"{URL}/{document['id']}", headers=admin).json()
        assert phrase in detail["content"]
        assert detail["chunks"][0]["id"] == f"kb_{document['id']}#0"
    assert "alert" not in client.get(f"{URL}/{ids['visitors.html']}", headers=admin).text
    fleet = client.get(f"{URL}/{ids['fleet.md']}", headers=admin).json()
    assert fleet["title"] == "Acme fleet policy" and fleet["type"] == "POLICY"
    listed = client.get(URL, headers=tenants.headers("acme", "viewer")).json()
    assert listed["total"] == 5 and {d["id"] for d in listed["items"]} == set(ids.values())
    # The index learnt each document once the request committed.
    retriever = container.retriever()
    acme = tenants.acme.id
    for name, (_, _, phrase) in FILES.items():
        result = retriever.retrieve(phrase, company_id=acme, roles=("viewer",))
        assert result.hits[0].chunk.document_id == ids[name], name


def test_json_entries_are_idempotent_and_replaced_when_changed(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    admin = tenants.headers("acme", "admin")
    entry = {"title": "Gate hours", "content": "The Mirpur gate opens at 7 am.", "type": "NOTE"}
    created = client.post(URL, headers=admin, json=entry)
    assert created.status_code == 201, created.text
    doc_id = created.json()["document"]["id"]
    again = client.post(URL, headers=admin, json=entry)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    changed = client.post(
        URL, headers=admin, json={**entry, "content": "The Mirpur gate opens at 8 am."}
    )
    assert changed.status_code == 200
    assert changed.json()["status"] == "updated"
    assert changed.json()["document"]["version"] == 2 and changed.json()["document"]["id"] == doc_id
    detail = client.get(f"{URL}/{doc_id}", headers=admin).json()
    assert "8 am" in detail["content"] and "7 am" not in detail["chunks"][0]["text"]
    hits = (
        container.retriever()
        .retrieve("Mirpur gate opening", company_id=tenants.acme.id, roles=("admin",))
        .hits
    )
    assert [h.chunk.text for h in hits if "7 am" in h.chunk.text] == []
    assert any("8 am" in h.chunk.text for h in hits)


@pytest.mark.parametrize(
    ("name", "data", "kind", "status", "code"),
    [
        ("empty.md", b"", "text/markdown", 422, "empty_document"),
        ("blank.txt", b"   \n\n ", "text/plain", 422, "empty_document"),
        ("logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png", 415, "unsupported_media_type"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0 old word",
            "application/msword",
            415,
            "unsupported_media_type",
        ),
        (
            "broken.pdf",
            b"%PDF-1.7\n" + b"\x00garbage" * 40,
            "application/pdf",
            422,
            "unreadable_document",
        ),
        ("fake.pdf", b"hello, I am not a pdf", "application/pdf", 422, "unreadable_document"),
        ("huge.txt", b"a" * (10 * 1_048_576 + 10), "text/plain", 413, "payload_too_large"),
    ],
)
def test_bad_files_get_a_clear_error(
    client: TestClient, tenants: Tenants, name: str, data: bytes, kind: str, status: int, code: str
) -> None:
    response = upload(client, tenants.headers("acme", "admin"), name, data, kind)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert client.get(URL, headers=tenants.headers("acme", "admin")).json()["total"] == 0


def test_bad_requests_are_4xx_never_500(client: TestClient, tenants: Tenants) -> None:
    admin = tenants.headers("acme", "admin")
    no_file = client.post(URL, headers=admin, files={"other": ("a.md", b"# x", "text/markdown")})
    assert no_file.status_code == 422 and no_file.json()["error"]["details"]["field"] == "file"
    plain = client.post(URL, headers={**admin, "Content-Type": "text/plain"}, content=b"hello")
    assert plain.status_code == 415
    bad_role = client.post(
        URL, headers=admin, json={"title": "x", "content": "y", "roles": ["pilot"]}
    )
    assert bad_role.status_code == 422 and bad_role.json()["error"]["code"] == "validation_failed"
    bad_json = client.post(URL, headers={**admin, "Content-Type": "application/json"}, content=b"{")
    assert bad_json.status_code == 400
    bad_type = upload(client, admin, "a.md", b"# A\n\nText.", "text/markdown", type="memo")
    assert bad_type.status_code == 422


def test_other_tenants_and_roles_cannot_read_or_delete(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    admin = tenants.headers("acme", "admin")
    public = client.post(
        URL,
        headers=admin,
        json={"title": "Canteen", "content": "Lunch is at the Dhanmondi canteen."},
    )
    secret = client.post(
        URL,
        headers=admin,
        json={
            "title": "Bonus pool",
            "content": "The Uttara bonus pool is 4%.",
            "roles": ["finance"],
        },
    )
    public_id, secret_id = public.json()["document"]["id"], secret.json()["document"]["id"]
    globex = tenants.headers("globex", "admin")
    assert client.get(f"{URL}/{public_id}", headers=globex).status_code == 404
    assert client.delete(f"{URL}/{public_id}", headers=globex).status_code == 404
    assert client.get(URL, headers=globex).json()["total"] == 0
    viewer = tenants.headers("acme", "viewer")
    assert client.get(f"{URL}/{secret_id}", headers=viewer).status_code == 404
    assert (
        client.get(f"{URL}/{secret_id}", headers=tenants.headers("acme", "finance")).status_code
        == 200
    )
    assert [d["id"] for d in client.get(URL, headers=viewer).json()["items"]] == [public_id]
    # Writes need kb.manage; reads kb.read.
    denied = client.post(URL, headers=viewer, json={"title": "x", "content": "y"})
    assert (
        denied.status_code == 403 and denied.json()["error"]["details"]["permission"] == "kb.manage"
    )
    assert client.delete(f"{URL}/{public_id}", headers=viewer).status_code == 403
    nobody = client.get(URL, headers=tenants.headers("acme", "norole"))
    assert (
        nobody.status_code == 403 and nobody.json()["error"]["details"]["permission"] == "kb.read"
    )
    # The retriever never gives the restricted chunk to a role without access.
    retriever = container.retriever()
    acme = tenants.acme.id
    hidden = retriever.retrieve("Uttara bonus pool", company_id=acme, roles=("viewer",)).hits
    assert all(h.chunk.document_id != secret_id for h in hidden)
    shown = retriever.retrieve("Uttara bonus pool", company_id=acme, roles=("finance",)).hits
    assert shown[0].chunk.document_id == secret_id


def test_delete_removes_the_document_and_its_index_entries(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    admin = tenants.headers("acme", "admin")
    doc_id = client.post(
        URL,
        headers=admin,
        json={"title": "Keys", "content": "Spare keys hang in the Motijheel safe."},
    ).json()["document"]["id"]
    retriever = container.retriever()
    before = retriever.retrieve("spare keys safe", company_id=tenants.acme.id, roles=("admin",))
    assert any(h.chunk.document_id == doc_id for h in before.hits)
    assert client.delete(f"{URL}/{doc_id}", headers=admin).status_code == 204
    assert client.get(f"{URL}/{doc_id}", headers=admin).status_code == 404
    after = retriever.retrieve("spare keys safe", company_id=tenants.acme.id, roles=("admin",))
    assert all(h.chunk.document_id != doc_id for h in after.hits)


def test_changing_a_documents_roles_moves_it_in_and_out_of_reach(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    admin = tenants.headers("acme", "admin")
    doc = client.post(
        URL,
        headers=admin,
        json={"title": "Payroll", "content": "Payroll closes on the Gulshan calendar's 25th."},
    ).json()["document"]
    roles_url = f"{URL}/{doc['id']}/roles"
    retriever = container.retriever()
    acme = tenants.acme.id

    def viewer_sees() -> bool:
        hits = retriever.retrieve("payroll closes Gulshan", company_id=acme, roles=("viewer",))
        return any(h.chunk.document_id == doc["id"] for h in hits.hits)

    assert viewer_sees()
    changed = client.put(roles_url, headers=admin, json={"roles": ["Finance", "finance"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["roles"] == ["finance"] and body["version"] == doc["version"]
    # The index learnt the new roles once the request committed: the viewer lost it.
    assert not viewer_sees()
    viewer = tenants.headers("acme", "viewer")
    assert client.get(f"{URL}/{doc['id']}", headers=viewer).status_code == 404
    assert client.put(roles_url, headers=admin, json={"roles": []}).json()["roles"] == []
    assert viewer_sees()
    # Bad input, other tenants and roles without kb.manage.
    bad = client.put(roles_url, headers=admin, json={"roles": ["wizard"]})
    assert bad.status_code == 422 and "unknown role" in bad.text
    assert client.put(roles_url, headers=admin, json={"roles": "finance"}).status_code == 422
    assert client.put(roles_url, headers=admin, json={}).status_code == 422
    globex = tenants.headers("globex", "admin")
    assert client.put(roles_url, headers=globex, json={"roles": []}).status_code == 404
    assert client.put(roles_url, headers=viewer, json={"roles": []}).status_code == 403
    assert client.put(f"{URL}/999999/roles", headers=admin, json={"roles": []}).status_code == 404
