"""Prompt pools: the built-in one, a configured file, a room's own (uploaded with ``!bingo fragen``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.bingo import BingoPromptPool

from .feature import bingo_settings
from .game import (
    BingoError,
    Prompt,
    combine_prompts,
    default_prompts,
    load_prompts,
)

if TYPE_CHECKING:
    from bot.app import App
from .feature import log

# ------------------------------------------------------------------------------------------- prompt pools


@functools.lru_cache(maxsize=1)
def _default_pool() -> tuple[Prompt, ...]:
    return tuple(default_prompts())


@functools.lru_cache(maxsize=4)
def _file_pool(path: str, mtime: float) -> tuple[Prompt, ...]:
    return tuple(load_prompts(path))


def configured_pool(app: App) -> list[Prompt]:
    """The bot's pool: the shipped prompts, replaced or extended by ``[bingo] prompts_file``."""
    config = bingo_settings(app)
    if config.prompts_file is None:
        return list(_default_pool())
    try:
        mtime = config.prompts_file.stat().st_mtime
        extra = _file_pool(str(config.prompts_file), mtime)
    except (OSError, BingoError) as error:
        log.error(
            "bingo prompts_file %s is unusable (%s); using the default pool", config.prompts_file, error
        )
        return list(_default_pool())
    if config.prompts_mode == "replace":
        return list(extra)
    return combine_prompts(_default_pool(), extra)


def prompts_to_data(prompts: Iterable[Prompt]) -> list[dict[str, Any]]:
    return [{"de": prompt.de, "en": prompt.en} for prompt in prompts]


def prompts_from_data(data: Iterable[dict[str, Any]]) -> list[Prompt]:
    return [Prompt(de=str(item["de"]), en=item.get("en") or None) for item in data]


async def room_pool(session: AsyncSession, app: App, room_id: str) -> list[Prompt]:
    """The pool a new game in this room draws from: the one a moderator loaded, else the bot's."""
    loaded = await session.get(BingoPromptPool, room_id)
    if loaded is not None:
        return prompts_from_data(loaded.prompts)
    return configured_pool(app)
