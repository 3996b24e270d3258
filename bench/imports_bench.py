"""A 100,000-row customer import, validated and committed: wall time and peak RSS per database.

    .venv/bin/python bench/imports_bench.py [--rows 100000] [--backends sqlite,postgresql]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--dir /tmp]
        [--no-commit]

Each backend runs in its own child process (so its peak RSS is its own): a fresh database
(a SQLite file in a temporary folder, or a new PostgreSQL database dropped afterwards),
migrated, one company and its admin; the CSV is generated (code, name, email, terms, credit
limit), uploaded through ``jobs.imports.service.upload`` and its validation and commit jobs
run by the in-process runner, as the server runs them. Prints the wall time of the upload,
the validation job and the commit job (one transaction of every row through the ERP's
customer service, each with its audit entry), rows per second, and the child's peak RSS
(``ru_maxrss``) before and after the commit. One run per backend: a commit of 100k rows is
minutes on the shared machine, and the load average at the start and end is printed.
``--no-commit`` stops after the validation job. The scratch folder (under ``--dir``) and the
PostgreSQL database are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from companion.auth import service as auth_service
from companion.auth.service import context_for_user
from companion.bootstrap import bootstrap
from companion.config import AuthSettings, LLMSettings, Settings
from companion.erp.parties.models import Customer
from companion.jobs import runner as job_runner
from companion.jobs.imports import service as imports
from companion.jobs.imports.models import DataImport
from companion.jobs.runner import JobRunner
from companion.kit import migrate
from companion.kit.db import session_scope
from companion.tenancy.models import Company

PG_URL = os.environ.get(
    "COMPANION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def rss_mb() -> float:
    """This process's peak resident set so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def csv_rows(rows: int) -> bytes:
    lines = ["code,name,email,payment_terms_days,credit_limit"]
    lines += [f"BULK-{n},Bulk Customer {n},bulk{n}@example.com,30,100" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def one_backend(backend: str, rows: int, pg_url: str, folder: str | None, commit: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="imports-bench-", dir=folder))
    dropped: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        name = f"imports_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url, dropped = pg_url.rsplit("/", 1)[0] + f"/{name}", name
    try:
        settings = Settings(
            database_url=url,
            data_dir=tmp,
            demo_mode=False,
            auth=AuthSettings(secret_key=f"bench-{uuid.uuid4().hex}-0123456789abcdef"),
            llm=LLMSettings(provider="none"),
        )
        container = bootstrap(settings)
        migrate.upgrade(container.engine)
        with session_scope(container.session_factory) as session:
            session.add(Company(slug="bench", name="Bench Ltd", base_currency="USD"))
            session.flush()
            company = session.scalars(select(Company)).one()
            user = auth_service.create_user(
                session,
                container.password_hasher,
                username="bench-admin",
                password="bench password 123",
                full_name="B",
            )
            auth_service.set_membership(session, user.id, company.id, ["admin"])
        runner = JobRunner(
            container.session_factory, job_runner.default_handlers(container), workers=0
        )
        job_runner.install(container, runner)
        data = csv_rows(rows)
        print(f"{backend}: {rows} rows, {len(data) / 1e6:.1f} MB; load average {load()}")
        base_rss = rss_mb()
        started = time.perf_counter()
        with session_scope(container.session_factory) as session:
            ctx = context_for_user(session, "bench-admin", "bench")
            row, _ = imports.upload(
                session,
                ctx,
                kind_name="customers",
                filename="customers.csv",
                data=data,
                data_dir=tmp,
                runner=runner,
            )
            import_id = row.id
        uploaded = time.perf_counter() - started
        started = time.perf_counter()
        assert runner.drain() == ["done"]
        validated = time.perf_counter() - started
        rss_validated = rss_mb()
        print(
            f"  upload {uploaded:.1f} s; validation job {validated:.1f} s "
            f"({rows / validated:,.0f} rows/s); peak RSS {base_rss:.0f} MB before, "
            f"{rss_validated:.0f} MB after validation; load average {load()}",
            flush=True,
        )
        if not commit:
            container.engine.dispose()
            return
        with session_scope(container.session_factory) as session:
            ctx = context_for_user(session, "bench-admin", "bench")
            imports.commit(session, ctx, import_id, runner=runner)
        started = time.perf_counter()
        statuses = runner.drain()
        committed = time.perf_counter() - started
        with session_scope(container.session_factory) as session:
            status = session.get(DataImport, import_id)
            written = session.scalar(select(func.count()).select_from(Customer))
        assert status is not None
        assert statuses == ["done"] and status.status == "committed", (statuses, status.status)
        assert written == rows, written
        print(
            f"  commit job {committed:.1f} s ({rows / committed:,.1f} rows/s), {written} "
            f"customers written; peak RSS {rss_mb():.0f} MB after the commit; "
            f"load average {load()}"
        )
        container.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dropped is not None:
            admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--dir", help="where the scratch folder goes (default: the system's)")
    parser.add_argument("--no-commit", action="store_true", help="stop after the validation")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        one_backend(args.child, args.rows, args.pg_url, args.dir, not args.no_commit)
        return
    for backend in args.backends.split(","):
        subprocess.run(
            [sys.executable, __file__, "--child", backend, "--rows", str(args.rows)]
            + ["--pg-url", args.pg_url]
            + (["--dir", args.dir] if args.dir else [])
            + (["--no-commit"] if args.no_commit else []),
            check=True,
        )


if __name__ == "__main__":
    main()
