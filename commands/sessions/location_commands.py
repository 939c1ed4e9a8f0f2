"""Locations of an event (rooms or virtual rooms, with seats); time slots a session's hosts cannot make."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, CommandError, Int, Quoted, Text
from bot.i18n import plural
from storage.sessions import SessionLocation

from .agenda import location_markdown
from .availability import set_unavailable
from .feature import MAX_LOCATION, event_group, tr
from .lookups import get_session, managed_event, require_manager, require_not_over
from .session_commands import session_cmd

MAX_LOCATION_NAME = 200


@event_group.subcommand(
    de="ort",
    en="location",
    aliases=("raum", "room"),
    help="sessions_location_add",
    args=[
        Arg("event_id", Int(minimum=1)),
        Arg("name", Quoted(max_length=MAX_LOCATION_NAME)),
        Arg("capacity", Int(maximum=100_000)),
        Arg("link", Text(max_length=MAX_LOCATION, allow_empty=True), required=False, default=""),
    ],
)
async def add_location(ctx: CommandContext, event_id: int, name: str, capacity: int, link: str) -> None:
    name = " ".join(name.split())
    if capacity <= 0:
        raise CommandError(
            "sessions_location_error_capacity", event_id=event_id, name=name, capacity=capacity
        )
    async with managed_event(ctx, event_id) as (db, event):
        rows = (await db.scalars(select(SessionLocation).where(SessionLocation.event_id == event.id))).all()
        same = next((r for r in rows if r.name.casefold() == name.casefold()), None)
        if same is None:
            number = (max((r.number for r in rows), default=0)) + 1
            same = SessionLocation(event_id=event.id, number=number, name=name, capacity=capacity)
            db.add(same)
            key = "sessions_location_added"
        else:
            same.capacity = capacity
            key = "sessions_location_updated"
        same.link = link.strip() or None
        number = same.number
    where = esc(name) + (f" – {location_markdown(link.strip())}" if link.strip() else "")
    t = tr(ctx)
    seats = plural(t, "sessions_seats_count", capacity)
    await ctx.reply(t(key, event_id=event_id, number=number, where=where, seats=seats))


@event_group.subcommand(
    de="orte",
    en="locations",
    aliases=("räume", "raeume", "rooms"),
    help="sessions_location_list",
    args=[Arg("event_id", Int(minimum=1))],
)
async def list_locations(ctx: CommandContext, event_id: int) -> None:
    t = tr(ctx)
    async with managed_event(ctx, event_id) as (db, event):
        rows = (
            await db.scalars(
                select(SessionLocation)
                .where(SessionLocation.event_id == event.id)
                .order_by(SessionLocation.number)
            )
        ).all()
        title = event.title
    if not rows:
        raise CommandError("sessions_location_error_none", event_id=event_id)
    total = plural(t, "sessions_seats_count", sum(r.capacity for r in rows))
    lines = [t("sessions_location_list_title", title=esc(title), seats=total)]
    lines += [
        t(
            "sessions_location_line",
            number=r.number,
            where=location_text(r),
            seats=plural(t, "sessions_seats_count", r.capacity),
        )
        for r in rows
    ]
    await ctx.reply("\n".join(lines))


def location_text(row: SessionLocation) -> str:
    """The location's name (and link) as Markdown."""
    return esc(row.name) + (f" – {location_markdown(row.link)}" if row.link else "")


@event_group.subcommand(
    de="ort-entfernen",
    en="unlocation",
    aliases=("ort-löschen", "ort-loeschen", "remove-location"),
    help="sessions_location_remove",
    args=[Arg("event_id", Int(minimum=1)), Arg("location", Text(max_length=MAX_LOCATION_NAME))],
)
async def remove_location(ctx: CommandContext, event_id: int, location: str) -> None:
    wanted = location.strip().lstrip("#").casefold()
    async with managed_event(ctx, event_id) as (db, event):
        rows = (await db.scalars(select(SessionLocation).where(SessionLocation.event_id == event.id))).all()
        target = next(
            (
                r
                for r in rows
                if (wanted.isdigit() and r.number == int(wanted)) or r.name.casefold() == wanted
            ),
            None,
        )
        if target is None:
            names = ", ".join(f"{r.number} = {r.name}" for r in sorted(rows, key=lambda r: r.number))
            raise CommandError(
                "sessions_location_error_unknown", event_id=event_id, given=location, names=names or "–"
            )
        name, number = target.name, target.number
        await db.delete(target)
    await ctx.reply(tr(ctx)("sessions_location_removed", event_id=event_id, number=number, name=esc(name)))


@session_cmd.subcommand(
    de="verhindert",
    en="unavailable",
    aliases=("nicht-verfügbar", "nicht-verfuegbar"),
    help="sessions_unavailable",
    args=[Arg("session_id", Int(minimum=1)), Arg("slots", Text(max_length=500))],
)
async def unavailable(ctx: CommandContext, session_id: int, slots: str) -> None:
    async with ctx.app.db.session() as db:
        row = await get_session(db, session_id)
        require_not_over(await require_manager(ctx, db, row))
    title, chosen = await set_unavailable(ctx.app, session_id, slots)
    t = tr(ctx)
    if not chosen:
        await ctx.reply(t("sessions_unavailable_cleared", session_id=session_id, title=esc(title)))
        return
    names = ", ".join(f"{s.number} ({esc(s.name)})" for s in chosen)
    await ctx.reply(t("sessions_unavailable_set", session_id=session_id, title=esc(title), slots=names))
