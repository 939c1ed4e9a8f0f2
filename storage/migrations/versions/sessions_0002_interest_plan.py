"""sessions: interest, polls, locations, host availability, plan previews and suggestions (issue 16)

Revision ID: sessions_0002
Revises: sessions_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "sessions_0002"
down_revision: str | Sequence[str] | None = "sessions_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    created = storage.base.UTCDateTime(timezone=True)
    op.create_table(
        "session_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("created_at", created, nullable=False),
        _fk("session_interest", "session_id", "sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_interest")),
        sa.UniqueConstraint("session_id", "user_id", "source", name=op.f("uq_session_interest_session_id")),
    )
    _index("session_interest", "session_id")
    _index("session_interest", "user_id")
    op.create_table(
        "session_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_at", created, nullable=False),
        _fk("session_polls", "event_id", "session_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_polls")),
    )
    _index("session_polls", "event_id")
    op.create_table(
        "session_poll_answers",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        _fk("session_poll_answers", "poll_id", "session_polls"),
        _fk("session_poll_answers", "session_id", "sessions"),
        sa.PrimaryKeyConstraint("poll_id", "answer_id", name=op.f("pk_session_poll_answers")),
    )
    _index("session_poll_answers", "session_id")
    op.create_table(
        "session_poll_votes",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("answered_at", created, nullable=False),
        _fk("session_poll_votes", "poll_id", "session_polls"),
        sa.PrimaryKeyConstraint("poll_id", "user_id", name=op.f("pk_session_poll_votes")),
    )
    op.create_table(
        "session_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        _fk("session_locations", "event_id", "session_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_locations")),
        sa.UniqueConstraint("event_id", "number", name=op.f("uq_session_locations_event_id")),
    )
    _index("session_locations", "event_id")
    op.create_table(
        "session_unavailable",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        _fk("session_unavailable", "session_id", "sessions"),
        _fk("session_unavailable", "slot_id", "session_slots"),
        sa.PrimaryKeyConstraint("session_id", "slot_id", name=op.f("pk_session_unavailable")),
    )
    op.create_table(
        "session_placements",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        _fk("session_placements", "session_id", "sessions"),
        _fk("session_placements", "location_id", "session_locations"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_placements")),
    )
    _index("session_placements", "location_id")
    op.create_table(
        "session_plan_previews",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("placements", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", created, nullable=False),
        _fk("session_plan_previews", "event_id", "session_events"),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_session_plan_previews")),
    )
    op.create_table(
        "session_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("session_ids", sa.Text(), nullable=False),
        sa.Column("created_at", created, nullable=False),
        _fk("session_suggestions", "event_id", "session_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_suggestions")),
    )
    _index("session_suggestions", "event_id")
    _index("session_suggestions", "user_id")


def downgrade() -> None:
    for table in (
        "session_suggestions",
        "session_plan_previews",
        "session_placements",
        "session_unavailable",
        "session_locations",
        "session_poll_votes",
        "session_poll_answers",
        "session_polls",
        "session_interest",
    ):
        op.drop_table(table)
