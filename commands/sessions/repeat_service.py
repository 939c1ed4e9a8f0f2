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
from bot.i18n import Translate
from storage.sessions import BarcampSession, SessionEvent, SessionHost, SessionRepeat, SessionSlot

from .feature import sessions_settings
from .jobs import schedule_reminder
from .lookups import get_event, get_session, pick_slot
from .planning import schedule_session
from .queries import counts, signup_view, signups_of, slot_view, translator_for, when_text
from .repeat_rules import RepeatAnswer, SlotUse, free_slots_for_repeat, waitlist_crowded
from .results_jobs import schedule_results
from .rules import SessionStatus, SignupState, waitlist
from .service import event_lock, withdraw

if TYPE_CHECKING:
    from bot.app import App

REPEAT_OFFER_KIND = "session_repeat_offer"
REPEAT_SEAT_KIND = "session_repeat_seat"


async def _free_slots(db: AsyncSession, event: SessionEvent, row: BarcampSession) -> list[SessionSlot]:
    """The event's time slots the session could be repeated in (see ``free_slots_for_repeat``)."""
    slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all())
    original = next((s for s in slots if s.id == row.slot_id), None)
    if original is None:
        return []
    others = (
        await db.scalars(
            select(BarcampSession).where(
                BarcampSession.event_id == event.id,
                BarcampSession.status == SessionStatus.SCHEDULED,
                BarcampSession.id != row.id,
            )
        )
    ).all()
    in_use = [
        SlotUse(s.slot_id, frozenset(h.user_id for h in s.hosts), s.location)
        for s in others
        if s.slot_id is not None
    ]
    local_now = datetime.now(UTC).astimezone(_zone(event))
    not_before = local_now.time() if local_now.date() == event.day else None
    views = free_slots_for_repeat(
        slot_view(original),
        [slot_view(s) for s in slots],
        in_use,
        hosts=[h.user_id for h in row.hosts],
        location=row.location,
        not_before=not_before,
    )
    by_id = {s.id: s for s in slots}
    return [by_id[v.id] for v in views]


def _zone(event: SessionEvent) -> ZoneInfo:
    return ZoneInfo(event.timezone)


def _slot_names(slots: list[SessionSlot], t: Translate) -> str:
    return ", ".join(
        t("sessions_slot_ref", number=s.number, name=esc(s.name), start=s.start, end=s.end) for s in slots
    )


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
        free = await _free_slots(db, event, row)
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
                slots=_slot_names(free, t),
                first=free[0].number,
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
        free = await _free_slots(db, event, row)
        if not free:
            raise CommandError("sessions_repeat_error_no_slot", session_id=session_id)
        target = pick_slot(free, slot) if slot.strip() else free[0]
        if target is None:
            raise CommandError(
                "sessions_repeat_error_slot", session_id=session_id, slot=slot, slots=_slot_names(free, t)
            )
        repeat = BarcampSession(
            event_id=event_id,
            title=row.title,
            description=row.description,
            theme=row.theme,
            capacity=row.capacity,
            location=row.location,
            status=SessionStatus.PROPOSED,
        )
        repeat.hosts.extend(SessionHost(user_id=h.user_id) for h in row.hosts)
        db.add(repeat)
        await db.flush()
        if offer is None:
            offer = SessionRepeat(session_id=session_id, offered_at=datetime.now(UTC))
            db.add(offer)
        offer.answer, offer.repeat_session_id = RepeatAnswer.ACCEPTED, repeat.id
        queue = [s.user_id for s in waitlist(signup_view(s) for s in await signups_of(db, session_id))]
        repeat_id, number, capacity = repeat.id, target.number, row.capacity
    scheduled = await schedule_session(app, event_id, repeat_id, str(number), "", by=by, t=t)
    schedule_reminder(app, repeat_id, scheduled.reminder_due)
    await schedule_results(app, repeat_id)
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


async def leave_original_waitlist(app: App, session_id: int, user_id: str, t: Translate) -> None:
    """After a confirmed sign-up for a repeat: the member leaves the original's wait list (the seat in the
    repeat replaces it). Nothing for sessions that are no repeat."""
    async with app.db.session() as db:
        original = await db.scalar(
            select(SessionRepeat.session_id).where(SessionRepeat.repeat_session_id == session_id)
        )
        if original is None:
            return
        waiting = any(
            s.user_id == user_id and s.state == SignupState.WAITLISTED for s in await signups_of(db, original)
        )
    if waiting:
        await withdraw(app, original, user_id, t)
