"""The NLU retrain over HTTP, now a background job: what the request costs, and the job.

    .venv/bin/python bench/learning_retrain_http.py [--data-dir var] [--rounds 3] [--busy 5]

Through the ASGI app (the in-process runner's threads, a SQLite file in a temporary folder)
on the shipped NLU, whose model and feature cache are read from DATA_DIR/nlu (run
``bench/learning_loop.py --data-dir DATA_DIR`` once first). A reviewer's 20 approved
petty-cash corrections; each round rolls back to the shipped model, POSTs the retrain
(202, timed), POSTs it ``--busy`` more times while the job runs (409 retrain_running,
timed), and polls the job until it is done (the job's own time: created -> finished).
Prints median and p95 of each, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import p, summary
from learning_loop import CORRECTIONS, corrected
from starlette.testclient import TestClient

from companion.assistant.learning import review
from companion.assistant.learning.schemas import BulkReviewIn
from companion.auth.models import User
from companion.auth.service import issue_token
from companion.bootstrap import bootstrap
from companion.config import AuthSettings, JobSettings, LLMSettings, Settings
from companion.kit import migrate
from companion.kit.db import session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import permissions_for
from companion.web.app import create_app

API = "/api/v1/ai"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", type=int, default=5, help="409 requests per round")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="retrain-http-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        data_dir=args.data_dir,
        demo_mode=False,
        auth=AuthSettings(secret_key=f"bench-{uuid.uuid4().hex}-0123456789abcdef"),
        llm=LLMSettings(provider="none"),
        jobs=JobSettings(tick_seconds=0),
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    started = time.perf_counter()
    models = container.company_models()
    models.base_features()
    print(f"shipped NLU and features ready in {time.perf_counter() - started:.1f} s")
    with session_scope(container.session_factory) as session:
        company = Company(slug="acme", name="Acme Trading Ltd", base_currency="BDT")
        session.add(company)
        session.flush()
        user = User(username="reviewer", full_name="Reviewer", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, company_id=company.id, roles=["admin"]))
        ctx = RequestContext(
            user_id=user.id,
            username=user.username,
            company_id=company.id,
            company_slug=company.slug,
            currency=company.base_currency,
            roles=("admin",),
            permissions=permissions_for(["admin"]),
        )
        ids = corrected(session, ctx, models.base, CORRECTIONS, "cash_balance")
        review.bulk_review(session, ctx, BulkReviewIn(ids=ids, decision="approve"))
        token, _ = issue_token(settings, container.clock, user)
    headers = {"Authorization": f"Bearer {token}", "X-Company": "acme"}

    accepted: list[float] = []
    busy: list[float] = []
    jobs: list[float] = []
    with TestClient(create_app(container)) as client:
        for round_no in range(1, args.rounds + 1):
            back = client.post(f"{API}/learning/nlu/rollback", json={"version": 0}, headers=headers)
            assert back.status_code == 200, back.text
            t0 = time.perf_counter()
            queued = client.post(f"{API}/learning/nlu/retrain", headers=headers)
            accepted.append((time.perf_counter() - t0) * 1000)
            assert queued.status_code == 202, queued.text
            for _ in range(args.busy):
                t0 = time.perf_counter()
                again = client.post(f"{API}/learning/nlu/retrain", headers=headers)
                elapsed = (time.perf_counter() - t0) * 1000
                if again.status_code == 409 and "retrain_running" in again.text:
                    busy.append(elapsed)
            while True:
                job = client.get(queued.json()["status_url"], headers=headers).json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.5)
            took = dt.datetime.fromisoformat(job["finished_at"]) - dt.datetime.fromisoformat(
                job["created_at"]
            )
            jobs.append(took.total_seconds() * 1000)
            result = job.get("result") or {}
            print(
                f"round {round_no}: job {job['status']}, model v{result.get('version')} "
                f"{result.get('status')}, held-out {result.get('heldout')}, "
                f"{took.total_seconds():.1f} s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    print(summary("POST retrain -> 202 (queued)", accepted))
    if busy:
        print(summary("POST retrain -> 409 (running)", busy))
    print(
        f"{'the job (queued -> done)':<34} median {statistics.median(jobs) / 1000:8.1f} s    "
        f"p95 {p(jobs, 95) / 1000:8.1f} s    n={len(jobs)}"
    )
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    container.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
