"""The ``[sessions]`` section of the configuration."""

from __future__ import annotations

from pydantic import Field

from bot.config import Section


class SessionsConfig(Section):
    # Direct-message reminder to everyone confirmed (and the hosts) this long before a session starts.
    reminder_minutes: int = Field(default=15, ge=0)
    # The same lead time in seconds; overrides reminder_minutes when set (fine-tuning and tests).
    reminder_lead_seconds: int | None = Field(default=None, ge=0)
    # Create a Matrix room per scheduled session and invite hosts and confirmed participants.
    create_rooms: bool = False
    # Seats of a new session when the proposal names none (None: no limit until a moderator sets one).
    default_capacity: int | None = Field(default=None, ge=1)
    # Lines per agenda message before it is split into pages.
    agenda_page_lines: int = Field(default=40, ge=10, le=200)
    # Offer the host (once) to repeat a session in a later time slot when its wait list reaches this share
    # of its capacity.
    repeat_offer_waitlist_share: float = Field(default=0.5, gt=0, le=10)
    # Seconds the barcamp planner (``!veranstaltung planen``) may search before it takes the best plan found.
    plan_time_limit_seconds: float = Field(default=10.0, gt=0, le=600)
    # Re-planning: moving an already scheduled session costs as much as this many interest conflicts.
    plan_move_weight: int = Field(default=5, ge=0)
