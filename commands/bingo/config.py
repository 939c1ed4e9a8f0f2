"""The ``[bingo]`` section of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bot.config import Section


class BingoConfig(Section):
    # A TOML ([[prompt]] de/en) or text file (one German prompt a line) that replaces or extends the
    # default prompt pool, as prompts_mode says.
    prompts_file: Path | None = None
    prompts_mode: Literal["replace", "extend"] = "extend"
    # How long the named person has to confirm a field; fractions are allowed (tests use seconds).
    confirmation_minutes: float = Field(default=30, gt=0)
    # Card size of `!bingo start` without a size.
    default_size: int = Field(default=4, ge=3, le=5)
