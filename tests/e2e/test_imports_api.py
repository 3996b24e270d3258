"""Data imports over HTTP on SQLite and PostgreSQL: upload, row errors, review, commit.

The e2e sessions share one connection, so the runner holds the validation and commit jobs
until the test drains it (between requests, as a real runner would run them).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Tenants, make_settings
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import Settings
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.web.app import create_app

URL = "/api/v1/ai/imports"
N_ROWS = 100_000
CUSTOMERS = "code,name,email,payment_terms_days,credit_limit\n"


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return make_settings(engine.url.render_as_string(hide_password=False), data_dir=tmp_path)


@pytest.fixture
def runner(container: Container) -> JobRunner:
    return JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0)


@pytest.fixture
def app(container: Container, runner: JobRunner) -> FastAPI:
    job_runner.install(container, runner)
    return create_app(container)


def upload(
    client: TestClient, headers: dict[str, str], kind: str, data: bytes, name: str = "f.csv"
) -> Any:
    return client.post(URL, headers=headers, data={"kind": kind}, files={"file": (name, data)})


def validated(
    client: TestClient,
    runner: JobRunner,
    headers: dict[str, str],
    kind: str,
    data: bytes,
    **kw: Any,
) -> dict[str, Any]:
    r = upload(client, headers, kind, data, **kw)
    assert r.status_code == 202, r.text
    assert r.json()["data_import"]["status"] == "validating"
    assert runner.drain() == ["done"]
    body = client.get(f"{URL}/{r.json()['data_import']['id']}", headers=headers).json()
    assert isinstance(body, dict)
    return body


def test_customers_are_validated_reviewed_and_committed_in_one_go(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    csv = (
        CUSTOMERS + "IMP-1,Padma Traders,padma@example.com,30,50000\n"
        "IMP-2,  Meghna   Stores ,,45,\n"
        ",Jamuna Agro,,,\n"
    )
    body = validated(client, runner, admin, "customers", csv.encode())
    assert body["status"] == "validated", body
    assert (body["total_rows"], body["valid_rows"], body["error_count"]) == (3, 3, 0)
    assert body["summary"]["ignored_columns"] == []
    r = client.post(f"{URL}/{body['id']}/commit", headers=admin)
    assert r.status_code == 202 and r.json()["data_import"]["status"] == "committing"
    # A second commit of the same import (a double click) is refused, not run twice.
    again = client.post(f"{URL}/{body['id']}/commit", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    assert runner.drain() == ["done"]
    done = client.get(f"{URL}/{body['id']}", headers=admin).json()
    assert done["status"] == "committed" and done["committed_at"] is not None
    assert [e["to_status"] for e in done["events"]] == [
        "uploaded",
        "validating",
        "validated",
        "committing",
        "committed",
    ]
    names = {
        c["name"]: c
        for c in client.get("/api/v1/customers", headers=admin, params={"q": "a"}).json()["items"]
    }
    assert names["Meghna Stores"]["code"] == "IMP-2"
    assert names["Padma Traders"]["credit_limit"] in ("50000.00", 50000.0, "50000")
    assert names["Jamuna Agro"]["code"].startswith("CUST-")  # a code is assigned


def test_row_errors_carry_line_numbers_and_duplicates_and_block_the_commit(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    first = validated(
        client, runner, admin, "customers", (CUSTOMERS + "DUP-1,Old Co,,,\n").encode()
    )
    client.post(f"{URL}/{first['id']}/commit", headers=admin)
    runner.drain()
    csv = (
        CUSTOMERS + "NEW-1,Fresh Co,not-an-email,30,\n"  # line 2: bad email
        "NEW-2,,,,\n"  # line 3: no name
        "NEW-3,Third Co,,999,\n"  # line 4: terms out of range
        "NEW-1,Fourth Co,,,\n"  # line 5: same code as line 2
        "DUP-1,Another,,,\n"  # line 6: code exists
        "NEW-6,Old Co,,,\n"  # line 7: name exists
        "NEW-7,Fine Co,,,\n"
    )
    body = validated(client, runner, admin, "customers", csv.encode())
    assert body["status"] == "invalid"
    assert (body["total_rows"], body["valid_rows"]) == (7, 2)
    errors = {(e["line"], e["column"]) for e in body["errors"]}
    assert errors == {
        (2, "email"),
        (3, "name"),
        (4, "payment_terms_days"),
        (6, "code"),
        (7, "name"),
    }
    # Line 5 repeats line 2's code: line 2 is invalid (bad email) and so never claimed it.
    assert body["duplicate_count"] == 2 and body["error_count"] == 5
    r = client.post(f"{URL}/{body['id']}/commit", headers=admin)
    assert r.status_code == 409
    assert client.post(f"{URL}/{body['id']}/discard", headers=admin).json()["status"] == "discarded"


def test_duplicates_within_the_file_name_the_first_line(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    csv = CUSTOMERS + "A-1,One,,,\nA-2,Two,,,\nA-1,Three,,,\nA-4,Two,,,\n"
    body = validated(client, runner, tenants.headers("acme", "admin"), "customers", csv.encode())
    messages = {(e["line"], e["message"]) for e in body["errors"]}
    assert messages == {(4, "Same code as line 2"), (5, "Same name as line 3")}


def test_items_from_an_xlsx_workbook(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SKU", "Name", "Unit Price", "Unit Cost", "Reorder Level", "Colour"])
    sheet.append(["xl-1", "Steel Bolt M8", 12.5, 8, 100, "grey"])
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped
    sheet.append(["XL-2", "Steel Nut M8", 3, 1.25, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    headers = tenants.headers("acme", "inventory")
    body = validated(client, runner, headers, "items", buffer.getvalue(), name="items.xlsx")
    assert body["file_format"] == "xlsx" and body["status"] == "validated", body
    assert body["total_rows"] == 2 and body["summary"]["ignored_columns"] == ["colour"]
    client.post(f"{URL}/{body['id']}/commit", headers=headers)
    assert runner.drain() == ["done"]
    items = client.get("/api/v1/items", headers=headers, params={"q": "Steel"}).json()["items"]
    assert {i["sku"] for i in items} >= {"XL-1", "XL-2"}


@pytest.mark.parametrize(
    ("kind", "data", "name", "message"),
    [
        ("customers", "code,name\nC-1,Dhaka Café\n".encode("latin-1"), "f.csv", "not UTF-8"),
        ("customers", b"", "f.csv", "empty"),
        ("customers", b"code,email\nC-1,a@b.co\n", "f.csv", "Missing column(s): name"),
        ("items", b"sku,name,unit_price\nS-1,Bolt,1\n", "f.csv", "unit_cost"),
        ("customers", b"PK\x03\x04 not really a workbook", "f.xlsx", "damaged"),
        ("customers", b"\xd0\xcf\x11\xe0 old excel", "f.xls", ".xls"),
        ("payroll", b"name\nX\n", "f.csv", "Cannot import"),
        ("opening_balances", b"name\nX\n", "f.csv", "Missing column(s): account_code"),
    ],
)
def test_bad_files_get_a_clear_error_at_upload(
    client: TestClient, tenants: Tenants, kind: str, data: bytes, name: str, message: str
) -> None:
    r = upload(client, tenants.headers("acme", "admin"), kind, data, name)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]["message"]


def test_a_header_without_rows_is_invalid_with_a_reason(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    body = validated(client, runner, tenants.headers("acme", "admin"), "customers", b"name\n")
    assert body["status"] == "invalid"
    assert body["errors"][0]["message"] == "The file has a header but no rows"


def test_formula_cells_are_neutralised_in_the_error_report(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    csv = CUSTOMERS + "F-1,Formula Co,=cmd|' /C calc'!A0,30,\nF-2,@SUM(A1),+1-2,,\n"
    body = validated(client, runner, admin, "customers", csv.encode())
    report = client.get(f"{URL}/{body['id']}/errors.csv", headers=admin)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = report.text.splitlines()
    assert lines[0] == "line,column,message,value"
    assert any("'=cmd|" in line for line in lines) and any(",'+1-2" in line for line in lines)
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(","))


def test_imports_stay_in_their_company_and_need_the_kinds_permission(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    sales = tenants.headers("acme", "sales")
    body = validated(client, runner, sales, "customers", (CUSTOMERS + "S-1,Sales Co,,,\n").encode())
    assert body["status"] == "validated"
    other = tenants.headers("globex", "admin")
    assert client.get(f"{URL}/{body['id']}", headers=other).status_code == 404
    assert client.post(f"{URL}/{body['id']}/commit", headers=other).status_code == 404
    assert client.get(URL, headers=other).json()["total"] == 0
    # sales may import customers but not items, and does not see item imports.
    refused = upload(client, sales, "items", b"sku,name,unit_price,unit_cost\nI-1,X,1,1\n")
    assert refused.status_code == 403
    viewer = tenants.headers("acme", "viewer")
    assert client.get(URL, headers=viewer).json()["total"] == 0
    assert client.get(f"{URL}/{body['id']}", headers=viewer).status_code == 403


def test_a_hundred_thousand_rows_are_checked_by_the_job_with_progress(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    rows = "".join(
        f"BULK-{n},Bulk Customer {n},bulk{n}@example.com,30,100\n" for n in range(N_ROWS)
    )
    admin = tenants.headers("acme", "admin")
    r = upload(client, admin, "customers", (CUSTOMERS + rows).encode())
    assert r.status_code == 202
    assert runner.drain() == ["done"]
    job = client.get(r.json()["status_url"], headers=admin).json()
    assert job["status"] == "done" and job["progress"] == 1.0
    assert job["done_units"] == N_ROWS and job["message"] == "Done"
    body = client.get(f"{URL}/{r.json()['data_import']['id']}", headers=admin).json()
    assert (body["status"], body["total_rows"], body["error_count"]) == ("validated", N_ROWS, 0)


def test_bad_requests_are_clear_errors(client: TestClient, tenants: Tenants) -> None:
    admin = tenants.headers("acme", "admin")
    r = client.post(URL, headers=admin, json={"kind": "customers"})
    assert r.status_code == 415
    r = client.post(URL, headers=admin, files={"kind": (None, "customers")})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "file"
    r = client.post(URL, headers=admin, files={"file": ("f.csv", b"name\nX\n")})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "kind"
    assert client.get(f"{URL}/abc", headers=admin).status_code == 422
    assert client.get(f"{URL}/999999999", headers=admin).status_code == 404
