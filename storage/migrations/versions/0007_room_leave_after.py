"""room_settings.leave_after: when the bot leaves a room it created for particular people (purpose over)

Revision ID: 0007_room_leave_after
Revises: 0006_direct_refused
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0007_room_leave_after"
down_revision: str | Sequence[str] | None = "0006_direct_refused"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("room_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leave_after", storage.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_settings", schema=None) as batch_op:
        batch_op.drop_column("leave_after")
