"""The stored status values of games and claims."""

from __future__ import annotations

from enum import StrEnum


class GameStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"


class ClaimStatus(StrEnum):
    """A request to confirm a field: pending until the named person decides or it expires."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    EXPIRED = "expired"
