"""Shutdown: commands that cannot start before the bot stops are taken back, so the next start runs them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage.models import ProcessedEvent
from tests.inprocess import make_app, prepare

ROOM = "!room:example.org"


async def test_commands_not_started_at_shutdown_are_taken_back(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    await prepare(app)
    try:
        async with app.db.session() as session:
            for event_id in ("$running", "$waiting", "$also-waiting"):
                session.add(ProcessedEvent(event_id=event_id, room_id=ROOM))
        started = asyncio.Event()
        ran: list[str] = []

        async def slow() -> None:
            started.set()
            await asyncio.sleep(60)

        async def quick(name: str) -> None:
            ran.append(name)

        app.router._submit(ROOM, slow, claim=("command", "$running"))
        app.router._submit(ROOM, lambda: quick("waiting"), claim=("command", "$waiting"))
        app.router._submit(ROOM, lambda: quick("also"), claim=("command", "$also-waiting"))
        await started.wait()
        await app.router.drain(timeout=0.2)
        async with app.db.session() as session:
            claimed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
        assert ran == []
        # The running command keeps its claim (at most once: it may have done part of its work).
        assert claimed == {"$running"}
    finally:
        await app.db.close()


async def test_a_drain_that_finishes_in_time_takes_nothing_back(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    await prepare(app)
    try:
        async with app.db.session() as session:
            session.add(ProcessedEvent(event_id="$done", room_id=ROOM))
        ran: list[str] = []

        async def quick() -> None:
            ran.append("done")

        app.router._submit(ROOM, quick, claim=("command", "$done"))
        await app.router.drain(timeout=5)
        async with app.db.session() as session:
            claimed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
        assert ran == ["done"]
        assert claimed == {"$done"}
    finally:
        await app.db.close()
