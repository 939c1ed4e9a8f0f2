"""Tables of the Verwaltungsbingo: games, players' cards, field claims and prompt pools loaded per room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class BingoGame(Base):
    """One game in one room. ``prompts`` is the pool as it was at the start: later uploads change nothing."""

    __tablename__ = "bingo_games"
    __table_args__ = (Index("ix_bingo_games_room_status", "room_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    # "running" → "ended" (end time reached or stopped by a moderator).
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_by: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by: Mapped[str | None] = mapped_column(String(255))
    # Language of the room announcements (the language the game was started in).
    language: Mapped[str] = mapped_column(String(8), default="de")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # Cards are drawn reproducibly from this seed and the player's ID when it is set (tests, replays).
    seed: Mapped[int | None] = mapped_column(Integer)
    prompts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    cards: Mapped[list[BingoCard]] = relationship(
        back_populates="game", cascade="all, delete-orphan", passive_deletes=True
    )


class BingoCard(Base):
    """A player's card in a game; the prompt texts are stored with it (``Card.to_data``)."""

    __tablename__ = "bingo_cards"
    __table_args__ = (UniqueConstraint("game_id", "player_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("bingo_games.id", ondelete="CASCADE"))
    player_id: Mapped[str] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_line_at: Mapped[datetime | None] = mapped_column()
    full_at: Mapped[datetime | None] = mapped_column()
    # 1 = first BINGO of the game; set when the first line is completed.
    place: Mapped[int | None] = mapped_column(Integer)

    game: Mapped[BingoGame] = relationship(back_populates="cards")
    claims: Mapped[list[BingoClaim]] = relationship(
        back_populates="card", cascade="all, delete-orphan", passive_deletes=True
    )


class BingoClaim(Base):
    """ "This person fits field B2 of my card": only counts once the named person confirmed it."""

    __tablename__ = "bingo_claims"
    __table_args__ = (Index("ix_bingo_claims_card_status", "card_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("bingo_cards.id", ondelete="CASCADE"))
    # Field name as shown to people, e.g. "B2".
    field: Mapped[str] = mapped_column(String(4))
    named_user_id: Mapped[str] = mapped_column(String(255), index=True)
    # "pending" → "confirmed" | "refused" | "expired"
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    # The outbox row of the bot's request message (its event ID is there once sent).
    request_outbox_id: Mapped[int | None] = mapped_column(Integer)

    card: Mapped[BingoCard] = relationship(back_populates="claims")


class BingoPromptPool(Base):
    """Prompts a moderator loaded for a room (``!bingo fragen``); used by games started afterwards."""

    __tablename__ = "bingo_prompt_pools"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    prompts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    filename: Mapped[str] = mapped_column(String(255))
    loaded_by: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
