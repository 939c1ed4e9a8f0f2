"""whoknows: findable members, synonyms, searches, introduction requests

Revision ID: whoknows_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "whoknows_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("whoknows",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whoknows_findable",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("since", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_whoknows_findable")),
    )
    op.create_table(
        "whoknows_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.Column("other", sa.String(length=100), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whoknows_synonyms")),
    )
    op.create_table(
        "whoknows_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whoknows_searches")),
    )
    with op.batch_alter_table("whoknows_searches", schema=None) as batch_op:
        batch_op.create_index("ix_whoknows_searches_user_created", ["user_id", "created_at"], unique=False)
    op.create_table(
        "whoknows_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.String(length=255), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("topic_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("asker_language", sa.String(length=8), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whoknows_requests")),
    )
    with op.batch_alter_table("whoknows_requests", schema=None) as batch_op:
        batch_op.create_index("ix_whoknows_requests_asker", ["asker_id", "created_at"], unique=False)
        batch_op.create_index("ix_whoknows_requests_target", ["target_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("whoknows_requests")
    op.drop_table("whoknows_searches")
    op.drop_table("whoknows_synonyms")
    op.drop_table("whoknows_findable")
