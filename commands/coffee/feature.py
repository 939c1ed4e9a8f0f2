"""The NExT-Kaffee feature's declaration: its settings section, job ids, reaction keys."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import section
from bot.framework import Feature
from commands.coffee.config import CoffeeConfig

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

feature = Feature(
    "coffee",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="coffee_title",
    order=45,
    settings=CoffeeConfig,
)


def coffee_settings(app: App) -> CoffeeConfig:
    """The ``[coffee]`` section of the configuration."""
    return section(app.settings, "coffee", CoffeeConfig)


RUN_JOB_ID = "coffee:run"
FOLLOW_UP_KIND = "coffee_follow_up"
YES_KEYS = ("👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿")
NO_KEYS = ("👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿")
LATER_KEYS = ("⏳",)
# Rooms are created a few at a time: many at once would hit the homeserver's rate limits.
ROOM_CREATION_PARALLEL = 4


def follow_up_job(group_id: int) -> str:
    return f"coffee:follow_up:{group_id}"


def ask_again_job(group_id: int) -> str:
    return f"coffee:ask_again:{group_id}"
