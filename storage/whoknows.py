"""Tables of "who knows about …?" (issue 18 §2): who is findable, moderators' synonyms, the result lists of
searches (numbered, for ``!vorstellen``) and introduction requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class Findable(Base):
    """A member who chose to be found by ``!wer-kennt`` (no row: not findable, the default)."""

    __tablename__ = "whoknows_findable"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class Synonym(Base):
    """Two words that mean the same, added by a moderator (the shipped ones live in synonyms.toml)."""

    __tablename__ = "whoknows_synonyms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    word: Mapped[str] = mapped_column(String(100))
    other: Mapped[str] = mapped_column(String(100))
    # Who added it; cleared when they erase their data (the synonym itself is not personal).
    added_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Search(Base):
    """One ``!wer-kennt``: the numbered result list (user ids in order) and the time, for the rate limit."""

    __tablename__ = "whoknows_searches"
    __table_args__ = (Index("ix_whoknows_searches_user_created", "user_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(200))
    results: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntroductionRequest(Base):
    """``!vorstellen``: the asker wants to talk to the found person about a topic; they are asked first."""

    __tablename__ = "whoknows_requests"
    __table_args__ = (
        Index("ix_whoknows_requests_asker", "asker_id", "created_at"),
        Index("ix_whoknows_requests_target", "target_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asker_id: Mapped[str] = mapped_column(String(255))
    target_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(200))
    # The topic's matching key: "OZG-Leistung" and "OZG-Leistungen" are the same topic for "asked once".
    topic_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # commands.whoknows.status.RequestStatus
    asker_language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
