"""The ``[networking]`` section of the configuration."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bot.config import Section


class NetworkingConfig(Section):
    # How long a !partner request waits for someone before the member is told nobody was found.
    wait_minutes: int = Field(default=10, ge=1)
    # Overrides wait_minutes when set (for tests and demos: a few seconds).
    wait_seconds: int | None = Field(default=None, ge=1)
    # True: every pair/group gets a new private room; false: a threaded intro in the community room.
    private_rooms: bool = True
    # Default length of a round (!runde start 5m overrides it for the block).
    round_minutes: int = Field(default=7, ge=1)
    # TOML with lists `de = [...]` and `en = [...]`, or a text file with one starter per line.
    conversation_starters_file: Path | None = None

    @property
    def wait_seconds_effective(self) -> int:
        return self.wait_seconds if self.wait_seconds is not None else self.wait_minutes * 60
