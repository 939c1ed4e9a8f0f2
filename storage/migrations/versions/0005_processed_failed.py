"""processed_events: whether the command failed (wrong arguments, unknown name), so an edit may run it again

Revision ID: 0005_processed_failed
Revises: 0004_outbox_failed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_processed_failed"
down_revision: str | Sequence[str] | None = "0004_outbox_failed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_column("failed")
