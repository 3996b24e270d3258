"""``companion kb-index status | rebuild | rollback`` through typer's CliRunner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from companion.cli.main import app

runner = CliRunner()


@pytest.fixture
def ingested(database: str, tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "travel.md").write_text("# Travel\n\nBook through the Motijheel desk.\n")
    result = runner.invoke(app, ["ingest", str(folder), "--company", "acme"])
    assert result.exit_code == 0, result.output
    yield database


def live_version(output: str) -> str:
    found = re.search(r"Live version: (\S+) \((\d+) chunks\)", output)
    assert found, output
    return found.group(1)


def test_rebuild_switches_to_a_new_version_and_rollback_goes_back(ingested: str) -> None:
    before = runner.invoke(app, ["kb-index", "status"])
    assert before.exit_code == 0, before.output
    first = live_version(before.output)

    rebuilt = runner.invoke(app, ["kb-index", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Rebuilt the knowledge index" in rebuilt.output and "(1 chunks)" in rebuilt.output
    after = runner.invoke(app, ["kb-index", "status"])
    second = live_version(after.output)
    assert second != first and first in after.output  # the old version is kept

    back = runner.invoke(app, ["kb-index", "rollback"])
    assert back.exit_code == 0, back.output
    assert live_version(runner.invoke(app, ["kb-index", "status"]).output) == first


def test_rollback_without_an_older_version_is_a_clear_error(database: str) -> None:
    status = runner.invoke(app, ["kb-index", "status"])
    assert status.exit_code == 0, status.output  # the first use builds the index
    result = runner.invoke(app, ["kb-index", "rollback"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
