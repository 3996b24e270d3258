"""conversations.last_seq, and a message's seq unique in its conversation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

A turn numbered its two messages after ``SELECT max(seq)`` of the conversation: a statement
every follow-up turn, and two concurrent turns of one conversation (a double submit) could
read the same maximum and store the same numbers. The conversation now carries the last
number it gave (``last_seq``); a turn takes the next two in the conversation's own UPDATE
(``last_seq = last_seq + 2 ... RETURNING last_seq``), and (conversation_id, seq) is unique
(a unique index, which also serves what the index on conversation_id alone served).

Conversations that already hold duplicate numbers are renumbered 1, 2, ... in the order
(seq, created_at, id), which keeps the order they were read in; the others are left as they
are. ``last_seq`` is then the highest number of each conversation's messages (0 for none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# UPDATE ... FROM: PostgreSQL, and SQLite since 3.33.
RENUMBER = """
UPDATE messages SET seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (
        PARTITION BY conversation_id ORDER BY seq, created_at, id
    ) AS n
    FROM messages
    WHERE conversation_id IN (
        SELECT conversation_id FROM messages GROUP BY conversation_id, seq HAVING COUNT(*) > 1
    )
) AS numbered
WHERE messages.id = numbered.id AND messages.seq <> numbered.n
"""
BACKFILL = """
UPDATE conversations SET last_seq = COALESCE(
    (SELECT MAX(seq) FROM messages WHERE messages.conversation_id = conversations.id), 0
)
"""


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False))
    op.execute(RENUMBER)
    op.execute(BACKFILL)
    # A unique index, not a constraint: SQLite adds a constraint only by copying the table,
    # and dropping the old one breaks the foreign keys that point at it (message_feedback).
    # It leads with conversation_id, so the index on conversation_id alone goes.
    op.create_index(
        "ix_messages_conversation_id_seq", "messages", ["conversation_id", "seq"], unique=True
    )
    op.drop_index("ix_messages_conversation_id", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])
    op.drop_index("ix_messages_conversation_id_seq", table_name="messages")
    # Not a batch, as above: SQLite (3.35+) drops a plain column itself.
    op.drop_column("conversations", "last_seq")
