"""The stored status values of the networking feature's rows."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """A ``!partner`` request: waiting until matched, cancelled or expired."""

    WAITING = "waiting"
    MATCHED = "matched"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BlockStatus(StrEnum):
    """A block of speed-dating rounds in a room, between ``!runde öffnen`` and ``!runde ende``."""

    OPEN = "open"
    CLOSED = "closed"


class ParticipantStatus(StrEnum):
    JOINED = "joined"
    PAUSED = "paused"


class RoundStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"
