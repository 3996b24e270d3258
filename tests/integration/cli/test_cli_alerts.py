"""``companion alerts scan`` runs the detectors above the alerts floor too (stalled imports)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from typer.testing import CliRunner

from companion.alerts.models import Alert
from companion.cli.main import app
from companion.jobs.imports.models import DataImport
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.models import Company

runner = CliRunner()


def test_scan_reports_an_import_left_validated(database: str) -> None:
    engine = make_engine(database)
    factory = make_session_factory(engine)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with session_scope(factory) as session:
        acme = session.scalars(select(Company).where(Company.slug == "acme")).one()
        session.add(
            DataImport(
                company_id=acme.id,
                kind="suppliers",
                filename="suppliers.csv",
                file_format="csv",
                status="validated",
                valid_rows=4,
                errors=[],
                summary={},
                created_at=long_ago,
                updated_at=long_ago,
            )
        )
    result = runner.invoke(app, ["alerts", "scan", "--company", "acme"])
    assert result.exit_code == 0, result.output
    assert "stalled_import 1" in result.output
    with factory() as session:
        [alert] = session.scalars(select(Alert).where(Alert.type == "stalled_import")).all()
        assert alert.permission == "procurement.write"
    again = runner.invoke(app, ["alerts", "scan", "--company", "acme"])
    assert again.exit_code == 0 and "0 new alert(s)" in again.output
    engine.dispose()
