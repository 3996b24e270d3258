"""account_days (ledger totals per account and day) and the indexes of a million invoices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

``account_days`` is filled from the journal here and kept by the ledger's posting from now
on; cash, cash flow and profit and loss read it instead of every journal line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.kit.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OPEN = "status IN ('posted', 'partially_paid')"


def upgrade() -> None:
    op.create_table(
        "account_days",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("debit", companion.kit.db.Money(18, 2), nullable=False),
        sa.Column("credit", companion.kit.db.Money(18, 2), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_days_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_account_days_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_days")),
        sa.UniqueConstraint(
            "company_id",
            "account_id",
            "day",
            name=op.f("uq_account_days_company_id_account_id_day"),
        ),
    )
    with op.batch_alter_table("account_days", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_days_company_id"), ["company_id"], unique=False
        )
    # Open documents (aging, overdue, balances, the dashboard): a few percent of the rows.
    op.create_index(
        "ix_invoices_open",
        "invoices",
        ["company_id", "kind", "due_date"],
        postgresql_include=["customer_id", "supplier_id", "total", "amount_paid"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    # Sales by issue date (sales, top customers, the dashboard, ad-hoc sales by customer).
    op.create_index(
        "ix_invoices_issued",
        "invoices",
        ["company_id", "kind", "issue_date"],
        postgresql_include=["status", "customer_id", "subtotal"],
    )
    op.execute(
        "INSERT INTO account_days (company_id, account_id, day, debit, credit, lines) "
        "SELECT l.company_id, l.account_id, v.voucher_date, SUM(l.debit), SUM(l.credit), "
        "COUNT(*) FROM journal_lines l JOIN journal_vouchers v ON v.id = l.voucher_id "
        "GROUP BY l.company_id, l.account_id, v.voucher_date"
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_issued", table_name="invoices")
    op.drop_index("ix_invoices_open", table_name="invoices")
    with op.batch_alter_table("account_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_days_company_id"))
    op.drop_table("account_days")
