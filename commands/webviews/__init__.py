"""Web views of the sessions feature (issue 17): a member's calendar subscription (``!kalender abonnieren``,
``!kalender link neu``, served at ``/cal/<token>.ics``) and an event's live agenda page (``/e/<token>``) that
``!veranstaltung widget`` adds to the room as a Matrix widget.

The commands are subcommands of the sessions feature's ``!kalender`` and ``!veranstaltung``; they are
attached here (the framework lets any module add subcommands to a command), found by their German name so
that this package does not depend on how the sessions package is split into modules.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import delete, select, update

import commands.sessions as sessions
from bot.context import CommandContext
from bot.framework import Arg, Choice, Command, CommandError, Feature
from bot.web import add_routes, not_found
from bot.web.ratelimit import client_address, too_many
from storage.models import OutboxMessage
from storage.webviews import AgendaPage, CalendarFeed

from .feed import build_feed
from .tokens import new_token, token_hash, well_formed

if TYPE_CHECKING:
    from bot.app import App

feature = Feature("webviews", messages=Path(__file__).with_name("messages.toml"), order=31)

MINE, ALL = "mine", "all"
# Messages that carry a calendar link: once sent, the token is cut out of the outbox table (only hashes stay).
LINK_KIND = "webviews-link"
TOKEN_IN_LINK = re.compile(r"(/cal/)[A-Za-z0-9_-]{22,64}(\.ics)")
SCRUB_POLL_SECONDS = 2.0
SCRUB_MAX_WAIT_SECONDS = 900.0
SCOPES = Choice({MINE: ("meine", "mein", "my", "mine"), ALL: ("alle", "alles", "everything")})


def sessions_command(de: str) -> Command:
    """A command of the sessions feature by its German name."""
    for command in sessions.feature.commands:
        if command.de == de:
            return command
    raise LookupError(f"the sessions feature has no command {de!r}")


calendar_command = sessions_command("kalender")


def feed_links(app: App, token: str) -> tuple[str, str]:
    """(https link, webcal link) of a feed token, built on ``[web] public_url``."""
    link = f"{app.settings.web.public_url}/cal/{token}.ics"
    return link, "webcal://" + link.split("://", 1)[1]


async def _send_link(ctx: CommandContext, token: str, scope: str, key: str) -> None:
    link, webcal = feed_links(ctx.app, token)
    scope_text = ctx.t("webviews_scope_all" if scope == ALL else "webviews_scope_mine")
    await ctx.direct(
        ctx.t(key, p=ctx.prefix, link=link, webcal=webcal, scope=scope_text), track=(LINK_KIND, None)
    )
    ctx.app.in_background(_scrub_when_sent(ctx.app), name="webviews: scrub sent links")
    if not ctx.is_direct:
        await ctx.answer("webviews_link_sent_direct")


@calendar_command.subcommand(
    de="abonnieren",
    en="subscribe",
    aliases=("abo", "abonnement"),
    help="webviews_subscribe",
    args=[Arg("scope", SCOPES, required=False, default=MINE)],
)
async def subscribe(ctx: CommandContext, scope: str) -> None:
    async with ctx.app.db.session() as db:
        feed = await db.scalar(select(CalendarFeed).where(CalendarFeed.user_id == ctx.sender))
        if feed is not None:
            feed.scope = scope
        else:
            token = new_token()
            db.add(CalendarFeed(user_id=ctx.sender, token_hash=token_hash(token), scope=scope))
    if feed is not None:
        # Only the hash is stored: the link cannot be shown again, only replaced.
        scope_text = ctx.t("webviews_scope_all" if scope == ALL else "webviews_scope_mine")
        await ctx.answer("webviews_subscribe_exists", scope=scope_text)
        return
    await _send_link(ctx, token, scope, "webviews_subscribe_link")


@calendar_command.subcommand(
    de="link",
    en="link",
    help="webviews_renew",
    args=[Arg("action", Choice({"new": ("neu", "erneuern", "renew")}))],
)
async def renew(ctx: CommandContext, action: str) -> None:
    token = new_token()
    async with ctx.app.db.session() as db:
        feed = await db.scalar(select(CalendarFeed).where(CalendarFeed.user_id == ctx.sender))
        if feed is None:
            raise CommandError("webviews_error_no_link")
        scope = feed.scope
        # The old link stops working in the same transaction that creates the new one.
        await db.execute(
            update(CalendarFeed).where(CalendarFeed.id == feed.id).values(token_hash=token_hash(token))
        )
    await _send_link(ctx, token, scope, "webviews_renew_link")


async def scrub_sent_links(app: App) -> int:
    """Cut the token out of sent messages that carried a calendar link; returns how many were changed."""
    changed = 0
    async with app.db.session() as db:
        rows = await db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.track_kind == LINK_KIND, OutboxMessage.sent_at.is_not(None)
            )
        )
        for row in rows.all():
            text = json.dumps(row.content)
            scrubbed = TOKEN_IN_LINK.sub(r"\1[removed]\2", text)
            if scrubbed != text:
                row.content = json.loads(scrubbed)
                changed += 1
    return changed


async def _scrub_when_sent(app: App) -> None:
    waited = 0.0
    while waited < SCRUB_MAX_WAIT_SECONDS:
        await asyncio.sleep(SCRUB_POLL_SECONDS)
        waited += SCRUB_POLL_SECONDS
        async with app.db.session() as db:
            pending = await db.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.track_kind == LINK_KIND,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed_at.is_(None),
                )
            )
        if pending is None:
            break
    await scrub_sent_links(app)


@feature.on_start
async def scrub_at_start(app: App) -> None:
    await scrub_sent_links(app)


# --- HTTP -------------------------------------------------------------------------------------------------


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def lookup(app: App, request: web.Request, model: Any, token: str) -> Any:
    """The row of a token, or None (and one miss for the client's address)."""
    row = None
    if well_formed(token):
        async with app.db.session() as db:
            row = await db.scalar(select(model).where(model.token_hash == token_hash(token)))
    if row is None:
        app.web.misses.miss(client_address(request))
    return row


async def serve_feed(app: App, request: web.Request) -> web.StreamResponse:
    if app.web.misses.blocked(client_address(request)):
        return too_many()
    feed = await lookup(app, request, CalendarFeed, request.match_info["token"])
    if feed is None:
        return not_found()
    body = await build_feed(app, feed)
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body,
        headers={
            **headers,
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'inline; filename="sessions.ics"',
        },
    )


@add_routes
def routes(app: App, application: web.Application) -> None:
    application.router.add_get("/cal/{token}.ics", partial(serve_feed, app))


# --- privacy ----------------------------------------------------------------------------------------------


@feature.privacy_export
async def export_links(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as db:
        feed = await db.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user_id))
        pages = (await db.scalars(select(AgendaPage.event_id).where(AgendaPage.created_by == user_id))).all()
    return {
        "calendar_feed": (
            {"scope": feed.scope, "created_at": feed.created_at.isoformat(), "link": "(stored as a hash)"}
            if feed is not None
            else None
        ),
        "agenda_pages_created": [{"event_id": event_id} for event_id in pages],
    }


@feature.privacy_erase
async def erase_links(app: App, user_id: str) -> int:
    """The calendar link stops working; agenda pages stay (they belong to the event) without the creator."""
    async with app.db.session() as db:
        result = await db.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
        await db.execute(update(AgendaPage).where(AgendaPage.created_by == user_id).values(created_by=""))
    return int(getattr(result, "rowcount", 0) or 0)


# The widget command and the agenda page (they use lookup() and sessions_command() above).
from . import widget  # noqa: E402, F401
