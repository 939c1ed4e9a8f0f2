"""The sessions feature's declaration: its commands' groups, limits and the helpers every handler uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import section
from bot.context import CommandContext
from bot.framework import (
    CommandError,
    Feature,
    Permission,
)
from bot.i18n import Translate

from .config import SessionsConfig
from .rules import (
    Problem,
    with_prefix,
)

if TYPE_CHECKING:
    from bot.app import App

feature = Feature(
    "sessions",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="sessions_title",
    order=30,
    settings=SessionsConfig,
)


def sessions_settings(app: App) -> SessionsConfig:
    """The ``[sessions]`` section of the configuration."""
    return section(app.settings, "sessions", SessionsConfig)


MAX_DESCRIPTION = 2000
MAX_THEME = 100
MAX_LOCATION = 500
MAX_IMPORT_PROBLEMS = 15
# 👍 is in Element's quick-reaction bar, so it signs up as well as ✅; skin tones arrive as keys of their own.
THUMBS_UP = ("👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿")
SIGNUP_KEYS = ("✅", "✔️", *THUMBS_UP)


def tr(ctx: CommandContext) -> Translate:
    return with_prefix(ctx.t, ctx.prefix)


def fail(problem: Problem) -> CommandError:
    """A pure-logic problem as a command error (the router escapes string parameters)."""
    params: dict[str, Any] = dict(problem.params)
    return CommandError(problem.key, **params)


# --- moderators: events -----------------------------------------------------------------------------------

event_group = feature.group(
    de="veranstaltung",
    en="event",
    aliases=("barcamp",),
    help="sessions_event",
    permission=Permission.MODERATOR,
)


SESSION_KIND = "session_announcement"
SLOT_KIND = "session_slot_announcement"
NUMBER_KEYS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
