"""The command center in Chromium: sign in, find a conversation, disable an action, axe-core.

Its own browser context bypasses the pages' Content-Security-Policy only so that axe-core
can be injected (the pages allow no inline script); screenshots go to var/browser/admin-*.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import DemoServer, axe_violations, shot
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

PAGES = (
    "overview",
    "conversations",
    "knowledge",
    "actions",
    "alerts",
    "models",
    "jobs",
    "learning",
    "metrics",
    "usage",
    "audit",
)


@pytest.fixture
def admin_page(browser: Browser, demo_server: DemoServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=demo_server.base, viewport={"width": 1280, "height": 860}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def _sign_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.wait_for_url("**/admin/login**")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()


def _submitted_po(demo_server: DemoServer) -> str:
    with demo_server.engine.connect() as conn:
        number = conn.execute(
            text(
                "SELECT po.number FROM purchase_orders po JOIN companies c ON c.id = po.company_id "
                "WHERE c.slug = 'acme' AND po.status = 'pending_approval' ORDER BY po.id LIMIT 1"
            )
        ).scalar_one()
    return str(number)


def _serious(page: Page) -> list[dict[str, Any]]:
    return axe_violations(page, "body")


def test_an_admin_finds_a_conversation_and_disables_an_action(
    admin_page: Page, demo_server: DemoServer
) -> None:
    page = admin_page
    with demo_server.api("finance") as http:
        asked = http.post("/ai/chat", json={"message": "what is our cash balance?"}).json()
    _sign_in(page, "admin")
    page.wait_for_url("**/admin/acme/overview")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    shot(page, "admin-01-overview")
    # Find the finance user's conversation and open its transcript.
    page.get_by_role("link", name="Conversations").click()
    page.get_by_label("User").fill("finance")
    page.get_by_label("Intent").select_option("cash_balance")
    page.get_by_role("button", name="Search").click()
    link = page.locator(f"a[href$='/conversations/{asked['conversation_id']}']")
    expect(link).to_be_visible()
    shot(page, "admin-02-conversations")
    link.click()
    expect(page.locator(".msg.assistant").first).to_contain_text("cash_balance")
    expect(page.locator(".msg.user").first).to_contain_text("what is our cash balance?")
    shot(page, "admin-03-transcript")
    # Disable reject_purchase_order; the assistant then refuses it in chat.
    page.get_by_role("link", name="AI actions").click()
    page.locator("#en-reject_purchase_order").uncheck()
    page.locator("#rule-reject_purchase_order").get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("Saved the rule for reject_purchase_order")
    expect(page.locator("#rule-reject_purchase_order .badge")).to_have_text("disabled")
    shot(page, "admin-04-action-disabled")
    number = _submitted_po(demo_server)
    try:
        with demo_server.api("buyer") as http:
            refused = http.post("/ai/chat", json={"message": f"reject {number}"}).json()
        assert refused["pending_confirmation"] is None, refused
        assert "in the ERP itself" in refused["message"]
    finally:  # the server is shared by the module: put the rule back
        page.locator("#en-reject_purchase_order").check()
        page.locator("#rule-reject_purchase_order").get_by_role("button", name="Save").click()
        expect(page.locator("#rule-reject_purchase_order .badge")).to_have_text("enabled")
    # The audit log shows the change, and its chain verifies.
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator("[data-verify]")).to_contain_text("Chain OK")
    shot(page, "admin-05-audit-verified")


def test_every_page_has_no_serious_accessibility_violations(
    admin_page: Page, demo_server: DemoServer
) -> None:
    page = admin_page
    _sign_in(page, "admin")
    page.wait_for_url("**/admin/acme/overview")
    found: dict[str, list[dict[str, Any]]] = {}
    for section in PAGES:
        page.goto(f"/admin/acme/{section}")
        expect(page.locator("main h1")).to_be_visible()
        found[section] = _serious(page)
        shot(page, f"admin-page-{section}")
    page.goto("/admin/login")
    found["login"] = _serious(page)
    assert not any(found.values()), found
    # Narrow screens: the menu and tables stay usable at 360 px (no horizontal page scroll).
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto("/admin/acme/actions")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    shot(page, "admin-narrow-actions")


def test_a_viewer_gets_a_403_page(admin_page: Page) -> None:
    page = admin_page
    _sign_in(page, "viewer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    response = page.goto("/admin/acme/overview")
    assert response is not None and response.status == 403
    expect(page.get_by_role("button", name="Sign in as someone else")).to_be_visible()
    shot(page, "admin-viewer-403")
