"""Prometheus metrics of one running bot (one registry per :class:`~bot.app.App`, no global state).

Counted as things happen: commands by command and outcome (the handlers are wrapped, see
:func:`instrument_commands`), undecryptable events (a matrix-nio callback), scheduled job runs (an
APScheduler listener). Read at each scrape, from the database or live objects: sync age
(``MatrixBot.last_sync_at``), outbox depth and failed deliveries, reply latency (outbox rows sent since the
last scrape that answer a handled event: ``sent_at - processed_at``), scheduled jobs pending and overdue,
members and rooms. Labels are command names and fixed outcome words only — never user IDs, room IDs or
message text.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from bot.framework import Command, CommandError, Feature, Handler
from storage.models import OutboxMessage, ProcessedEvent

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import CommandContext

log = logging.getLogger(__name__)

# Replies are usually out within a second; the long tail is homeserver trouble.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
OK, USER_ERROR, INTERNAL_ERROR = "ok", "user_error", "internal_error"


class Metrics:
    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(
            "community_bot_commands",
            "Commands handled, by command and outcome",
            ["command", "outcome"],
            registry=r,
        )
        self.reply_latency = Histogram(
            "community_bot_reply_latency_seconds",
            "From a command's receipt to its reply being accepted by the homeserver",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_pending = Gauge("community_bot_outbox_pending", "Messages waiting to be sent", registry=r)
        self.outbox_failed = Gauge(
            "community_bot_outbox_failed",
            "Messages the homeserver refused for good (outbox list)",
            registry=r,
        )
        self.sync_age = Gauge(
            "community_bot_sync_age_seconds", "Seconds since the last successful sync (sync lag)", registry=r
        )
        self.decryption_failures = Counter(
            "community_bot_decryption_failures",
            "Room events the bot could not decrypt on arrival",
            registry=r,
        )
        self.jobs_pending = Gauge(
            "community_bot_scheduled_jobs_pending", "Scheduled jobs waiting", registry=r
        )
        self.jobs_overdue = Gauge(
            "community_bot_scheduled_jobs_overdue",
            "Scheduled jobs due longer ago than the misfire grace period and not run yet",
            registry=r,
        )
        self.job_runs = Counter(
            "community_bot_scheduled_job_runs", "Scheduled job runs, by outcome", ["outcome"], registry=r
        )
        self.jobs_missed = Counter(
            "community_bot_scheduled_jobs_missed",
            "Job runs later than the misfire grace period (the people concerned were told it was missed)",
            registry=r,
        )
        self.members = Gauge(
            "community_bot_members", "Distinct members (joined or invited) in the bot's rooms", registry=r
        )
        self.rooms = Gauge("community_bot_rooms", "Rooms the bot is in", registry=r)
        self.ready = Gauge("community_bot_ready", "1 when /readyz answers 200", registry=r)
        self._latency_after_id: int | None = None

    # --- events ---------------------------------------------------------------------------------------------

    def on_undecryptable(self, *_: Any) -> None:
        self.decryption_failures.inc()

    def on_job_event(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR

        self.job_runs.labels(outcome="error" if event.code == EVENT_JOB_ERROR else "ok").inc()
        grace = timedelta(minutes=self.app.settings.scheduler.misfire_grace_minutes)
        scheduled = getattr(event, "scheduled_run_time", None)
        if isinstance(scheduled, datetime) and datetime.now(UTC) - scheduled > grace:
            self.jobs_missed.inc()

    def sync_age_seconds(self) -> float | None:
        last = self.app.matrix.last_sync_at
        return None if last is None else time.monotonic() - last

    # --- scrape ---------------------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read what is not counted as it happens (a few indexed queries)."""
        app = self.app
        async with app.db.session() as db:
            pending = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
            )
            failed = await db.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
            )
            await self._observe_latency(db)
        self.outbox_pending.set(pending or 0)
        self.outbox_failed.set(failed or 0)
        rooms = app.matrix.client.rooms
        people = {user for room in rooms.values() for user in room.users} - {app.matrix.client.user_id}
        self.members.set(len(people))
        self.rooms.set(len(rooms))
        age = self.sync_age_seconds()
        self.sync_age.set(age if age is not None else float("nan"))
        # The job store is synchronous (a query on SQLite or PostgreSQL): read it off the event loop.
        jobs = await asyncio.to_thread(app.scheduler.get_jobs) if app.scheduler.running else []
        self.jobs_pending.set(len(jobs))
        grace = timedelta(minutes=app.settings.scheduler.misfire_grace_minutes)
        now = datetime.now(UTC)
        self.jobs_overdue.set(sum(1 for j in jobs if j.next_run_time and now - j.next_run_time > grace))

    async def _observe_latency(self, db: Any) -> None:
        """Replies sent since the last scrape: ``sent_at`` of the reply minus ``processed_at`` of the command
        it answers (the claim written when the command arrived)."""
        if self._latency_after_id is None:
            # Start with what is sent from now on (earlier replies belong to an earlier run).
            self._latency_after_id = int(await db.scalar(select(func.max(OutboxMessage.id))) or 0)
            return
        rows = (
            await db.execute(
                select(OutboxMessage.id, OutboxMessage.content, OutboxMessage.sent_at)
                .where(OutboxMessage.id > self._latency_after_id, OutboxMessage.sent_at.is_not(None))
                .order_by(OutboxMessage.id)
                .limit(5000)
            )
        ).all()
        unsent = await db.scalar(
            select(func.min(OutboxMessage.id)).where(
                OutboxMessage.id > self._latency_after_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
            )
        )
        replies: dict[str, datetime] = {}
        last_id = self._latency_after_id
        for row_id, content, sent_at in rows:
            if unsent is not None and row_id > unsent:
                break  # keep the order: come back for rows after one that is still waiting
            last_id = row_id
            relates = ((content or {}).get("content") or {}).get("m.relates_to") or {}
            replied = (relates.get("m.in_reply_to") or {}).get("event_id")
            if replied:
                replies[str(replied)] = sent_at
        self._latency_after_id = last_id
        if not replies:
            return
        received = await db.execute(
            select(ProcessedEvent.event_id, ProcessedEvent.processed_at).where(
                ProcessedEvent.event_id.in_(list(replies))
            )
        )
        for event_id, processed_at in received.all():
            self.reply_latency.observe(max(0.0, (replies[event_id] - processed_at).total_seconds()))

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


def _name(command: Command) -> str:
    """The German command path (``veranstaltung neu``): a fixed word from the code, never user input."""
    return f"{_name(command.parent)} {command.de}" if command.parent else command.de


def _wrap(command: Command, handler: Handler) -> Handler:
    name = _name(command)

    @functools.wraps(handler)
    async def counted(ctx: CommandContext, **values: Any) -> None:
        web = getattr(ctx.app, "web", None)
        metrics: Metrics | None = getattr(web, "metrics", None)
        outcome = INTERNAL_ERROR
        try:
            await handler(ctx, **values)
            outcome = OK
        except CommandError:
            outcome = USER_ERROR
            raise
        finally:
            if metrics is not None:
                metrics.commands.labels(command=name, outcome=outcome).inc()

    counted.__dict__["_counted"] = True
    return counted


def instrument_commands(features: Iterable[Feature]) -> None:
    """Wrap every command handler once so that it counts itself into ``ctx.app.web.metrics``. The router
    is untouched: it calls ``command.handler`` as before. Idempotent (apps built in one process share the
    feature modules)."""

    def visit(command: Command) -> None:
        if command.handler is not None and not getattr(command.handler, "_counted", False):
            command.handler = _wrap(command, command.handler)
        for sub in command.subcommands:
            visit(sub)

    for feature in features:
        for command in feature.commands:
            visit(command)
