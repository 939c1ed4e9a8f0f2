"""Shared helpers for the in-process barcamp tests (tests/unit/test_barcamp_*.py): commands through the real
router as a moderator, a host or a fan, the direct messages queued for a member, an event with proposals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.framework import Command
from storage.models import OutboxMessage
from tests.catalog import says
from tests.inprocess import all_commands, invoke

ROOM = "!camp:example.org"
MOD = "@orga:example.org"
HOSTS = [f"@host{i}:example.org" for i in range(1, 6)]
FANS = [f"@fan{i}:example.org" for i in range(1, 7)]


def command(app: App, *words: str) -> Command:
    found = next(
        c
        for c in all_commands(app)
        if words[-1] in c.names
        and (c.parent is None) == (len(words) == 1)
        and (len(words) == 1 or (c.parent is not None and c.parent.de == words[0]))
    )
    assert len(words) == 1 or (found.parent is not None and found.parent.de == words[0])
    return found


async def run(app: App, words: tuple[str, ...], rest: str, sender: str = MOD) -> str:
    replies = await invoke(
        app, command(app, *words), rest, sender=sender, moderator=sender == MOD, room_id=ROOM
    )
    return "\n".join(str(r.get("body", "")) for r in replies)


async def direct_messages(app: App, user_id: str) -> list[dict[str, Any]]:
    async with app.db.session() as db:
        rows = (await db.scalars(select(OutboxMessage).where(OutboxMessage.to_user == user_id))).all()
    return [dict(row.content["content"]) for row in rows]


async def direct_bodies(app: App, user_id: str) -> list[str]:
    return [str(dm.get("body", "")) for dm in await direct_messages(app, user_id)]


async def event_with_proposals(app: App, proposals: int = 4) -> None:
    day = (date.today() + timedelta(days=2)).strftime("%d.%m.%Y")
    assert says(await run(app, ("veranstaltung", "neu"), f'"Camp" {day}'), "sessions_event_created")
    await run(app, ("veranstaltung", "öffnen"), "1")
    for number in range(1, proposals + 1):
        body = await run(app, ("session", "vorschlagen"), f'"Thema {number}"', sender=HOSTS[number - 1])
        assert says(body, "sessions_proposed", session_id=number)
