"""Moderator commands: ``!digest vorschau`` (to the direct chat) and ``!digest jetzt``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.context import CommandContext
from bot.framework import Arg, Choice, CommandError, Permission, Text
from commands.digest.compose import (
    month_name,
    previous_month,
)
from commands.digest.timing import next_run, parse_month

if TYPE_CHECKING:
    from bot.app import App
from .feature import CONFIRM_WORDS, app_now, digest_settings, feature
from .publishing import publish_digest, render_digest, room_language, upload_files

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
    args=[Arg("confirm", Choice(CONFIRM_WORDS), required=False)],
)  # fmt: skip
async def post_digest_now(ctx: CommandContext, confirm: str | None = None) -> None:
    require_network_admin(ctx)
    if ctx.is_direct:
        raise CommandError("digest_error_direct")
    month = previous_month(app_now(ctx).date())
    result = await publish_digest(
        ctx.app, ctx.room_id, month, trigger="command", posted_by=ctx.sender, force=confirm is not None
    )
    label = month_name(month, ctx.t)
    if result == "already":
        await ctx.answer("digest_now_confirm", month=label)
    else:
        await ctx.answer("digest_now_posted", month=label)
