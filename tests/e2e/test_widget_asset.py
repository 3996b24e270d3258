"""``/widget.js``, CORS for integrators, and the demo host's absence outside demo mode."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from e2e_support import PASSWORD, Tenants
from starlette.testclient import TestClient

from companion.bootstrap import Container, bootstrap
from companion.config import ApiSettings, Settings
from companion.web.app import create_app
from companion.web.widget import widget_source

MAX_GZIPPED = 60 * 1024  # the budget for the widget's JavaScript
ERP = "https://erp.example.com"


def test_widget_js_is_served_as_javascript_with_caching_and_an_etag(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == widget_source()[0]
    assert b'customElements.define("companion-widget"' in response.content
    etag = response.headers["etag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/widget.js", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_the_widget_fits_its_size_budget() -> None:
    size = len(gzip.compress(widget_source()[0], compresslevel=9))
    assert size <= MAX_GZIPPED, f"widget.js is {size} bytes gzipped (budget {MAX_GZIPPED})"


def test_the_widget_sets_untrusted_text_as_text_only() -> None:
    """Its only innerHTML is the static skeleton; any other HTML sink would be a finding."""
    source = widget_source()[0].decode()
    assert source.count("innerHTML") == 2  # the comment naming it, and the skeleton
    assert "shell.innerHTML = SKELETON;" in source
    for sink in ("insertAdjacentHTML", "outerHTML", "document.write", "eval(", "new Function"):
        assert sink not in source


def test_no_demo_pages_and_no_cors_outside_demo_mode_and_by_default(client: TestClient) -> None:
    for path in ("/", "/demo/", "/demo/login"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    preflight = client.options(
        "/api/v1/ai/chat",
        headers={"Origin": ERP, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def _client(container: Container, settings: Settings) -> TestClient:
    app = create_app(
        bootstrap(
            settings,
            engine=container.engine,
            session_factory=container.session_factory,
            clock=container.clock,
        )
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def cors_client(container: Container, settings: Settings) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"api": ApiSettings(cors_origins=[ERP])})
    with _client(container, configured) as client:
        yield client


@pytest.fixture
def demo_client(container: Container, settings: Settings) -> Iterator[TestClient]:
    with _client(container, settings.model_copy(update={"demo_mode": True})) as client:
        yield client


def test_configured_origins_may_call_the_api_from_a_browser(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/api/v1/ai/chat",
        headers={
            "Origin": ERP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-company",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ERP
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-company"} <= {h.strip() for h in allowed.split(",")}
    other = cors_client.options(
        "/api/v1/ai/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"
    unauthenticated = cors_client.get("/api/v1/me", headers={"Origin": ERP})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["access-control-allow-origin"] == ERP


def test_the_demo_host_signs_in_and_embeds_the_widget(
    demo_client: TestClient, tenants: Tenants
) -> None:
    home = demo_client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (307, "/demo/")
    signed_out = demo_client.get("/demo/", follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/demo/login")
    login_page = demo_client.get("/demo/login")
    assert login_page.status_code == 200 and 'data-user="ceo"' in login_page.text

    wrong = demo_client.post("/demo/login", data={"username": "acme-finance", "password": "x"})
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    incomplete = demo_client.post("/demo/login", data={"username": "acme-finance"})
    assert incomplete.status_code == 422
    assert incomplete.json()["error"]["code"] == "validation_failed"

    signed_in = demo_client.post(
        "/demo/login",
        data={"username": "acme-finance", "password": PASSWORD},
        follow_redirects=False,
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/demo/")
    set_cookie = signed_in.headers.get_list("set-cookie")
    assert any("companion_demo_token=" in c and "HttpOnly" in c for c in set_cookie)
    dashboard = demo_client.get("/demo/")
    assert dashboard.status_code == 200
    assert '<script src="/widget.js" data-company="acme" data-token="ey' in dashboard.text
    assert 'data-module="home"' in dashboard.text
    invoices = demo_client.get("/demo/invoices")
    assert invoices.status_code == 200 and 'data-module="finance"' in invoices.text
    missing = demo_client.get("/demo/purchase-orders/2147483647")
    assert missing.status_code in (403, 404)
    assert demo_client.get("/demo/invoices?page=0").status_code == 422

    demo_client.post("/demo/logout")
    demo_client.post("/demo/login", data={"username": "acme-sales", "password": PASSWORD})
    denied = demo_client.get("/demo/invoices")
    assert denied.status_code == 403 and "finance.read" in denied.text
    # Every role lands on the dashboard; the headline figures say what they need.
    landing = demo_client.get("/demo/")
    assert landing.status_code == 200
    assert "The headline figures need the <code>finance.read</code> permission" in landing.text
