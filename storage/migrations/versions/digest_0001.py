"""digest: member news and posted digests

Revision ID: digest_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "digest_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("digest",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_news",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("edited_by", sa.String(length=255), nullable=True),
        sa.Column("edited_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_news")),
    )
    with op.batch_alter_table("digest_news", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_news_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digest_news_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_digest_news_status_decided", ["status", "decided_at"], unique=False)

    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("posted_by", sa.String(length=255), nullable=True),
        sa.Column("posted_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reposts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_posts")),
        sa.UniqueConstraint("month", "room_id", name=op.f("uq_digest_posts_month")),
    )


def downgrade() -> None:
    op.drop_table("digest_posts")
    with op.batch_alter_table("digest_news", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_news_status_decided")
        batch_op.drop_index(batch_op.f("ix_digest_news_room_id"))
        batch_op.drop_index(batch_op.f("ix_digest_news_author_id"))
    op.drop_table("digest_news")
