"""APScheduler wiring: a persistent job store in the bot's database and an executor that hands jobs the app.

Jobs are module-level coroutine functions referenced by import path, with row ids as their only arguments::

    async def fire_reminder(app: App, reminder_id: int, *, scheduled_for: datetime) -> None

The executor passes the application context and the time the run was due, so a job can tell whether it is
running late (after downtime) and decide between running and telling people it was missed. Jobs never run
twice: their rows carry a status that the job checks and updates in one transaction.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
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
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from storage.db import SQLITE_BUSY_TIMEOUT_MS, sqlite_pragmas, sync_url

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

JobFunction = Callable[..., Coroutine[Any, Any, None]]


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


def create_scheduler(app: App) -> AsyncIOScheduler:
    url = job_store_url(app.settings.storage.database_url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} if is_sqlite else {})
    if is_sqlite:
        # The job store writes synchronously on the event loop (adding a reminder, a sign-up's reminder DM):
        # SQLite's default journal fsyncs every commit, ≈ 7 ms of blocked loop on this machine's disk.
        event.listen(engine, "connect", sqlite_pragmas)
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": AppExecutor(app)},
        job_defaults={
            # Run a missed job however late; the job itself decides (grace period) whether it is still useful.
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 1,
        },
        timezone=ZoneInfo(app.settings.bot.timezone),
    )


def function_ref(func: JobFunction) -> str:
    return f"{func.__module__}:{func.__qualname__}"


async def dispatch(*args: Any, **kwargs: Any) -> None:
    """The one function the job store references: ``(app, "module:function", *row_ids)``.

    Keeping the feature function's path as data (not as the job's callable) lets APScheduler store jobs whose
    real signature starts with the app context, which only exists at run time."""
    from apscheduler.util import ref_to_obj

    app, target, *rest = args
    await ref_to_obj(target)(app, *rest, **kwargs)


class Jobs:
    """The small scheduling vocabulary features use."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler) -> None:
        self.app = app
        self.scheduler = scheduler

    def at(self, job_id: str, func: JobFunction, when: datetime, *args: Any) -> None:
        self.scheduler.add_job(
            dispatch,
            DateTrigger(run_date=when),
            args=[function_ref(func), *args],
            id=job_id,
            replace_existing=True,
        )

    def cron(self, job_id: str, func: JobFunction, cron: dict[str, str], timezone: str, *args: Any) -> None:
        trigger = CronTrigger(**cron, timezone=ZoneInfo(timezone))
        self.scheduler.add_job(
            dispatch, trigger, args=[function_ref(func), *args], id=job_id, replace_existing=True
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
