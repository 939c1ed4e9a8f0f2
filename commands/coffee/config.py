"""The ``[coffee]`` section of the configuration."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from bot.config import RoomIds, Section


class CoffeeConfig(Section):
    # When a run may happen, in the bot's time zone: "minute hour day month day_of_week" (optionally with
    # seconds first), the digest's cron dialect. Only weeks that `every_weeks` selects actually run.
    schedule: str = "0 9 * * mon"
    # Run every n-th week, counted from the week of `anchor` (cron alone cannot say "every second week").
    every_weeks: int = Field(default=2, ge=1, le=8)
    # A day in the first week of the count (any weekday; its week is week 0).
    anchor: date = date(2026, 1, 5)
    # Rooms (IDs) whose members may take part; empty: every room the bot is in.
    rooms: RoomIds = Field(default_factory=list)
    # When the people of a pair or trio are asked "Habt ihr euch getroffen?".
    follow_up_days: int = Field(default=7, ge=1)
    # Overrides follow_up_days with seconds (demos and tests).
    follow_up_seconds: int | None = Field(default=None, ge=1)
    # The bot leaves a pair's chat this many days after the follow-up, if not everyone answered before.
    close_days: int = Field(default=7, ge=1)
    # Overrides close_days with seconds (demos and tests).
    close_seconds: int | None = Field(default=None, ge=1)
    # A group where someone answered "noch nicht" (⏳) is asked once more this many days after that answer
    # (only if that is before the group closes).
    ask_again_days: int = Field(default=3, ge=1)
    # Overrides ask_again_days with seconds (demos and tests).
    ask_again_seconds: int | None = Field(default=None, ge=1)
    # A missed run (the bot was down) is caught up at start only if it is at most this many days late.
    catch_up_days: int = Field(default=3, ge=0)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from commands.digest.timing import cron_fields

        cron_fields(value)
        return value

    @property
    def follow_up_after_seconds(self) -> int:
        return self.follow_up_seconds or self.follow_up_days * 86400

    @property
    def ask_again_after_seconds(self) -> int:
        return self.ask_again_seconds or self.ask_again_days * 86400

    @property
    def close_after_seconds(self) -> int:
        return self.close_seconds or self.close_days * 86400
