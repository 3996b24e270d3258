"""Every route's inputs, generated from the OpenAPI document, refuse what cannot be stored.

Each integer in a path, a query or a JSON body is sent as 2^63 and 10^30, and each string
of a JSON body as a lone surrogate and as NUL, one input at a time, by a caller holding
every permission: the answer must be a 422 envelope naming that input, never a 500, and
its messages must read as sentences, not Python. Routes added later are swept without
anyone listing them; the OpenAPI must state each integer's bounds, or the sweep cannot
tell an integer from anything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from e2e_support import Tenants
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.erp.ledger.service import create_bank_account
from companion.kit.fields import DB_INT_MAX
from finance_factories import make_customer

BAD_INTS = (2**63, 10**30)
BAD_STRINGS = ("\ud800 cash", "\u0000")
# A URL carries UTF-8 bytes: a lone surrogate cannot be written there, NUL can (%00).
BAD_URL_STRINGS = ("\u0000",)
# What fills a path parameter that is not the one under test (the check comes first).
PLACEHOLDER = {"integer": "2000000000", "string": "x"}
# Python leaking into an answer: class reprs, exception names.
LEAKS = ("<class", "Error:", "Traceback", "decimal.")

Pointer = tuple[str | int, ...]


@dataclass(frozen=True)
class Target:
    """One input to spoil: where it goes (``path``, ``query``, ``body``), its pointer, type."""

    method: str
    route: str
    where: str
    pointer: Pointer
    kind: str  # "integer" or "string"
    schema: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.route} {self.where}:{'.'.join(map(str, self.pointer))}"


class Schemas:
    """Resolves ``$ref``s of one OpenAPI document and makes minimal instances of schemas."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.components = doc.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def branches(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The non-null alternatives of ``schema`` (itself when it has none)."""
        schema = self.resolve(schema)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if not alternatives:
            return [schema]
        out: list[dict[str, Any]] = []
        for alternative in alternatives:
            out += [b for b in self.branches(alternative) if b.get("type") != "null"]
        return out

    def leaves(self, schema: dict[str, Any], pointer: Pointer = ()) -> Iterator[tuple]:
        """Every (pointer, kind, schema) of an integer or string inside ``schema``."""
        for branch in self.branches(schema):
            kind = branch.get("type")
            if kind in ("integer", "string") and "enum" not in branch:
                yield pointer, kind, branch
            elif kind == "object" or "properties" in branch:
                for name, sub in branch.get("properties", {}).items():
                    yield from self.leaves(sub, (*pointer, name))
            elif kind == "array" and isinstance(branch.get("items"), dict):
                yield from self.leaves(branch["items"], (*pointer, 0))

    def minimal(self, schema: dict[str, Any]) -> Any:
        """A small instance of ``schema``: required properties only, one item per array."""
        branch = self.branches(schema)[0]
        kind = branch.get("type")
        if "enum" in branch:
            return branch["enum"][0]
        if kind == "object" or "properties" in branch:
            props = branch.get("properties", {})
            return {k: self.minimal(props[k]) for k in branch.get("required", [])}
        if kind == "array":
            return [self.minimal(branch.get("items", {}))]
        if kind == "integer":
            return max(1, int(branch.get("minimum", 1)))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if branch.get("format") == "date-time":
            return "2030-01-01T00:00:00Z"
        if branch.get("format") == "date":
            return "2030-01-01"
        return "x" * max(1, int(branch.get("minLength", 1)))

    def instance_with(self, schema: dict[str, Any], pointer: Pointer, value: Any) -> Any:
        """A minimal instance of ``schema`` with ``value`` at ``pointer``."""
        if not pointer:
            return value
        head, rest = pointer[0], pointer[1:]
        for branch in self.branches(schema):
            if isinstance(head, int) and branch.get("type") == "array":
                return [self.instance_with(branch["items"], rest, value)]
            props = branch.get("properties", {})
            if isinstance(head, str) and head in props:
                base = self.minimal(branch)
                base[head] = self.instance_with(props[head], rest, value)
                return base
        raise AssertionError(f"no branch of {schema} leads to {pointer}")


def targets(doc: dict[str, Any]) -> Iterator[Target]:
    """Each integer parameter and JSON body field, and each JSON body string, of ``doc``."""
    schemas = Schemas(doc)
    for route, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] not in ("path", "query"):
                    continue
                for _, kind, branch in schemas.leaves(parameter["schema"]):
                    if kind in ("integer", "string"):
                        yield Target(
                            method.upper(),
                            route,
                            parameter["in"],
                            (parameter["name"],),
                            kind,
                            branch,
                        )
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body is None:
                continue
            seen: set[tuple[Pointer, str]] = set()
            for pointer, kind, branch in schemas.leaves(body):
                if (pointer, kind) not in seen:
                    seen.add((pointer, kind))
                    yield Target(method.upper(), route, "body", pointer, kind, branch)


@pytest.fixture
def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _path_of(doc: dict[str, Any], target: Target, value: Any) -> str:
    operation = doc["paths"][target.route][target.method.lower()]
    values: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            kinds = {b.get("type") for b in Schemas(doc).branches(parameter["schema"])}
            values[parameter["name"]] = PLACEHOLDER["integer" if "integer" in kinds else "string"]
    if target.where == "path":
        values[target.pointer[0]] = quote(str(value), safe="")  # type: ignore[index]
    return target.route.format(**values)


def _send(
    client: TestClient, doc: dict[str, Any], target: Target, value: Any, headers: dict[str, str]
) -> Any:
    schemas = Schemas(doc)
    operation = doc["paths"][target.route][target.method.lower()]
    params = {target.pointer[0]: str(value)} if target.where == "query" else None
    content = operation.get("requestBody", {}).get("content", {})
    body: Any = None
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        body = (
            schemas.instance_with(schema, target.pointer, value)
            if target.where == "body"
            else schemas.minimal(schema)
        )
    # json.dumps escapes the lone surrogate ("\\ud800"), as a client in another language would.
    raw = json.dumps(body).encode() if body is not None else None
    return client.request(
        target.method,
        _path_of(doc, target, value),
        params=params,
        content=raw,
        headers={**headers, "Content-Type": "application/json"} if raw else headers,
    )


def test_every_integer_input_states_its_bounds(openapi: dict[str, Any]) -> None:
    unbounded = [
        str(t)
        for t in targets(openapi)
        if t.kind == "integer" and not ("minimum" in t.schema and "maximum" in t.schema)
    ]
    assert not unbounded, "\n".join(unbounded)


def test_the_sweep_reaches_every_kind_of_input(openapi: dict[str, Any]) -> None:
    found = {(t.where, t.kind) for t in targets(openapi)}
    assert {("path", "integer"), ("query", "integer"), ("body", "integer")} <= found
    assert ("body", "string") in found
    bounded = [t for t in targets(openapi) if t.kind == "integer"]
    assert all(t.schema["maximum"] <= DB_INT_MAX for t in bounded if "maximum" in t.schema)


def test_no_input_overflows_or_smuggles_bad_text(
    client: TestClient, tenants: Tenants, openapi: dict[str, Any]
) -> None:
    headers = tenants.headers("acme", "admin")  # every permission: only validation refuses
    failures: list[str] = []
    sent = 0
    for target in targets(openapi):
        values = BAD_INTS if target.kind == "integer" else BAD_STRINGS
        if target.kind == "string" and target.where != "body":
            values = BAD_URL_STRINGS
        for value in values:
            sent += 1
            response = _send(client, openapi, target, value, headers)
            label = f"{target} = {value!r:.14}"
            if response.status_code != 422:
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")
                continue
            error = response.json().get("error", {})
            if set(error) != {"code", "message", "details"}:
                failures.append(f"{label}: not the error envelope: {response.text[:200]}")
                continue
            locs = [tuple(e["loc"]) for e in error["details"].get("errors", [])]
            wanted = (target.where, *target.pointer)
            # A union's errors add the branch to the loc: ("body", "purchase_order", "int").
            if not any(loc[: len(wanted)] == wanted for loc in locs):
                failures.append(f"{label}: 422 does not name the input: {locs}")
            leaks = [leak for leak in LEAKS if leak in response.text]
            if leaks:
                failures.append(f"{label}: the message shows {leaks}: {response.text[:200]}")
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)
    assert sent > 100


# --- action parameters (free JSON, checked before any handler reads them) ---------------

ACTIONS = "/api/v1/ai/actions"
ID_PARAMS = ("customer_id", "supplier_id", "bank_account_id", "item_id", "warehouse_id")


def _propose(client: TestClient, headers: dict[str, str], action: str, params: Any) -> Any:
    raw = json.dumps({"action": action, "params": params}).encode()
    return client.post(
        ACTIONS, content=raw, headers={**headers, "Content-Type": "application/json"}
    )


def _all_actions(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get(f"{ACTIONS}/settings", headers=headers)
    assert response.status_code == 200, response.text
    return [row["action"] for row in response.json()]


def test_every_action_refuses_out_of_range_ids(client: TestClient, tenants: Tenants) -> None:
    headers = tenants.headers("acme", "admin")
    actions = _all_actions(client, headers)
    assert {"create_customer", "record_payment", "create_sales_order"} <= set(actions)
    failures: list[str] = []
    for action in actions:
        for key in ID_PARAMS:
            for value in (*BAD_INTS, str(10**30), -1, 1.5, "abc", True):
                response = _propose(client, headers, action, {key: value, "lines": []})
                error = response.json().get("error", {})
                if response.status_code != 422 or "params" not in str(error.get("details")):
                    failures.append(f"{action} {key}={value!r}: {response.status_code} {error}")
        nested = {"lines": [{"item_id": 10**30, "quantity": "1"}]}
        response = _propose(client, headers, action, nested)
        locs = [e["loc"] for e in response.json()["error"]["details"].get("errors", [])]
        if response.status_code != 422 or ["params", "lines", 0, "item_id"] not in locs:
            failures.append(f"{action} lines[0].item_id: {response.status_code} {locs}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ["\u0000", "Acme\u0000 Ltd", "\ud800 Traders"])
def test_a_name_that_cannot_be_stored_is_refused(
    client: TestClient, tenants: Tenants, name: str
) -> None:
    headers = tenants.headers("acme", "admin")
    response = _propose(client, headers, "create_customer", {"name": name})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"][0]["loc"] == ["params", "name"]
    assert error["message"].startswith("Invalid parameters: name must")
    assert client.get(ACTIONS, headers=headers).json()["total"] == 0  # nothing was proposed


@pytest.mark.parametrize("amount", ["1e999999999", "1e30", 1e300, "9" * 40])
def test_a_bad_number_in_action_params_reads_as_a_sentence(
    client: TestClient, tenants: Tenants, session: Session, amount: Any
) -> None:
    company, ctx = tenants.companies["acme"], tenants.context("acme", "finance")
    customer = make_customer(session, company, "C1")
    bank = create_bank_account(
        session,
        ctx,
        name="Main",
        bank_name="City Bank",
        account_number="001",
        currency=company.base_currency,
        opening_balance=Decimal("1000.00"),
        opening_date=tenants.clock.today(),
    )
    session.commit()
    headers = tenants.headers("acme", "admin")
    payment = {"kind": "receipt", "customer_id": customer.id, "bank_account_id": bank.id}
    proposals = [
        ("record_payment", {**payment, "amount": amount}),
        ("create_customer", {"name": "Nadia Traders", "credit_limit": amount}),
    ]
    for action, params in proposals:
        response = _propose(client, headers, action, params)
        assert response.status_code == 422, response.text
        assert not [leak for leak in LEAKS if leak in response.text], response.text
        assert response.json()["error"]["message"].startswith(("Invalid parameters", "The "))


def test_the_chat_stream_is_declared_as_server_sent_events(openapi: dict[str, Any]) -> None:
    ok = openapi["paths"]["/api/v1/ai/chat/stream"]["post"]["responses"]["200"]
    assert set(ok["content"]) == {"text/event-stream"}  # not a JSON string
    event = ok["content"]["text/event-stream"]["itemSchema"]
    assert set(event["properties"]["event"]["enum"]) == {"status", "token", "final", "error"}
