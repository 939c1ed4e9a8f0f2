"""The claim of a command (bot/router/core.py) through ``Database.run_together``, both ways — one round trip
to SQLite's thread (storage/one_hop.py) and a transaction of the engine (as on PostgreSQL): the same rows, a
second claim of the same event refused, the member's settings read in the same unit; a failing one-round-trip
unit rolled back — on a real SQLite file. The outbox writes run both ways in tests/unit/test_outbox.py;
PostgreSQL itself in tests/e2e/test_postgres.py."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, func, select, text

from bot.router.core import CLAIM, Preferences, claim_event
from storage.db import Database, read_together
from storage.models import Member, ProcessedEvent, Reminder, RoomSetting
from storage.one_hop import Prepared
from storage.sessions import SessionEvent, SessionSlot
from tests.unit.databases import BOTH_WAYS, open_database

ROOM = "!room:example.org"


TABLES = ("processed_events", "members", "room_settings")


@pytest.fixture(params=BOTH_WAYS)
async def db(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = await open_database(tmp_path, request.param, TABLES)
    yield database
    await database.close()


def one_hop_claim(db: Database) -> Callable[[str, str, str], Awaitable[Preferences | None]]:
    return lambda event_id, room_id, sender: claim_event(db, event_id, room_id, sender)


async def test_a_claim_is_taken_once_and_reads_the_settings(db: Database) -> None:
    async with db.session() as session:
        session.add(Member(user_id="@anna:example.org", language="en", timezone="Europe/Vienna"))
        session.add(RoomSetting(room_id=ROOM, language="de"))
    claim = one_hop_claim(db)
    assert await claim("$a", ROOM, "@anna:example.org") == Preferences("en", "Europe/Vienna", "de")
    assert await claim("$a", ROOM, "@anna:example.org") is None
    assert await claim("$b", "!other:example.org", "@ben:example.org") == Preferences(None, None, None)


async def test_concurrent_claims_of_one_event_let_exactly_one_through(db: Database) -> None:
    claim = one_hop_claim(db)
    results = await asyncio.gather(*(claim(f"$e{n % 5}", ROOM, "@anna:example.org") for n in range(40)))
    assert sum(result is not None for result in results) == 5


async def test_the_claim_writes_the_rows_the_engine_writes(db: Database) -> None:
    before = datetime.now(UTC)
    await one_hop_claim(db)("$fast", ROOM, "@anna:example.org")
    async with db.transaction() as connection:
        await connection.execute(CLAIM, {"event_id": "$engine", "room_id": ROOM})
    async with db.session() as session:
        engine, fast = (await session.scalars(select(ProcessedEvent).order_by(ProcessedEvent.event_id))).all()
    assert (fast.event_id, fast.room_id, fast.failed) == ("$fast", ROOM, False)
    assert (engine.room_id, engine.failed) == (fast.room_id, fast.failed)
    assert (
        before.replace(tzinfo=None)
        <= fast.processed_at.replace(tzinfo=None)
        <= engine.processed_at.replace(tzinfo=None)
    )
    async with db.transaction() as connection:  # stored in the same text format, so both sort and prune alike
        stored = (await connection.execute(text("SELECT processed_at FROM processed_events"))).scalars().all()
    assert {len(value) for value in stored} == {len(stored[0])}


async def test_a_failing_unit_is_rolled_back_and_the_connection_stays_usable(tmp_path: Path) -> None:
    db = await open_database(tmp_path, tables=TABLES)
    assert db.one_hop is not None

    def insert_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute(
            "INSERT INTO processed_events (event_id, room_id, processed_at, failed) VALUES ('$x', ?, '', 0)",
            (ROOM,),
        )
        raise RuntimeError("a bug after the first statement")

    for _ in range(3):  # the pool hands the same connection out again
        with pytest.raises(RuntimeError):
            await db.one_hop.transaction(insert_then_fail)
    assert await one_hop_claim(db)("$x", ROOM, "@anna:example.org") is not None
    async with db.session() as session:
        assert [e.event_id for e in (await session.scalars(select(ProcessedEvent))).all()] == ["$x"]
    await db.close()


def test_postgres_urls_have_no_one_hop_path() -> None:
    assert Database("postgresql+asyncpg://bot@127.0.0.1/bot").one_hop is None


async def test_read_together_reads_as_the_session_reads_and_sees_its_pending_changes(tmp_path: Path) -> None:
    """Times, dates, UTC datetimes, JSON and counts come back as SQLAlchemy converts them; a row added in the
    session but not yet flushed is read too."""
    db = await open_database(tmp_path)
    due = datetime(2027, 5, 15, 7, 30, tzinfo=UTC)
    event_id = bindparam("id", type_=Integer)
    events = Prepared.of(select(SessionEvent.day, SessionEvent.title).where(SessionEvent.id == event_id))
    slots = Prepared.of(select(SessionSlot.start, SessionSlot.end).where(SessionSlot.event_id == event_id))
    reminders = Prepared.of(
        select(Reminder.due_at, Reminder.recurrence, func.count()).group_by(Reminder.id).order_by(Reminder.id)
    )
    async with db.session() as session:
        event = SessionEvent(
            room_id=ROOM, title="NExT", day=date(2027, 5, 15), timezone="Europe/Berlin", created_by="@a:b.c"
        )
        session.add(event)
        await session.flush()
        session.add(SessionSlot(event_id=event.id, number=1, name="1", start=time(9, 30), end=time(10, 15)))
        session.add(
            Reminder(owner_id="@a:b.c", room_id=ROOM, text="Bericht", timezone="Europe/Berlin", due_at=due,
                     recurrence={"day_of_week": "mon"})
        )  # fmt: skip
        steps: list[tuple[Prepared, dict[str, Any]]] = [(events, {"id": event.id}), (slots, {"id": event.id})]
        steps.append((reminders, {}))
        together = await read_together(session, *steps)
        one_by_one = [[tuple(row) for row in await session.execute(p.statement, v)] for p, v in steps]
    assert together == one_by_one
    assert together == [
        [(date(2027, 5, 15), "NExT")],
        [(time(9, 30), time(10, 15))],
        [(due, {"day_of_week": "mon"}, 1)],
    ]
    await db.close()


async def test_run_together_returns_python_values(db: Database) -> None:
    """The row ``run_together`` returns is converted as the engine converts it (a UTC datetime, JSON), both
    ways."""
    joined = datetime(2027, 5, 15, 7, 30, tzinfo=UTC)
    async with db.session() as session:
        session.add(Member(user_id="@anna:example.org", topics=["OZG"], created_at=joined))
    read = Prepared.of(select(Member.created_at, Member.topics).where(Member.user_id == bindparam("who")))
    assert await db.run_together((read, {"who": "@anna:example.org"})) == (joined, ["OZG"])
