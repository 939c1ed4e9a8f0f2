"""Moderator commands: ``!digest vorschau`` (to the direct chat) and ``!digest jetzt``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.context import CommandContext
from bot.framework import Arg, CommandError, Permission, Text, fold
from commands.digest.compose import (
    month_name,
    previous_month,
)
from commands.digest.timing import next_run, parse_month

if TYPE_CHECKING:
    from bot.app import App
from .feature import CONFIRM_WORDS, app_now, digest_settings, feature
from .publishing import publish_digest, render_digest, room_language, upload_files

CONFIRM_FOLDED = frozenset(fold(word) for key, words in CONFIRM_WORDS.items() for word in (key, *words))

# --- moderator commands -------------------------------------------------------------------------------------

digest_group = feature.group(de="digest", en="digest", help="digest_group", permission=Permission.MODERATOR)


def require_network_admin(ctx: CommandContext) -> None:
    """A network-wide digest (``[digest] scope = "network"``) shows and posts every room's news: only the
    bot's operators (``[bot] admins``) may; a room's moderators act on their room's things only."""
    if digest_settings(ctx.app).scope == "network" and not ctx.is_admin:
        raise CommandError("digest_error_network_admins")


def default_preview_month(app: App, now: datetime) -> date:
    """The month the next scheduled digest will review."""
    tz = app.settings.bot.tz
    upcoming = next_run(digest_settings(app).schedule, tz, now)
    if upcoming is None:
        return now.astimezone(tz).date().replace(day=1)
    return previous_month(upcoming.astimezone(tz).date())


@digest_group.subcommand(
    de="vorschau", en="preview", help="digest_preview",
    args=[Arg("month", Text(max_length=40, allow_empty=True), required=False)],
)  # fmt: skip
async def preview_digest(ctx: CommandContext, month: str | None = None) -> None:
    require_network_admin(ctx)
    app = ctx.app
    now = app_now(ctx)
    if month:
        chosen = parse_month(month, now.date())
        if chosen is None:
            raise CommandError("digest_error_month", value=month, show_usage=True)
    else:
        chosen = default_preview_month(app, now)
    room_id = None if ctx.is_direct else ctx.room_id
    language = await room_language(app, room_id) if room_id else ctx.language
    digest = await render_digest(app, chosen, room_id=room_id, language=language)
    direct_room = await app.matrix.direct_room(ctx.sender)
    intro = ctx.t("digest_preview_intro", month=month_name(chosen, ctx.t))
    await app.sender.send(intro, room_id=direct_room)
    await app.sender.send(digest.markdown, room_id=direct_room)
    files = await upload_files(app, direct_room, digest)
    for content in files:
        await app.sender.enqueue(content, room_id=direct_room)
    if not ctx.is_direct:
        await ctx.answer("digest_preview_sent", month=month_name(chosen, ctx.t))


@digest_group.subcommand(
    de="jetzt", en="now", help="digest_now",
    args=[Arg("rest", Text(max_length=60, allow_empty=True), required=False)],
)  # fmt: skip
async def post_digest_now(ctx: CommandContext, rest: str | None = None) -> None:
    """``!digest jetzt [Monat] [bestätigen]``: without a month the last complete one."""
    require_network_admin(ctx)
    if ctx.is_direct:
        raise CommandError("digest_error_direct")
    words = (rest or "").split()
    confirm = bool(words) and fold(words[-1]) in CONFIRM_FOLDED
    if confirm:
        words.pop()
    today = app_now(ctx).date()
    month = parse_month(" ".join(words), today) if words else previous_month(today)
    if month is None:
        raise CommandError("digest_error_month", value=" ".join(words), show_usage=True)
    result = await publish_digest(
        ctx.app, ctx.room_id, month, trigger="command", posted_by=ctx.sender, force=confirm
    )
    label = month_name(month, ctx.t)
    if result == "already":
        # What to type to post it again: the month as typed (none for the default one), then the word.
        again = " ".join([ctx.app.router.usage_name(post_digest_now, ctx.language), *words])
        again += " confirm" if ctx.language == "en" else " bestätigen"
        await ctx.answer("digest_now_confirm", month=label, again=again)
    else:
        await ctx.answer("digest_now_posted", month=label)
