"""Tables of the sessions feature: barcamp events, their program, session rounds, sessions, hosts, sign-ups.

Job state lives here: a session's reminder and a slot's start announcement each carry the time they are due
and the time they were sent, so a job checks and flips its row in one transaction and never acts twice.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class SessionEvent(Base):
    """A barcamp day in one community room. Status: draft → open (proposals) → published → over."""

    __tablename__ = "session_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    proposals_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # The Matrix space session rooms are created in (create_rooms), if any.
    space_id: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program_items: Mapped[list[ProgramItem]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )
    slots: Mapped[list[SessionSlot]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


class ProgramItem(Base):
    """A fixed point of the day ("09:30 Begrüßung")."""

    __tablename__ = "session_program_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    at: Mapped[time] = mapped_column(Time)
    label: Mapped[str] = mapped_column(String(200))

    event: Mapped[SessionEvent] = relationship(back_populates="program_items")


class SessionSlot(Base):
    """A session round ("Sessionrunde 1", 11:15–12:00); ``number`` counts the rounds of one event from 1."""

    __tablename__ = "session_slots"
    __table_args__ = (UniqueConstraint("event_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    announce_due_at: Mapped[datetime | None] = mapped_column()
    announced_at: Mapped[datetime | None] = mapped_column()

    event: Mapped[SessionEvent] = relationship(back_populates="slots")


class BarcampSession(Base):
    """A session proposed by its host(s); scheduled into a slot; status proposed / scheduled / cancelled."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_status_reminder", "status", "reminder_due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(Integer)
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_slots.id", ondelete="SET NULL"), index=True
    )
    location: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    # The Matrix room created for the session ([sessions] create_rooms).
    matrix_room_id: Mapped[str | None] = mapped_column(String(255))
    reminder_due_at: Mapped[datetime | None] = mapped_column()
    reminder_sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    hosts: Mapped[list[SessionHost]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class SessionHost(Base):
    __tablename__ = "session_hosts"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[BarcampSession] = relationship(back_populates="hosts")


class SessionSignup(Base):
    """A member's sign-up: confirmed, or wait-listed with a position (1 = next in line)."""

    __tablename__ = "session_signups"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(12))
    position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- results and repeats (issue 16, "during the day") -----------------------------------------------------


class SessionResult(Base):
    """One entry of a session's results: a key point or a link (kind), in the order they came in."""

    __tablename__ = "session_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500))
    author_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SessionResultRequest(Base):
    """The host was asked for results at the session's end (one row per session: asked once)."""

    __tablename__ = "session_result_requests"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionRepeat(Base):
    """The offer to repeat a crowded session (once per session) and, once accepted, its repeat."""

    __tablename__ = "session_repeats"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "accepted" or "declined" once the host answered; None while the offer is open.
    answer: Mapped[str | None] = mapped_column(String(12))
    repeat_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )


# --- interest, polls, locations, host availability, plan previews (issue 16) --------------------------------


class SessionInterest(Base):
    """A member's interest in a proposal, by source: ``reaction`` (👍/⭐ on its announcement), ``command``
    (``!interesse``) or ``poll`` (an answer in a poll). Interested = at least one row; removing a reaction
    removes only the reaction's row."""

    __tablename__ = "session_interest"
    __table_args__ = (UniqueConstraint("session_id", "user_id", "source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    source: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionPoll(Base):
    """A native Matrix poll (MSC3381) over an event's proposals; its answers map answer ids to sessions."""

    __tablename__ = "session_polls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionPollAnswer(Base):
    __tablename__ = "session_poll_answers"
    poll_id: Mapped[int] = mapped_column(ForeignKey("session_polls.id", ondelete="CASCADE"), primary_key=True)
    answer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)


class SessionPollVote(Base):
    """A member's latest response to a poll (a later response replaces it, as MSC3381 says)."""

    __tablename__ = "session_poll_votes"
    poll_id: Mapped[int] = mapped_column(ForeignKey("session_polls.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The response's origin_server_ts (ms precision): a later response replaces this one.
    answered_at: Mapped[datetime] = mapped_column()


class SessionLocation(Base):
    """A place sessions can take place in (a room, or a virtual room's link), with its seats."""

    __tablename__ = "session_locations"
    __table_args__ = (UniqueConstraint("event_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(String(500))


class SessionUnavailable(Base):
    """A session's hosts cannot make this time slot (``!session verhindert``)."""

    __tablename__ = "session_unavailable"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("session_slots.id", ondelete="CASCADE"), primary_key=True)


class SessionPlacement(Base):
    """Where the applied plan put a session (its location), so that a re-plan knows the current plan."""

    __tablename__ = "session_placements"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("session_locations.id", ondelete="CASCADE"), index=True
    )


class SessionPlanPreview(Base):
    """The last plan shown to a moderator: applied by ``planen … übernehmen`` if the data is unchanged."""

    __tablename__ = "session_plan_previews"
    event_id: Mapped[int] = mapped_column(
        ForeignKey("session_events.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    # JSON: [[session id, slot id, location id], …]
    placements: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionSuggestion(Base):
    """A member's personal suggestion after a plan was applied; one reaction on its DM signs up for all."""

    __tablename__ = "session_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    # The suggested sessions, comma-separated, in time slot order.
    session_ids: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
