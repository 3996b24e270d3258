"""Page load of each command-center page on the demo: median and p95 per page.

    .venv/bin/python bench/admin_bench.py [--database-url URL] [--runs 30] [--turns 60]

Without ``--database-url`` it builds the full demo (13 months) in a temporary SQLite file.
It records ``--turns`` chat turns first (so the overview and the conversation list have
rows), signs in as ``admin`` through the real form, and times each page through the ASGI
app in process (httpx's TestClient: routing, session cookie, queries, templates; no
network). The first request of each page is untimed (warm-up: the knowledge page loads
the embedder and the index on first use). Target: p95 < 300 ms per page.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, QUESTIONS, demo_database, summary, timed  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from companion.alerts.service import scan_all  # noqa: E402
from companion.bootstrap import bootstrap  # noqa: E402
from companion.config import ActionSettings, Settings  # noqa: E402
from companion.web.app import create_app  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
USERS = ["ceo", "finance", "sales", "viewer"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    url = demo_database(args.database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="companion-admin-bench-"))
    settings = Settings(
        database_url=url,
        demo_mode=True,
        today=DEMO_TODAY,
        data_dir=data_dir,
        # No expiry sweep thread: its writes would queue behind the turns recorded here.
        actions=ActionSettings(sweep_interval_seconds=0),
    )
    container = bootstrap(settings)
    with container.session_factory() as session:  # the alerts page lists a scan's alerts
        scan_all(session, DEMO_TODAY)
        session.commit()
    app = create_app(container)
    with TestClient(app) as client:
        tokens = {}
        for user in USERS:
            login = client.post("/api/v1/auth/login", json={"username": user, "password": "demo"})
            tokens[user] = login.json()["access_token"]
        questions = itertools.cycle(QUESTIONS)
        users = itertools.cycle(USERS)
        conversation = ""
        for _ in range(args.turns):
            user = next(users)
            answer = client.post(
                "/api/v1/ai/chat",
                json={"message": next(questions)},
                headers={"Authorization": f"Bearer {tokens[user]}", "X-Company": "acme"},
            )
            assert answer.status_code == 200, answer.text
            conversation = answer.json()["conversation_id"]
        form = client.get("/admin/login")
        token = CSRF.search(form.text)
        assert token is not None
        signed = client.post(
            "/admin/login", data={"username": "admin", "password": "demo", "csrf": token.group(1)}
        )
        assert signed.status_code == 200, signed.text[-500:]
        document = re.search(
            r'href="/admin/acme/knowledge/(\d+)"', client.get("/admin/acme/knowledge").text
        )
        assert document is not None
        pages = {
            "overview": "/admin/acme/overview",
            "conversations": "/admin/acme/conversations",
            "conversations (filtered)": "/admin/acme/conversations?intent=cash_balance&q=cash",
            "transcript": f"/admin/acme/conversations/{conversation}",
            "knowledge base": "/admin/acme/knowledge",
            "knowledge document": f"/admin/acme/knowledge/{document.group(1)}",
            "ai actions": "/admin/acme/actions",
            "models": "/admin/acme/models",
            "alerts": "/admin/acme/alerts",
            "jobs": "/admin/acme/jobs",
            "learning": "/admin/acme/learning",
            "metrics": "/admin/acme/metrics",
            "usage and budgets": "/admin/acme/usage",
            "audit log": "/admin/acme/audit",
        }
        print(f"{args.turns} chat turns recorded; {args.runs} loads per page; demo {url}")
        for name, path in pages.items():

            def load(path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            print(summary(name, timed(load, args.runs, warmup=1)))
        csrf = CSRF.search(client.get("/admin/acme/audit").text)
        assert csrf is not None

        def verify() -> None:
            response = client.post("/admin/acme/audit/verify", data={"csrf": csrf.group(1)})
            assert 'data-verify="ok"' in response.text

        print(summary("audit: verify now (POST)", timed(verify, max(5, args.runs // 3), warmup=1)))


if __name__ == "__main__":
    main()
