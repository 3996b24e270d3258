"""Browser fixtures: one demo server and one Chromium for the whole session.

The server is a real ``companion serve`` in demo mode (``/demo/`` pages, ``/widget.js``,
the API) over a small deterministic demo built once per run; Chromium is Debian's
``chromium`` driven by Playwright (Playwright's own browser download does not work here).
A missing ``chromium`` fails the run with the command that installs it: these tests never
skip. Screenshots go to ``var/browser/`` (``shot(page, "name")``).

- ``demo_server``: ``.base`` (URL), ``.engine`` (to check what was stored),
  ``.api(username, company=None)`` an ``httpx.Client`` signed in as a demo user.
- ``browser``: the session's Chromium; ``page``: a fresh context (1280x860) per test that
  fails the test on a page error or an unexpected dialog (``alert()`` from an XSS payload).

Helpers for the steps (``browser_support``): ``sign_in``, ``open_widget``, ``ask``, ``shot``
and ``axe_violations`` (axe-core's serious and critical violations, shadow roots included).

Runs on the first backend of ``COMPANION_TEST_BACKENDS`` (SQLite unless narrowed to
PostgreSQL): one server keeps the tier fast; both databases are covered by the API tiers.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import DemoServer
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from companion.kit.db import make_engine
from dbutil import demo_database
from e2e.served import served

TODAY = dt.date(2026, 3, 15)
BACKENDS = [
    b.strip() for b in os.environ.get("COMPANION_TEST_BACKENDS", "sqlite,postgresql").split(",")
]
# The first answer loads the NLU and the knowledge index in the server: room for that once.
WARMUP_TIMEOUT_S = 600


def chromium_path() -> str:
    """Debian's chromium (or COMPANION_CHROMIUM); fails the run plainly when it is missing."""
    path = os.environ.get("COMPANION_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "The browser tests need Debian's chromium: apt-get install -y chromium "
            "(or set COMPANION_CHROMIUM to a Chromium binary). .ci/run installs it.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str], nlu_cache: Path
) -> Iterator[DemoServer]:
    """``companion serve`` in demo mode over a 3-month, fifth-volume demo, warmed up.

    ``COMPANION_TEST_BROWSER_URL`` and ``COMPANION_TEST_BROWSER_DATABASE_URL`` point the
    tests at a demo server already running and its database instead (a development
    shortcut: the tests change its data, as they change this one's).
    """
    running = os.environ.get("COMPANION_TEST_BROWSER_URL")
    if running:
        engine = make_engine(os.environ["COMPANION_TEST_BROWSER_DATABASE_URL"])
        yield DemoServer(base=running.rstrip("/"), engine=engine)
        engine.dispose()
        return
    backend = "sqlite" if "sqlite" in BACKENDS else "postgresql"
    folder = tmp_path_factory.mktemp("browser-demo")
    # The chat end-to-end suite's demo (built once per run, copied here).
    url = demo_database(backend, tmp_path_factory, pg_database_factory, today=TODAY)
    engine = make_engine(url)
    shutil.copytree(nlu_cache, folder / "data" / "nlu")  # the run's trained NLU: loaded
    env = {
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DATA_DIR": str(folder / "data"),
        "COMPANION_TODAY": TODAY.isoformat(),
        "COMPANION_DEMO_MODE": "true",
        "COMPANION_LLM__PROVIDER": "none",
        # No expiry sweep: its write would wait on the warm-up's long first turn (SQLite).
        "COMPANION_ACTIONS__SWEEP_INTERVAL_SECONDS": "0",
        # Nor periodic jobs: an alert scan mid-scenario would change what the pages show.
        "COMPANION_JOBS__TICK_SECONDS": "0",
        "COMPANION_LOG_LEVEL": "WARNING",
    }
    log_path = folder / "server.log"
    try:
        with served(env, log_path, ready_path="/readyz", startup_timeout_s=120) as base:
            server = DemoServer(base=base, engine=engine)
            with server.api("finance") as http:  # loads the NLU and builds the index
                for question in ("cash balance", "what is the travel policy for hotels?"):
                    warm = http.post(
                        "/ai/chat", json={"message": question}, timeout=WARMUP_TIMEOUT_S
                    )
                    assert warm.status_code == 200, warm.text
            yield server
        tracebacks = [line for line in log_path.read_text().splitlines() if "Traceback" in line]
        assert not tracebacks, log_path.read_text()[-6000:]
    finally:
        engine.dispose()


# Module scope, not session: the sync API keeps an event loop running in this thread while
# Playwright is open, and every later test that calls asyncio.run() (or ast.parse, under
# its greenlet) would fail. Launching Chromium once per module costs about a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        # No sandbox as root (CI containers); the pages are the test's own server.
        args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        chromium = playwright.chromium.launch(executable_path=executable, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """A fresh browser context: no cookies or storage from another test."""
    context = browser.new_context(
        base_url=demo_server.base, viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", on_dialog)
    yield page
    context.close()
    assert not dialogs, f"a dialog opened (injected script ran?): {dialogs}"
    assert not errors, f"errors in the page: {errors}"
