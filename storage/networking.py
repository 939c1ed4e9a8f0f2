"""Tables of the networking feature: partner requests, networking blocks with rounds, and who met whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class PartnerRequest(Base):
    """``!partner``: a member waiting for someone to talk to (in one room, or across rooms from a DM)."""

    __tablename__ = "networking_requests"
    __table_args__ = (Index("ix_networking_requests_status_expires", "status", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    # Where the member asked (a community room or the direct chat): answers go there.
    room_id: Mapped[str] = mapped_column(String(255))
    is_direct: Mapped[bool] = mapped_column(default=False)
    # Community rooms in which a partner may be found (the asking room, or every room shared with the bot).
    rooms: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_id: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="de")
    # waiting → matched | expired | cancelled
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    partner_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class NetworkingBlock(Base):
    """A moderated series of speed-dating rounds in one community room."""

    __tablename__ = "networking_blocks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    # open → closed
    status: Mapped[str] = mapped_column(String(12), default="open")
    round_number: Mapped[int] = mapped_column(Integer, default=0)
    group_size: Mapped[int] = mapped_column(Integer, default=2)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="de")
    opened_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class BlockParticipant(Base):
    """Someone registered for a block; ``paused`` members are not placed in new rounds."""

    __tablename__ = "networking_participants"
    __table_args__ = (UniqueConstraint("block_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("networking_blocks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    # joined | paused
    status: Mapped[str] = mapped_column(String(12), default="joined")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class NetworkingRound(Base):
    """One timed round of a block; the warning and end messages are sent exactly once (flags below)."""

    __tablename__ = "networking_rounds"
    __table_args__ = (UniqueConstraint("block_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("networking_blocks.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    group_size: Mapped[int] = mapped_column(Integer, default=2)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    warn_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    warned: Mapped[bool] = mapped_column(default=False)
    # running → ended
    status: Mapped[str] = mapped_column(String(12), default="running")
    ended_at: Mapped[datetime | None] = mapped_column()


class Meeting(Base):
    """Two people who met (a group of three gives three rows): the history and everyone's contacts."""

    __tablename__ = "networking_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The pair, sorted: user_a < user_b.
    user_a: Mapped[str] = mapped_column(String(255), index=True)
    user_b: Mapped[str] = mapped_column(String(255), index=True)
    met_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The community room they met through, and the private intro room (if one was created).
    room_id: Mapped[str | None] = mapped_column(String(255))
    intro_room_id: Mapped[str | None] = mapped_column(String(255))
    # Number of the group within its round (all pairs of a group share it).
    group_no: Mapped[int] = mapped_column(Integer, default=0)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("networking_blocks.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("networking_rounds.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("networking_requests.id", ondelete="SET NULL"))

    def other(self, user_id: str) -> str:
        return self.user_b if self.user_a == user_id else self.user_a
