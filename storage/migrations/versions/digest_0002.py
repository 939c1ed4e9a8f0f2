"""digest: remember when the bot was installed, so that it never posts a "late" digest for a month before

Revision ID: digest_0002
Revises: digest_0001

A fresh database (no sync token yet: the bot has never synced) gets ``digest.installed_at`` = now; an existing
installation gets nothing and keeps catching up on missed digests as before.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "digest_0002"
down_revision: str | Sequence[str] | None = "digest_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTALLED_KEY = "digest.installed_at"
bot_state = sa.table("bot_state", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    synced_before = (
        op.get_bind()
        .execute(sa.select(sa.func.count()).select_from(bot_state).where(bot_state.c.key == "sync_token"))
        .scalar()
    )
    if not synced_before:
        op.bulk_insert(bot_state, [{"key": INSTALLED_KEY, "value": datetime.now(UTC).isoformat()}])


def downgrade() -> None:
    op.execute(bot_state.delete().where(bot_state.c.key == INSTALLED_KEY))
