"""bingo: games, cards, field claims and room prompt pools

Revision ID: bingo_0001
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "bingo_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("bingo",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bingo_games",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("started_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bingo_games")),
    )
    with op.batch_alter_table("bingo_games", schema=None) as batch_op:
        batch_op.create_index("ix_bingo_games_room_status", ["room_id", "status"], unique=False)

    op.create_table(
        "bingo_prompt_pools",
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("loaded_by", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_bingo_prompt_pools")),
    )

    op.create_table(
        "bingo_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_line_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("full_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("place", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["bingo_games.id"],
            name=op.f("fk_bingo_cards_game_id_bingo_games"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bingo_cards")),
        sa.UniqueConstraint("game_id", "player_id", name=op.f("uq_bingo_cards_game_id")),
    )
    with op.batch_alter_table("bingo_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bingo_cards_player_id"), ["player_id"], unique=False)

    op.create_table(
        "bingo_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=4), nullable=False),
        sa.Column("named_user_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("request_outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["bingo_cards.id"],
            name=op.f("fk_bingo_claims_card_id_bingo_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bingo_claims")),
    )
    with op.batch_alter_table("bingo_claims", schema=None) as batch_op:
        batch_op.create_index("ix_bingo_claims_card_status", ["card_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bingo_claims_named_user_id"), ["named_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bingo_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bingo_claims_named_user_id"))
        batch_op.drop_index("ix_bingo_claims_card_status")
    op.drop_table("bingo_claims")
    with op.batch_alter_table("bingo_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bingo_cards_player_id"))
    op.drop_table("bingo_cards")
    op.drop_table("bingo_prompt_pools")
    with op.batch_alter_table("bingo_games", schema=None) as batch_op:
        batch_op.drop_index("ix_bingo_games_room_status")
    op.drop_table("bingo_games")
