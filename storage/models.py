"""Tables of the foundation: bot state, members and profiles, reminders, message bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class BotState(Base):
    """Small key/value facts about the bot itself (the sync token)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Member(Base):
    """A person the bot has dealt with, with their preferences and networking profile."""

    __tablename__ = "members"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(20))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoomSetting(Base):
    __tablename__ = "room_settings"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    joined_at: Mapped[datetime | None] = mapped_column()
    # A direct chat with one member (created by the bot, or an invite marked is_direct).
    direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A room the bot created for particular people: left after this time (bot/housekeeping.py).
    leave_after: Mapped[datetime | None] = mapped_column()


class RoomMembership(Base):
    """When a member joined a room the bot is in (for the digest's "new members")."""

    __tablename__ = "room_memberships"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    joined_at: Mapped[datetime] = mapped_column()


class DirectRoom(Base):
    __tablename__ = "direct_rooms"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    # The member rejected or left the bot's direct chat: their direct messages wait until they open one.
    refused_at: Mapped[datetime | None] = mapped_column()


class ProcessedEvent(Base):
    """Events the bot has acted on: a command is never handled twice, whatever the sync token says."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The command was refused as typed (unknown name, wrong arguments): an edit of it may run once.
    failed: Mapped[bool] = mapped_column(default=False, server_default=false())


class OutboxMessage(Base):
    """A message to send. Written before sending, so a reply survives a homeserver outage or a crash."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str | None] = mapped_column(String(255))
    # Direct messages are addressed to a user; the room is found or created when sending.
    to_user: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the sent message is, so reactions to it can be routed back to a feature.
    track_kind: Mapped[str | None] = mapped_column(String(64))
    track_ref: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_event_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    # The Matrix transaction id, fixed before the first attempt: a retry (after a crash, too) cannot post the
    # message twice, and a reply can be sent while its row is still being written. None: "cb<id>" (old rows).
    txn_id: Mapped[str | None] = mapped_column(String(64))
    # Refused by the homeserver for good (too large, forbidden, unknown room) or given up after many attempts:
    # not retried unless an operator asks (`community-bot outbox retry`).
    failed_at: Mapped[datetime | None] = mapped_column()


class BotMessage(Base):
    """A message the bot sent that members can react to."""

    __tablename__ = "bot_messages"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reaction(Base):
    """Reactions to bot messages, kept so that a later redaction (reaction removed) can be understood."""

    __tablename__ = "reactions"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    target_event_id: Mapped[str] = mapped_column(ForeignKey("bot_messages.event_id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255), index=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    # "member": the owner (and subscribers) are reminded in the room; "room": a moderator's room reminder.
    target: Mapped[str] = mapped_column(String(10), default="member")
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="de")
    timezone: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column()
    recurrence: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # scheduled → sent | missed | cancelled (recurring ones stay scheduled until cancelled)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    last_fired_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    subscribers: Mapped[list[ReminderSubscriber]] = relationship(
        back_populates="reminder", cascade="all, delete-orphan", lazy="selectin"
    )


class ReminderSubscriber(Base):
    __tablename__ = "reminder_subscribers"
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reminder: Mapped[Reminder] = relationship(back_populates="subscribers")
