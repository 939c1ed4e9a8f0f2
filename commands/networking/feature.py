"""The networking feature's declaration: limits, job ids, conversation starters, shared wording."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import section
from bot.framework import Feature
from bot.i18n import Translate
from commands.networking.config import NetworkingConfig
from commands.networking.logic import (
    load_starters,
)

if TYPE_CHECKING:
    from bot.app import App


log = logging.getLogger(__name__)

feature = Feature(
    "networking",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="networking_title",
    order=40,
    settings=NetworkingConfig,
)


def networking_settings(app: App) -> NetworkingConfig:
    """The ``[networking]`` section of the configuration."""
    return section(app.settings, "networking", NetworkingConfig)


BLOCK_KIND = "networking_block"
# 🙋 and its gendered variants (the router strips variation selectors before matching).
JOIN_KEYS = ("🙋", "🙋\u200d♀️", "🙋\u200d♂️", "🙋🏻", "🙋🏼", "🙋🏽", "🙋🏾", "🙋🏿")
MAX_CONTACTS_SHOWN = 200
# Rooms are created a few at a time: many at once would hit the homeserver's rate limits.
ROOM_CREATION_PARALLEL = 4


def warn_job(round_id: int) -> str:
    return f"networking:warn:{round_id}"


def end_job(round_id: int) -> str:
    return f"networking:end:{round_id}"


def request_job(request_id: int) -> str:
    return f"networking:request:{request_id}"


@lru_cache(maxsize=4)
def _starters(path: str | None) -> dict[str, list[str]]:
    return load_starters(Path(path) if path else None)


def starters(app: App) -> dict[str, list[str]]:
    configured = networking_settings(app).conversation_starters_file
    return _starters(str(configured) if configured else None)


def plural(t: Translate, key: str, count: int) -> str:
    return t(f"{key}_one" if count == 1 else f"{key}_other", count=count)


def describe_wait(t: Translate, seconds: int) -> str:
    if seconds % 60 == 0:
        return plural(t, "networking_minutes", seconds // 60)
    return plural(t, "networking_seconds", seconds)
