"""sessions: results of sessions, the requests for them, offers to repeat crowded sessions

Revision ID: sessions_0003
Revises: sessions_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "sessions_0003"
down_revision: str | Sequence[str] | None = "sessions_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_results_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_results")),
    )
    with op.batch_alter_table("session_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_results_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_results_created_at"), ["created_at"], unique=False)

    op.create_table(
        "session_result_requests",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_result_requests_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_result_requests")),
    )

    op.create_table(
        "session_repeats",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=True),
        sa.Column("repeat_session_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_repeats_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repeat_session_id"],
            ["sessions.id"],
            name=op.f("fk_session_repeats_repeat_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_repeats")),
    )
    with op.batch_alter_table("session_repeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_repeats_repeat_session_id"), ["repeat_session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("session_repeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_repeats_repeat_session_id"))
    op.drop_table("session_repeats")
    op.drop_table("session_result_requests")
    with op.batch_alter_table("session_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_results_created_at"))
        batch_op.drop_index(batch_op.f("ix_session_results_session_id"))
    op.drop_table("session_results")
