"""A new reminder and the cap of open reminders per member (commands/reminders/service.py) as one statement,
both ways — one round trip to SQLite's thread and a transaction of the engine (as on PostgreSQL): the row the
ORM reads back is the one the command described, the cap counts only the owner's scheduled reminders, and
concurrent commands of one member never go past it. PostgreSQL itself: tests/e2e/test_postgres.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commands.reminders.service import create_under_cap, new_reminder
from storage.db import Database
from storage.models import Reminder
from tests.unit.databases import BOTH_WAYS, open_database

ANNA, BEN = "@anna:example.org", "@ben:example.org"


@pytest.fixture(params=BOTH_WAYS)
async def db(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = await open_database(tmp_path, request.param, ("reminders", "reminder_subscribers"))
    yield database
    await database.close()


def reminder(owner: str, text: str = "Bericht", *, recurrence: dict[str, str] | None = None) -> Reminder:
    now = datetime.now(UTC)
    return new_reminder(
        owner_id=owner,
        room_id="!room:example.org",
        target="member",
        text=text,
        language="de",
        timezone="Europe/Berlin",
        due_at=None if recurrence else now + timedelta(hours=2),
        recurrence=recurrence,
        now=now,
    )


async def test_the_stored_row_is_the_one_described(db: Database) -> None:
    once, weekly = reminder(ANNA, "Bericht"), reminder(ANNA, "Jour fixe", recurrence={"day_of_week": "mon"})
    ids = [await create_under_cap(db, once, cap=5), await create_under_cap(db, weekly, cap=5)]
    async with db.session() as session:
        stored = (await session.scalars(select(Reminder).order_by(Reminder.id))).all()
    assert [r.id for r in stored] == ids
    for written, read in zip((once, weekly), stored, strict=True):
        for column in ("owner_id", "room_id", "target", "text", "language", "timezone", "status"):
            assert getattr(read, column) == getattr(written, column)
        assert read.due_at == written.due_at
        assert read.created_at == written.created_at
        assert read.recurrence == written.recurrence
    assert stored[0].status == "scheduled"


async def test_the_cap_counts_the_owners_scheduled_reminders_only(db: Database) -> None:
    for _ in range(2):
        assert await create_under_cap(db, reminder(ANNA), cap=2) is not None
    assert await create_under_cap(db, reminder(ANNA), cap=2) is None
    assert await create_under_cap(db, reminder(BEN), cap=2) is not None  # someone else's count
    async with db.session() as session:  # a reminder that was sent no longer counts
        first = await session.scalar(select(Reminder.id).where(Reminder.owner_id == ANNA).limit(1))
        await session.execute(update(Reminder).where(Reminder.id == first).values(status="sent"))
    assert await create_under_cap(db, reminder(ANNA), cap=2) is not None
    async with db.session() as session:
        scheduled = select(Reminder.owner_id).where(Reminder.status == "scheduled")
        owners = (await session.scalars(scheduled)).all()
    assert sorted(owners) == [ANNA, ANNA, BEN]


async def test_concurrent_commands_never_pass_the_cap(db: Database) -> None:
    results = await asyncio.gather(*(create_under_cap(db, reminder(ANNA, f"R{n}"), cap=3) for n in range(12)))
    assert sum(result is not None for result in results) == 3
