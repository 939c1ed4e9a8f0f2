"""Housekeeping jobs of the bot itself: leaving rooms whose purpose is over, pruning old records.

They are registered like a feature's jobs, under stable names (``housekeeping.*``), and run every
``[bot] housekeeping_minutes``. Retention (``[storage] keep_*``) is chosen so that pruning never weakens
"nothing is answered twice": see docs/operations.md, "Pruning".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nio import RoomLeaveError
from sqlalchemy import delete, select, update

from bot.framework import Feature
from storage.models import BotMessage, OutboxMessage, ProcessedEvent, Reaction, RoomSetting

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

housekeeping = Feature("housekeeping", order=1000)

LEAVE_JOB_ID = "housekeeping:leave-rooms"
PRUNE_JOB_ID = "housekeeping:prune"
FILE_TYPES = ("m.file", "m.image", "m.video", "m.audio")
PRUNE_BATCH = 2000


async def remember_created_room(app: App, room_id: str, purpose_ends: datetime | None) -> None:
    """A room the bot made for particular people: it leaves it ``leave_created_rooms_after_hours`` after
    ``purpose_ends`` (default: now — intro and partner rooms)."""
    hours = app.settings.bot.leave_created_rooms_after_hours
    leave_after = (purpose_ends or datetime.now(UTC)) + timedelta(hours=hours)
    async with app.db.session() as session:
        setting = await session.get(RoomSetting, room_id)
        if setting is None:
            session.add(RoomSetting(room_id=room_id, leave_after=leave_after))
        else:
            setting.leave_after = leave_after


@housekeeping.job("housekeeping.leave_rooms")
async def leave_finished_rooms(app: App, *, scheduled_for: datetime) -> None:
    now = datetime.now(UTC)
    async with app.db.session() as session:
        due = (
            await session.scalars(
                select(RoomSetting.room_id).where(
                    RoomSetting.leave_after.is_not(None), RoomSetting.leave_after <= now
                )
            )
        ).all()
    for room_id in due:
        response = await app.matrix.client.room_leave(room_id)
        gone = ("M_FORBIDDEN", "M_NOT_FOUND")  # not in the room any more: nothing to leave
        if isinstance(response, RoomLeaveError) and response.status_code not in gone:
            log.warning("could not leave %s (its purpose is over): %s", room_id, response.message)
            continue
        log.info("left %s: the room the bot created has served its purpose", room_id)
        async with app.db.session() as session:
            await session.execute(
                update(RoomSetting).where(RoomSetting.room_id == room_id).values(leave_after=None)
            )


@housekeeping.job("housekeeping.prune")
async def prune_job(app: App, *, scheduled_for: datetime) -> None:
    await prune(app)


async def prune(app: App) -> dict[str, int]:
    """Delete records past their retention; returns how many of each went (logged at INFO)."""
    keep = app.settings.storage
    now = datetime.now(UTC)
    # Never less than the window in which a restarted bot still answers commands, plus a day.
    min_processed = timedelta(minutes=app.settings.bot.command_max_age_minutes) + timedelta(days=1)
    processed_before = now - max(timedelta(days=keep.keep_processed_events_days), min_processed)
    counts: dict[str, int] = {}
    async with app.db.session() as session:
        result = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < processed_before)
        )
        counts["processed_events"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.failed_at.is_not(None),
                OutboxMessage.failed_at < now - timedelta(days=keep.keep_failed_messages_days),
            )
        )
        counts["outbox_failed"] = int(getattr(result, "rowcount", 0) or 0)
        messages_before = now - timedelta(days=keep.keep_bot_messages_days)
        old_messages = select(BotMessage.event_id).where(BotMessage.created_at < messages_before)
        result = await session.execute(delete(Reaction).where(Reaction.target_event_id.in_(old_messages)))
        counts["reactions"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(delete(BotMessage).where(BotMessage.created_at < messages_before))
        counts["bot_messages"] = int(getattr(result, "rowcount", 0) or 0)
    counts["outbox_sent"] = await _prune_sent(app, now - timedelta(days=keep.keep_sent_messages_days))
    if any(counts.values()):
        log.info("pruned old records: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


async def _prune_sent(app: App, before: datetime) -> int:
    """Sent messages, except files: a privacy erasure redacts the files the bot sent a member."""
    deleted = 0
    last_id = 0
    while True:
        async with app.db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.id, OutboxMessage.content)
                    .where(
                        OutboxMessage.sent_at.is_not(None),
                        OutboxMessage.sent_at < before,
                        OutboxMessage.id > last_id,
                    )
                    .order_by(OutboxMessage.id)
                    .limit(PRUNE_BATCH)
                )
            ).all()
            if not rows:
                return deleted
            last_id = rows[-1][0]
            ids = [
                row_id
                for row_id, content in rows
                if ((content or {}).get("content") or {}).get("msgtype") not in FILE_TYPES
            ]
            if ids:
                await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
                deleted += len(ids)


@housekeeping.on_start
async def schedule_housekeeping(app: App) -> None:
    minutes = app.settings.bot.housekeeping_minutes
    app.jobs.every(LEAVE_JOB_ID, leave_finished_rooms, timedelta(minutes=minutes))
    app.jobs.every(PRUNE_JOB_ID, prune_job, timedelta(minutes=minutes))
