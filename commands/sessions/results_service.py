"""Database side of session results: reading them, adding/replacing/clearing entries, the plenum summary,
and the direct message that asks a session's hosts for results when it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import esc
from bot.framework import CommandError
from storage.sessions import BarcampSession, SessionEvent, SessionResult, SessionSlot

from .feature import fail
from .lookups import get_event, get_session
from .queries import translator_for, when_text
from .results_format import (
    MAX_LINKS,
    MAX_POINTS,
    ResultAction,
    ResultEntry,
    ResultVerb,
    check_result,
)
from .rules import SessionStatus
from .service import event_lock

if TYPE_CHECKING:
    from bot.app import App

RESULTS_REQUEST_KIND = "session_results_request"


async def load_results(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, list[ResultEntry]]:
    """Every session's results in the order they came in (sessions without results are left out)."""
    ids = list(session_ids)
    found: dict[int, list[ResultEntry]] = {}
    if not ids:
        return found
    rows = await db.execute(
        select(SessionResult.session_id, SessionResult.kind, SessionResult.text)
        .where(SessionResult.session_id.in_(ids))
        .order_by(SessionResult.session_id, SessionResult.id)
    )
    for session_id, kind, text in rows:
        found.setdefault(session_id, []).append(ResultEntry(kind, text))
    return found


@dataclass(frozen=True)
class ResultsChange:
    session_id: int
    title: str
    verb: ResultVerb
    entries: list[ResultEntry]


async def change_results(
    app: App,
    session_id: int,
    actions: Sequence[ResultAction],
    *,
    by: str,
    is_moderator: Callable[[SessionEvent], bool],
) -> ResultsChange:
    """Add, replace or clear results of a session; only its hosts and the event's moderators may."""
    async with app.db.session() as db:
        event_id = (await get_session(db, session_id)).event_id
    async with event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, row.event_id)
        if by not in {h.user_id for h in row.hosts} and not is_moderator(event):
            raise CommandError("sessions_results_error_not_host", session_id=session_id)
        stored = list(
            (
                await db.scalars(
                    select(SessionResult)
                    .where(SessionResult.session_id == session_id)
                    .order_by(SessionResult.id)
                )
            ).all()
        )
        scheduled = row.status == SessionStatus.SCHEDULED and row.slot_id is not None
        for action in actions:  # all or nothing: a refused entry leaves the results as they were
            existing = [ResultEntry(r.kind, r.text) for r in stored]
            problem = check_result(
                action, existing, session_id=session_id, status=row.status, scheduled=scheduled
            )
            if problem:
                raise fail(problem)
            await _apply(db, session_id, stored, action, by)
        entries = (await load_results(db, [session_id])).get(session_id, [])
        return ResultsChange(session_id, row.title, actions[-1].verb, entries)


async def _apply(
    db: AsyncSession, session_id: int, stored: list[SessionResult], action: ResultAction, by: str
) -> None:
    """Apply one checked action to the session's rows (``stored`` is kept in step)."""
    if action.verb is ResultVerb.ADD:
        row = SessionResult(
            session_id=session_id,
            kind=action.kind,
            text=action.text.strip(),
            author_id=by,
            created_at=datetime.now(UTC),
        )
        db.add(row)
        stored.append(row)
    elif action.verb is ResultVerb.REPLACE and action.index is not None:
        target = stored[action.index - 1]
        target.kind, target.text, target.author_id = action.kind, action.text.strip(), by
        target.created_at = datetime.now(UTC)
    elif action.index is not None:
        await db.delete(stored.pop(action.index - 1))
    else:
        await db.execute(delete(SessionResult).where(SessionResult.session_id == session_id))
        stored.clear()
    await db.flush()


async def ask_hosts_for_results(app: App, db: AsyncSession, row: BarcampSession) -> list[str]:
    """Queue the end-of-session direct message to each host (tracked: a reply to it is a result)."""
    event = await db.get(SessionEvent, row.event_id)
    slot = await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None
    hosts = sorted(h.user_id for h in row.hosts)
    for user_id in hosts:
        t = await translator_for(app, db, user_id)
        when = when_text(event, slot, t) if event is not None and slot is not None else ""
        text = t(
            "sessions_results_request_dm",
            title=esc(row.title),
            session_id=row.id,
            when=when,
            points=MAX_POINTS,
            links=MAX_LINKS,
        )
        db.add(app.sender.prepare(text, to_user=user_id, track=(RESULTS_REQUEST_KIND, row.id)))
    return hosts


async def event_by_title(db: AsyncSession, words: str) -> Sequence[SessionEvent]:
    """Events whose title contains ``words`` (any case), latest first."""
    wanted = words.strip().casefold()
    events = (await db.scalars(select(SessionEvent).order_by(SessionEvent.day.desc(), SessionEvent.id))).all()
    exact = [e for e in events if e.title.casefold() == wanted]
    return exact or [e for e in events if wanted in e.title.casefold()]
