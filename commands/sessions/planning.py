"""Multi-step changes to an event's plan: schedule (or move) a session, edit its place, cancel it, remove a
session round. Each runs in one transaction under the event's lock and queues the direct messages to the
people concerned in that same transaction (sent on ``sender.wake()`` after the commit)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import esc
from bot.framework import CommandError
from bot.i18n import Translate
from storage.sessions import BarcampSession, SessionEvent, SessionSlot

from .clashes import clashes_at
from .feature import sessions_settings
from .jobs import reminder_due, schedule_reminder
from .lookups import get_event, get_session, pick_slot, slot_list
from .queries import (
    hosts_and_signed_up,
    session_location,
    session_views,
    signups_of,
    translator_for,
    when_text,
    where_text,
)
from .results_jobs import schedule_results
from .rules import SessionStatus, SessionView, SignupState
from .service import event_lock

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scheduled:
    title: str
    when: str  # in the moderator's language
    view: SessionView
    moved: bool  # it was scheduled in another round before
    reminder_due: datetime | None
    room_members: list[str] | None  # hosts and confirmed members, when the session needs a room of its own
    space_id: str | None
    clashes: int = 0  # members the move double-booked (signed up for another session at the new time)


async def schedule_session(
    app: App, event_id: int, session_id: int, slot: str, location: str, *, by: str, t: Translate
) -> Scheduled:
    """Put a session of the event into a round (by number or name); tells hosts and members when it moved."""
    async with event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, row.event_id)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all())
        if not slots:
            raise CommandError("sessions_error_no_slots", event_id=event.id)
        target = pick_slot(slots, slot)
        if target is None:
            raise CommandError("sessions_error_unknown_slot", slot=slot, slots=slot_list(slots, t))
        moved = row.status == SessionStatus.SCHEDULED and row.slot_id is not None and row.slot_id != target.id
        row.slot_id = target.id
        row.status = SessionStatus.SCHEDULED
        if location.strip():
            row.location = location.strip()
        due = reminder_due(app, event, target)
        row.reminder_due_at = due
        row.reminder_sent_at = None
        clashes = await _tell_moved(app, db, row, event, target, by=by) if moved else 0
        people = sorted(
            {h.user_id for h in row.hosts}
            | {s.user_id for s in await signups_of(db, row.id) if s.state == SignupState.CONFIRMED}
        )
        needs_room = sessions_settings(app).create_rooms and row.matrix_room_id is None
        view = (await session_views(db, [row]))[0]
        return Scheduled(
            title=row.title,
            when=when_text(event, target, t),
            view=view,
            moved=moved,
            reminder_due=due,
            room_members=people if needs_room else None,
            space_id=event.space_id,
            clashes=clashes,
        )


async def _tell_moved(
    app: App, db: AsyncSession, row: BarcampSession, event: SessionEvent, target: SessionSlot, *, by: str
) -> int:
    """Tell hosts and members the session moved; a member now signed up for another session at the same
    time is told which one and how to keep one of the two. Returns how many members that is."""
    told = [user_id for user_id in await hosts_and_signed_up(db, row) if user_id != by]
    clashing = await clashes_at(db, row, event, target, told)
    for user_id in told:
        t = await translator_for(app, db, user_id)
        text = t(
            "sessions_moved",
            title=esc(row.title),
            session_id=row.id,
            when=when_text(event, target, t),
            where=where_text(row, t),
        )
        for other in clashing.get(user_id, []):
            text += "\n\n" + t(
                "sessions_moved_clash",
                title=esc(row.title),
                session_id=row.id,
                other_title=esc(other.title),
                other_id=other.id,
            )
        db.add(app.sender.prepare(text, to_user=user_id))
    return len(clashing)


async def tell_location_changed(app: App, db: AsyncSession, row: BarcampSession, *, by: str) -> list[str]:
    """Queue a direct message about the session's new (or removed) place to its hosts and members except
    ``by``; returns who is told."""
    told = [p for p in await hosts_and_signed_up(db, row) if p != by]
    for user_id in told:
        ut = await translator_for(app, db, user_id)
        where = where_text(row, ut)
        key = "sessions_location_changed_dm" if where else "sessions_location_removed_dm"
        db.add(
            app.sender.prepare(ut(key, title=esc(row.title), session_id=row.id, where=where), to_user=user_id)
        )
    return told


async def after_scheduling(app: App, session_id: int, scheduled: Scheduled) -> None:
    """What a newly scheduled or moved session needs once its transaction has committed, whoever scheduled it
    (``!session einplanen``, an applied plan, a repeat): its reminder, the results question at its end, its
    own room ([sessions] create_rooms)."""
    schedule_reminder(app, session_id, scheduled.reminder_due)
    await schedule_results(app, session_id)
    await create_session_room(app, session_id, scheduled)


async def create_session_room(app: App, session_id: int, scheduled: Scheduled) -> None:
    """Give a newly scheduled session its Matrix room ([sessions] create_rooms), with its hosts and confirmed
    members, in the event's space; nothing when it needs none. A failure is logged: the session stays
    scheduled without a room."""
    people = scheduled.room_members
    if people is None:
        return
    async with app.db.session() as db:
        session_row = await db.get(BarcampSession, session_id)
        event = await db.get(SessionEvent, session_row.event_id) if session_row is not None else None
    # The bot leaves the room a while after the event's day (bot/housekeeping.py).
    day_after = (
        datetime.combine(event.day + timedelta(days=1), time(), tzinfo=ZoneInfo(event.timezone))
        if event is not None
        else None
    )
    try:
        room_id = await app.matrix.create_room(
            scheduled.title,
            [p for p in people if p != app.matrix.user_id],
            space_id=scheduled.space_id,
            purpose_ends=day_after,
        )
    except Exception as exc:
        log.warning("could not create a room for session %s: %s", session_id, exc)
        return
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is not None:
            row.matrix_room_id = room_id


def location_of(row: BarcampSession) -> str | None:
    """Where the session takes place (its room or its given location)."""
    return session_location(row.location, row.matrix_room_id)


async def remove_slot(app: App, event_id: int, slot: str, t: Translate) -> SessionSlot:
    """Delete a session round that no scheduled session uses; returns the removed round."""
    async with event_lock(app, event_id), app.db.session() as db:
        slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event_id))).all())
        target = pick_slot(slots, slot)
        if target is None:
            if not slots:
                raise CommandError("sessions_error_no_slots", event_id=event_id)
            raise CommandError(
                "sessions_error_unknown_slot_remove", event_id=event_id, slot=slot, slots=slot_list(slots, t)
            )
        in_use = (
            await db.scalars(
                select(BarcampSession.id)
                .where(BarcampSession.slot_id == target.id, BarcampSession.status == SessionStatus.SCHEDULED)
                .order_by(BarcampSession.id)
            )
        ).all()
        if in_use:
            raise CommandError(
                "sessions_error_slot_in_use",
                number=target.number,
                sessions=", ".join(map(str, in_use)),
            )
        await db.delete(target)
    return target
