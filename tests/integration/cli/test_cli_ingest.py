"""``companion ingest`` through typer's CliRunner: a folder, a re-run, a bad file, a bad slug."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from companion.bootstrap import bootstrap
from companion.cli.main import app
from companion.config import get_settings
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.knowledge.models import KnowledgeDocument
from companion.knowledge.service import global_corpus
from companion.tenancy.models import Company

runner = CliRunner()


def documents(url: str) -> list[KnowledgeDocument]:
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return list(
                session.execute(select(KnowledgeDocument).order_by(KnowledgeDocument.title))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()


def test_a_folder_is_ingested_once_and_a_bad_file_is_reported(
    database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    (folder / "hr").mkdir(parents=True)
    (folder / "travel.md").write_text("# Travel\n\nBook through the Motijheel desk.\n")
    (folder / "hr" / "leave.txt").write_text("LEAVE\n\nStaff get 20 days of annual leave.\n")
    (folder / "hr" / "empty.html").write_text("<html><body></body></html>")
    (folder / "notes.xyz").write_text("ignored: not a supported type")
    (folder / ".hidden.md").write_text("# Hidden\n\nskipped")

    first = runner.invoke(
        app,
        ["ingest", str(folder), "--company", "acme", "--type", "policy", "--roles", "finance"],
    )
    assert first.exit_code == 1, first.output  # one file failed
    assert "created" in first.output and "failed" in first.output
    assert "2 created, 1 failed." in first.output
    docs = documents(database)
    assert [d.title for d in docs] == ["Leave", "Travel"]
    assert all(d.roles == ["finance"] and d.doc_type == "POLICY" for d in docs)
    assert {d.source_name for d in docs} == {"travel.md", "hr/leave.txt"}

    (folder / "hr" / "empty.html").unlink()
    (folder / "travel.md").write_text("# Travel\n\nBook through the Gulshan desk.\n")
    args = ["ingest", str(folder), "--company", "acme", "--type", "POLICY", "--roles", "finance"]
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "1 updated, 1 unchanged." in second.output
    travel = next(d for d in documents(database) if d.title == "Travel")
    assert travel.version == 2 and "Gulshan" in travel.content

    # The index the CLI kept up to date (persisted under the data dir) has the new text only.
    container = bootstrap(get_settings())
    try:
        with container.session_factory() as session:
            acme = session.execute(select(Company.id)).scalar_one()
        retriever = container.retriever()
        hits = retriever.retrieve("Gulshan desk", company_id=acme, roles=("finance",)).hits
        assert any("Gulshan" in h.chunk.text for h in hits)
        old = retriever.retrieve("Motijheel desk", company_id=acme, roles=("finance",)).hits
        assert not any("Motijheel" in h.chunk.text for h in old)
        assert retriever.retrieve("Gulshan desk", company_id=acme, roles=("sales",)).hits == []
    finally:
        container.engine.dispose()


def test_unknown_company_and_missing_path_are_clear_errors(database: str, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nText.\n")
    unknown = runner.invoke(app, ["ingest", str(note), "--company", "nope"])
    assert unknown.exit_code == 1 and "No company with slug 'nope'" in unknown.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "none"), "--company", "acme"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    bad_role = runner.invoke(app, ["ingest", str(note), "--company", "acme", "--roles", "pilot"])
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output


def test_help_sync_loads_the_global_corpus_once(database: str) -> None:
    first = runner.invoke(app, ["help-sync"])
    assert first.exit_code == 0, first.output
    pages = len(global_corpus())
    assert f"Help pages: {pages} created, 0 updated, 0 unchanged, 0 removed." in first.output
    again = runner.invoke(app, ["help-sync"])
    assert f"0 created, 0 updated, {pages} unchanged" in again.output
    assert all(d.company_id is None for d in documents(database))
