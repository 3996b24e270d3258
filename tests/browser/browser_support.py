"""Steps shared by the browser tests: sign in, open the widget, ask, screenshots, axe-core."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "browser"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@dataclass
class DemoServer:
    """The session's demo server: its URL, its database, API clients as demo users."""

    base: str
    engine: Engine
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = httpx.post(
                f"{self.base}/api/v1/auth/login",
                json={"username": username, "password": "demo"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = str(response.json()["access_token"])
        return self._tokens[username]

    def api(self, username: str, company: str | None = None) -> httpx.Client:
        """An API client signed in as a demo user (close it, or use it in ``with``)."""
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        if company:
            headers["X-Company"] = company
        return httpx.Client(base_url=f"{self.base}/api/v1", headers=headers, timeout=60)


def shot(page: Page, name: str) -> Path:
    """Save a screenshot of the page as var/browser/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page: Page, username: str) -> None:
    """Sign in through the demo's sign-in page; lands on the dashboard."""
    page.goto("/demo/login")
    page.click(f"button[data-user='{username}']")
    page.wait_for_url("**/demo/")


def open_widget(page: Page) -> Locator:
    """Open the widget's drawer (the launcher button) and return the drawer locator."""
    page.locator("companion-widget .launcher").click()
    drawer = page.locator("companion-widget .drawer")
    drawer.wait_for(state="visible")
    page.locator("companion-widget[data-state=ready]").wait_for(state="attached")
    return drawer


def ask(page: Page, text: str) -> Locator:
    """Type a question into the open widget, send it, and return the new answer's locator."""
    answers = page.locator("companion-widget .msg.assistant:has(.tools)")
    before = answers.count()
    page.locator("companion-widget textarea").fill(text)
    page.locator("companion-widget .send").click()
    answers.nth(before).wait_for(state="visible", timeout=120_000)
    return answers.nth(before)


def axe_violations(page: Page, selector: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations inside ``selector`` (shadow roots included)."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        """async (selector) => {
            const r = await axe.run({ include: [selector] }, { resultTypes: ['violations'] });
            return { violations: r.violations.map(v => ({ id: v.id, impact: v.impact,
              help: v.help, nodes: v.nodes.map(n => n.target) })) };
        }""",
        selector,
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
