from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from companion.kit import migrate
from companion.models import Base


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_every_tenant_table_has_an_indexed_company_id(engine: Engine) -> None:
    insp = inspect(engine)
    # job_leases: who runs the deployment's scheduler, one row per lease, no company.
    global_tables = {"companies", "users", "audit_heads", "alembic_version", "job_leases"}
    # global_memories: what every company's users are told (governance.memory); a global
    # row belongs to no tenant, so it has no company_id that tenant reads could match.
    global_tables |= {"global_memories"}
    for table in insp.get_table_names():
        if table in global_tables:
            continue
        columns = {c["name"]: c for c in insp.get_columns(table)}
        assert "company_id" in columns, table
        # A NULL company is the global corpus (the product's own help) in the knowledge tables.
        if table not in {"audit_log", "knowledge_documents", "knowledge_chunks"}:
            assert columns["company_id"]["nullable"] is False, table
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes(table)}
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        assert any(cols[0] == "company_id" for cols in indexed | uniques), table
