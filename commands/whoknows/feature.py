"""The whoknows feature's declaration: settings, job ids, the shipped synonyms."""

from __future__ import annotations

import logging
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import section
from bot.framework import Feature

from .config import WhoKnowsConfig
from .matching import shipped_pairs

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

feature = Feature(
    "whoknows",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="whoknows_title",
    order=45,
    settings=WhoKnowsConfig,
)

REQUEST_KIND = "whoknows_request"
YES_KEYS = ("👍", "✅", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "✔️")
NO_KEYS = ("👎", "❌", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿")


def whoknows_settings(app: App) -> WhoKnowsConfig:
    """The ``[whoknows]`` section of the configuration."""
    return section(app.settings, "whoknows", WhoKnowsConfig)


def request_job(request_id: int) -> str:
    return f"whoknows:request:{request_id}"


@lru_cache(maxsize=1)
def shipped_synonyms() -> tuple[tuple[str, str], ...]:
    with Path(__file__).with_name("synonyms.toml").open("rb") as handle:
        return tuple(shipped_pairs(tomllib.load(handle)))
