"""Tables of the web views (issue 17): members' calendar feed links, agenda page links, and the version of
each session as calendar apps saw it. Tokens are stored only as their SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class CalendarFeed(Base):
    """A member's personal calendar subscription (one active link per member; a new one replaces it)."""

    __tablename__ = "calendar_feeds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "mine": sessions signed up for, wait-listed, hosted; "all": also the program of events in my rooms.
    scope: Mapped[str] = mapped_column(String(8), default="mine")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarEntryVersion(Base):
    """What a session looked like in the last feed: SEQUENCE and LAST-MODIFIED change when it moves."""

    __tablename__ = "calendar_entry_versions"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgendaPage(Base):
    """The public live agenda page of a published event (``/e/<token>``), e.g. shown as a room widget."""

    __tablename__ = "agenda_pages"
    event_id: Mapped[int] = mapped_column(
        ForeignKey("session_events.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
