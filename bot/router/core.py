"""The router's shared state: one queue per room, claims on handled events, and a command's context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nio import MatrixRoom
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from bot.context import CommandContext
from bot.framework import Command, fold
from bot.i18n import normalize_language
from bot.ratelimit import RateLimiter
from bot.sender import pill
from storage.base import utcnow
from storage.db import Database
from storage.models import Member, ProcessedEvent, Reaction, RoomSetting
from storage.one_hop import Prepared

if TYPE_CHECKING:
    from bot.app import App

# One logger for the whole router, named as before the split.
log = logging.getLogger(__package__)


# Built once: they run before every command, and a prebuilt statement saves SQLAlchemy's construction and
# cache-key work on each call. Parameters: event_id, room_id / sender, room_id.
CLAIM = insert(ProcessedEvent)
_SENDER: BindParameter[str] = bindparam("sender")
PREFERENCES = select(
    select(Member.language).where(Member.user_id == _SENDER).scalar_subquery(),
    select(Member.timezone).where(Member.user_id == _SENDER).scalar_subquery(),
    select(RoomSetting.language).where(RoomSetting.room_id == bindparam("room_id")).scalar_subquery(),
)


# The claim runs before every command: insert, read the settings, commit — one round trip on SQLite.
CLAIM_UNIT = Prepared.of(CLAIM, ("event_id", "room_id", "processed_at", "failed"))
PREFERENCES_UNIT = Prepared.of(PREFERENCES)


async def claim_event(db: Database, event_id: str, room_id: str, sender: str) -> Preferences | None:
    """Record the event as handled and read the member's and the room's settings, in one transaction (one
    round trip on SQLite); None if it was recorded before."""
    claim = {"event_id": event_id, "room_id": room_id, "processed_at": utcnow(), "failed": False}
    try:
        row = await db.run_together(
            (CLAIM_UNIT, claim), (PREFERENCES_UNIT, {"sender": sender, "room_id": room_id})
        )
    except IntegrityError:
        return None
    return _preferences_of(row)


async def read_preferences(db: Database, room_id: str, sender: str) -> Preferences:
    """The member's and the room's settings (each None if nothing is stored), for events that are not claimed
    (reactions, answers); one round trip on SQLite."""
    return _preferences_of(await db.run_together((PREFERENCES_UNIT, {"sender": sender, "room_id": room_id})))


def _preferences_of(row: tuple[Any, ...] | None) -> Preferences:
    assert row is not None  # the settings query always returns its one row
    return Preferences(language=row[0], timezone=row[1], room_language=row[2])


@dataclass(eq=False)
class QueuedJob:
    """A command or reaction waiting in its room's queue, with the record that marks its event handled."""

    job: Callable[[], Awaitable[None]]
    claim: tuple[str, str] | None


@dataclass(frozen=True)
class Preferences:
    """The member's and the room's stored settings that shape a command's context."""

    language: str | None
    timezone: str | None
    room_language: str | None


class RouterCore:
    """State and steps every concern shares: per-room queues, claims, a command's context."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.commands: dict[str, Command] = {}
        for feature in app.features:
            for command in feature.commands:
                for name in command.names:
                    key = fold(name)
                    if key in self.commands and self.commands[key] is not command:
                        raise ValueError(f"command name {name!r} is declared twice")
                    self.commands[key] = command
        self._queues: dict[str, asyncio.Queue[QueuedJob]] = {}
        self._not_started: set[QueuedJob] = set()
        bot = app.settings.bot
        self.limiter = RateLimiter(bot.command_burst, bot.commands_per_minute)
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._pending_joins: dict[tuple[str, str], datetime] = {}
        self._hinted: dict[str, float] = {}  # member → when they last got the direct-chat hint (monotonic)

    # --- queues: one worker per room keeps a room's commands in order -----------------------------------

    def _submit(
        self, room_id: str, job: Callable[[], Awaitable[None]], *, claim: tuple[str, str] | None = None
    ) -> bool:
        """Queue ``job`` behind the room's earlier ones. ``claim`` ("command"/"reaction", event id) is the
        record that marks the event handled: it is taken back if the job never starts (shutdown).

        False when the room's queue is full (``[bot] max_queued_commands_per_room``): nothing was queued,
        and the caller takes the claim back and tells the member. What was accepted is never dropped."""
        queue = self._queues.get(room_id)
        if queue is None:
            queue = self._queues[room_id] = asyncio.Queue(self.app.settings.bot.max_queued_commands_per_room)
            self._workers[room_id] = asyncio.create_task(self._work(queue), name=f"room-worker {room_id}")
        if queue.full():
            return False
        item = QueuedJob(job, claim)
        self._not_started.add(item)
        queue.put_nowait(item)
        return True

    async def _refuse_busy(self, room: MatrixRoom, event: Any, claim: tuple[str, str]) -> None:
        """The room's queue is full: the command is not taken (its claim goes back) and the member is told at
        once, outside the queue, to send it again in a moment."""
        log.warning("the command queue of %s is full; a %s was refused", room.room_id, claim[0])
        kind, event_id = claim
        table = ProcessedEvent if kind == "command" else Reaction
        try:
            async with self.app.db.transaction() as connection:
                await connection.execute(delete(table).where(table.event_id == event_id))
        except Exception:
            log.exception("could not take back a refused %s", kind)
        if kind == "command":
            await self._tell(room, event, "core_room_busy")

    async def _work(self, queue: asyncio.Queue[QueuedJob]) -> None:
        while True:
            item = await queue.get()
            self._not_started.discard(item)
            try:
                await item.job()
            except Exception:
                log.exception("unhandled error in room worker")
            finally:
                queue.task_done()

    async def drain(self, timeout: float = 20.0) -> None:
        """Let queued commands finish (graceful shutdown); those that cannot start in time are taken back,
        so that the next start handles them (their events come again: the sync position is not past them)."""
        try:
            await asyncio.wait_for(asyncio.gather(*(q.join() for q in self._queues.values())), timeout)
        except TimeoutError:
            log.warning(
                "shutting down with %s commands not started; they run after the restart",
                len(self._not_started),
            )
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        await self._take_back_claims()

    async def _take_back_claims(self) -> None:
        claims = [item.claim for item in self._not_started if item.claim is not None]
        self._not_started.clear()
        if not claims:
            return
        commands = [event_id for kind, event_id in claims if kind == "command"]
        reactions = [event_id for kind, event_id in claims if kind == "reaction"]
        try:
            async with self.app.db.transaction() as connection:
                if commands:
                    await connection.execute(
                        delete(ProcessedEvent).where(ProcessedEvent.event_id.in_(commands))
                    )
                if reactions:
                    await connection.execute(delete(Reaction).where(Reaction.event_id.in_(reactions)))
        except Exception:
            log.exception("could not take back %s unfinished commands", len(claims))

    async def _tell(
        self, room: MatrixRoom, event: Any, key: str, preferences: Preferences | None = None
    ) -> None:
        """A notice about a member's message, in their language, mentioning them (rate limit, unreadable,
        busy) — in the message's thread if it was sent in one."""
        ctx = await self.context_for(room, event.sender, event.event_id, hint=None, preferences=preferences)
        content = (getattr(event, "source", None) or {}).get("content") or {}
        relates = content.get("m.relates_to") or {}
        await self.app.sender.send(
            ctx.t(key, user=pill(event.sender)),
            room_id=room.room_id,
            reply_to=event.event_id,
            mentions=(event.sender,),
            thread_root=relates.get("event_id") if relates.get("rel_type") == "m.thread" else None,
        )

    async def _claim(self, event_id: str, room_id: str, sender: str) -> Preferences | None:
        """Record the event as handled, and read what the context needs, in one transaction.

        None if the event was handled already (after a restart or a re-sync). The claim is written before
        the sync token is saved, so a crash can lose a command's execution but never repeat it."""
        return await claim_event(self.app.db, event_id, room_id, sender)

    async def context_for(
        self,
        room: MatrixRoom,
        sender: str,
        event_id: str,
        *,
        hint: str | None,
        preferences: Preferences | None = None,
    ) -> CommandContext:
        settings = self.app.settings
        if preferences is None:
            preferences = await read_preferences(self.app.db, room.room_id, sender)
        language = preferences.language or hint or preferences.room_language or settings.bot.language
        is_direct = self.app.matrix.is_direct_room(room)
        is_admin = sender in settings.bot.admins
        is_moderator = sender in settings.bot.moderators or (
            not is_direct
            and await self.app.matrix.power_level(room.room_id, sender) >= settings.bot.moderator_power_level
        )
        return CommandContext(
            app=self.app,
            room_id=room.room_id,
            sender=sender,
            event_id=event_id,
            language=normalize_language(language),
            timezone=preferences.timezone or settings.bot.timezone,
            is_direct=is_direct,
            is_moderator=is_moderator,
            is_admin=is_admin,
        )
