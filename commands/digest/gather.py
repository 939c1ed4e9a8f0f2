"""Reading a month's numbers from the database: the data half of the digest (composition is in compose.py).

Scope: ``room_id`` set means one community room; None means network-wide (every room). The tables of the
sessions, networking and bingo features are imported inside the functions that read them, so the digest still
works (showing zero) when a feature is not installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from commands.digest.compose import (
    DigestData,
    NewsItem,
    UpcomingEvent,
    UpcomingSession,
    month_bounds,
    next_month,
)
from commands.digest.gather_results import session_results
from commands.digest.status import NewsStatus
from storage.digest import DigestNews
from storage.models import DirectRoom, RoomMembership

log = logging.getLogger(__name__)

NameOf = Callable[[str], str]

# Session events that never took place (or are not announced yet) are neither counted nor listed.
_INACTIVE_EVENT_STATES = ("draft", "cancelled")


def localpart(user_id: str) -> str:
    """``@anna.schmidt:example.org`` → ``anna.schmidt`` (the fallback when no display name is known)."""
    return user_id.split(":", 1)[0].lstrip("@") or user_id


async def gather_digest_data(
    session: AsyncSession,
    *,
    month: date,
    tz: ZoneInfo,
    room_id: str | None,
    scope_name: str,
    name_of: NameOf = localpart,
) -> DigestData:
    """Everything the digest of ``month`` (first day) shows, for one room or (room_id None) the network."""
    month = month.replace(day=1)
    start, end = month_bounds(month, tz)
    held = await _held_sessions(session, month, room_id)
    upcoming_events, upcoming = await _upcoming(session, next_month(month), room_id)
    rounds, contacts = await _networking(session, start, end, room_id)
    games, winners = await _bingo(session, start, end, room_id)
    pairings, meetings = await _coffee(session, start, end, room_id)
    return DigestData(
        month=month,
        scope_name=scope_name,
        upcoming_events=upcoming_events,
        upcoming=upcoming,
        held_events=held[0],
        held_sessions=held[1],
        attendance=held[2],
        networking_rounds=rounds,
        new_contacts=contacts,
        bingo_games=games,
        bingo_winners=_unique([name_of(user) for user in winners]),
        new_members=await _new_members(session, start, end, room_id),
        news=await _news(session, start, end, room_id, name_of),
        coffee_pairings=pairings,
        coffee_meetings=meetings,
        session_results=await session_results(session, start, end, room_id),
    )


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


def _in_scope(column: Any, room_id: str | None) -> Any:
    return true() if room_id is None else column == room_id


# --- sessions -----------------------------------------------------------------------------------------------


async def _held_sessions(session: AsyncSession, month: date, room_id: str | None) -> tuple[int, int, int]:
    """(events held, sessions held, confirmed attendances) of events whose day lies in the month."""
    try:
        from storage.sessions import BarcampSession, SessionEvent, SessionSignup
    except ImportError:
        return 0, 0, 0
    events = select(SessionEvent.id).where(
        SessionEvent.day >= month,
        SessionEvent.day < next_month(month),
        SessionEvent.status.not_in(_INACTIVE_EVENT_STATES),
        _in_scope(SessionEvent.room_id, room_id),
    )
    event_count = await session.scalar(select(func.count()).select_from(events.subquery())) or 0
    held = select(BarcampSession.id).where(
        BarcampSession.event_id.in_(events),
        BarcampSession.status == "scheduled",
        BarcampSession.slot_id.is_not(None),
    )
    session_count = await session.scalar(select(func.count()).select_from(held.subquery())) or 0
    attendance = (
        await session.scalar(
            select(func.count(SessionSignup.id)).where(
                SessionSignup.session_id.in_(held), SessionSignup.state == "confirmed"
            )
        )
        or 0
    )
    return int(event_count), int(session_count), int(attendance)


async def _upcoming(
    session: AsyncSession, month: date, room_id: str | None
) -> tuple[list[UpcomingEvent], list[UpcomingSession]]:
    """Events of ``month`` and their scheduled sessions with free seats."""
    try:
        from storage.sessions import BarcampSession, ProgramItem, SessionEvent, SessionSignup, SessionSlot
    except ImportError:
        return [], []
    event_rows = (
        await session.scalars(
            select(SessionEvent)
            .where(
                SessionEvent.day >= month,
                SessionEvent.day < next_month(month),
                SessionEvent.status.not_in(_INACTIVE_EVENT_STATES),
                _in_scope(SessionEvent.room_id, room_id),
            )
            .order_by(SessionEvent.day, SessionEvent.id)
        )
    ).all()
    if not event_rows:
        return [], []
    by_id = {event.id: event for event in event_rows}
    session_rows = (
        await session.execute(
            select(BarcampSession, SessionSlot)
            .join(SessionSlot, BarcampSession.slot_id == SessionSlot.id)
            .where(BarcampSession.event_id.in_(by_id), BarcampSession.status == "scheduled")
        )
    ).all()
    confirmed = dict(
        (
            await session.execute(
                select(SessionSignup.session_id, func.count(SessionSignup.id))
                .where(
                    SessionSignup.session_id.in_([s.id for s, _ in session_rows]),
                    SessionSignup.state == "confirmed",
                )
                .group_by(SessionSignup.session_id)
            )
        ).all()
    )
    first_times: dict[int, list[time]] = {event_id: [] for event_id in by_id}
    for event_id, at in (
        await session.execute(
            select(ProgramItem.event_id, ProgramItem.at).where(ProgramItem.event_id.in_(by_id))
        )
    ).all():
        first_times[event_id].append(at)
    sessions: list[UpcomingSession] = []
    for barcamp, slot in session_rows:
        event = by_id[barcamp.event_id]
        first_times[event.id].append(slot.start)
        taken = int(confirmed.get(barcamp.id, 0))
        sessions.append(
            UpcomingSession(
                session_id=barcamp.id,
                event_id=event.id,
                event_title=event.title,
                title=barcamp.title,
                start=_at(event.day, slot.start, event.timezone),
                free_seats=max(0, barcamp.capacity - taken) if barcamp.capacity is not None else 0,
                capacity=barcamp.capacity,
            )
        )
    events = [
        UpcomingEvent(
            event_id=event.id,
            title=event.title,
            start=_at(event.day, min(first_times[event.id], default=time(0)), event.timezone),
        )
        for event in event_rows
    ]
    return events, sessions


def _at(day: date, clock: time, zone: str) -> datetime:
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("Europe/Berlin")
    return datetime.combine(day, clock, tzinfo=tz)


# --- networking -------------------------------------------------------------------------------------------


async def _coffee(
    session: AsyncSession, start: datetime, end: datetime, room_id: str | None
) -> tuple[int, int]:
    """(NExT-Kaffee pairs and trios made in the month, those of them that met). Network-wide only: a pairing
    belongs to no community room."""
    try:
        from storage.coffee import CoffeeAnswer, CoffeeGroup
    except ImportError:
        return 0, 0
    if room_id is not None:
        return 0, 0
    made = select(CoffeeGroup.id).where(CoffeeGroup.created_at >= start, CoffeeGroup.created_at < end)
    pairings = await session.scalar(select(func.count()).select_from(made.subquery())) or 0
    met = await session.scalar(
        select(func.count(func.distinct(CoffeeAnswer.group_id))).where(
            CoffeeAnswer.group_id.in_(made), CoffeeAnswer.answer == "yes"
        )
    )
    return int(pairings), int(met or 0)


async def _networking(
    session: AsyncSession, start: datetime, end: datetime, room_id: str | None
) -> tuple[int, int]:
    """(networking rounds started in the month, pairs of people who met for the first time in the month)."""
    try:
        from storage.networking import Meeting, NetworkingBlock, NetworkingRound
    except ImportError:
        return 0, 0
    rounds = (
        await session.scalar(
            select(func.count(NetworkingRound.id))
            .join(NetworkingBlock, NetworkingRound.block_id == NetworkingBlock.id)
            .where(
                NetworkingRound.started_at >= start,
                NetworkingRound.started_at < end,
                _in_scope(NetworkingBlock.room_id, room_id),
            )
        )
        or 0
    )
    earlier = aliased(Meeting)
    met_before = exists().where(
        and_(earlier.user_a == Meeting.user_a, earlier.user_b == Meeting.user_b, earlier.met_at < start)
    )
    pairs = (
        select(Meeting.user_a, Meeting.user_b)
        .where(
            Meeting.met_at >= start,
            Meeting.met_at < end,
            _in_scope(Meeting.room_id, room_id),
            ~met_before,
        )
        .distinct()
    )
    contacts = await session.scalar(select(func.count()).select_from(pairs.subquery())) or 0
    return int(rounds), int(contacts)


# --- bingo ------------------------------------------------------------------------------------------------


async def _bingo(
    session: AsyncSession, start: datetime, end: datetime, room_id: str | None
) -> tuple[int, list[str]]:
    """(games started in the month, the user IDs of each game's first BINGO, in the order of the games)."""
    try:
        from storage.bingo import BingoCard, BingoGame
    except ImportError:
        return 0, []
    games = select(BingoGame.id).where(
        BingoGame.started_at >= start,
        BingoGame.started_at < end,
        _in_scope(BingoGame.room_id, room_id),
    )
    count = await session.scalar(select(func.count()).select_from(games.subquery())) or 0
    winners = (
        await session.scalars(
            select(BingoCard.player_id)
            .join(BingoGame, BingoCard.game_id == BingoGame.id)
            .where(BingoCard.game_id.in_(games), BingoCard.place == 1)
            .order_by(BingoGame.started_at, BingoGame.id, BingoCard.first_line_at, BingoCard.id)
        )
    ).all()
    return int(count), list(winners)


# --- members and news -------------------------------------------------------------------------------------


async def _new_members(session: AsyncSession, start: datetime, end: datetime, room_id: str | None) -> int:
    """Room scope: people who joined the room in the month. Network: people whose first join of any
    community room (direct chats with the bot do not count) falls in the month."""
    if room_id is not None:
        count = await session.scalar(
            select(func.count(RoomMembership.id)).where(
                RoomMembership.room_id == room_id,
                RoomMembership.joined_at >= start,
                RoomMembership.joined_at < end,
            )
        )
        return int(count or 0)
    first_join = (
        select(RoomMembership.user_id, func.min(RoomMembership.joined_at).label("first"))
        .where(RoomMembership.room_id.not_in(select(DirectRoom.room_id)))
        .group_by(RoomMembership.user_id)
        .subquery()
    )
    rows = (await session.execute(select(first_join.c.first))).scalars().all()
    # Compared in Python: the aggregate loses the column type (and with it the UTC conversion) on SQLite.
    return sum(1 for first in rows if first is not None and start <= _aware(first) < end)


def _aware(value: datetime | str) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def _news(
    session: AsyncSession, start: datetime, end: datetime, room_id: str | None, name_of: NameOf
) -> list[NewsItem]:
    rows = (
        await session.scalars(
            select(DigestNews)
            .where(
                DigestNews.status == NewsStatus.APPROVED,
                DigestNews.decided_at >= start,
                DigestNews.decided_at < end,
                _in_scope(DigestNews.room_id, room_id),
            )
            .order_by(DigestNews.decided_at, DigestNews.id)
        )
    ).all()
    return [
        NewsItem(news_id=row.id, author=name_of(row.author_id), text=row.text, approved_at=row.decided_at)
        for row in rows
        if row.decided_at is not None
    ]
