"""The digest feature's declaration: limits, job ids, its settings section."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import section
from bot.context import CommandContext
from bot.framework import Feature
from commands.digest.config import DigestConfig

if TYPE_CHECKING:
    from bot.app import App


log = logging.getLogger(__name__)

feature = Feature(
    "digest",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="digest_feature_title",
    order=60,
    settings=DigestConfig,
)


def digest_settings(app: App) -> DigestConfig:
    """The ``[digest]`` section of the configuration."""
    return section(app.settings, "digest", DigestConfig)


JOB_ID = "digest:monthly"
RETRY_JOB_ID = "digest:retry"
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 6
MAX_NEWS_TEXT = 1000
LIST_LIMIT = 30
# Written by the migration digest_0002 into bot_state for a fresh installation.
INSTALLED_KEY = "digest.installed_at"
CONFIRM_WORDS = {"bestätigen": ("bestaetigen", "confirm", "ja", "yes")}


def app_now(ctx: CommandContext) -> datetime:
    """When the command arrived, in the bot's time zone (months are counted there, not per member)."""
    return ctx.received_at.astimezone(ctx.app.settings.bot.tz)
