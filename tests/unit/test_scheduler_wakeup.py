"""BotScheduler: adding a job due after the planned wake-up does not read the job store on the spot (that read
delayed the reply to the command that added the job); a job due sooner still wakes the scheduler and runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from bot.scheduler import BotScheduler, job_store_engine


async def _job() -> None:
    return None


def _record_runs(scheduler: BotScheduler) -> list[str]:
    """Ids of the jobs that ran (arguments go through the job store as copies, so the jobs cannot tell)."""
    ran: list[str] = []
    scheduler.add_listener(lambda event: ran.append(event.job_id), EVENT_JOB_EXECUTED)
    return ran


@pytest.fixture
def scheduler(tmp_path: Path) -> BotScheduler:
    engine = job_store_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    return BotScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone=UTC)


def _count_job_store_reads(scheduler: BotScheduler) -> list[int]:
    reads = [0]
    original = scheduler._process_jobs

    def counted() -> Any:
        reads[0] += 1
        return original()

    scheduler._process_jobs = counted  # type: ignore[method-assign]
    return reads


async def test_a_later_job_does_not_wake_the_scheduler(scheduler: BotScheduler) -> None:
    ran = _record_runs(scheduler)
    scheduler.start()
    try:
        scheduler.add_job(_job, "date", run_date=datetime.now(UTC) + timedelta(hours=1), id="first")
        await asyncio.sleep(0.05)  # the first job has no planned wake-up before it: the scheduler wakes
        reads = _count_job_store_reads(scheduler)
        for hours in (2, 3, 4):
            scheduler.add_job(
                _job, "date", run_date=datetime.now(UTC) + timedelta(hours=hours), id=str(hours)
            )
        await asyncio.sleep(0.05)
        assert reads[0] == 0
        assert len(scheduler.get_jobs()) == 4
        assert ran == []
    finally:
        scheduler.shutdown(wait=False)


async def test_a_sooner_job_wakes_the_scheduler_and_runs(scheduler: BotScheduler) -> None:
    ran = _record_runs(scheduler)
    scheduler.start()
    try:
        scheduler.add_job(_job, "date", run_date=datetime.now(UTC) + timedelta(hours=1), id="later")
        await asyncio.sleep(0.05)
        reads = _count_job_store_reads(scheduler)
        scheduler.add_job(_job, "date", run_date=datetime.now(UTC) + timedelta(milliseconds=200), id="soon")
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.05)
        assert ran == ["soon"]
        assert reads[0] >= 1
    finally:
        scheduler.shutdown(wait=False)


async def test_replacing_a_job_with_an_earlier_time_runs_it_then(scheduler: BotScheduler) -> None:
    ran = _record_runs(scheduler)
    scheduler.start()
    try:
        scheduler.add_job(_job, "date", id="job", run_date=datetime.now(UTC) + timedelta(hours=1))
        await asyncio.sleep(0.05)
        scheduler.add_job(
            _job,
            "date",
            id="job",
            replace_existing=True,
            run_date=datetime.now(UTC) + timedelta(milliseconds=200),
        )
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.05)
        assert ran == ["job"]
    finally:
        scheduler.shutdown(wait=False)
