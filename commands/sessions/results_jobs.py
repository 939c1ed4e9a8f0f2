"""The job that asks a session's hosts for results when the session ends.

Scheduled (stable name ``sessions.ask_results``, job id per session) when a session is scheduled or moved,
removed when it is cancelled, re-created at start for sessions not asked yet. The job asks once: the
``session_result_requests`` row is written in the transaction that queues the direct messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.sessions import BarcampSession, SessionEvent, SessionResultRequest, SessionSlot

from .feature import feature
from .queries import slot_end
from .results_service import ask_hosts_for_results
from .rules import SessionStatus

if TYPE_CHECKING:
    from bot.app import App

# A session that ended longer ago than this when the bot (re)starts is not asked about any more.
ASK_AT_MOST_AFTER = timedelta(days=1)


def results_job_id(session_id: int) -> str:
    return f"session-results:{session_id}"


async def schedule_results(app: App, session_id: int) -> datetime | None:
    """(Re)place the session's results job at the end of its time slot (at once if that has passed)."""
    app.jobs.cancel(results_job_id(session_id))
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is None or row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            return None
        if await db.get(SessionResultRequest, session_id) is not None:
            return None  # asked already (a session moved after it was held is not asked twice)
        event = await db.get(SessionEvent, row.event_id)
        slot = await db.get(SessionSlot, row.slot_id)
        if event is None or slot is None:
            return None
        due = max(slot_end(event, slot), datetime.now(UTC))
    app.jobs.at(results_job_id(session_id), ask_for_results, due, session_id)
    return due


def cancel_results(app: App, session_id: int) -> None:
    app.jobs.cancel(results_job_id(session_id))


@feature.job("sessions.ask_results")
async def ask_for_results(app: App, session_id: int, *, scheduled_for: datetime) -> None:
    """Job: at the session's end, a direct message to each host asking for key points and links."""
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is None or row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            return
        event = await db.get(SessionEvent, row.event_id)
        slot = await db.get(SessionSlot, row.slot_id)
        if event is None or slot is None:
            return
        if scheduled_for < slot_end(event, slot) - timedelta(seconds=2):
            return  # a stale job: the session was moved to a later time slot
        if await db.get(SessionResultRequest, session_id) is not None:
            return
        db.add(SessionResultRequest(session_id=session_id, asked_at=datetime.now(UTC)))
        await db.flush()
        await ask_hosts_for_results(app, db, row)
    app.sender.wake()


@feature.on_start
async def reschedule_results(app: App) -> None:
    """Start hook: re-create results jobs lost in a crash (sessions held recently and not asked yet)."""
    now = datetime.now(UTC)
    async with app.db.session() as db:
        asked = select(SessionResultRequest.session_id)
        rows = (
            await db.execute(
                select(BarcampSession.id, SessionEvent, SessionSlot)
                .join(SessionSlot, SessionSlot.id == BarcampSession.slot_id)
                .join(SessionEvent, SessionEvent.id == BarcampSession.event_id)
                .where(BarcampSession.status == SessionStatus.SCHEDULED, BarcampSession.id.not_in(asked))
            )
        ).all()
        pending = [(session_id, slot_end(event, slot)) for session_id, event, slot in rows]
    for session_id, end in pending:
        if end > now - ASK_AT_MOST_AFTER and not app.jobs.exists(results_job_id(session_id)):
            app.jobs.at(results_job_id(session_id), ask_for_results, max(end, now), session_id)
