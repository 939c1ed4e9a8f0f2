"""The sessions feature's scheduled jobs: reminders before a session, announcements at a round's start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.format import esc
from bot.i18n import Translate
from storage.db import claimed
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionSlot,
)

from .agenda import location_markdown, seats_text
from .feature import sessions_settings
from .rules import (
    EventStatus,
    SessionStatus,
    SessionView,
    SignupState,
    with_prefix,
)

if TYPE_CHECKING:
    from bot.app import App
from .feature import NUMBER_KEYS, SLOT_KIND, feature
from .queries import (
    queue_session_dms,
    room_language,
    session_views,
    signups_of,
    slot_end,
    slot_start,
)


def reminder_job_id(session_id: int) -> str:
    return f"session-reminder:{session_id}"


def slot_job_id(slot_id: int) -> str:
    return f"session-slot:{slot_id}"


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
    config = sessions_settings(app)
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


@feature.job("sessions.reminder")
async def fire_session_reminder(app: App, session_id: int, *, scheduled_for: datetime) -> None:
    """Job: the direct-message reminder to every confirmed member and host, exactly once per schedule."""
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is None or row.status != SessionStatus.SCHEDULED or row.slot_id is None:
            return
        if row.reminder_sent_at is not None or not _same_time(row.reminder_due_at, scheduled_for):
            return  # already sent, or a stale job of an earlier schedule
        if not await claimed(
            db,
            update(BarcampSession)
            .where(BarcampSession.id == session_id, BarcampSession.reminder_sent_at.is_(None))
            .values(reminder_sent_at=datetime.now(UTC)),
        ):
            return
        event = await db.get(SessionEvent, row.event_id)
        slot = await db.get(SessionSlot, row.slot_id)
        if event is None or slot is None or slot_start(event, slot) <= datetime.now(UTC):
            return  # the bot was down until the session began: a reminder now would only be noise
        people = {s.user_id for s in await signups_of(db, row.id) if s.state == SignupState.CONFIRMED}
        people |= {h.user_id for h in row.hosts}
        await queue_session_dms(app, db, sorted(people), "sessions_reminder", row, event, slot)
    app.sender.wake()


@feature.job("sessions.round_announcement")
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
        if not await claimed(
            db,
            update(SessionSlot)
            .where(SessionSlot.id == slot_id, SessionSlot.announced_at.is_(None))
            .values(announced_at=datetime.now(UTC)),
        ):
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
        language = await room_language(app, db, event.room_id)
        t = with_prefix(app.catalog.translator(language), app.settings.bot.command_prefix)
        text = announcement_text(event, slot, views, t)
        db.add(app.sender.prepare(text, room_id=event.room_id, track=(SLOT_KIND, slot_id)))
    app.sender.wake()


def announcement_text(
    event: SessionEvent, slot: SessionSlot, sessions: Sequence[SessionView], t: Translate
) -> str:

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


@feature.on_start
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
