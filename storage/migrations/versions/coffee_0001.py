"""coffee: participants, blocks, runs, groups, answers

Revision ID: coffee_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "coffee_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("coffee",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coffee_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("blocked_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coffee_blocks")),
        sa.UniqueConstraint("user_id", "blocked_id", name=op.f("uq_coffee_blocks_user_id")),
    )
    with op.batch_alter_table("coffee_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coffee_blocks_blocked_id"), ["blocked_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coffee_blocks_user_id"), ["user_id"], unique=False)

    op.create_table(
        "coffee_participants",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("skipped_last", sa.Boolean(), nullable=False),
        sa.Column("last_paired_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_coffee_participants")),
    )
    op.create_table(
        "coffee_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=True),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coffee_runs")),
        sa.UniqueConstraint("scheduled_for", name=op.f("uq_coffee_runs_scheduled_for")),
    )
    op.create_table(
        "coffee_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("introduced_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["coffee_runs.id"],
            name=op.f("fk_coffee_groups_run_id_coffee_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coffee_groups")),
    )
    with op.batch_alter_table("coffee_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coffee_groups_run_id"), ["run_id"], unique=False)

    op.create_table(
        "coffee_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("answered_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["coffee_groups.id"],
            name=op.f("fk_coffee_answers_group_id_coffee_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coffee_answers")),
        sa.UniqueConstraint("group_id", "user_id", name=op.f("uq_coffee_answers_group_id")),
    )
    with op.batch_alter_table("coffee_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coffee_answers_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("coffee_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coffee_answers_user_id"))

    op.drop_table("coffee_answers")
    with op.batch_alter_table("coffee_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coffee_groups_run_id"))

    op.drop_table("coffee_groups")
    op.drop_table("coffee_runs")
    op.drop_table("coffee_participants")
    with op.batch_alter_table("coffee_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coffee_blocks_user_id"))
        batch_op.drop_index(batch_op.f("ix_coffee_blocks_blocked_id"))

    op.drop_table("coffee_blocks")
