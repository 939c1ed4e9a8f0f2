"""The outbox rows the sender writes around every reply: store a new row, mark it sent (and remember what
members may react to). Plain SQL expressions built once (no ORM flush per reply); on SQLite each write runs
with its commit as one round trip to the database thread (storage/one_hop.py), elsewhere as a transaction of
the engine."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update

from storage.db import Database
from storage.models import BotMessage, OutboxMessage
from storage.one_hop import CompiledStatement

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


class OutboxRows:
    def __init__(self, db: Database) -> None:
        self.db = db
        one_hop = db.one_hop
        if one_hop is not None:
            self._store = CompiledStatement.of(STORE, one_hop.dialect, STORED_COLUMNS)
            self._mark_sent = CompiledStatement.of(MARK_SENT, one_hop.dialect)
            self._track = CompiledStatement.of(TRACK, one_hop.dialect, TRACK_COLUMNS)

    async def store(self, values: dict[str, Any]) -> int:
        """Insert a row (``STORED_COLUMNS``); its id."""
        if self.db.one_hop is None:
            async with self.db.transaction() as connection:
                return int((await connection.execute(STORE, values)).scalar_one())

        def work(connection: sqlite3.Connection) -> int:
            return int(self._store.run(connection, values).fetchone()[0])

        return await self.db.one_hop.transaction(work)

    async def mark_sent(
        self, row_id: int, *, event_id: str, room_id: str, now: datetime, track: tuple[str, int | None] | None
    ) -> None:
        """The row was delivered as ``event_id`` in ``room_id``; with ``track`` (kind, ref) members' reactions
        to it are routed back to a feature."""
        sent = {"row_id": row_id, "now": now, "event_id": event_id, "in_room": room_id}
        tracked = (
            {
                "event_id": event_id,
                "room_id": room_id,
                "kind": track[0],
                "ref_id": track[1],
                "created_at": now,
            }
            if track
            else None
        )
        if self.db.one_hop is None:
            async with self.db.transaction() as connection:
                await connection.execute(MARK_SENT, sent)
                if tracked:
                    await connection.execute(TRACK, tracked)
            return

        def work(connection: sqlite3.Connection) -> None:
            self._mark_sent.run(connection, sent)
            if tracked:
                self._track.run(connection, tracked)

        await self.db.one_hop.transaction(work)
