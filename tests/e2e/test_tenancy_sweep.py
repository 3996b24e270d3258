"""Every GET route under /api/v1 keeps companies apart, including routes added later.

The sweep reads the routes from the app and the tables from the models; nothing is listed
by hand. For each GET route with path parameters it finds which generic record the route
serves (the one that answers 2xx for the caller's own company), then asks for the other
company's record of the same table: that must be a 404, exactly like a missing record.
A route the sweep cannot exercise fails the test with the reason, never passes silently.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from e2e_support import MARKERS, SweepRecords, Tenants, build_sweep_records
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.web.introspect import ApiRoute, api_routes

# Routes whose path parameters are not record keys (they answer 2xx for any value), by
# path; a route here is still checked for leaks of the other company's data.
NOT_RECORD_LOOKUPS: frozenset[str] = frozenset()
MISSING = {int: 2_000_000_000, str: "no-such-record"}
MAX_ATTEMPTS = 400  # tries of candidate records per route before giving up


@dataclass(frozen=True)
class Candidate:
    """A value for one path parameter: a column of a generic row, in both companies."""

    table: str
    column: str
    own: Any
    other: Any


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.split(r"[^a-z]+", text.lower()) if w}


def _candidates(
    route: ApiRoute, name: str, kind: type, records: SweepRecords, own: str, other: str
) -> list[Candidate]:
    """Every generic value the parameter could be, the likeliest first."""
    found: list[Candidate] = []
    for table, by_company in records.rows.items():
        row_own, row_other = by_company[own], by_company[other]
        for column, value in row_own.items():
            if kind is int and column == "id":
                found.append(Candidate(table, column, value, row_other[column]))
            elif kind is str and isinstance(value, str) and name.endswith(column):
                found.append(Candidate(table, column, value, row_other[column]))
    hints = _words(route.path.split("{" + name + "}")[0]) | _words(name)

    def score(c: Candidate) -> int:
        return -len(_words(c.table) & hints)

    return sorted(found, key=score)


def _fill(route: ApiRoute, values: dict[str, Any]) -> str:
    return route.path.format(**values)


def _leaks(response: Any, other: str, asked: dict[str, Any] | None = None) -> bool:
    """Whether the response shows ``other``'s data (beyond echoing what was asked for)."""
    text = response.text
    for value in (asked or {}).values():
        text = text.replace(str(value), "")
    return MARKERS[other] in text


def test_every_tenant_route_answers_404_for_the_other_companys_records(
    app: FastAPI, client: TestClient, tenants: Tenants, session: Session
) -> None:
    records = build_sweep_records(session, tenants)
    session.commit()
    own, other = "acme", "globex"
    own_admin, other_admin = tenants.headers(own, "admin"), tenants.headers(other, "admin")
    failures: list[str] = []
    exercised: list[str] = []

    for route in api_routes(app):
        if "GET" not in route.methods or not route.path_params:
            continue
        label = f"GET {route.path}"
        types = route.path_params
        unsupported = {n: t for n, t in types.items() if t not in (int, str)}
        if unsupported:
            failures.append(f"{label}: cannot fill path parameters {unsupported}")
            continue
        missing = client.get(
            _fill(route, {n: MISSING[t] for n, t in types.items()}), headers=own_admin
        )
        if missing.status_code < 300:
            if route.path not in NOT_RECORD_LOOKUPS:
                failures.append(
                    f"{label}: answers {missing.status_code} for a record that does not exist; "
                    "if its parameters are not record keys, add it to NOT_RECORD_LOOKUPS"
                )
            continue
        if missing.status_code != 404:
            failures.append(f"{label}: a missing record answers {missing.status_code}, not 404")
        options = [
            _candidates(route, name, kind, records, own, other) for name, kind in types.items()
        ]
        seen: set[int] = set()
        match: tuple[Candidate, ...] | None = None
        for combo in itertools.islice(itertools.product(*options), MAX_ATTEMPTS):
            response = client.get(
                _fill(route, {n: c.own for n, c in zip(types, combo, strict=True)}),
                headers=own_admin,
            )
            seen.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} for {combo}")
                break
            if response.status_code < 300:
                match = combo
                if _leaks(response, other):
                    failures.append(f"{label}: {own}'s record shows {other}'s data")
                break
        if match is None:
            failures.append(
                f"{label}: no generic record makes it answer 2xx (statuses seen: {sorted(seen)}); "
                "teach build_sweep_records in tests/e2e/e2e_support.py to make one"
            )
            continue
        their = {n: c.other for n, c in zip(types, match, strict=True)}
        crossed = client.get(_fill(route, their), headers=own_admin)
        if crossed.status_code != 404:
            failures.append(
                f"{label}: {other}'s {match[0].table} record answers {crossed.status_code} "
                f"to {own}, not 404"
            )
        elif crossed.json().get("error", {}).get("code") != "not_found":
            failures.append(f"{label}: the 404 is not the not_found envelope: {crossed.text}")
        if _leaks(crossed, other, their):
            failures.append(f"{label}: the 404 shows {other}'s data")
        theirs = client.get(_fill(route, their), headers=other_admin)
        if theirs.status_code >= 300:
            failures.append(
                f"{label}: {other}'s own record answers {theirs.status_code} to {other}; "
                "the 404 above proves nothing"
            )
        exercised.append(f"{label} -> {match[0].table}")

    assert not failures, "\n".join(failures)
    # The auth router's own tenant route is always there: the sweep is never vacuous.
    assert "GET /api/v1/api-keys/{key_id} -> api_keys" in exercised, exercised


def test_no_list_route_shows_the_other_companys_records(
    app: FastAPI, client: TestClient, tenants: Tenants, session: Session
) -> None:
    build_sweep_records(session, tenants)
    session.commit()
    failures: list[str] = []
    listed = 0
    for route in api_routes(app):
        if "GET" not in route.methods or route.path_params:
            continue
        for own, other in (("acme", "globex"), ("globex", "acme")):
            response = client.get(route.path, headers=tenants.headers(own, "admin"))
            if response.status_code >= 500:
                failures.append(f"GET {route.path}: {response.status_code} for {own}")
            elif response.status_code < 300:
                listed += 1
                if MARKERS[other] in response.text:
                    failures.append(f"GET {route.path} shows {other}'s data to {own}")
                elif MARKERS[own] not in response.text and route.path == "/api/v1/api-keys":
                    failures.append(f"GET {route.path} does not list {own}'s own key")
    assert not failures, "\n".join(failures)
    assert listed >= 2  # at least /api/v1/me and /api/v1/api-keys for each company


def test_huge_or_negative_ids_are_client_errors_never_500(
    app: FastAPI, client: TestClient, tenants: Tenants
) -> None:
    failures: list[str] = []
    headers = tenants.headers("acme", "admin")
    for route in api_routes(app):
        types = route.path_params
        if not any(t is int for t in types.values()):
            continue
        for value in (10**20, 2**31, -1, 0):
            path = _fill(route, {n: value if t is int else "x" for n, t in types.items()})
            for method in sorted(route.methods):
                response = client.request(method, path, headers=headers, json={})
                if response.status_code >= 500 or response.status_code < 400:
                    failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
