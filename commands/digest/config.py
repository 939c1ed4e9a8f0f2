"""The ``[digest]`` section of the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.config import RoomIds, Section


class DigestConfig(Section):
    # When the monthly digest is posted, in the bot's time zone: "minute hour day month day_of_week"
    # (optionally with a seconds field first). All fields must match (APScheduler semantics, not Vixie
    # cron's "day OR weekday"): the default "0 9 1-7 * mon" is the first Monday of the month at 09:00.
    # Numeric weekdays count like crontab (0/7 = Sunday); "1st_mon" / "last_fri" work in the day field.
    schedule: str = "0 9 1-7 * mon"
    # Rooms the digest is posted to (room IDs); empty: no scheduled digest.
    rooms: RoomIds = Field(default_factory=list)
    # "room": each room gets the digest of that room; "network": every room gets the network-wide digest.
    scope: Literal["room", "network"] = "network"
    # News one member may have waiting for approval at a time.
    max_pending_news_per_member: int = Field(default=5, ge=1)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from commands.digest.timing import cron_fields

        cron_fields(value)
        return value
