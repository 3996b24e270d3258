"""Every route that declares a permission refuses, with 403, each caller who lacks it.

Routes and their permissions come from the app (``Depends(require(...))``), so routes added
later are swept without anyone listing them. Each is called by a member of every role and
by a member with no role: a caller lacking any declared permission must get the 403
envelope naming it, and a caller holding them all must get past the check.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from e2e_support import Tenants, make_settings
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.config import Settings
from companion.tenancy.permissions import PERMISSIONS, ROLES
from companion.web.introspect import ApiRoute, api_routes

# API routes anyone may call; every other one must resolve the caller (401 without).
PUBLIC_ROUTES = frozenset({"/api/v1/auth/login"})
# A value for each path parameter that names no record (the check comes before the lookup).
PLACEHOLDER = {int: 2_000_000_000, str: "no-such-record"}


@pytest.fixture
def settings(engine: Engine, tmp_path: Path, nlu_cache: Path) -> Settings:
    """A data folder holding the run's trained NLU: a holder's ``POST .../nlu/retrain`` gets
    past the check by loading the shipped NLU (then 409, nothing to train), which in the
    process's own folder meant training it again (~100 s of the run)."""
    shutil.copytree(nlu_cache, tmp_path / "nlu")
    return make_settings(engine.url.render_as_string(hide_password=False), data_dir=tmp_path)


def _path(route: ApiRoute) -> str:
    return route.path.format(**{n: PLACEHOLDER.get(t, "x") for n, t in route.path_params.items()})


def test_every_declared_permission_is_enforced(
    app: FastAPI, client: TestClient, tenants: Tenants
) -> None:
    failures: list[str] = []
    checked = 0
    callers = {**{role: ROLES[role] for role in ROLES}, "norole": frozenset()}
    for route in api_routes(app):
        needed = route.permissions
        if not needed:
            continue
        unknown = needed - set(PERMISSIONS)
        if unknown:
            failures.append(f"{route.path}: unknown permission(s) {sorted(unknown)}")
        for method in sorted(route.methods):
            label = f"{method} {route.path}"
            for role, held in callers.items():
                body = {} if method in {"POST", "PUT", "PATCH"} else None
                response = client.request(
                    method, _path(route), headers=tenants.headers("acme", role), json=body
                )
                lacking = needed - held
                if lacking:
                    checked += 1
                    error = response.json().get("error", {}) if response.content else {}
                    if response.status_code != 403:
                        failures.append(f"{label} as {role}: {response.status_code}, not 403")
                    elif error.get("details", {}).get("permission") not in lacking:
                        failures.append(f"{label} as {role}: 403 names {error}, not {lacking}")
                elif response.status_code in (401, 403) or response.status_code >= 500:
                    failures.append(
                        f"{label} as {role} (holds {sorted(needed)}): {response.status_code}"
                    )
    assert not failures, "\n".join(failures)
    assert checked > 0  # POST /api/v1/api-keys needs admin.users: the sweep is never empty


def test_routes_without_credentials_are_refused_with_401(app: FastAPI, client: TestClient) -> None:
    failures = []
    for route in api_routes(app):
        if not route.needs_caller:
            continue
        for method in sorted(route.methods):
            response = client.request(method, _path(route))
            if response.status_code != 401:
                failures.append(f"{method} {route.path}: {response.status_code}, not 401")
            elif response.json()["error"]["details"]["reason"] != "missing_credentials":
                failures.append(f"{method} {route.path}: {response.text}")
    assert not failures, "\n".join(failures)


def test_every_api_route_needs_a_caller_unless_it_is_public(app: FastAPI) -> None:
    open_routes = {r.path for r in api_routes(app) if not r.needs_caller}
    assert open_routes == PUBLIC_ROUTES
