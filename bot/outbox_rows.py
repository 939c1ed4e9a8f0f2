"""The outbox rows the sender writes around every reply: store a new row, mark it sent (and remember what
members may react to). Plain SQL expressions built once (no ORM flush per reply), each write with its commit
one round trip on SQLite (``Database.run_together``, storage/one_hop.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update

from storage.db import Database
from storage.models import BotMessage, OutboxMessage
from storage.one_hop import Prepared

OUTBOX = cast(Table, OutboxMessage.__table__)
STORE = insert(OUTBOX).returning(OUTBOX.c.id)
MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"))
    .values(sent_at=bindparam("now"), sent_event_id=bindparam("event_id"), room_id=bindparam("in_room"))
)
TRACK = insert(BotMessage)
STORED_COLUMNS = (
    "room_id",
    "to_user",
    "content",
    "track_kind",
    "track_ref",
    "created_at",
    "attempts",
    "txn_id",
)
TRACK_COLUMNS = ("event_id", "room_id", "kind", "ref_id", "created_at")


STORE_UNIT = Prepared.of(STORE, STORED_COLUMNS)
MARK_SENT_UNIT = Prepared.of(MARK_SENT)
TRACK_UNIT = Prepared.of(TRACK, TRACK_COLUMNS)


async def store_row(db: Database, values: dict[str, Any]) -> int:
    """Insert a row (``STORED_COLUMNS``); its id."""
    row = await db.run_together((STORE_UNIT, values))
    assert row is not None  # RETURNING id
    return int(row[0])


async def mark_sent(
    db: Database,
    row_id: int,
    *,
    event_id: str,
    room_id: str,
    now: datetime,
    track: tuple[str, int | None] | None,
) -> None:
    """The row was delivered as ``event_id`` in ``room_id``; with ``track`` (kind, ref) members' reactions to
    it are routed back to a feature."""
    steps: list[tuple[Prepared, dict[str, Any]]] = [
        (MARK_SENT_UNIT, {"row_id": row_id, "now": now, "event_id": event_id, "in_room": room_id})
    ]
    if track:
        tracked = {"event_id": event_id, "room_id": room_id, "kind": track[0], "ref_id": track[1]}
        steps.append((TRACK_UNIT, {**tracked, "created_at": now}))
    await db.run_together(*steps)
