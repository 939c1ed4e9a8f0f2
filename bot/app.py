"""The application context: created once at start and handed to handlers and jobs (no globals)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import OrderedDict
from collections.abc import Coroutine, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings, with_sections
from bot.features import discover_features, feature_sections
from bot.framework import Feature
from bot.housekeeping import housekeeping
from bot.i18n import Catalog
from bot.room_upgrades import catch_up as catch_up_upgrades
from bot.scheduler import JobRegistry, Jobs, create_scheduler, job_store_engine, migrate_job_store
from storage.db import Database

log = logging.getLogger(__name__)

CORE_MESSAGES = Path(__file__).with_name("messages.toml")


def build_catalog(features: list[Feature]) -> Catalog:
    paths = [CORE_MESSAGES] + [f.messages for f in features if f.messages is not None]
    return Catalog.from_files(paths)


class FatalError(Exception):
    """The bot cannot go on without an operator (the message says what to do); the process exits non-zero."""


class Locks:
    """One lock per thing (e.g. ``("sessions-event", 3)``), created on first use. The bot is one process with
    one event loop, so an asyncio lock serialises all changes to that thing."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def for_key(self, *key: Hashable) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class Facts:
    """Values that never change once stored (the event a session belongs to and its room), remembered so
    that hot paths skip a query. Bounded: the oldest entries go first when it is full. A room upgrade
    (bot/room_upgrades.py) clears them, a deletion forgets its own."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, *key: Hashable) -> Any | None:
        return self._values.get(key)

    def remember(self, value: Any, *key: Hashable) -> None:
        self._values[key] = value
        while len(self._values) > self._size:
            self._values.popitem(last=False)

    def forget(self, *key: Hashable) -> None:
        """The thing the fact was about is gone (a deleted session)."""
        self._values.pop(key, None)

    def clear(self) -> None:
        """Room ids changed (a room upgrade): facts that name a room may be out of date."""
        self._values.clear()


@dataclass
class App:
    settings: Settings
    features: list[Feature] = field(default_factory=discover_features)

    def __post_init__(self) -> None:
        # Settings built in code (tests, tools) get the defaults of feature sections they do not name.
        self.settings = with_sections(self.settings, feature_sections(self.features))
        from bot.matrix import MatrixBot
        from bot.membership import RoomMembership
        from bot.router import Router
        from bot.sender import Sender
        from bot.web import WebServer

        self.catalog = build_catalog(self.features)
        self.db = Database(self.settings.storage.database_url)
        self.sender = Sender(self)
        self.matrix = MatrixBot(self)
        self.membership = RoomMembership(self)  # who is in which room (cross-room lookups), cached briefly
        self.router = Router(self)
        self.router.listen_to(self.matrix)
        self.job_store = job_store_engine(self.settings.storage.database_url)
        self.scheduler = create_scheduler(self, self.job_store)
        # The bot's own jobs (bot/housekeeping.py) are registered like a feature's.
        self.jobs = Jobs(self, self.scheduler, JobRegistry([*self.features, housekeeping]))
        self.web = WebServer(self)  # /healthz, /readyz, /metrics, feeds, agenda pages ([web], docs/web.md)
        self._tasks: list[asyncio.Task[None]] = []
        self._sync_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.locks = Locks()
        self.facts = Facts()
        self._stop = asyncio.Event()

    def in_background(self, coroutine: Coroutine[Any, Any, None], *, name: str | None = None) -> None:
        """Run work that outlives the handler that started it; it is kept referenced until done, its
        failure is logged, and shutdown cancels what is still running."""
        task = asyncio.create_task(coroutine, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def run(self) -> None:
        """Start everything, run until SIGINT/SIGTERM, then shut down cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        # SIGTERM must work before the first successful sync too (homeserver unreachable at start).
        starting = asyncio.create_task(self.start(), name="start")
        stopping = asyncio.create_task(self._stop.wait(), name="stop requested")
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            log.info("stop requested while starting")
            starting.cancel()
        try:
            await starting
        except asyncio.CancelledError:
            pass
        except BaseException:
            stopping.cancel()
            await self.shutdown()
            raise
        try:
            await stopping
        finally:
            await self.shutdown()
        if self.matrix.fatal_error:
            raise FatalError(self.matrix.fatal_error)

    def request_stop(self) -> None:
        self._stop.set()

    async def start(self) -> None:
        # The first sync is requested before the migrations run (a thread): the homeserver composes it for
        # all rooms and members meanwhile. It is handled once the database is ready.
        await self.web.start()  # answers /healthz and /readyz (503) while the bot connects
        await self.matrix.login()
        since, _ = await asyncio.gather(self.matrix.load_sync_token(), self.matrix.prepare_encryption())
        storage_ready = asyncio.Event()
        self._sync_task = asyncio.create_task(self.matrix.run(since, storage_ready), name="sync")
        self._tasks.append(self._sync_task)
        await self.db.upgrade()
        await self.matrix.load_direct_rooms()
        storage_ready.set()
        self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox"))
        await self.matrix.ready.wait()
        # Before the scheduler reads its store: jobs stored by Python path get their stable names.
        await asyncio.to_thread(migrate_job_store, self.job_store)
        # Upgrades that happened while the bot was down: followed, their data moved, before any job runs.
        await catch_up_upgrades(self)
        self.scheduler.start()
        for feature in [*self.features, housekeeping]:
            for hook in feature.start_hooks:
                try:
                    await hook(self)
                except Exception:
                    log.exception("start hook of %s failed", feature.name)
        log.info("community-bot is ready as %s", self.matrix.user_id)

    async def shutdown(self) -> None:
        """Stop taking events first, then finish (or take back) what is queued, then store the position."""
        log.info("shutting down")
        self.matrix.stop()
        if self._sync_task is not None:
            self._sync_task.cancel()
            await asyncio.gather(self._sync_task, return_exceptions=True)
        await self.router.drain()
        try:
            await self.matrix.save_current_token()
        except Exception:
            log.exception("could not store the sync token")
        try:
            await self.sender.wait_idle(timeout=10)
        except TimeoutError:
            log.warning("some messages are still queued; they will be sent after the next start")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = [*self._tasks, *self._background]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.web.stop()
        await self.matrix.close()
        await self.db.close()
