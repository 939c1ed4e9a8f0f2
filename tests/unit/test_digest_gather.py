"""Unit tests for reading a month's digest numbers from the database (commands/digest/gather.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commands.digest.compose import DigestData
from commands.digest.gather import gather_digest_data, localpart
from storage.base import Base
from storage.bingo import BingoCard, BingoGame
from storage.db import Database, load_all_models
from storage.digest import DigestNews
from storage.models import DirectRoom, RoomMembership
from storage.networking import Meeting, NetworkingBlock, NetworkingRound
from storage.sessions import BarcampSession, ProgramItem, SessionEvent, SessionSignup, SessionSlot

BERLIN = ZoneInfo("Europe/Berlin")
ROOM_A = "!a:example.org"
ROOM_B = "!b:example.org"
DM = "!dm:example.org"
NOVEMBER = date(2026, 11, 1)


def berlin(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def _event(room: str, day: date, status: str, title: str) -> SessionEvent:
    return SessionEvent(
        room_id=room, title=title, day=day, timezone="Europe/Berlin", status=status, created_by="@mod:x"
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    load_all_models()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'digest.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await seed(database)
    yield database
    await database.close()


async def add_sessions(database: Database) -> None:
    async with database.session() as s:
        e1 = _event(ROOM_A, date(2026, 11, 12), "published", "Barcamp A")
        e2 = _event(ROOM_B, date(2026, 11, 20), "over", "Barcamp B")
        e3 = _event(ROOM_A, date(2026, 11, 25), "draft", "Entwurf")
        e4 = _event(ROOM_A, date(2026, 10, 30), "over", "Oktober")
        e5 = _event(ROOM_A, date(2026, 12, 7), "published", "NExTcamp <Dezember>")
        e6 = _event(ROOM_B, date(2026, 12, 10), "open", "Meet-up B")
        e7 = _event(ROOM_A, date(2026, 12, 15), "draft", "Noch geheim")
        s.add_all([e1, e2, e3, e4, e5, e6, e7])
        await s.flush()
        slots = {
            name: SessionSlot(event_id=event.id, number=1, name="Runde 1", start=start, end=time(12, 0))
            for name, event, start in [
                ("e1", e1, time(10)),
                ("e2", e2, time(10)),
                ("e3", e3, time(10)),
                ("e4", e4, time(10)),
                ("e5", e5, time(11, 15)),
                ("e6", e6, time(14)),
            ]
        }
        s.add_all(slots.values())
        s.add(ProgramItem(event_id=e5.id, at=time(9), label="Begrüßung"))
        await s.flush()

        def session(
            event: SessionEvent, slot: str | None, title: str, capacity: int | None
        ) -> BarcampSession:
            return BarcampSession(
                event_id=event.id,
                title=title,
                capacity=capacity,
                slot_id=slots[slot].id if slot else None,
                status="scheduled" if slot else "proposed",
            )

        x = session(e1, "e1", "X", 10)
        y = session(e1, "e1", "Y", None)
        z = session(e1, None, "Z (proposed)", 10)
        w = session(e2, "e2", "W", 30)
        draft = session(e3, "e3", "In draft", 10)
        october = session(e4, "e4", "Oktober", 10)
        u1 = session(e5, "e5", "Agiles <Arbeiten>", 20)
        u2 = session(e5, "e5", "Volle Session", 2)
        u3 = session(e5, None, "Noch nicht eingeplant", 5)
        b1 = session(e6, "e6", "Speed-Networking", None)
        s.add_all([x, y, z, w, draft, october, u1, u2, u3, b1])
        await s.flush()
        signups = (
            [(x, "confirmed")] * 3
            + [(x, "waitlisted")]
            + [(y, "confirmed")] * 2
            + [(z, "confirmed")]
            + [(w, "confirmed")] * 4
            + [(draft, "confirmed")] * 2
            + [(october, "confirmed")] * 5
            + [(u1, "confirmed")] * 5
            + [(u2, "confirmed")] * 2
            + [(u2, "waitlisted")]
        )
        s.add_all(
            SessionSignup(session_id=row.id, user_id=f"@p{i}:x", state=state)
            for i, (row, state) in enumerate(signups)
        )


async def add_networking(database: Database) -> None:
    async with database.session() as s:
        block_a = NetworkingBlock(room_id=ROOM_A, duration_seconds=420, opened_by="@mod:x")
        block_b = NetworkingBlock(room_id=ROOM_B, duration_seconds=420, opened_by="@mod:x")
        s.add_all([block_a, block_b])
        await s.flush()
        for number, (block, started) in enumerate(
            [
                (block_a, berlin(11, 3)),
                (block_a, berlin(11, 3, 12, 10)),
                (block_a, berlin(10, 20)),
                (block_b, berlin(11, 21)),
            ],
            start=1,
        ):
            s.add(
                NetworkingRound(
                    block_id=block.id,
                    number=number,
                    duration_seconds=420,
                    started_at=started,
                    warn_at=started,
                    ends_at=started,
                )
            )
        meetings = [
            ("@a:x", "@b:x", berlin(11, 3), ROOM_A),  # new
            ("@a:x", "@c:x", berlin(11, 3), ROOM_A),  # met before
            ("@a:x", "@c:x", berlin(10, 20), ROOM_A),
            ("@b:x", "@c:x", berlin(11, 21), ROOM_B),  # new, met twice
            ("@b:x", "@c:x", berlin(11, 22), ROOM_B),
            ("@d:x", "@e:x", berlin(12, 1), ROOM_A),  # next month
        ]
        s.add_all(Meeting(user_a=a, user_b=b, met_at=at, room_id=room) for a, b, at, room in meetings)


async def add_bingo(database: Database) -> None:
    async with database.session() as s:
        games = [
            BingoGame(room_id=ROOM_A, size=3, started_by="@mod:x", started_at=berlin(11, 3), prompts=[]),
            BingoGame(room_id=ROOM_B, size=3, started_by="@mod:x", started_at=berlin(11, 20), prompts=[]),
            BingoGame(room_id=ROOM_A, size=3, started_by="@mod:x", started_at=berlin(11, 25), prompts=[]),
            BingoGame(room_id=ROOM_A, size=3, started_by="@mod:x", started_at=berlin(10, 3), prompts=[]),
        ]
        s.add_all(games)
        await s.flush()
        cards = [
            (games[0], "@w2:x", 2),
            (games[0], "@w1:x", 1),
            (games[1], "@w3:x", 1),
            (games[1], "@w1:x", None),
            (games[2], "@nobody:x", None),
            (games[3], "@october:x", 1),
        ]
        s.add_all(BingoCard(game_id=g.id, player_id=p, data={}, place=place) for g, p, place in cards)


async def add_members_and_news(database: Database) -> None:
    async with database.session() as s:
        s.add(DirectRoom(user_id="@u5:x", room_id=DM))
        joins = [
            (ROOM_A, "@u1:x", berlin(11, 5)),
            (ROOM_A, "@u2:x", berlin(10, 1)),
            (ROOM_A, "@u3:x", berlin(11, 30, 23, 30)),  # still November in Berlin
            (ROOM_A, "@u4:x", berlin(12, 1, 0, 30)),  # November in UTC, December in Berlin
            (ROOM_B, "@u1:x", berlin(11, 10)),
            (ROOM_B, "@u2:x", berlin(11, 12)),
            (DM, "@u5:x", berlin(11, 3)),
        ]
        s.add_all(RoomMembership(room_id=r, user_id=u, joined_at=at) for r, u, at in joins)
        news = [
            ("@n1:x", ROOM_A, "approved", berlin(11, 4), "News A <b>x</b>"),
            ("@n2:x", ROOM_B, "approved", berlin(11, 2), "News B"),
            ("@n3:x", ROOM_A, "pending", None, "Pending"),
            ("@n4:x", ROOM_A, "approved", berlin(10, 31), "October"),
            ("@n5:x", ROOM_A, "rejected", berlin(11, 4), "Rejected"),
        ]
        s.add_all(
            DigestNews(author_id=a, room_id=r, status=st, decided_at=at, text=text)
            for a, r, st, at, text in news
        )


async def seed(database: Database) -> None:
    await add_sessions(database)
    await add_networking(database)
    await add_bingo(database)
    await add_members_and_news(database)


async def gather(database: Database, room_id: str | None) -> DigestData:
    async with database.session() as s:
        return await gather_digest_data(
            s,
            month=NOVEMBER,
            tz=BERLIN,
            room_id=room_id,
            scope_name="Scope",
            name_of=lambda user: localpart(user).upper(),
        )


async def test_network_wide_numbers(db: Database) -> None:
    data = await gather(db, None)
    assert data.month == NOVEMBER
    assert (data.held_events, data.held_sessions, data.attendance) == (2, 3, 9)
    assert (data.networking_rounds, data.new_contacts) == (3, 2)
    assert data.bingo_games == 3
    assert data.bingo_winners == ["W1", "W3"]
    assert data.new_members == 2
    assert [(n.author, n.text) for n in data.news] == [("N2", "News B"), ("N1", "News A <b>x</b>")]


async def test_network_wide_upcoming(db: Database) -> None:
    data = await gather(db, None)
    events = sorted(data.upcoming_events, key=lambda e: e.start)
    assert [(e.title, e.start) for e in events] == [
        ("NExTcamp <Dezember>", berlin(12, 7, 9)),
        ("Meet-up B", berlin(12, 10, 14)),
    ]
    sessions = {s.title: s for s in data.upcoming}
    assert set(sessions) == {"Agiles <Arbeiten>", "Volle Session", "Speed-Networking"}
    agile = sessions["Agiles <Arbeiten>"]
    assert (agile.free_seats, agile.capacity, agile.start) == (15, 20, berlin(12, 7, 11, 15))
    assert agile.event_title == "NExTcamp <Dezember>"
    assert (sessions["Volle Session"].free_seats, sessions["Volle Session"].capacity) == (0, 2)
    assert sessions["Speed-Networking"].capacity is None


async def test_one_room(db: Database) -> None:
    data = await gather(db, ROOM_A)
    assert (data.held_events, data.held_sessions, data.attendance) == (1, 2, 5)
    assert (data.networking_rounds, data.new_contacts) == (2, 1)
    assert (data.bingo_games, data.bingo_winners) == (2, ["W1"])
    assert data.new_members == 2
    assert [n.text for n in data.news] == ["News A <b>x</b>"]
    assert [e.title for e in data.upcoming_events] == ["NExTcamp <Dezember>"]
    assert {s.title for s in data.upcoming} == {"Agiles <Arbeiten>", "Volle Session"}

    other = await gather(db, ROOM_B)
    assert other.new_members == 2
    assert (other.held_events, other.held_sessions, other.attendance) == (1, 1, 4)


async def test_empty_month(db: Database) -> None:
    async with db.session() as s:
        data = await gather_digest_data(s, month=date(2025, 6, 1), tz=BERLIN, room_id=None, scope_name="Leer")
    assert (data.held_events, data.networking_rounds, data.bingo_games, data.new_members) == (0, 0, 0, 0)
    assert list(data.news) == []
    assert list(data.upcoming) == []
    assert list(data.upcoming_events) == []
    assert data.scope_name == "Leer"
