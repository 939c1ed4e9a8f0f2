"""The live agenda page of a published event (``/e/<token>``): semantic HTML, mobile first, German or English
by the room's language, no member data beyond the hosts' display names. It works without JavaScript; with
it, ``static/agenda.js`` (the only script, no inline code) reloads the program every 30 seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import Translate
from commands.sessions import queries
from commands.sessions.agenda import format_date_local
from commands.sessions.rules import SessionStatus, SessionView, SlotView
from storage.models import RoomSetting
from storage.sessions import SessionEvent

from .feed import display_names

if TYPE_CHECKING:
    from bot.app import App

REFRESH_SECONDS = 30


def _seats(session: SessionView, t: Translate) -> str:
    if session.capacity is None:
        return t("webviews_page_seats_open", confirmed=session.confirmed)
    free = max(0, session.capacity - session.confirmed)
    if free == 0:
        return t("webviews_page_seats_full", waitlisted=session.waitlisted)
    return t("webviews_page_seats_free", free=free, capacity=session.capacity)


def _session(app: App, event: SessionEvent, session: SessionView, t: Translate, prefix: str) -> str:
    e = escape
    cancelled = session.status == SessionStatus.CANCELLED
    parts = [
        f'<li class="session{" cancelled" if cancelled else ""}" data-session="{session.id}">',
        f'<h4>{e(session.title)} <span class="number">#{session.id}</span></h4>',
    ]
    if session.hosts:
        hosts = ", ".join(display_names(app, event.room_id, session.hosts))
        parts.append(f'<p class="hosts">{e(t("webviews_page_hosts", hosts=hosts))}</p>')
    if session.location:
        parts.append(f'<p class="location">{e(t("webviews_page_location", location=session.location))}</p>')
    if cancelled:
        parts.append(f'<p class="seats">{e(t("webviews_page_cancelled"))}</p>')
    else:
        parts.append(f'<p class="seats">{e(_seats(session, t))}</p>')
        command = f"{prefix}{t('webviews_page_signup_command')} {session.id}"
        parts.append(f'<p class="signup">{e(t("webviews_page_signup", command=command))}</p>')
    parts.append("</li>")
    return "".join(parts)


def _round(
    app: App, event: SessionEvent, slot: SlotView, sessions: list[SessionView], t: Translate, prefix: str
) -> str:
    items = [_session(app, event, s, t, prefix) for s in sessions]
    body = (
        f'<ul class="sessions">{"".join(items)}</ul>'
        if items
        else f'<p class="empty">{escape(t("webviews_page_sessions_none"))}</p>'
    )
    return (
        f'<li class="round"><h3><time>{slot.start:%H:%M}</time>–<time>{slot.end:%H:%M}</time> '
        f"{escape(slot.name)}</h3>{body}</li>"
    )


async def render_page(app: App, event_id: int) -> str | None:
    """The page's HTML, or None when the event is gone or not published."""
    async with app.db.session() as db:
        event = await db.get(SessionEvent, event_id)
        if event is None or event.status not in ("published", "over"):
            return None
        setting = await db.get(RoomSetting, event.room_id)
        language = (setting.language if setting else None) or app.settings.bot.language
        data = await queries.load_event_data(db, event)
    t = app.catalog.translator(language)
    prefix = app.settings.bot.command_prefix
    zone = ZoneInfo(event.timezone)
    rows: list[tuple[object, str]] = []
    for item in data.items:
        rows.append(
            (
                (item.time, 0),
                f'<li class="item"><time>{item.time:%H:%M}</time> {escape(item.label)}</li>',
            )
        )
    shown = [s for s in data.sessions if s.status in (SessionStatus.SCHEDULED, SessionStatus.CANCELLED)]
    for slot in data.slot_views:
        in_slot = sorted((s for s in shown if s.slot_id == slot.id), key=lambda s: (s.status, s.id))
        rows.append(((slot.start, 1), _round(app, event, slot, in_slot, t, prefix)))
    rows.sort(key=lambda row: row[0])  # type: ignore[arg-type,return-value]
    program = (
        f'<ol class="program">{"".join(html for _, html in rows)}</ol>'
        if rows
        else f'<p class="empty">{escape(t("webviews_page_empty"))}</p>'
    )
    now = datetime.now(UTC).astimezone(zone)
    title = escape(t("webviews_page_title", title=event.title))
    date_text = escape(format_date_local(event.day, t))
    return (
        "<!doctype html>\n"
        f'<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{title}</title>"
        '<link rel="stylesheet" href="/static/agenda.css">'
        '<script src="/static/agenda.js" defer></script></head>'
        f'<body><main id="agenda" data-refresh="{REFRESH_SECONDS}">'
        f"<header><h1>{escape(event.title)}</h1>"
        f'<p class="date"><time datetime="{event.day.isoformat()}">{date_text}</time></p>'
        f'<p class="updated" aria-live="polite">{escape(t("webviews_page_updated", time=f"{now:%H:%M}"))}</p>'
        "</header>"
        f'<section aria-labelledby="program-heading"><h2 id="program-heading">'
        f"{escape(t('webviews_page_program'))}</h2>{program}</section>"
        "</main></body></html>\n"
    )
