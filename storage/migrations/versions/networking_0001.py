"""networking: partner requests, blocks, participants, rounds, meetings

Revision ID: networking_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "networking_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("networking",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "networking_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("opened_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networking_blocks")),
    )
    with op.batch_alter_table("networking_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_networking_blocks_room_id"), ["room_id"], unique=False)

    op.create_table(
        "networking_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("is_direct", sa.Boolean(), nullable=False),
        sa.Column("rooms", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("partner_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networking_requests")),
    )
    with op.batch_alter_table("networking_requests", schema=None) as batch_op:
        batch_op.create_index("ix_networking_requests_status_expires", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_networking_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "networking_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("joined_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["networking_blocks.id"],
            name=op.f("fk_networking_participants_block_id_networking_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networking_participants")),
        sa.UniqueConstraint("block_id", "user_id", name=op.f("uq_networking_participants_block_id")),
    )
    with op.batch_alter_table("networking_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_networking_participants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "networking_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warn_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ended_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["networking_blocks.id"],
            name=op.f("fk_networking_rounds_block_id_networking_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networking_rounds")),
        sa.UniqueConstraint("block_id", "number", name=op.f("uq_networking_rounds_block_id")),
    )

    op.create_table(
        "networking_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_a", sa.String(length=255), nullable=False),
        sa.Column("user_b", sa.String(length=255), nullable=False),
        sa.Column("met_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("intro_room_id", sa.String(length=255), nullable=True),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["networking_blocks.id"],
            name=op.f("fk_networking_meetings_block_id_networking_blocks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["networking_requests.id"],
            name=op.f("fk_networking_meetings_request_id_networking_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["networking_rounds.id"],
            name=op.f("fk_networking_meetings_round_id_networking_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networking_meetings")),
    )
    with op.batch_alter_table("networking_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_networking_meetings_user_a"), ["user_a"], unique=False)
        batch_op.create_index(batch_op.f("ix_networking_meetings_user_b"), ["user_b"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("networking_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networking_meetings_user_b"))
        batch_op.drop_index(batch_op.f("ix_networking_meetings_user_a"))
    op.drop_table("networking_meetings")
    op.drop_table("networking_rounds")
    with op.batch_alter_table("networking_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networking_participants_user_id"))
    op.drop_table("networking_participants")
    with op.batch_alter_table("networking_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networking_requests_user_id"))
        batch_op.drop_index("ix_networking_requests_status_expires")
    op.drop_table("networking_requests")
    with op.batch_alter_table("networking_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networking_blocks_room_id"))
    op.drop_table("networking_blocks")
