"""Repeating a crowded session: the offer to its hosts (once, when the wait list reaches the configured share
of the capacity), the repeat in a later time slot, and seats in it for the wait-listed, in wait-list order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import esc
from bot.framework import CommandError
from bot.i18n import Translate, plural
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionHost,
    SessionLocation,
    SessionPlacement,
    SessionRepeat,
    SessionSlot,
    SessionUnavailable,
)

from .feature import sessions_settings
from .locations import location_by_name, location_text, placements_of
from .lookups import get_event, get_session, pick_slot
from .planning import after_scheduling, schedule_session
from .queries import counts, signup_view, signups_of, slot_view, translator_for, when_text, where_text
from .repeat_rules import RepeatAnswer, Room, SlotUse, repeat_spots, waitlist_crowded
from .rules import SessionStatus, SignupState, waitlist
from .service import event_lock, withdraw

if TYPE_CHECKING:
    from bot.app import App

REPEAT_OFFER_KIND = "session_repeat_offer"
REPEAT_SEAT_KIND = "session_repeat_seat"


@dataclass(frozen=True)
class Spot:
    """A later time slot the repeat fits in and, for events with locations, the free location it gets."""

    slot: SessionSlot
    location: SessionLocation | None


async def _free_spots(db: AsyncSession, event: SessionEvent, row: BarcampSession, waiting: int) -> list[Spot]:
    """Where the session could be repeated (see ``repeat_spots``): later time slots its hosts can make and,
    when the event has locations, a location free in that slot."""
    slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all())
    original = next((s for s in slots if s.id == row.slot_id), None)
    if original is None:
        return []
    locations = list(
        (await db.scalars(select(SessionLocation).where(SessionLocation.event_id == event.id))).all()
    )
    others = (
        await db.scalars(
            select(BarcampSession).where(
                BarcampSession.event_id == event.id,
                BarcampSession.status == SessionStatus.SCHEDULED,
                BarcampSession.id != row.id,
            )
        )
    ).all()
    placed = await placements_of(db, [s.id for s in others])
    in_use = [
        SlotUse(
            s.slot_id,
            frozenset(h.user_id for h in s.hosts),
            s.location,
            placed.get(s.id) or location_by_name(locations, s.location),
        )
        for s in others
        if s.slot_id is not None
    ]
    unavailable = await db.scalars(
        select(SessionUnavailable.slot_id).where(SessionUnavailable.session_id == row.id)
    )
    local_now = datetime.now(UTC).astimezone(_zone(event))
    not_before = local_now.time() if local_now.date() == event.day else None
    spots = repeat_spots(
        slot_view(original),
        [slot_view(s) for s in slots],
        in_use,
        hosts=[h.user_id for h in row.hosts],
        location=row.location,
        rooms=[Room(loc.id, loc.capacity) for loc in locations],
        unavailable=unavailable.all(),
        capacity=row.capacity,
        waiting=waiting,
        not_before=not_before,
    )
    slot_by_id = {s.id: s for s in slots}
    location_by_id = {loc.id: loc for loc in locations}
    return [
        Spot(slot_by_id[spot.slot.id], location_by_id[spot.room.id] if spot.room else None) for spot in spots
    ]


def _zone(event: SessionEvent) -> ZoneInfo:
    return ZoneInfo(event.timezone)


def _spot_names(spots: list[Spot], t: Translate) -> str:
    names = []
    for spot in spots:
        s = spot.slot
        name = t("sessions_slot_ref", number=s.number, name=esc(s.name), start=s.start, end=s.end)
        if spot.location is not None:
            name = t(
                "sessions_repeat_slot_at",
                slot=name,
                location=esc(spot.location.name),
                seats=plural(t, "sessions_seats_count", spot.location.capacity),
            )
        names.append(name)
    return ", ".join(names)


async def offer_repeat_if_crowded(app: App, session_id: int) -> None:
    """After a wait-listed sign-up: the first time the wait list reaches the share, offer the hosts a
    repeat in a later free time slot (by a tracked direct message: "ja" in reply accepts)."""
    share = sessions_settings(app).repeat_offer_waitlist_share
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is None or row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            return
        event_id = row.event_id
    async with event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        if await db.get(SessionRepeat, session_id) is not None:
            return  # offered once already
        _, waiting = (await counts(db, [session_id]))[session_id]
        if not waitlist_crowded(row.capacity, waiting, share):
            return
        event = await get_event(db, event_id)
        free = await _free_spots(db, event, row, waiting)
        if not free:
            return  # no later slot fits (yet); the next sign-up to the wait list looks again
        db.add(SessionRepeat(session_id=session_id, offered_at=datetime.now(UTC)))
        for user_id in sorted(h.user_id for h in row.hosts):
            t = await translator_for(app, db, user_id)
            text = t(
                "sessions_repeat_offer_dm",
                title=esc(row.title),
                session_id=row.id,
                waiting=waiting,
                capacity=row.capacity,
                slots=_spot_names(free, t),
                first=free[0].slot.number,
            )
            db.add(app.sender.prepare(text, to_user=user_id, track=(REPEAT_OFFER_KIND, row.id)))
    app.sender.wake()


@dataclass(frozen=True)
class Repeated:
    original_id: int
    repeat_id: int
    title: str
    when: str
    offered: int


async def repeat_session(
    app: App,
    session_id: int,
    slot: str,
    *,
    by: str,
    is_moderator: Callable[[SessionEvent], bool],
    t: Translate,
) -> Repeated:
    """Create the repeat of a session in a later free time slot (``slot`` by number or name, or the first
    that fits), schedule it, and offer its seats to the original's wait list in order."""
    async with app.db.session() as db:
        event_id = (await get_session(db, session_id)).event_id
    async with event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, event_id)
        if by not in {h.user_id for h in row.hosts} and not is_moderator(event):
            raise CommandError("sessions_repeat_error_not_host", session_id=session_id)
        if row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            raise CommandError("sessions_repeat_error_unscheduled", session_id=session_id)
        offer = await db.get(SessionRepeat, session_id)
        if offer is not None and offer.repeat_session_id is not None:
            raise CommandError(
                "sessions_repeat_error_already", session_id=session_id, repeat_id=offer.repeat_session_id
            )
        waiting = [s.user_id for s in waitlist(signup_view(s) for s in await signups_of(db, session_id))]
        free = await _free_spots(db, event, row, len(waiting))
        if not free:
            raise CommandError("sessions_repeat_error_no_slot", session_id=session_id)
        chosen = pick_slot([f.slot for f in free], slot) if slot.strip() else free[0].slot
        target = next((f for f in free if chosen is not None and f.slot.id == chosen.id), None)
        if target is None:
            raise CommandError(
                "sessions_repeat_error_slot", session_id=session_id, slot=slot, slots=_spot_names(free, t)
            )
        place = target.location
        repeat = BarcampSession(
            event_id=event_id,
            title=row.title,
            description=row.description,
            theme=row.theme,
            capacity=row.capacity,
            location=row.location if place is None else location_text(place),
            status=SessionStatus.PROPOSED,
        )
        repeat.hosts.extend(SessionHost(user_id=h.user_id) for h in row.hosts)
        db.add(repeat)
        await db.flush()
        if place is not None:
            db.add(SessionPlacement(session_id=repeat.id, location_id=place.id))
        # The hosts cannot make these time slots for the repeat either (a later re-plan respects them).
        for blocked in await db.scalars(
            select(SessionUnavailable.slot_id).where(SessionUnavailable.session_id == session_id)
        ):
            db.add(SessionUnavailable(session_id=repeat.id, slot_id=blocked))
        if offer is None:
            offer = SessionRepeat(session_id=session_id, offered_at=datetime.now(UTC))
            db.add(offer)
        offer.answer, offer.repeat_session_id = RepeatAnswer.ACCEPTED, repeat.id
        queue = waiting
        repeat_id, number, capacity = repeat.id, target.slot.number, row.capacity
    scheduled = await schedule_session(app, event_id, repeat_id, str(number), "", by=by, t=t)
    await after_scheduling(app, repeat_id, scheduled)
    offered = queue if capacity is None else queue[:capacity]
    await _offer_seats(app, repeat_id, offered)
    return Repeated(session_id, repeat_id, scheduled.title, scheduled.when, len(offered))


async def _offer_seats(app: App, repeat_id: int, people: list[str]) -> None:
    """One tracked direct message per wait-listed member, queued in wait-list order."""
    async with app.db.session() as db:
        row = await get_session(db, repeat_id)
        event = await get_event(db, row.event_id)
        slot = await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None
        for user_id in people:
            t = await translator_for(app, db, user_id)
            text = t(
                "sessions_repeat_seat_dm",
                title=esc(row.title),
                session_id=repeat_id,
                when=when_text(event, slot, t) if slot is not None else "",
            )
            text += where_text(row, t)
            db.add(app.sender.prepare(text, to_user=user_id, track=(REPEAT_SEAT_KIND, repeat_id)))
    app.sender.wake()


async def decline_repeat(
    app: App, session_id: int, *, by: str, is_moderator: Callable[[SessionEvent], bool]
) -> str:
    """The host said no: the offer is closed (nothing else changes). Returns the session's title."""
    async with app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, row.event_id)
        if by not in {h.user_id for h in row.hosts} and not is_moderator(event):
            raise CommandError("sessions_repeat_error_not_host", session_id=session_id)
        offer = await db.get(SessionRepeat, session_id)
        if offer is not None and offer.repeat_session_id is not None:
            raise CommandError(
                "sessions_repeat_error_already", session_id=session_id, repeat_id=offer.repeat_session_id
            )
        if offer is None:
            offer = SessionRepeat(session_id=session_id, offered_at=datetime.now(UTC))
            db.add(offer)
        offer.answer = RepeatAnswer.DECLINED
        return row.title


async def leave_original_waitlist(app: App, original: int, user_id: str, t: Translate) -> None:
    """After a confirmed sign-up for a repeat of ``original``: the member leaves the original's wait list
    (the seat in the repeat replaces it)."""
    async with app.db.session() as db:
        waiting = any(
            s.user_id == user_id and s.state == SignupState.WAITLISTED for s in await signups_of(db, original)
        )
    if waiting:
        await withdraw(app, original, user_id, t)
