"""Tables of NExT-Kaffee: who takes part, private block lists, runs (the exactly-once claim), groups and
answers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class CoffeeParticipant(Base):
    """A member who opted in (``!kaffee mitmachen``); ``status`` active | left."""

    __tablename__ = "coffee_participants"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    # Rhythm in weeks: 2 or 4.
    weeks: Mapped[int] = mapped_column(Integer, default=2)
    # Paused until the end of this day (local), or indefinitely (paused without a date).
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[date | None] = mapped_column(Date)
    # Follow-ups in a row without a "we met" (unanswered, "no", "not yet"); see docs/coffee.md.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    # Whether the member sat out the last run that was due for them (the "paired less often" rule).
    skipped_last: Mapped[bool] = mapped_column(Boolean, default=False)
    last_paired_at: Mapped[datetime | None] = mapped_column()
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoffeeBlock(Base):
    """``!kaffee nicht-mit``: ``user_id`` is never paired with ``blocked_id``. Private to ``user_id``."""

    __tablename__ = "coffee_blocks"
    __table_args__ = (UniqueConstraint("user_id", "blocked_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    blocked_id: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoffeeRun(Base):
    """One pairing run, unique per scheduled time: inserting the row claims the run (exactly once)."""

    __tablename__ = "coffee_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(unique=True)
    # "schedule" (the job or the catch-up at start) or "command" (!kaffee jetzt).
    trigger: Mapped[str] = mapped_column(String(10))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    started_by: Mapped[str | None] = mapped_column(String(255))
    groups: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoffeeGroup(Base):
    """A pair or a trio of one run, with its intro chat. ``status``: open → asked → closed."""

    __tablename__ = "coffee_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("coffee_runs.id", ondelete="CASCADE"), index=True)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    room_id: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[str] = mapped_column(String(10), default="open")
    # When the introduction was queued (with the outbox row, so exactly once; None: still to do at start).
    introduced_at: Mapped[datetime | None] = mapped_column()
    follow_up_at: Mapped[datetime] = mapped_column()
    asked_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoffeeAnswer(Base):
    """A member's answer to "Habt ihr euch getroffen?": yes | no | later (the last one counts)."""

    __tablename__ = "coffee_answers"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("coffee_groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
