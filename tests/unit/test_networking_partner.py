"""Partner requests that arrive at the same moment. The router runs different rooms concurrently, so two
`!partner` from two rooms interleave in the handler; real router code path, real SQLite database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.app import App
from bot.framework import Command
from commands.networking.feature import networking_settings
from storage.networking import Meeting, PartnerRequest
from tests.inprocess import all_commands, invoke, make_app, prepare

ROOM, OTHER_ROOM = "!room:example.org", "!other:example.org"
ANNA, BERND = "@anna:example.org", "@bernd:example.org"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    networking_settings(app).private_rooms = False  # introductions as threads: nothing waits for joins
    for room_id in (ROOM, OTHER_ROOM):
        app.matrix.client.rooms[room_id] = SimpleNamespace(users={ANNA: None, BERND: None}, invited_users={})
    yield app
    await app.db.close()


def partner_command(app: App) -> Command:
    return next(c for c in all_commands(app) if c.de == "partner" and c.parent is None)


async def requests(app: App) -> list[tuple[str, str]]:
    async with app.db.session() as session:
        rows = (await session.scalars(select(PartnerRequest).order_by(PartnerRequest.id))).all()
    return [(row.user_id, row.status) for row in rows]


async def test_requests_at_the_same_moment_find_each_other(app: App) -> None:
    # Handler calls run concurrently, as the router runs them for different rooms and direct chats.
    people = [ANNA, BERND, *(f"@member{i}:example.org" for i in range(4))]
    app.matrix.client.rooms[ROOM].users.update(dict.fromkeys(people))
    partner = partner_command(app)
    await asyncio.gather(*(invoke(app, partner, "", sender=person, room_id=ROOM) for person in people))
    async with app.db.session() as session:
        meetings = (await session.scalars(select(Meeting))).all()
    paired = [person for meeting in meetings for person in (meeting.user_a, meeting.user_b)]
    assert sorted(paired) == sorted(people)  # three pairs, everyone in exactly one
    assert [status for _, status in await requests(app)] == ["matched"] * len(people)


async def test_one_member_asking_in_two_rooms_at_once_waits_once(app: App) -> None:
    partner = partner_command(app)
    replies = await asyncio.gather(
        invoke(app, partner, "", sender=ANNA, room_id=ROOM),
        invoke(app, partner, "", sender=ANNA, room_id=OTHER_ROOM),
    )
    assert await requests(app) == [(ANNA, "waiting")]
    bodies = {message["body"] for batch in replies for message in batch}  # both calls see both replies
    assert len(bodies) == 2, bodies
    assert any(body.startswith("Ich suche schon jemanden für dich") for body in bodies), bodies
