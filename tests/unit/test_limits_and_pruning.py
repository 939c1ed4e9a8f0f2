"""Bounded room queues (a full queue refuses, nothing accepted is dropped) and pruning of old records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from bot.housekeeping import prune
from storage.models import BotMessage, OutboxMessage, ProcessedEvent, Reaction
from tests.catalog import says
from tests.inprocess import make_app, prepare

ROOM = "!room:example.org"


def message(event_id: str, text: str = "!hilfe") -> Any:
    return SimpleNamespace(
        event_id=event_id,
        sender="@anna:example.org",
        body=text,
        format=None,
        formatted_body=None,
        server_timestamp=int(datetime.now(UTC).timestamp() * 1000),
        source={"content": {"msgtype": "m.text", "body": text}},
    )


async def test_a_full_room_queue_refuses_new_commands_and_runs_every_accepted_one(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.settings.bot.max_queued_commands_per_room = 2
    app.matrix.is_fresh = lambda event, joined_at_ms: True  # type: ignore[method-assign]
    await prepare(app)
    try:
        release = asyncio.Event()
        ran: list[str] = []

        async def slow() -> None:
            await release.wait()
            ran.append("slow")

        room: Any = SimpleNamespace(room_id=ROOM)
        assert app.router._submit(ROOM, slow)
        await asyncio.sleep(0)  # the worker has taken it: the queue is empty again
        dispatched: list[str] = []

        async def dispatch(room: Any, event: Any, invocation: str, preferences: Any = None) -> None:
            dispatched.append(event.event_id)

        app.router.dispatch = dispatch  # type: ignore[method-assign]
        for event_id in ("$one", "$two", "$three"):
            await app.router.on_message(room, message(event_id))
        async with app.db.session() as session:
            claimed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
            notices = (await session.scalars(select(OutboxMessage))).all()
        assert claimed == {"$one", "$two"}, "the refused command is not recorded as handled"
        assert len(notices) == 1
        assert says(notices[0].content["content"]["body"], "core_room_busy")
        release.set()
        await app.router.drain(timeout=5)
        assert ran == ["slow"]
        assert dispatched == ["$one", "$two"]
    finally:
        await app.db.close()


async def test_pruning_removes_old_records_and_keeps_recent_ones_and_sent_files(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    await prepare(app)
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=400), now - timedelta(hours=1)
    try:
        async with app.db.session() as session:
            session.add_all(
                [
                    ProcessedEvent(event_id="$old", room_id=ROOM, processed_at=old),
                    ProcessedEvent(event_id="$recent", room_id=ROOM, processed_at=recent),
                    # Within the start window plus a day: kept even with the shortest retention.
                    ProcessedEvent(
                        event_id="$yesterday", room_id=ROOM, processed_at=now - timedelta(hours=20)
                    ),
                    BotMessage(event_id="$old-msg", room_id=ROOM, kind="reminder", created_at=old),
                    BotMessage(event_id="$new-msg", room_id=ROOM, kind="reminder", created_at=recent),
                ]
            )
            await session.flush()
            session.add_all(
                [
                    Reaction(
                        event_id="$r1", target_event_id="$old-msg", room_id=ROOM, sender="@a:x", key="👍"
                    ),
                    Reaction(
                        event_id="$r2", target_event_id="$new-msg", room_id=ROOM, sender="@a:x", key="👍"
                    ),
                ]
            )
            for name, sent_at, failed_at, msgtype in [
                ("sent-old", old, None, "m.notice"),
                ("sent-old-file", old, None, "m.file"),
                ("sent-recent", recent, None, "m.notice"),
                ("failed-old", None, old, "m.notice"),
                ("failed-recent", None, recent, "m.notice"),
                ("unsent-old", None, None, "m.notice"),
            ]:
                session.add(
                    OutboxMessage(
                        room_id=ROOM,
                        content={"type": "m.room.message", "content": {"msgtype": msgtype, "body": name}},
                        txn_id=name,
                        sent_at=sent_at,
                        failed_at=failed_at,
                        created_at=old,
                    )
                )
        app.settings.storage.keep_processed_events_days = 1
        counts = await prune(app)
        async with app.db.session() as session:
            processed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
            messages = set((await session.scalars(select(BotMessage.event_id))).all())
            reactions = set((await session.scalars(select(Reaction.event_id))).all())
            outbox = set((await session.scalars(select(OutboxMessage.txn_id))).all())
        assert processed == {"$recent", "$yesterday"}
        assert messages == {"$new-msg"}
        assert reactions == {"$r2"}
        assert outbox == {"sent-old-file", "sent-recent", "failed-recent", "unsent-old"}
        assert counts["processed_events"] == 1
        assert counts["outbox_sent"] == 1
    finally:
        await app.db.close()
