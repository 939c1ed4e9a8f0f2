"""Finding the event, session or round a command names, and who may change it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

from sqlalchemy import String, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext
from bot.format import esc
from bot.framework import (
    CommandError,
)
from bot.i18n import Translate
from bot.names import display_names
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionHost,
    SessionSignup,
    SessionSlot,
)

from .queries import is_over, session_place
from .rules import SessionView

# --- lookups ----------------------------------------------------------------------------------------------


# Read by every !programm, !meine and proposal in a room: built once. Parameter: room_id.
EVENTS_OF_ROOM = (
    select(SessionEvent)
    .where(SessionEvent.room_id == bindparam("room_id", type_=String))
    .order_by(SessionEvent.day, SessionEvent.id)
)


async def room_event(db: AsyncSession, room_id: str) -> SessionEvent | None:
    """The room's current event: the earliest one that is not over."""
    events = (await db.scalars(EVENTS_OF_ROOM, {"room_id": room_id})).all()
    return next((e for e in events if not is_over(e)), None)


async def get_event(db: AsyncSession, event_id: int) -> SessionEvent:
    event = await db.get(SessionEvent, event_id)
    if event is None:
        raise CommandError("sessions_error_unknown_event", event_id=event_id)
    return event


async def get_session(db: AsyncSession, session_id: int) -> BarcampSession:
    row = await db.get(BarcampSession, session_id)
    if row is None:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    return row


async def require_visible_event(ctx: CommandContext, event: SessionEvent) -> None:
    """Events belong to their room: from elsewhere (another room, a direct chat) only its members see them."""
    if not await ctx.is_member_of(event.room_id):
        raise CommandError("sessions_error_other_room_event", event_id=event.id)


async def require_visible_session(ctx: CommandContext, db: AsyncSession, row: BarcampSession) -> None:
    event = await get_event(db, row.event_id)
    if not await ctx.is_member_of(event.room_id):
        raise CommandError("sessions_error_other_room_session", session_id=row.id)


async def check_session_visible(ctx: CommandContext, session_id: int) -> None:
    """Refuse a session of a room the member is not in (an unknown one is left to the caller). Its room is
    remembered, so a sign-up in the event's own room needs no query for this."""
    place = await session_place(ctx.app, session_id)
    if place is not None and not await ctx.is_member_of(place[1]):
        raise CommandError("sessions_error_other_room_session", session_id=session_id)


async def events_for(ctx: CommandContext, db: AsyncSession, event_id: int | None) -> list[SessionEvent]:
    """The events a member command is about: the given one, the room's, or (in a direct chat) the member's
    — only events of rooms the member is in."""
    if event_id is not None:
        event = await get_event(db, event_id)
        await require_visible_event(ctx, event)
        return [event]
    here = await room_event(db, ctx.room_id)
    if here is not None:
        return [here]
    if not ctx.is_direct:
        raise CommandError("sessions_error_no_event")
    active = [
        e for e in (await db.scalars(select(SessionEvent).order_by(SessionEvent.day))).all() if not is_over(e)
    ]
    mine_ids = set(
        (
            await db.scalars(
                select(BarcampSession.event_id)
                .outerjoin(SessionSignup, SessionSignup.session_id == BarcampSession.id)
                .outerjoin(SessionHost, SessionHost.session_id == BarcampSession.id)
                .where(or_(SessionSignup.user_id == ctx.sender, SessionHost.user_id == ctx.sender))
            )
        ).all()
    )
    mine = [e for e in active if e.id in mine_ids]
    if mine:
        return mine
    active = [e for e in active if await ctx.is_member_of(e.room_id)]
    if len(active) == 1:
        return active
    if not active:
        raise CommandError("sessions_error_no_event")
    raise CommandError("sessions_error_which_event", events=", ".join(f"{e.id} ({e.title})" for e in active))


def is_event_moderator(ctx: CommandContext, event: SessionEvent) -> bool:
    """Moderators of the event's room (commands typed there) and configured moderators/admins."""
    settings = ctx.app.settings.bot
    if ctx.sender in settings.admins or ctx.sender in settings.moderators:
        return True
    return ctx.is_moderator and ctx.room_id == event.room_id


def require_event_moderator(ctx: CommandContext, event: SessionEvent) -> None:
    if not is_event_moderator(ctx, event):
        raise CommandError("sessions_error_wrong_room", event_id=event.id)


def require_manageable(ctx: CommandContext, event: SessionEvent) -> None:
    require_event_moderator(ctx, event)
    require_not_over(event)


async def check_session_event_moderator(ctx: CommandContext, session_id: int) -> int:
    """The session's event id; refuses unless the sender may manage that event and it is not over."""
    async with ctx.app.db.session() as db:
        row = await get_session(db, session_id)
        require_manageable(ctx, await get_event(db, row.event_id))
        return row.event_id


@asynccontextmanager
async def managed_event(
    ctx: CommandContext, event_id: int
) -> AsyncIterator[tuple[AsyncSession, SessionEvent]]:
    """A unit of work on an event that the sender may manage (see ``is_event_moderator``) and that is not
    over: ``async with managed_event(ctx, event_id) as (db, event): ...``."""
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_manageable(ctx, event)
        yield db, event


async def check_managed_event(ctx: CommandContext, event_id: int) -> None:
    """Refuse early (before taking the event's lock or downloading a file) unless the sender may manage
    the event and it is not over."""
    async with managed_event(ctx, event_id):
        pass


def require_not_over(event: SessionEvent) -> None:
    if is_over(event):
        raise CommandError("sessions_error_event_over", event_id=event.id, title=event.title)


async def slot_of(db: AsyncSession, row: BarcampSession) -> SessionSlot | None:
    return await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None


def pick_slot(slots: Sequence[SessionSlot], given: str) -> SessionSlot | None:
    """A round given by its number (``2``, ``#2``) or its name (any case)."""
    wanted = given.strip().lstrip("#").casefold()
    return next(
        (s for s in slots if (wanted.isdigit() and s.number == int(wanted)) or s.name.casefold() == wanted),
        None,
    )


def slot_list(slots: list[SessionSlot], t: Translate) -> str:
    return ", ".join(
        t("sessions_slot_ref", number=s.number, name=esc(s.name), start=s.start, end=s.end)
        for s in sorted(slots, key=lambda s: s.number)
    )


async def require_manager(ctx: CommandContext, db: AsyncSession, row: BarcampSession) -> SessionEvent:
    event = await get_event(db, row.event_id)
    if not (is_event_moderator(ctx, event) or any(h.user_id == ctx.sender for h in row.hosts)):
        raise CommandError("sessions_error_not_host", session_id=row.id)
    return event


def with_host_names(ctx: CommandContext, sessions: Sequence[SessionView], room_id: str) -> list[SessionView]:
    """The sessions with their hosts' display names (as set in the event's room), for lists members read."""
    return [replace(s, host_names=display_names(ctx.app, s.hosts, room_id)) for s in sessions]
