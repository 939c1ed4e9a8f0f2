"""Room upgrades: follow the tombstone and move the old room's data to the successor, in one transaction.

Generic over every table (the bot's and the features'): each column named ``room_id`` or ``*_room_id`` and
each JSON list column named ``rooms`` is rewritten from the old room to the new one, except the records of
the old room's timeline (handled events, the bot's messages and reactions to them, messages already sent —
those events stay where they happened). A row whose key would collide with one the successor already has is
merged into it (the successor's values win; missing ones are taken over) and the old row removed.

At start the bot catches up on upgrades that happened while it was down (:func:`catch_up`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nio import JoinError
from sqlalchemy import JSON, Boolean, Column, Table, UniqueConstraint, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import Base

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

# Records of what happened in the old room's timeline: they stay with it.
TIMELINE_TABLES = frozenset({"processed_events", "bot_messages", "reactions"})


def _room_columns(table: Table) -> Iterator[Column[Any]]:
    for column in table.columns:
        if column.name == "room_id" or column.name.endswith("_room_id"):
            yield column


def _unique_keys(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The primary key and unique constraints that include ``column``."""
    keys = []
    for constraint in table.constraints:
        columns = list(getattr(constraint, "columns", []))
        if column in columns and (
            constraint is table.primary_key or isinstance(constraint, UniqueConstraint)
        ):
            keys.append(columns)
    return keys


async def move_room_data(app: App, old: str, new: str) -> dict[str, int]:
    """Rewrite every reference to ``old`` to ``new`` in one transaction; returns the rows moved per table."""
    moved: dict[str, int] = {}
    async with app.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in TIMELINE_TABLES:
                continue
            count = 0
            for column in _room_columns(table):
                count += await _move_column(session, table, column, old, new)
            rooms = table.columns.get("rooms")
            if rooms is not None and isinstance(rooms.type, JSON):
                count += await _move_lists(session, table, rooms, old, new)
            if count:
                moved[table.name] = count
    app.facts.clear()  # remembered facts may name the old room (the room of a session's event)
    if moved:
        log.info("moved the data of %s to %s: %s", old, new, ", ".join(f"{k} {v}" for k, v in moved.items()))
    _warn_about_settings(app, old, new)
    return moved


async def _move_column(session: AsyncSession, table: Table, column: Column[Any], old: str, new: str) -> int:
    condition = column == old
    if "sent_at" in table.columns:  # the outbox: messages still to send go to the new room
        condition = and_(condition, table.c.sent_at.is_(None))
    keys = _unique_keys(table, column)
    if not keys:
        result = await session.execute(update(table).where(condition).values({column.name: new}))
        return int(getattr(result, "rowcount", 0) or 0)
    count = 0
    for row in (await session.execute(select(table).where(condition))).mappings().all():
        clash = None
        for key in keys:
            match = [c == (new if c is column else row[c.name]) for c in key]
            clash = (await session.execute(select(table).where(and_(*match)))).mappings().first()
            if clash is not None:
                break
        identity = [c == row[c.name] for c in table.primary_key.columns]
        if clash is None:
            await session.execute(update(table).where(and_(*identity)).values({column.name: new}))
        else:
            merged = _merged(table, clash, row)
            if merged:
                target = [c == clash[c.name] for c in table.primary_key.columns]
                await session.execute(update(table).where(and_(*target)).values(merged))
            await session.execute(delete(table).where(and_(*identity)))
        count += 1
    return count


def _merged(table: Table, kept: Any, old: Any) -> dict[str, Any]:
    """Values of the old row that the successor's row lacks (None), and flags that either of them has set."""
    values: dict[str, Any] = {}
    for column in table.columns:
        name = column.name
        if column.primary_key:
            continue
        if isinstance(column.type, Boolean):
            if old[name] and not kept[name]:
                values[name] = True
        elif kept[name] is None and old[name] is not None:
            values[name] = old[name]
    return values


async def _move_lists(session: AsyncSession, table: Table, column: Column[Any], old: str, new: str) -> int:
    count = 0
    key = list(table.primary_key.columns)
    for row in (await session.execute(select(*key, column))).mappings().all():
        rooms = row[column.name]
        if isinstance(rooms, list) and old in rooms:
            replaced = list(dict.fromkeys(new if r == old else r for r in rooms))
            await session.execute(
                update(table).where(and_(*[c == row[c.name] for c in key])).values({column.name: replaced})
            )
            count += 1
    return count


def _warn_about_settings(app: App, old: str, new: str) -> None:
    """The configuration cannot be rewritten: tell the operator where it still names the old room."""

    def walk(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple):
            for item in value:
                yield from walk(item, path)
        elif value == old:
            yield path

    for path in sorted(set(walk(app.settings.model_dump(), ""))):
        log.warning("the configuration names the upgraded room %s in %s: replace it with %s", old, path, new)


async def may_follow(app: App, old: str, sender: str) -> bool:
    """An upgrade is followed when it comes from someone who may invite the bot, or from a moderator of the
    old room (who could have invited it there anyway)."""
    from bot.matrix import is_allowed_inviter

    bot = app.settings.bot
    if is_allowed_inviter(sender, app.settings.matrix.allowed_inviters, {*bot.admins, *bot.moderators}):
        return True
    return await app.matrix.power_level(old, sender) >= bot.moderator_power_level


async def tombstone_sender(app: App, room_id: str) -> str | None:
    """Who upgraded the room (the sender of its ``m.room.tombstone``), read from the homeserver."""
    client = app.matrix.client
    path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state"
    response = await client.send("GET", path, headers={"Authorization": f"Bearer {client.access_token}"})
    if response.status != 200:
        return None
    for event in await response.json():
        if event.get("type") == "m.room.tombstone" and event.get("state_key") == "":
            return str(event.get("sender") or "") or None
    return None


async def follow(app: App, old: str, new: str, sender: str) -> bool:
    """Join the successor (if the upgrade comes from someone who may bring the bot into rooms) and move the
    old room's data there. Idempotent: run again, it finds nothing left to move."""
    matrix = app.matrix
    if not await may_follow(app, old, sender):
        log.info("not following the upgrade of %s by %s (not an allowed inviter or moderator)", old, sender)
        return False
    if new not in matrix.client.rooms:
        response = await matrix.client.join(new)
        if isinstance(response, JoinError):
            log.warning("could not join %s, the successor of %s: %s", new, old, response.message)
            return False
        log.info("followed room upgrade %s → %s", old, new)
        await matrix.joined_successor(old, new)
    await move_room_data(app, old, new)
    return True


async def catch_up(app: App) -> None:
    """Upgrades that happened while the bot was down (or whose data did not move): follow them now."""
    for room_id, room in list(app.matrix.client.rooms.items()):
        successor = getattr(room, "replacement_room", None)
        if not successor:
            continue
        sender = await tombstone_sender(app, room_id)
        if sender is None:
            continue
        try:
            await follow(app, room_id, successor, sender)
        except Exception:
            log.exception("catching up on the upgrade of %s failed", room_id)
