"""An uploaded document, in a real browser: the command center uploads it through the
background job (its progress on the page), then the widget answers from it with a citation,
and markup in the document stays text.
"""

from __future__ import annotations

from pathlib import Path

from browser_support import DemoServer, ask, open_widget, shot, sign_in
from playwright.sync_api import Browser, Page, expect

FACT = "Pool cars must be returned to the Tejgaon garage by 19:30 on the day of the booking."
PAYLOAD = "<img src=x onerror=\"alert('kb')\">"


def _manual(path: Path) -> Path:
    """A fleet manual over the synchronous upload limit (16 KiB), so a job ingests it."""
    care = (
        "Drivers check tyre pressure, oil and coolant before every trip and note any damage in "
        "the vehicle log. Fuel receipts are kept with the log and handed in each week. "
    )
    sections = [f"# Fleet and pool car manual\n\n## 1. Returning pool cars\n\n{FACT} {PAYLOAD}\n"]
    sections += [f"## {n}. Vehicle care, part {n}\n\n{care * 4}\n" for n in range(2, 40)]
    path.write_text("\n".join(sections), encoding="utf-8")
    assert path.stat().st_size > 16 * 1024
    return path


def test_an_uploaded_document_is_answered_from_in_the_widget(
    browser: Browser, page: Page, demo_server: DemoServer, tmp_path: Path
) -> None:
    admin = browser.new_context(
        base_url=demo_server.base, viewport={"width": 1280, "height": 860}, bypass_csp=True
    ).new_page()
    admin.set_default_timeout(30_000)
    try:
        admin.goto("/admin/")
        admin.wait_for_url("**/admin/login**")
        admin.get_by_label("Username").fill("admin")
        admin.get_by_label("Password").fill("demo")
        admin.get_by_role("button", name="Sign in").click()
        admin.wait_for_url("**/admin/acme/overview")
        admin.get_by_role("link", name="Knowledge base").click()
        admin.set_input_files("#u-file", str(_manual(tmp_path / "fleet-manual.md")))
        admin.get_by_label("Title (optional)").fill("Fleet and pool car manual")
        admin.locator("form[action='/admin/knowledge-upload'] button[type=submit]").click()
        status = admin.locator(".job .job-status")
        expect(status).to_contain_text("done", timeout=120_000)
        shot(admin, "upload-01-job-done")
    finally:
        admin.context.close()

    sign_in(page, "finance")
    open_widget(page)
    answer = ask(page, "by what time must pool cars be returned to the garage?")
    expect(answer).to_contain_text("19:30")
    sources = answer.locator("ol.sources li button")
    expect(sources.first).to_contain_text("Fleet and pool car manual")
    sources.first.click()
    expect(answer.locator("ol.sources li blockquote").first).to_be_visible()
    # The markup beside the fact is never made an element (the page fixture also fails on
    # any dialog an injected handler would open).
    assert page.locator("companion-widget img").count() == 0
    shot(page, "upload-02-answered-from-it")
