"""Tables of the monthly digest: member news waiting for approval, and the digests that were posted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class DigestNews(Base):
    """A member's news item (``!neuigkeit``). Status: pending → approved | rejected (by a moderator)."""

    __tablename__ = "digest_news"
    __table_args__ = (Index("ix_digest_news_status_decided", "status", "decided_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[str] = mapped_column(String(255), index=True)
    # Where it was submitted: a room-scoped digest shows the news of its room.
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    # When it was approved or rejected; an approved item appears in the digest of that month.
    decided_at: Mapped[datetime | None] = mapped_column()
    edited_by: Mapped[str | None] = mapped_column(String(255))
    edited_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestPost(Base):
    """A digest posted to a room, unique per (reviewed month, room): the claim for exactly-once posting.

    The row, the message and its two file attachments are written to the outbox in one transaction."""

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("month", "room_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # First day of the reviewed month (the digest posted in early December reviews November).
    month: Mapped[date] = mapped_column(Date)
    room_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    # "schedule" (the monthly job or the catch-up at start) or "command" (!digest jetzt).
    trigger: Mapped[str] = mapped_column(String(10))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_by: Mapped[str | None] = mapped_column(String(255))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Confirmed extra posts of the same month (!digest jetzt bestätigen).
    reposts: Mapped[int] = mapped_column(Integer, default=0)
