"""Reading the sessions feature's data: rows as the views of :mod:`.rules`, an event's agenda in four
statements, times of rounds, and who is concerned by a session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, ScalarSelect, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import esc
from bot.i18n import Translate
from storage.db import read_together
from storage.models import Member
from storage.one_hop import Prepared
from storage.sessions import (
    BarcampSession,
    ProgramItem,
    SessionEvent,
    SessionHost,
    SessionInterest,
    SessionSignup,
    SessionSlot,
)
from timephrases import format_date

from .agenda import location_markdown
from .rules import (
    EventStatus,
    EventView,
    ProgramItemView,
    SessionView,
    SignupState,
    SignupView,
    SlotView,
    with_prefix,
)

if TYPE_CHECKING:
    from bot.app import App


# Where a session belongs: its event and the event's room, read before taking the event's lock and for the
# room check of a sign-up. A session never changes its event, nor an event its room except by a room upgrade
# (which clears ``app.facts``), so the answer is remembered: sign-ups and withdrawals, the busiest writes,
# skip this read. A deleted session is forgotten (``forget_session``).
SESSION_PLACE = (
    select(BarcampSession.event_id, SessionEvent.room_id)
    .join(SessionEvent, SessionEvent.id == BarcampSession.event_id)
    .where(BarcampSession.id == bindparam("session_id", type_=Integer))
)


async def session_place(app: App, session_id: int) -> tuple[int, str] | None:
    """(event id, room id) of a session; None if there is no such session."""
    known: tuple[int, str] | None = app.facts.get("session-place", session_id)
    if known is not None:
        return known
    async with app.db.transaction() as connection:
        row = (await connection.execute(SESSION_PLACE, {"session_id": session_id})).one_or_none()
    if row is None:
        return None
    place = (int(row[0]), str(row[1]))
    app.facts.remember(place, "session-place", session_id)
    return place


def forget_session(app: App, session_id: int) -> None:
    app.facts.forget("session-place", session_id)


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


def session_view(
    row: BarcampSession, confirmed: int = 0, waitlisted: int = 0, *, hosts: tuple[str, ...] | None = None
) -> SessionView:
    """``hosts``: the hosts' Matrix IDs, sorted, when the caller read them without loading ``row.hosts``."""
    return SessionView(
        id=row.id,
        title=row.title,
        description=row.description or "",
        hosts=hosts if hosts is not None else tuple(sorted(h.user_id for h in row.hosts)),
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
    interest: dict[int, int]  # members interested per session (each once, whatever the sources)

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
        select(func.count(func.distinct(SessionInterest.user_id)))
        .where(SessionInterest.session_id == BarcampSession.id)
        .correlate(BarcampSession)
        .scalar_subquery(),
    )
    .where(BarcampSession.event_id == _EVENT_ID)
    .order_by(BarcampSession.id)
)
HOSTS = (
    select(SessionHost.session_id, SessionHost.user_id)
    .join(BarcampSession, BarcampSession.id == SessionHost.session_id)
    .where(BarcampSession.event_id == _EVENT_ID)
)


EVENT_DATA = tuple(Prepared.of(query) for query in (PROGRAM_ITEMS, SLOTS, HOSTS, SESSIONS_WITH_COUNTS))


async def load_event_data(db: AsyncSession, event: SessionEvent) -> EventData:
    """Program items, rounds and sessions (with hosts, sign-up and interest counts) of an event: four
    statements, read together (one round trip on SQLite)."""
    params = {"event_id": event.id}
    item_rows, slot_rows, host_rows, rows = await read_together(db, *((unit, params) for unit in EVENT_DATA))
    items = [ProgramItemView(at, label) for at, label in item_rows]
    slots = [SlotView(*row) for row in slot_rows]
    hosts: dict[int, list[str]] = {}
    for session_id, user_id in host_rows:
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
            _,
        ) in rows
    ]
    interest = {int(row[0]): int(row[-1]) for row in rows}
    return EventData(event, items, slots, sessions, interest)


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

    return t("sessions_when", date=format_date(event.day, t.language), start=slot.start, end=slot.end)


def where_text(row: BarcampSession, t: Translate) -> str:
    location = session_location(row.location, row.matrix_room_id)
    return t("sessions_where", location=location_markdown(location)) if location else ""


async def room_language(app: App, db: AsyncSession, room_id: str) -> str:
    from storage.models import RoomSetting

    setting = await db.get(RoomSetting, room_id)
    return (setting.language if setting else None) or app.settings.bot.language


async def hosts_and_signed_up(db: AsyncSession, row: BarcampSession) -> list[str]:
    people = {s.user_id for s in await signups_of(db, row.id)} | {h.user_id for h in row.hosts}
    return sorted(people)


async def queue_session_dms(
    app: App,
    db: AsyncSession,
    people: Iterable[str],
    key: str,
    row: BarcampSession,
    event: SessionEvent,
    slot: SessionSlot,
) -> None:
    """Queue the direct message ``key`` about a session (title, number, when, where) to each of ``people``,
    each in their own language; sent on ``sender.wake()`` after the transaction commits."""
    for user_id in people:
        t = await translator_for(app, db, user_id)
        text = t(
            key,
            title=esc(row.title),
            session_id=row.id,
            when=when_text(event, slot, t),
            where=where_text(row, t),
        )
        db.add(app.sender.prepare(text, to_user=user_id))
