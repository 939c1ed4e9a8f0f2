"""APScheduler wiring: a persistent job store in the bot's database and an executor that hands jobs the app.

Jobs are coroutine functions that a feature registers under a stable name, with row ids as their only
arguments::

    @feature.job("reminders.fire")
    async def fire_reminder(app: App, reminder_id: int, *, scheduled_for: datetime) -> None

The job store keeps ``dispatch`` plus the job's name and row ids, never the function's import path, so moving
or renaming a job function does not break the jobs that an installation has already stored.

The executor passes the application context and the time the run was due, so a job can tell whether it is
running late (after downtime) and decide between running and telling people it was missed. Jobs never run
twice: their rows carry a status that the job checks and updates in one transaction.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bot.framework import Feature, JobFunction
from storage.db import SQLITE_BUSY_TIMEOUT_MS, sqlite_pragmas, sync_url
from storage.job_references import JOB_TABLE, rewrite_job_references

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class AppExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs coroutine jobs on the event loop as ``func(app, *args, scheduled_for=run_time)``."""

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        async def run() -> list[JobExecutionEvent]:
            events = []
            for run_time in run_times:
                try:
                    await job.func(self.app, *job.args, scheduled_for=run_time, **job.kwargs)
                except Exception as exc:
                    log.exception("job %s failed", job.id)
                    events.append(
                        JobExecutionEvent(
                            EVENT_JOB_ERROR,
                            job.id,
                            job._jobstore_alias,
                            run_time,
                            exception=exc,
                            traceback=None,
                        )
                    )
                else:
                    events.append(
                        JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time)
                    )
            return events

        def done(task: Any) -> None:
            try:
                events = task.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        self._scheduler._eventloop.create_task(run()).add_done_callback(done)


def job_store_url(database_url: str) -> str:
    """Where APScheduler keeps its jobs: the bot's database, except for SQLite (see docs/decisions.md).

    SQLite allows one writer at a time. APScheduler's job store is synchronous and writes from the event-loop
    thread; if an async transaction of the bot is open at that moment, the loop blocks on the lock the
    suspended transaction holds until the busy timeout expires. A sibling file avoids that lock entirely."""
    url = make_url(sync_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        url = url.set(database=str(path.with_name(path.stem + "-jobs" + (path.suffix or ".db"))))
    return url.render_as_string(hide_password=False)


def job_store_engine(database_url: str) -> Engine:
    url = job_store_url(database_url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} if is_sqlite else {})
    if is_sqlite:
        # The job store writes synchronously on the event loop (adding a reminder, a sign-up's reminder DM):
        # SQLite's default journal fsyncs every commit, ≈ 7 ms of blocked loop on this machine's disk.
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def migrate_job_store(engine: Engine) -> int:
    """Rewrite jobs stored by Python path (release 0.1.0) to their stable names; idempotent. Runs before the
    scheduler starts: SQLite's job store is a sibling file that the Alembic migrations never see."""
    with engine.begin() as connection:
        return rewrite_job_references(connection)


class BotScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """APScheduler's asyncio scheduler without one cost on the command path.

    Adding a job wakes the scheduler, which then reads the job store (two queries, in the event loop) before
    the reply to the command that added the job can go out — the largest part of what ``!erinnere`` cost
    beyond the echo bot (docs/performance.md). A job due no earlier than the wake-up the scheduler has already
    planned is found at that wake-up anyway, so adding it skips the extra one. Without a planned wake-up
    (no jobs yet) or for a job due sooner, the scheduler wakes as usual."""

    _job_being_added: Job | None = None

    def _real_add_job(self, job: Job, jobstore_alias: str, replace_existing: bool) -> None:
        # The wake-up comes at the end of the parent's method, once the job knows its next run time.
        self._job_being_added = job
        try:
            super()._real_add_job(job, jobstore_alias, replace_existing)
        finally:
            self._job_being_added = None

    def _due_after_planned_wakeup(self, job: Job) -> bool:
        timer = self._timeout
        loop = self._eventloop
        next_run: datetime | None = getattr(job, "next_run_time", None)
        if timer is None or timer.cancelled() or loop is None or next_run is None:
            return False
        planned = datetime.now(UTC) + timedelta(seconds=timer.when() - loop.time())
        return next_run >= planned

    def wakeup(self) -> None:
        added = self._job_being_added
        if added is not None and self._due_after_planned_wakeup(added):
            return
        super().wakeup()


def create_scheduler(app: App, engine: Engine) -> AsyncIOScheduler:
    return BotScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": AppExecutor(app)},
        job_defaults={
            # Run a missed job however late; the job itself decides (grace period) whether it is still useful.
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 1,
        },
        timezone=ZoneInfo(app.settings.bot.timezone),
    )


class JobRegistry:
    """Every feature's jobs by their stable name (``Feature.job``), and the name of each job function."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.by_name: dict[str, JobFunction] = {}
        self.names: dict[JobFunction, str] = {}
        for feature in features:
            for name, job in feature.jobs.items():
                if name in self.by_name:
                    raise ValueError(f"job name {name!r} is registered by two features")
                self.by_name[name] = job
                self.names[job] = name

    def name_of(self, job: JobFunction) -> str:
        try:
            return self.names[job]
        except KeyError:
            raise LookupError(f"{job!r} is not registered as a job (decorate it with @feature.job)") from None

    def resolve(self, name: str) -> JobFunction:
        try:
            return self.by_name[name]
        except KeyError:
            raise LookupError(f"no job is registered under {name!r}") from None


async def dispatch(*args: Any, **kwargs: Any) -> None:
    """The one function the job store references: ``(app, job name, *row_ids)``.

    Keeping the job's name as data (not the function as the job's callable) lets APScheduler store jobs whose
    real signature starts with the app context, which only exists at run time, and lets job functions move.
    This function's own path (``bot.scheduler:dispatch``) is stored with every job and must not change."""
    app, name, *rest = args
    await app.jobs.registry.resolve(name)(app, *rest, **kwargs)


class Jobs:
    """The small scheduling vocabulary features use."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler, registry: JobRegistry) -> None:
        self.app = app
        self.scheduler = scheduler
        self.registry = registry

    def at(self, job_id: str, func: JobFunction, when: datetime, *args: Any) -> None:
        self.scheduler.add_job(
            dispatch,
            DateTrigger(run_date=when),
            args=[self.registry.name_of(func), *args],
            id=job_id,
            replace_existing=True,
        )

    def cron(self, job_id: str, func: JobFunction, cron: dict[str, str], timezone: str, *args: Any) -> None:
        trigger = CronTrigger(**cron, timezone=ZoneInfo(timezone))
        self.scheduler.add_job(
            dispatch, trigger, args=[self.registry.name_of(func), *args], id=job_id, replace_existing=True
        )

    def every(self, job_id: str, func: JobFunction, interval: timedelta, *args: Any) -> None:
        """Run ``func`` every ``interval`` (first run one interval from now)."""
        self.scheduler.add_job(
            dispatch,
            IntervalTrigger(seconds=max(1.0, interval.total_seconds())),
            args=[self.registry.name_of(func), *args],
            id=job_id,
            replace_existing=True,
        )

    def cancel(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            pass

    def exists(self, job_id: str) -> bool:
        return self.scheduler.get_job(job_id) is not None

    def next_run(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return job.next_run_time if job else None

    def is_late(self, scheduled_for: datetime) -> bool:
        """True when a run is later than the configured grace period (the bot was down)."""
        grace = timedelta(minutes=self.app.settings.scheduler.misfire_grace_minutes)
        return datetime.now(UTC) - scheduled_for > grace
