"""sessions: barcamp events, program items, session rounds, sessions, hosts and sign-ups

Revision ID: sessions_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "sessions_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("sessions",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposals_open", sa.Boolean(), nullable=False),
        sa.Column("space_id", sa.String(length=255), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_events")),
    )
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_events_room_id"), ["room_id"], unique=False)

    op.create_table(
        "session_program_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Time(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["session_events.id"],
            name=op.f("fk_session_program_items_event_id_session_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_program_items")),
    )
    with op.batch_alter_table("session_program_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_program_items_event_id"), ["event_id"], unique=False)

    op.create_table(
        "session_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("announce_due_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("announced_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["session_events.id"],
            name=op.f("fk_session_slots_event_id_session_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_slots")),
        sa.UniqueConstraint("event_id", "number", name=op.f("uq_session_slots_event_id")),
    )
    with op.batch_alter_table("session_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_slots_event_id"), ["event_id"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("matrix_room_id", sa.String(length=255), nullable=True),
        sa.Column("reminder_due_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_sent_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["session_events.id"],
            name=op.f("fk_sessions_event_id_session_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["session_slots.id"],
            name=op.f("fk_sessions_slot_id_session_slots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index("ix_sessions_status_reminder", ["status", "reminder_due_at"], unique=False)

    op.create_table(
        "session_hosts",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_hosts_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_session_hosts")),
    )
    with op.batch_alter_table("session_hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_hosts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "session_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_signups_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_signups")),
        sa.UniqueConstraint("session_id", "user_id", name=op.f("uq_session_signups_session_id")),
    )
    with op.batch_alter_table("session_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_signups_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_signups_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("session_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_signups_user_id"))
        batch_op.drop_index(batch_op.f("ix_session_signups_session_id"))

    op.drop_table("session_signups")
    with op.batch_alter_table("session_hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_hosts_user_id"))

    op.drop_table("session_hosts")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_status_reminder")
        batch_op.drop_index(batch_op.f("ix_sessions_slot_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_event_id"))

    op.drop_table("sessions")
    with op.batch_alter_table("session_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_slots_event_id"))

    op.drop_table("session_slots")
    with op.batch_alter_table("session_program_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_program_items_event_id"))

    op.drop_table("session_program_items")
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_events_room_id"))

    op.drop_table("session_events")
