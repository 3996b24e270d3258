"""Open documents read index-only in party order (the aging at a million invoices)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

The aging sums each party's open documents into five buckets. ``ix_invoices_open`` holds
them in due-date order, so PostgreSQL hashed 75,937 open invoices into 18,339 customers and
spilled the hash table to disk (21 batches). In party order the groups stream out of the
index with no hash and no sort: the aging's statement cost PostgreSQL 133-140 ms of CPU
without this index and 70-77 ms with it, at a million invoices. PostgreSQL only, as 0014:
SQLite's aging reads a company of demo size.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('posted', 'partially_paid')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_invoices_open_party",
        "invoices",
        ["company_id", "kind", "customer_id", "supplier_id"],
        postgresql_include=["due_date", "total", "amount_paid"],
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_invoices_open_party", table_name="invoices")
