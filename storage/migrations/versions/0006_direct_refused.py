"""direct_rooms: when a member refused (or left) the bot's direct chat; their DMs are held until they open one

Revision ID: 0006_direct_refused
Revises: 0005_processed_failed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0006_direct_refused"
down_revision: str | Sequence[str] | None = "0005_processed_failed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("direct_rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused_at", storage.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("direct_rooms", schema=None) as batch_op:
        batch_op.drop_column("refused_at")
