"""Stored status values of NExT-Kaffee."""

from __future__ import annotations

from enum import StrEnum


class ParticipantStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class GroupStatus(StrEnum):
    OPEN = "open"  # intro sent, follow-up not yet asked
    ASKED = "asked"  # "Habt ihr euch getroffen?" sent
    REASKED = "reasked"  # asked once more after a "noch nicht" (ask_again_days later)
    CLOSED = "closed"  # answered by everyone or timed out; the bot left the chat


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    LATER = "later"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    COMMAND = "command"
