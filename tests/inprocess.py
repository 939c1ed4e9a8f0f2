"""The bot's command pipeline in-process, for fuzzing and permission tables at a scale the homeserver can't
take (10,000 inputs). Real router, real handlers, real SQLite database and scheduler job store; only the
Matrix wire is replaced by a recorder. Everything it checks is also covered end to end in tests/e2e/."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import or_, select

from bot.app import App
from bot.config import Settings
from bot.framework import Command
from storage.models import BotMessage, OutboxMessage

BOT = "@bot:example.org"


class RecordingMatrix:
    """Stands in for bot.matrix.MatrixBot: answers the questions handlers ask, sends nothing."""

    def __init__(self) -> None:
        self.user_id = BOT
        self.rooms_created = itertools.count(1)
        self.members: dict[str, list[str]] = {}
        # (room, user) → power level; the router's moderator check reads it like a room's power levels.
        self.power_levels: dict[tuple[str, str], int] = {}
        self.client = SimpleNamespace(rooms={}, user_id=BOT)
        # Rooms that count as a member's direct chat with the bot (none unless a test says so).
        self.direct_rooms: set[str] = set()

    async def room_members(self, room_id: str) -> list[str]:
        return self.members.get(room_id, [BOT])

    async def power_level(self, room_id: str, user_id: str) -> int:
        return self.power_levels.get((room_id, user_id), 0)

    async def direct_room(self, user_id: str) -> str:
        return f"!dm-{user_id}"

    async def create_room(self, name: str, invite: list[str], **_: Any) -> str:
        return f"!created{next(self.rooms_created)}:example.org"

    async def invite(self, room_id: str, user_id: str) -> None:
        return None

    async def upload_content(self, room_id: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
        return {"msgtype": "m.file", "body": kwargs.get("filename", "f"), "url": "mxc://example.org/x"}

    async def fetch_event(self, room_id: str, event_id: str) -> None:
        return None

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        return None

    def is_direct_room(self, room: Any) -> bool:
        return getattr(room, "room_id", None) in self.direct_rooms

    def direct_chat_refused(self, user_id: str) -> bool:
        return False

    async def redact(self, room_id: str, event_id: str, reason: str) -> bool:
        return True

    async def delete_media(self, mxc: str) -> bool:
        return False

    async def room_creators(self, room_id: str) -> set[str]:
        return set()

    async def joined_at_ms(self, room_id: str) -> int | None:
        return None

    def is_fresh(self, event: Any, joined_at_ms: int | None) -> bool:
        return True

    async def wait_for_invitees(self, room_id: str, *, since: Any, limit: Any, for_user: Any = None) -> bool:
        return False

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        return f"${txn_id}"  # the outbox marks the row sent; callers read what was queued from the rows


def make_app(tmp_path: Path) -> App:
    settings = Settings(
        matrix={  # type: ignore[arg-type]
            "homeserver": "http://127.0.0.1:9",
            "user_id": BOT,
            "password": "unused",
            "store_path": str(tmp_path / "store"),
        },
        storage={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},  # type: ignore[arg-type]
        # Fuzzing sends thousands of commands from one sender; the limit has its own tests.
        bot={"command_burst": 1_000_000},  # type: ignore[arg-type]
    )
    app = App(settings)
    app.matrix = RecordingMatrix()  # type: ignore[assignment]
    return app


async def prepare(app: App) -> None:
    await app.db.upgrade()


_event_ids = itertools.count(1)


async def invoke(
    app: App,
    command: Command,
    rest: str,
    *,
    sender: str = "@anna:example.org",
    moderator: bool = False,
    room_id: str = "!room:example.org",
    language: str = "de",
) -> list[dict[str, Any]]:
    """Run one command like the router does (its context, moderator check, permission check and argument
    parsing); returns the message contents it queued."""
    async with app.db.session() as session:
        before = _Mark(
            (await session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))) or 0,
            datetime.now(UTC),
        )
    # The router decides who is a moderator (power level in the room, configured moderators), as for a
    # message from the homeserver; ``moderator`` only gives the sender a moderator's power level here.
    matrix: RecordingMatrix = app.matrix  # type: ignore[assignment]
    matrix.power_levels[(room_id, sender)] = 100 if moderator else 0
    room: Any = SimpleNamespace(room_id=room_id)
    ctx = await app.router.context_for(room, sender, f"$event{next(_event_ids)}", hint=language)
    ctx.command = command
    ctx.body = rest
    await asyncio.wait_for(app.router.run_command(ctx, command, rest), 30)
    return await _queued_since(app, before)


async def reply_to_tracked(
    app: App, kind: str, ref_id: int | None, text: str, *, sender: str, room_id: str = "!dm:example.org"
) -> list[dict[str, Any]]:
    """A member's plain reply (no prefix, ``m.in_reply_to``) to the bot's message tracked as
    ``(kind, ref_id)``, through the router as from the homeserver; returns the message contents it queued."""
    target = f"$tracked-{kind}-{ref_id}-{room_id}"
    async with app.db.session() as session:
        before = _Mark(
            (await session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))) or 0,
            datetime.now(UTC),
        )
        if await session.get(BotMessage, target) is None:
            session.add(BotMessage(event_id=target, room_id=room_id, kind=kind, ref_id=ref_id))
    content = {"msgtype": "m.text", "body": text, "m.relates_to": {"m.in_reply_to": {"event_id": target}}}
    event = SimpleNamespace(
        event_id=f"$reply{next(_event_ids)}",
        sender=sender,
        body=text,
        source={"content": content},
        server_timestamp=int(time.time() * 1000),
    )
    await app.router.on_message(SimpleNamespace(room_id=room_id), event)  # type: ignore[arg-type]
    # The answer runs in the room's queue; wait until it has (a private detail of the router, tests only).
    await asyncio.wait_for(asyncio.gather(*(q.join() for q in app.router._queues.values())), 30)
    return await _queued_since(app, before)


async def say_plainly(
    app: App, text: str, *, sender: str, room_id: str, direct: bool = True
) -> list[dict[str, Any]]:
    """A member's plain message (no prefix, no reply) in a room, by default their direct chat with the bot,
    through the router; returns the message contents it queued."""
    matrix: RecordingMatrix = app.matrix  # type: ignore[assignment]
    if direct:
        matrix.direct_rooms.add(room_id)
    async with app.db.session() as session:
        before = _Mark(
            (await session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))) or 0,
            datetime.now(UTC),
        )
    event = SimpleNamespace(
        event_id=f"$plain{next(_event_ids)}",
        sender=sender,
        body=text,
        source={"content": {"msgtype": "m.text", "body": text}},
        server_timestamp=int(time.time() * 1000),
    )
    room = SimpleNamespace(room_id=room_id, users={sender: None, matrix.user_id: None} if direct else {})
    await app.router.on_message(room, event)  # type: ignore[arg-type]
    await asyncio.wait_for(asyncio.gather(*(q.join() for q in app.router._queues.values())), 30)
    return await _queued_since(app, before)


@dataclass(frozen=True)
class _Mark:
    last_id: int
    at: datetime


async def _queued_since(app: App, before: _Mark) -> list[dict[str, Any]]:
    """Contents of the outbox rows queued since ``before``: a higher id, or — because an erasure deletes rows
    and SQLite hands a deleted highest id out again — created since then."""
    async with app.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(or_(OutboxMessage.id > before.last_id, OutboxMessage.created_at >= before.at))
                .order_by(OutboxMessage.id)
            )
        ).all()
    return [dict(row.content["content"]) for row in rows]


def all_commands(app: App) -> list[Command]:
    commands: list[Command] = []
    for feature in app.features:
        for command in feature.commands:
            if command.handler is not None:
                commands.append(command)
            commands.extend(command.subcommands)
    return commands


def rows_mentioning(database: str, user_id: str) -> list[tuple[str, str]]:
    """Every row of every table of a SQLite database that mentions ``user_id`` (table, start of the row)."""
    found = []
    with sqlite3.connect(database) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                if user_id in repr(row):
                    found.append((table, repr(row)[:200]))
    return found
