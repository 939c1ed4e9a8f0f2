"""The bingo feature's declaration: limits, reaction keys, job ids."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import section
from bot.framework import CommandError, Feature

from .config import BingoConfig
from .game import (
    BingoError,
)

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from bot.app import App

feature = Feature(
    "bingo",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="bingo_title",
    order=40,
    settings=BingoConfig,
)


def bingo_settings(app: App) -> BingoConfig:
    """The ``[bingo]`` section of the configuration."""
    return section(app.settings, "bingo", BingoConfig)


MAX_GAME_DURATION = timedelta(hours=48)
MAX_LISTED_PLAYERS = 20
# 👍 and 👎 with every skin tone: Element offers them in its quick-reaction bar.
CONFIRM_KEYS = ("✅", "✔️", "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿")
REFUSE_KEYS = ("❌", "👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿")
# What an erased member's ID becomes in other people's claims and in games they started.
ERASED = ""

SIZE = re.compile(r"(\d{1,2})(?:[x×](\d{1,2}))?", re.IGNORECASE)
USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[a-zA-Z0-9.\-]+(:\d+)?")


def command_error(error: BingoError) -> CommandError:
    """A game-logic error as a reply (the router escapes its parameters)."""
    params: dict[str, Any] = dict(error.params)
    return CommandError(error.key, **params)


def end_job_id(game_id: int) -> str:
    return f"bingo-end:{game_id}"


def claim_job_id(claim_id: int) -> str:
    return f"bingo-claim:{claim_id}"
