"""The outbox's delivery rules on a real SQLite file, with a recorder in place of the homeserver: transaction
ids fixed before the first attempt (retries and rows of older versions included), replies sent while their
row is written, and a failed write that neither loops nor hides the error. The end-to-end side (homeserver
down, SIGKILL) is in tests/e2e/test_faults.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from bot.matrix import PermanentSendError
from bot.sender import Sender
from storage.models import OutboxMessage
from tests.unit.databases import BOTH_WAYS, open_database

ROOM = "!room:example.org"


class Homeserver:
    """Records what the sender sends; fails the first ``failures`` attempts."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.failures = failures
        self.delivered = asyncio.Event()
        self.broken_waits = 0
        self.refuse: dict[str, str] = {}  # body → errcode the homeserver answers for good

    async def wait_for_invitees(
        self, room_id: str, *, since: datetime, limit: Any, for_user: str | None = None
    ) -> bool:
        if self.broken_waits:
            self.broken_waits -= 1
            raise RuntimeError("a bug in the delivery path")
        return False

    async def direct_room(self, user_id: str) -> str:
        return f"!dm-{user_id}"

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        self.sent.append((room_id, txn_id, content))
        if content.get("body") in self.refuse:
            raise PermanentSendError(self.refuse[content["body"]], "refused")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("homeserver unreachable")
        self.delivered.set()
        return f"$event{len(self.sent)}"


@pytest.fixture(params=BOTH_WAYS)
async def outbox(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Every test twice: with the rows written in one round trip (SQLite, storage/one_hop.py) and through the
    engine (as on PostgreSQL)."""
    db = await open_database(tmp_path, request.param, ("outbox", "bot_messages"))
    app = SimpleNamespace(db=db, matrix=Homeserver())
    app.sender = Sender(app)  # type: ignore[arg-type]
    yield app
    await db.close()


async def rows(app: Any) -> list[OutboxMessage]:
    async with app.db.session() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_reply_is_sent_with_its_rows_transaction_id_and_marked_sent(outbox: Any) -> None:
    row_id = await outbox.sender.send("Hallo **Welt**", room_id=ROOM, reply_to="$cmd")
    await outbox.sender.wait_idle(5)
    [row] = await rows(outbox)
    assert row.id == row_id
    assert row.txn_id is not None
    assert row.txn_id.startswith("cb-")
    [(room_id, txn_id, content)] = outbox.matrix.sent
    assert (room_id, txn_id) == (ROOM, row.txn_id)
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}
    assert row.sent_at is not None
    assert row.sent_event_id == "$event1"


async def test_transaction_ids_are_unique_per_message(outbox: Any) -> None:
    for n in range(5):
        await outbox.sender.send(f"Nachricht {n}", room_id=ROOM)
    await outbox.sender.wait_idle(5)
    assert len({txn_id for _, txn_id, _ in outbox.matrix.sent}) == 5
    assert [c["body"] for _, _, c in outbox.matrix.sent] == [f"Nachricht {n}" for n in range(5)]


async def test_a_retry_reuses_the_transaction_id(outbox: Any) -> None:
    outbox.matrix.failures = 1
    await outbox.sender.send("Zweiter Versuch", room_id=ROOM)
    await asyncio.wait_for(outbox.matrix.delivered.wait(), 10)
    await outbox.sender.wait_idle(5)
    first, second = outbox.matrix.sent
    assert first[1] == second[1]
    [row] = await rows(outbox)
    assert row.attempts == 1
    assert row.sent_at is not None


async def test_rows_of_older_versions_keep_their_id_derived_transaction_id(outbox: Any) -> None:
    async with outbox.db.session() as session:
        old = OutboxMessage(
            room_id=ROOM,
            content={"type": "m.room.message", "content": {"msgtype": "m.notice", "body": "alt"}},
            created_at=datetime.now(UTC),
            attempts=0,
            txn_id=None,
        )
        session.add(old)
    runner = asyncio.create_task(outbox.sender.run())  # the start-up scan picks it up
    try:
        await asyncio.wait_for(outbox.matrix.delivered.wait(), 10)
        await outbox.sender.wait_idle(5)
    finally:
        runner.cancel()
    assert [txn_id for _, txn_id, _ in outbox.matrix.sent] == [f"cb{old.id}"]
    [row] = await rows(outbox)
    assert row.sent_at is not None


async def test_a_failed_write_raises_to_the_caller_and_does_not_block_the_queue(outbox: Any) -> None:
    # Not JSON: the insert fails (SQLAlchemy's StatementError through the engine, the JSON encoder's TypeError
    # when the parameters are converted for the one-hop write).
    with pytest.raises((StatementError, TypeError)):
        await outbox.sender.enqueue({"body": object()}, room_id=ROOM)
    await outbox.sender.send("danach", room_id=ROOM)
    await outbox.sender.wait_idle(5)
    assert [c.get("body") for _, _, c in outbox.matrix.sent][-1] == "danach"
    assert [row.content["content"]["body"] for row in await rows(outbox)] == ["danach"]


async def test_a_row_prepared_in_a_handlers_transaction_is_sent_after_wake(outbox: Any) -> None:
    runner = asyncio.create_task(outbox.sender.run())
    try:
        await asyncio.sleep(0.1)  # the start-up scan has run and found nothing
        outbox.sender.wake()  # nothing prepared: nothing to find
        async with outbox.db.session() as session:
            session.add(outbox.sender.prepare("Du bist nachgerückt", to_user="@anna:example.org"))
        outbox.sender.wake()
        await asyncio.wait_for(outbox.matrix.delivered.wait(), 10)
        await outbox.sender.wait_idle(5)
    finally:
        runner.cancel()
    [(room_id, txn_id, content)] = outbox.matrix.sent
    assert room_id == "!dm-@anna:example.org"
    assert content["body"] == "Du bist nachgerückt"
    [row] = await rows(outbox)
    assert row.txn_id == txn_id


async def test_a_message_refused_for_good_is_marked_failed_and_the_queue_moves_on(outbox: Any) -> None:
    outbox.matrix.refuse["zu groß"] = "M_TOO_LARGE"
    await outbox.sender.send("zu groß", room_id=ROOM)
    await outbox.sender.send("danach", room_id=ROOM)
    await outbox.sender.wait_idle(5)
    refused, after = await rows(outbox)
    assert refused.failed_at is not None
    assert refused.sent_at is None
    assert "M_TOO_LARGE" in (refused.last_error or "")
    assert [body for _, _, body in [(r, t, c["body"]) for r, t, c in outbox.matrix.sent]] == [
        "zu groß",
        "danach",
    ]
    assert after.sent_at is not None
    # A scan (start, wake, every 30 s) does not pick the failed row up again.
    outbox.sender._prepared = True
    outbox.sender.wake()
    await asyncio.sleep(0.2)
    assert len(outbox.matrix.sent) == 2


async def test_an_error_in_the_delivery_path_does_not_end_the_worker(outbox: Any) -> None:
    outbox.matrix.broken_waits = 1
    await outbox.sender.send("trotzdem", room_id=ROOM)
    await asyncio.wait_for(outbox.matrix.delivered.wait(), 10)
    [row] = await rows(outbox)
    assert row.sent_at is not None
