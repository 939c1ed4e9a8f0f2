"""``!veranstaltung widget <Nr.> [entfernen]``: the event's live agenda page as a Matrix widget beside the
room (``im.vector.modular.widgets`` state event, pinned to the top with ``io.element.widgets.layout``), and
the page's HTTP routes. Without the power level for room state the bot says which level it needs and sends
the page link instead."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from nio import RoomGetStateEventResponse, RoomPutStateResponse
from sqlalchemy import delete, select

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Int
from bot.web import CSP, add_routes, not_found
from bot.web.ratelimit import client_address, too_many
from commands.sessions.rules import EventStatus
from storage.sessions import SessionEvent
from storage.webviews import AgendaPage

from . import lookup, sessions_command
from .page import render_page
from .tokens import new_token, token_hash

if TYPE_CHECKING:
    from bot.app import App

WIDGET_TYPE = "im.vector.modular.widgets"
LAYOUT_TYPE = "io.element.widgets.layout"
STATIC = Path(__file__).with_name("static")
# The page may be framed (Element shows widgets in an iframe); everything else stays as strict as elsewhere.
PAGE_CSP = CSP.replace(
    "frame-ancestors 'none'", "frame-ancestors 'self' https: http://localhost:* http://127.0.0.1:*"
)

event_command = sessions_command("veranstaltung")


def widget_id(event_id: int) -> str:
    return f"community-bot-agenda-{event_id}"


def page_url(app: App, token: str) -> str:
    return f"{app.settings.web.public_url}/e/{token}"


async def _put_state(app: App, room_id: str, event_type: str, content: dict[str, Any], key: str) -> bool:
    response = await app.matrix.client.room_put_state(room_id, event_type, content, state_key=key)
    return isinstance(response, RoomPutStateResponse)


async def _pin(app: App, room_id: str, wid: str, *, pinned: bool) -> None:
    """Element's layout: the agenda at the top of the room (other widgets' places are kept)."""
    current = await app.matrix.client.room_get_state_event(room_id, LAYOUT_TYPE, "")
    content = dict(current.content) if isinstance(current, RoomGetStateEventResponse) else {}
    widgets = dict(content.get("widgets") or {})
    if pinned:
        widgets[wid] = {"container": "top", "index": 0, "width": 100, "height": 40}
    else:
        widgets.pop(wid, None)
    await _put_state(app, room_id, LAYOUT_TYPE, {**content, "widgets": widgets}, "")


def _levels(app: App, room_id: str) -> tuple[int, int]:
    """(level needed for the widget state event, the bot's level) in the room."""
    room = app.matrix.client.rooms.get(room_id)
    if room is None:
        return 50, 0
    levels = room.power_levels
    needed = int(levels.events.get(WIDGET_TYPE, levels.defaults.state_default))
    return needed, int(levels.get_user_level(app.matrix.user_id))


@event_command.subcommand(
    de="widget",
    en="widget",
    help="webviews_widget",
    args=[
        Arg("event_id", Int(minimum=1)),
        Arg(
            "action",
            Choice({"remove": ("entfernen", "löschen", "weg", "delete")}),
            required=False,
            default="",
        ),
    ],
)
async def widget(ctx: CommandContext, event_id: int, action: str) -> None:
    app, t = ctx.app, ctx.t
    async with app.db.session() as db:
        event = await db.get(SessionEvent, event_id)
        if event is None:
            raise CommandError("sessions_error_unknown_event", event_id=event_id)
        settings = app.settings.bot
        if not (ctx.sender in settings.admins or ctx.sender in settings.moderators) and (
            ctx.room_id != event.room_id
        ):
            raise CommandError("sessions_error_wrong_room", event_id=event_id)
        room_id, title, status = event.room_id, event.title, event.status
        if action == "remove":
            result = await db.execute(delete(AgendaPage).where(AgendaPage.event_id == event_id))
            if not getattr(result, "rowcount", 0):
                raise CommandError("webviews_widget_none", event_id=event_id)
        elif status not in (EventStatus.PUBLISHED, EventStatus.OVER):
            raise CommandError("webviews_widget_not_published", event_id=event_id)
        else:
            token = new_token()
            page = await db.scalar(select(AgendaPage).where(AgendaPage.event_id == event_id))
            if page is None:
                db.add(AgendaPage(event_id=event_id, token_hash=token_hash(token), created_by=ctx.sender))
            else:
                page.token_hash, page.created_by = token_hash(token), ctx.sender  # the old link stops working
    wid = widget_id(event_id)
    if action == "remove":
        needed, have = _levels(app, room_id)
        if have >= needed:
            await _put_state(app, room_id, WIDGET_TYPE, {}, wid)
            await _pin(app, room_id, wid, pinned=False)
        await ctx.answer("webviews_widget_removed", title=esc(title))
        return
    url = page_url(app, token)
    needed, have = _levels(app, room_id)
    content = {
        "type": "m.custom",
        "url": url,
        "name": t("webviews_widget_name", title=title),
        "id": wid,
        "creatorUserId": app.matrix.user_id,
        "data": {"title": title},
        "waitForIframeLoad": True,
    }
    if have >= needed and await _put_state(app, room_id, WIDGET_TYPE, content, wid):
        await _pin(app, room_id, wid, pinned=True)
        await ctx.answer("webviews_widget_added", title=esc(title), url=url)
        return
    await ctx.answer("webviews_widget_no_power", title=esc(title), url=url, needed=needed, have=have)


# --- HTTP -------------------------------------------------------------------------------------------------


async def serve_page(app: App, request: web.Request) -> web.StreamResponse:
    if app.web.misses.blocked(client_address(request)):
        return too_many()
    page = await lookup(app, request, AgendaPage, request.match_info["token"])
    html = await render_page(app, page.event_id) if page is not None else None
    if html is None:
        return not_found()
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP},
    )


def _static(body: bytes, content_type: str) -> Any:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=body,
            headers={"Content-Type": content_type, "Cache-Control": "public, max-age=3600"},
        )

    return serve


@add_routes
def routes(app: App, application: web.Application) -> None:
    application.router.add_get("/e/{token}", partial(serve_page, app))
    application.router.add_get(
        "/static/agenda.js",
        _static((STATIC / "agenda.js").read_bytes(), "text/javascript; charset=utf-8"),
    )
    application.router.add_get(
        "/static/agenda.css", _static((STATIC / "agenda.css").read_bytes(), "text/css; charset=utf-8")
    )
