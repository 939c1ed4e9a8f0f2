"""Interest in proposals: by reaction, by command, by poll answer; counts, rankings and polls.

A member is interested in a session when at least one ``SessionInterest`` row exists for them; each source
(reaction, command, poll) has its own row, so removing a reaction takes back only what the reaction gave.
Counts are shown to everyone, who is interested only to nobody (the planner reads it, moderators see numbers).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.framework import CommandError
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionInterest,
    SessionPoll,
    SessionPollAnswer,
    SessionPollVote,
)

from .lookups import get_event
from .polls import answer_id, chunks
from .queries import is_over
from .rules import SessionStatus

if TYPE_CHECKING:
    from bot.app import App

PROPOSAL_KIND = "session_proposal"
POLL_KIND = "session_poll"
INTEREST_KEYS = ("👍", "⭐")
MAX_NUMBER = 2**31  # database integers


class InterestSource(enum.StrEnum):
    REACTION = "reaction"
    COMMAND = "command"
    POLL = "poll"


@dataclass
class Marked:
    """What ``!interesse <Nr.> …`` did: sessions marked (id, title), numbers that are no proposal."""

    added: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)


def parse_numbers(text: str) -> list[int] | None:
    """``3 5, 7`` or ``Nr. 3`` → [3, 5, 7]; None if a word is no number."""
    words = text.replace(",", " ").replace(";", " ").split()
    numbers: list[int] = []
    for word in words:
        word = word.removeprefix("#").rstrip(".")
        if word.casefold() in ("nr", "no"):
            continue
        if not word.isdigit() or not 1 <= int(word) < MAX_NUMBER:
            return None
        if int(word) not in numbers:
            numbers.append(int(word))
    return numbers


def _open(row: BarcampSession | None, event: SessionEvent | None) -> bool:
    return (
        row is not None and event is not None and row.status != SessionStatus.CANCELLED and not is_over(event)
    )


async def mark_interest(app: App, user_id: str, session_ids: Iterable[int], source: InterestSource) -> Marked:
    marked = Marked()
    async with app.db.session() as db:
        for session_id in session_ids:
            row = await db.get(BarcampSession, session_id)
            event = await db.get(SessionEvent, row.event_id) if row is not None else None
            if row is None or not _open(row, event):
                marked.unknown.append(session_id)
                continue
            await _add(db, session_id, user_id, source)
            marked.added.append((row.id, row.title))
    return marked


async def _add(db: AsyncSession, session_id: int, user_id: str, source: str) -> None:
    exists = await db.scalar(
        select(SessionInterest.id).where(
            SessionInterest.session_id == session_id,
            SessionInterest.user_id == user_id,
            SessionInterest.source == source,
        )
    )
    if exists is None:
        db.add(SessionInterest(session_id=session_id, user_id=user_id, source=source))
        await db.flush()


async def unmark_interest(app: App, user_id: str, session_id: int, source: InterestSource) -> None:
    async with app.db.session() as db:
        await db.execute(
            delete(SessionInterest).where(
                SessionInterest.session_id == session_id,
                SessionInterest.user_id == user_id,
                SessionInterest.source == source,
            )
        )


async def my_interest(app: App, user_id: str) -> list[tuple[int, str]]:
    """The sessions (id, title) the member is interested in, of events that are not over."""
    async with app.db.session() as db:
        rows = (
            await db.execute(
                select(BarcampSession, SessionEvent)
                .join(SessionEvent, SessionEvent.id == BarcampSession.event_id)
                .where(
                    BarcampSession.id.in_(
                        select(SessionInterest.session_id).where(SessionInterest.user_id == user_id)
                    ),
                    BarcampSession.status != SessionStatus.CANCELLED,
                )
                .order_by(BarcampSession.id)
            )
        ).all()
    return [(row.id, row.title) for row, event in rows if not is_over(event)]


async def interest_counts(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, int]:
    """Members interested per session (each member once, whatever the sources)."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = await db.execute(
        select(SessionInterest.session_id, func.count(func.distinct(SessionInterest.user_id)))
        .where(SessionInterest.session_id.in_(ids))
        .group_by(SessionInterest.session_id)
    )
    counts = {session_id: int(count) for session_id, count in rows.all()}
    return {session_id: counts.get(session_id, 0) for session_id in ids}


async def interested_members(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, set[str]]:
    ids = list(session_ids)
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        rows = await db.execute(
            select(SessionInterest.session_id, SessionInterest.user_id).where(
                SessionInterest.session_id.in_(ids)
            )
        )
        for session_id, user_id in rows.all():
            found[session_id].add(user_id)
    return {session_id: found.get(session_id, set()) for session_id in ids}


async def event_sessions(db: AsyncSession, event_id: int) -> list[BarcampSession]:
    """The event's sessions that are not cancelled, by number."""
    return list(
        (
            await db.scalars(
                select(BarcampSession)
                .where(BarcampSession.event_id == event_id, BarcampSession.status != SessionStatus.CANCELLED)
                .order_by(BarcampSession.id)
            )
        ).all()
    )


async def ranking(app: App, event_id: int) -> tuple[str, list[tuple[int, str, int]]]:
    """The event's title and its sessions (id, title, interest), most interest first."""
    async with app.db.session() as db:
        event = await get_event(db, event_id)
        rows = await event_sessions(db, event_id)
        counts = await interest_counts(db, [r.id for r in rows])
    ranked = sorted(((r.id, r.title, counts[r.id]) for r in rows), key=lambda item: (-item[2], item[0]))
    return event.title, ranked


@dataclass(frozen=True)
class NewPoll:
    poll_id: int
    answers: list[tuple[str, int, str]]  # (answer id, session number, title)


async def create_polls(app: App, event_id: int) -> tuple[str, list[NewPoll]]:
    """Poll rows for the event's proposals (at most 20 answers each); the caller sends them."""
    async with app.db.session() as db:
        event = await get_event(db, event_id)
        rows = [r for r in await event_sessions(db, event_id) if r.status == SessionStatus.PROPOSED]
        if not rows:
            raise CommandError("sessions_poll_error_no_proposals", event_id=event_id)
        polls: list[NewPoll] = []
        for part in chunks(rows):
            poll = SessionPoll(event_id=event_id)
            db.add(poll)
            await db.flush()
            answers = [(answer_id(r.id), r.id, r.title) for r in part]
            for r in part:
                db.add(SessionPollAnswer(poll_id=poll.id, answer_id=answer_id(r.id), session_id=r.id))
            polls.append(NewPoll(poll.id, answers))
        return event.title, polls


async def record_poll_response(
    app: App, poll_id: int, user_id: str, answers: list[str], origin_ts: int
) -> None:
    """A member's response replaces their earlier one of the same poll (an older one arriving late is
    ignored); the poll's sessions get exactly the chosen ones as the member's poll interest."""
    async with app.locks.for_key("sessions-poll", poll_id), app.db.session() as db:
        answered_at = datetime.fromtimestamp(origin_ts / 1000, UTC)
        vote = await db.get(SessionPollVote, (poll_id, user_id))
        if vote is not None and vote.answered_at > answered_at:
            return
        if vote is None:
            db.add(SessionPollVote(poll_id=poll_id, user_id=user_id, answered_at=answered_at))
        else:
            vote.answered_at = answered_at
        mapping = {
            a.answer_id: a.session_id
            for a in (await db.scalars(select(SessionPollAnswer).where(SessionPollAnswer.poll_id == poll_id)))
        }
        await db.execute(
            delete(SessionInterest).where(
                SessionInterest.user_id == user_id,
                SessionInterest.source == InterestSource.POLL,
                SessionInterest.session_id.in_(list(mapping.values())),
            )
        )
        for session_id in {mapping[a] for a in answers if a in mapping}:
            row = await db.get(BarcampSession, session_id)
            if row is not None and row.status != SessionStatus.CANCELLED:
                db.add(SessionInterest(session_id=session_id, user_id=user_id, source=InterestSource.POLL))
