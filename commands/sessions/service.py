"""Database side of the sessions feature: loading views, sign-up/withdrawal transactions, jobs.

Sign-ups, withdrawals, capacity changes and cancellations of one event run one at a time: an asyncio lock per
event (the bot is one process) is held across the read–decide–write transaction, so concurrent sign-ups from
many rooms never over-fill a session, never double-book a member within a slot, and keep the wait list in
the order the requests were taken. The decisions themselves are the pure functions of :mod:`.rules`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, ScalarSelect, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from bot.format import esc
from bot.i18n import Translate
from storage.models import Member
from storage.sessions import (
    BarcampSession,
    ProgramItem,
    SessionEvent,
    SessionHost,
    SessionSignup,
    SessionSlot,
)

from .agenda import location_markdown
from .rules import (
    EventStatus,
    EventView,
    ProgramItemView,
    SessionStatus,
    SessionView,
    SignupDecision,
    SignupState,
    SignupView,
    SlotView,
    decide_signup,
    promote_after_withdrawal,
    promotions_for_capacity,
    renumber_waitlist,
    with_prefix,
)

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def event_lock(app: App, event_id: int) -> asyncio.Lock:
    """The lock that serialises sign-up changes of one event."""
    return app.locks.for_key("sessions-event", event_id)


def reminder_job_id(session_id: int) -> str:
    return f"session-reminder:{session_id}"


def slot_job_id(slot_id: int) -> str:
    return f"session-slot:{slot_id}"


# --- views ------------------------------------------------------------------------------------------------


def event_view(event: SessionEvent) -> EventView:
    return EventView(event.id, event.title, event.day, event.timezone, event.status)


def slot_view(slot: SessionSlot) -> SlotView:
    return SlotView(slot.id, slot.name, slot.start, slot.end)


def signup_view(signup: SessionSignup) -> SignupView:
    return SignupView(signup.user_id, signup.session_id, signup.state, signup.position, signup.created_at)


def session_location(location: str | None, matrix_room_id: str | None) -> str | None:
    """A room label or link as given; else the link to the session's own Matrix room, if it has one."""
    return location or (f"https://matrix.to/#/{matrix_room_id}" if matrix_room_id else None)


def session_view(row: BarcampSession, confirmed: int = 0, waitlisted: int = 0) -> SessionView:
    return SessionView(
        id=row.id,
        title=row.title,
        description=row.description or "",
        hosts=tuple(sorted(h.user_id for h in row.hosts)),
        theme=row.theme,
        capacity=row.capacity,
        slot_id=row.slot_id,
        location=session_location(row.location, row.matrix_room_id),
        status=row.status,
        confirmed=confirmed,
        waitlisted=waitlisted,
    )


async def counts(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(confirmed, wait-listed) per session id."""
    ids = list(session_ids)
    result: dict[int, tuple[int, int]] = {i: (0, 0) for i in ids}
    if not ids:
        return result
    rows = await db.execute(
        select(SessionSignup.session_id, SessionSignup.state, func.count())
        .where(SessionSignup.session_id.in_(ids))
        .group_by(SessionSignup.session_id, SessionSignup.state)
    )
    for session_id, state, number in rows:
        confirmed, waiting = result[session_id]
        if state == SignupState.CONFIRMED:
            confirmed = number
        elif state == SignupState.WAITLISTED:
            waiting = number
        result[session_id] = (confirmed, waiting)
    return result


async def session_views(db: AsyncSession, rows: Sequence[BarcampSession]) -> list[SessionView]:
    numbers = await counts(db, (r.id for r in rows))
    return [session_view(r, *numbers[r.id]) for r in rows]


@dataclass
class EventData:
    event: SessionEvent
    items: list[ProgramItemView]
    slot_views: list[SlotView]
    sessions: list[SessionView]

    @property
    def view(self) -> EventView:
        return event_view(self.event)


# The agenda is read on every !programm, !meine, !kalender and publication: columns instead of ORM objects,
# sign-up counts as subqueries of the sessions query, statements built once. Parameter: event_id.
_EVENT_ID = bindparam("event_id", type_=Integer)
PROGRAM_ITEMS = (
    select(ProgramItem.at, ProgramItem.label)
    .where(ProgramItem.event_id == _EVENT_ID)
    .order_by(ProgramItem.at, ProgramItem.id)
)
SLOTS = (
    select(SessionSlot.id, SessionSlot.name, SessionSlot.start, SessionSlot.end)
    .where(SessionSlot.event_id == _EVENT_ID)
    .order_by(SessionSlot.start, SessionSlot.id)
)


def _signups_in_state(state: str) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(SessionSignup.session_id == BarcampSession.id, SessionSignup.state == state)
        .correlate(BarcampSession)
        .scalar_subquery()
    )


SESSIONS_WITH_COUNTS = (
    select(
        BarcampSession.id,
        BarcampSession.title,
        BarcampSession.description,
        BarcampSession.theme,
        BarcampSession.capacity,
        BarcampSession.slot_id,
        BarcampSession.location,
        BarcampSession.matrix_room_id,
        BarcampSession.status,
        _signups_in_state(SignupState.CONFIRMED),
        _signups_in_state(SignupState.WAITLISTED),
    )
    .where(BarcampSession.event_id == _EVENT_ID)
    .order_by(BarcampSession.id)
)
HOSTS = (
    select(SessionHost.session_id, SessionHost.user_id)
    .join(BarcampSession, BarcampSession.id == SessionHost.session_id)
    .where(BarcampSession.event_id == _EVENT_ID)
)


async def load_event_data(db: AsyncSession, event: SessionEvent) -> EventData:
    """Program items, rounds and sessions (with hosts and sign-up counts) of an event: four statements."""
    params = {"event_id": event.id}
    items = [ProgramItemView(at, label) for at, label in await db.execute(PROGRAM_ITEMS, params)]
    slots = [SlotView(*row) for row in await db.execute(SLOTS, params)]
    hosts: dict[int, list[str]] = {}
    for session_id, user_id in await db.execute(HOSTS, params):
        hosts.setdefault(session_id, []).append(user_id)
    sessions = [
        SessionView(
            id=session_id,
            title=title,
            description=description or "",
            hosts=tuple(sorted(hosts.get(session_id, ()))),
            theme=theme,
            capacity=capacity,
            slot_id=slot_id,
            location=session_location(location, matrix_room_id),
            status=status,
            confirmed=confirmed,
            waitlisted=waitlisted,
        )
        for (
            session_id,
            title,
            description,
            theme,
            capacity,
            slot_id,
            location,
            matrix_room_id,
            status,
            confirmed,
            waitlisted,
        ) in await db.execute(SESSIONS_WITH_COUNTS, params)
    ]
    return EventData(event, items, slots, sessions)


# --- time -------------------------------------------------------------------------------------------------


def event_today(event: SessionEvent | None, tz_name: str, now: datetime | None = None) -> date:
    zone = ZoneInfo(event.timezone if event is not None else tz_name)
    return (now or datetime.now(UTC)).astimezone(zone).date()


def is_over(event: SessionEvent, now: datetime | None = None) -> bool:
    return event.status == EventStatus.OVER or event.day < event_today(event, event.timezone, now)


def slot_start(event: SessionEvent, slot: SessionSlot) -> datetime:
    return datetime.combine(event.day, slot.start, tzinfo=ZoneInfo(event.timezone)).astimezone(UTC)


def slot_end(event: SessionEvent, slot: SessionSlot) -> datetime:
    return datetime.combine(event.day, slot.end, tzinfo=ZoneInfo(event.timezone)).astimezone(UTC)


# --- people -----------------------------------------------------------------------------------------------


async def translator_for(app: App, db: AsyncSession, user_id: str) -> Translate:
    """The catalog in the member's language (their preference, else the bot's default), with the prefix."""
    member = await db.get(Member, user_id)
    language = (member.language if member else None) or app.settings.bot.language
    return with_prefix(app.catalog.translator(language), app.settings.bot.command_prefix)


async def signups_of(db: AsyncSession, session_id: int) -> list[SessionSignup]:
    return list(
        (
            await db.scalars(
                select(SessionSignup).where(SessionSignup.session_id == session_id).order_by(SessionSignup.id)
            )
        ).all()
    )


def when_text(event: SessionEvent, slot: SessionSlot, t: Translate) -> str:
    from timephrases import format_date

    return t("sessions_when", date=format_date(event.day, t.language), start=slot.start, end=slot.end)


def where_text(row: BarcampSession, t: Translate) -> str:
    location = session_location(row.location, row.matrix_room_id)
    return t("sessions_where", location=location_markdown(location)) if location else ""


# --- sign-up transactions ---------------------------------------------------------------------------------


@dataclass
class Change:
    """The outcome of a sign-up change, plus who was promoted and who needs a room invitation."""

    text: str = ""
    decision: SignupDecision | None = None
    promoted: list[str] = field(default_factory=list)
    invite: list[tuple[str, str]] = field(default_factory=list)  # (matrix room, user)
    unknown_session: bool = False


async def _renumber(db: AsyncSession, signups: Sequence[SessionSignup]) -> None:
    by_user = {s.user_id: s for s in signups}
    for view in renumber_waitlist(signup_view(s) for s in signups):
        row = by_user[view.user_id]
        if row.position != view.position:
            row.position = view.position


async def _promote(
    app: App, db: AsyncSession, row: BarcampSession, users: Sequence[str], change: Change
) -> None:
    """Confirm ``users`` (wait-listed) and prepare their direct messages in this transaction."""
    if not users:
        return
    event = await db.get(SessionEvent, row.event_id)
    slot = await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None
    now = datetime.now(UTC)
    remaining = await signups_of(db, row.id)
    for signup in remaining:
        if signup.user_id in users:
            signup.state = SignupState.CONFIRMED
            signup.position = None
            signup.confirmed_at = now
    await db.flush()
    await _renumber(db, remaining)
    for user_id in users:
        t = await translator_for(app, db, user_id)
        when = when_text(event, slot, t) if event is not None and slot is not None else ""
        text = t(
            "sessions_promoted", title=esc(row.title), session_id=row.id, when=when, where=where_text(row, t)
        )
        db.add(app.sender.prepare(text, to_user=user_id))
        change.promoted.append(user_id)
        if row.matrix_room_id:
            change.invite.append((row.matrix_room_id, user_id))


async def withdraw_in(app: App, db: AsyncSession, row: BarcampSession, user_id: str, change: Change) -> bool:
    """Delete the member's sign-up of ``row`` and promote the next in line. False if there was none."""
    signup = await db.scalar(
        select(SessionSignup).where(SessionSignup.session_id == row.id, SessionSignup.user_id == user_id)
    )
    if signup is None:
        return False
    was_confirmed = signup.state == SignupState.CONFIRMED
    await db.delete(signup)
    await db.flush()
    remaining = await signups_of(db, row.id)
    if was_confirmed and row.status == SessionStatus.SCHEDULED:
        promoted = promote_after_withdrawal([signup_view(s) for s in remaining], capacity=row.capacity)
        if promoted is not None:
            await _promote(app, db, row, [promoted], change)
            return True
    await _renumber(db, remaining)
    return True


# A session's title and event, read before taking the event's lock (a session never changes its event).
SESSION_TITLE_AND_EVENT = select(BarcampSession.title, BarcampSession.event_id).where(
    BarcampSession.id == bindparam("session_id", type_=Integer)
)


async def _title_and_event(app: App, session_id: int) -> tuple[str, int] | None:
    async with app.db.transaction() as connection:
        row = (await connection.execute(SESSION_TITLE_AND_EVENT, {"session_id": session_id})).one_or_none()
    return None if row is None else (row.title, row.event_id)


async def sign_up(app: App, session_id: int, user_id: str, *, switch: bool, t: Translate) -> Change:
    """Sign ``user_id`` up for a session (the caller checked that it exists). Serialised per event."""
    from .rules import render

    found = await _title_and_event(app, session_id)
    change = Change()
    if found is None:
        change.text = t("sessions_error_unknown_session", session_id=session_id)
        return change
    _, event_id = found
    async with event_lock(app, event_id), app.db.session() as db:
        row = await db.scalar(select(BarcampSession).where(BarcampSession.id == session_id).with_for_update())
        assert row is not None
        # The event and the session's round in one statement (the round is None while unscheduled).
        event, slot = (
            await db.execute(
                select(SessionEvent, SessionSlot)
                .outerjoin(
                    SessionSlot, and_(SessionSlot.event_id == SessionEvent.id, SessionSlot.id == row.slot_id)
                )
                .where(SessionEvent.id == event_id)
            )
        ).one()
        signups = await signups_of(db, row.id)
        is_host = any(h.user_id == user_id for h in row.hosts)
        other = None
        if row.slot_id is not None:
            other_row = await db.scalar(
                select(SessionSignup)
                .join(BarcampSession, BarcampSession.id == SessionSignup.session_id)
                .where(
                    SessionSignup.user_id == user_id,
                    BarcampSession.slot_id == row.slot_id,
                    BarcampSession.id != row.id,
                    BarcampSession.status == SessionStatus.SCHEDULED,
                )
            )
            other = signup_view(other_row) if other_row is not None else None
        status = EventStatus.OVER if is_over(event) else event.status
        round_over = slot is not None and slot_end(event, slot) <= datetime.now(UTC)
        decision = decide_signup(
            session_view(row),
            [signup_view(s) for s in signups],
            user_id,
            is_host=is_host,
            other_signup_in_same_slot=other,
            switch=switch,
            event_status=status,
            round_over=round_over,
        )
        change.decision = decision
        change.text = render(decision, t)
        if not decision.accepted:
            return change
        if decision.withdraw_from_session_id is not None:
            other_session = await db.get(BarcampSession, decision.withdraw_from_session_id)
            if other_session is not None:
                await withdraw_in(app, db, other_session, user_id, change)
        now = datetime.now(UTC)
        existing = next((s for s in signups if s.user_id == user_id), None)
        if existing is not None:
            existing.state = decision.state or SignupState.CONFIRMED
            existing.position = decision.position
            existing.confirmed_at = now if decision.state == SignupState.CONFIRMED else None
        else:
            db.add(
                SessionSignup(
                    session_id=row.id,
                    user_id=user_id,
                    state=decision.state,
                    position=decision.position,
                    created_at=now,
                    confirmed_at=now if decision.state == SignupState.CONFIRMED else None,
                )
            )
        if decision.state == SignupState.CONFIRMED and row.matrix_room_id:
            change.invite.append((row.matrix_room_id, user_id))
    app.sender.wake()
    return change


async def withdraw(app: App, session_id: int, user_id: str, t: Translate) -> Change:
    """Withdraw ``user_id`` from a session and promote the next in line. Serialised per event."""
    found = await _title_and_event(app, session_id)
    change = Change()
    if found is None:
        change.unknown_session = True
        change.text = t("sessions_error_unknown_session", session_id=session_id)
        return change
    title, event_id = found
    async with event_lock(app, event_id), app.db.session() as db:
        # The hosts are not needed here; raiseload makes sure no code path starts needing them unnoticed.
        row = await db.scalar(
            select(BarcampSession)
            .where(BarcampSession.id == session_id)
            .options(raiseload(BarcampSession.hosts))
            .with_for_update()
        )
        assert row is not None
        was_signed_up = await withdraw_in(app, db, row, user_id, change)
    app.sender.wake()
    key = "sessions_withdrawn" if was_signed_up else "sessions_withdraw_not_signed_up"
    change.text = t(key, title=esc(title), session_id=session_id)
    return change


async def change_capacity(app: App, row_id: int, capacity: int, change: Change) -> tuple[int, int]:
    """Set the capacity and promote as many wait-listed members as now fit. Returns (confirmed, capacity)."""
    found = await _title_and_event(app, row_id)
    assert found is not None  # the caller checked that the session exists
    _, event_id = found
    async with event_lock(app, event_id), app.db.session() as db:
        row = await db.scalar(select(BarcampSession).where(BarcampSession.id == row_id).with_for_update())
        assert row is not None
        row.capacity = capacity
        signups = await signups_of(db, row.id)
        if row.status == SessionStatus.SCHEDULED:
            users = promotions_for_capacity([signup_view(s) for s in signups], capacity)
            await _promote(app, db, row, users, change)
        confirmed = sum(1 for s in await signups_of(db, row.id) if s.state == SignupState.CONFIRMED)
    app.sender.wake()
    return confirmed, capacity


async def invite_all(app: App, invites: Iterable[tuple[str, str]]) -> None:
    for room_id, user_id in invites:
        try:
            await app.matrix.invite(room_id, user_id)
        except Exception as exc:  # an invitation is a courtesy; the sign-up stands
            log.warning("could not invite %s to session room %s: %s", user_id, room_id, exc)


# --- jobs -------------------------------------------------------------------------------------------------


def reminder_due(
    app: App, event: SessionEvent, slot: SessionSlot, now: datetime | None = None
) -> datetime | None:
    """When the reminder of a session in ``slot`` is due: lead time before the start, at once if that has
    passed but the session has not started yet; None once it has started."""
    current = now or datetime.now(UTC)
    start = slot_start(event, slot)
    if start <= current:
        return None
    return max(start - reminder_lead(app), current)


def reminder_lead(app: App) -> timedelta:
    config = app.settings.sessions
    if config.reminder_lead_seconds is not None:
        return timedelta(seconds=config.reminder_lead_seconds)
    return timedelta(minutes=config.reminder_minutes)


def schedule_reminder(app: App, session_id: int, due: datetime | None) -> None:
    """Replace the session's reminder job (call after the commit that stored ``reminder_due_at``)."""
    app.jobs.cancel(reminder_job_id(session_id))
    if due is not None:
        app.jobs.at(reminder_job_id(session_id), fire_session_reminder, due, session_id)


def schedule_slot(app: App, slot_id: int, due: datetime | None) -> None:
    app.jobs.cancel(slot_job_id(slot_id))
    if due is not None:
        app.jobs.at(slot_job_id(slot_id), announce_slot, due, slot_id)


def _same_time(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs((a - b).total_seconds()) < 2


async def fire_session_reminder(app: App, session_id: int, *, scheduled_for: datetime) -> None:
    """Job: the direct-message reminder to every confirmed member and host, exactly once per schedule."""
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is None or row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            return
        if row.reminder_sent_at is not None or not _same_time(row.reminder_due_at, scheduled_for):
            return  # already sent, or a stale job of an earlier schedule
        claimed = await db.execute(
            update(BarcampSession)
            .where(BarcampSession.id == session_id, BarcampSession.reminder_sent_at.is_(None))
            .values(reminder_sent_at=datetime.now(UTC))
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return
        event = await db.get(SessionEvent, row.event_id)
        slot = await db.get(SessionSlot, row.slot_id)
        if event is None or slot is None or slot_start(event, slot) <= datetime.now(UTC):
            return  # the bot was down until the session began: a reminder now would only be noise
        people = {s.user_id for s in await signups_of(db, row.id) if s.state == SignupState.CONFIRMED}
        people |= {h.user_id for h in row.hosts}
        for user_id in sorted(people):
            t = await translator_for(app, db, user_id)
            text = t(
                "sessions_reminder",
                title=esc(row.title),
                session_id=row.id,
                when=when_text(event, slot, t),
                where=where_text(row, t),
            )
            db.add(app.sender.prepare(text, to_user=user_id))
    app.sender.wake()


async def announce_slot(app: App, slot_id: int, *, scheduled_for: datetime) -> None:
    """Job: at the start of a session round, list its sessions in the event room (published events only)."""
    async with app.db.session() as db:
        slot = await db.get(SessionSlot, slot_id)
        if (
            slot is None
            or slot.announced_at is not None
            or not _same_time(slot.announce_due_at, scheduled_for)
        ):
            return
        claimed = await db.execute(
            update(SessionSlot)
            .where(SessionSlot.id == slot_id, SessionSlot.announced_at.is_(None))
            .values(announced_at=datetime.now(UTC))
        )
        if getattr(claimed, "rowcount", 1) != 1:
            return
        event = await db.get(SessionEvent, slot.event_id)
        if (
            event is None
            or event.status != EventStatus.PUBLISHED
            or slot_end(event, slot) <= datetime.now(UTC)
        ):
            return
        rows = (
            await db.scalars(
                select(BarcampSession)
                .where(BarcampSession.slot_id == slot_id, BarcampSession.status == SessionStatus.SCHEDULED)
                .order_by(BarcampSession.id)
            )
        ).all()
        if not rows:
            return
        views = await session_views(db, rows)
        language = await _room_language(app, db, event.room_id)
        t = with_prefix(app.catalog.translator(language), app.settings.bot.command_prefix)
        text = announcement_text(event, slot, views, t)
        db.add(app.sender.prepare(text, room_id=event.room_id, track=(SLOT_KIND, slot_id)))
    app.sender.wake()


SESSION_KIND = "session_announcement"
SLOT_KIND = "session_slot_announcement"
NUMBER_KEYS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")


def announcement_text(
    event: SessionEvent, slot: SessionSlot, sessions: Sequence[SessionView], t: Translate
) -> str:
    from .agenda import seats_text

    lines = [t("sessions_slot_announcement", name=esc(slot.name), start=slot.start, end=slot.end)]
    for index, view in enumerate(sessions):
        key = NUMBER_KEYS[index] if index < len(NUMBER_KEYS) else "-"
        details = [seats_text(view, t)]
        if view.location:
            details.append(t("sessions_location", location=location_markdown(view.location)))
        lines.append(
            t(
                "sessions_slot_announcement_line",
                key=key,
                title=esc(view.title),
                session_id=view.id,
                details=" · ".join(details),
            )
        )
    hint = "sessions_slot_announcement_hint_one" if len(sessions) == 1 else "sessions_slot_announcement_hint"
    lines.append("\n" + t(hint))
    return "\n".join(lines)


async def _room_language(app: App, db: AsyncSession, room_id: str) -> str:
    from storage.models import RoomSetting

    setting = await db.get(RoomSetting, room_id)
    return (setting.language if setting else None) or app.settings.bot.language


async def reschedule_missing(app: App) -> None:
    """Start hook: re-create reminder and announcement jobs lost in a crash (the rows are the truth)."""
    now = datetime.now(UTC)
    async with app.db.session() as db:
        reminders = (
            await db.scalars(
                select(BarcampSession).where(
                    BarcampSession.status == SessionStatus.SCHEDULED,
                    BarcampSession.reminder_due_at.is_not(None),
                    BarcampSession.reminder_sent_at.is_(None),
                )
            )
        ).all()
        slots = (
            await db.scalars(
                select(SessionSlot).where(
                    SessionSlot.announce_due_at.is_not(None), SessionSlot.announced_at.is_(None)
                )
            )
        ).all()
        pending_reminders = [(r.id, r.reminder_due_at) for r in reminders]
        pending_slots = [(s.id, s.announce_due_at) for s in slots]
    for session_id, due in pending_reminders:
        if due is not None and not app.jobs.exists(reminder_job_id(session_id)):
            app.jobs.at(reminder_job_id(session_id), fire_session_reminder, due, session_id)
    for slot_id, due in pending_slots:
        if due is not None and due > now - timedelta(days=1) and not app.jobs.exists(slot_job_id(slot_id)):
            app.jobs.at(slot_job_id(slot_id), announce_slot, due, slot_id)


async def hosts_and_signed_up(db: AsyncSession, row: BarcampSession) -> list[str]:
    people = {s.user_id for s in await signups_of(db, row.id)} | {h.user_id for h in row.hosts}
    return sorted(people)


__all__ = [
    "Change",
    "EventData",
    "announce_slot",
    "event_lock",
    "fire_session_reminder",
]
