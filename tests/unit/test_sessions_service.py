"""The database side of sign-ups on a real SQLite file: capacity under concurrency, wait-list order,
promotion with a direct message, same-slot switching, capacity changes, reminder timing and announcements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select

from bot.i18n import Catalog
from commands.sessions import jobs, queries, service
from commands.sessions.feature import sessions_settings
from commands.sessions.rules import SessionView, SignupState, with_prefix
from storage.base import Base
from storage.db import Database
from storage.models import OutboxMessage
from storage.sessions import BarcampSession, SessionEvent, SessionHost, SessionSignup, SessionSlot
from tests.fakes import FakeApp, settings_for_tests

CATALOG = Catalog.from_files([Path("commands/sessions/messages.toml")])
T = with_prefix(CATALOG.translator("de"), "!")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    Base.metadata.create_all(engine)
    engine.dispose()
    fake = FakeApp(Database(url), catalog=CATALOG)
    yield fake
    await fake.db.close()


async def make_slot(app: Any, *, day: date, start: time, end: time) -> int:
    """A published event on ``day`` with one session round; returns the round's id."""
    async with app.db.session() as db:
        event = SessionEvent(
            room_id="!room:x",
            title="Camp",
            day=day,
            timezone="Europe/Berlin",
            status="published",
            proposals_open=True,
            created_by="@mod:x",
        )
        db.add(event)
        await db.flush()
        slot = SessionSlot(event_id=event.id, number=1, name="Runde 1", start=start, end=end)
        db.add(slot)
        await db.flush()
        return slot.id


async def make_session(
    app: Any, *, capacity: int | None, slot_id: int | None = None, title: str = "KI"
) -> int:
    if slot_id is None:
        slot_id = await make_slot(app, day=date.today() + timedelta(days=1), start=time(11, 15), end=time(12))
    async with app.db.session() as db:
        found = await db.get(SessionSlot, slot_id)
        assert found is not None
        event_id = found.event_id
        row = BarcampSession(
            event_id=event_id,
            title=title,
            capacity=capacity,
            slot_id=slot_id,
            status="scheduled",
            description="",
        )
        row.hosts.append(SessionHost(user_id="@host:x"))
        db.add(row)
        await db.flush()
        return row.id


async def signups(app: Any, session_id: int) -> list[SessionSignup]:
    async with app.db.session() as db:
        return list(
            (
                await db.scalars(
                    select(SessionSignup)
                    .where(SessionSignup.session_id == session_id)
                    .order_by(SessionSignup.id)
                )
            ).all()
        )


async def direct_messages(app: Any) -> dict[str, list[str]]:
    async with app.db.session() as db:
        rows = (await db.scalars(select(OutboxMessage).where(OutboxMessage.to_user.is_not(None)))).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.to_user or "", []).append(row.content["content"]["body"])
    return found


async def test_two_hundred_concurrent_signups_fill_exactly_twenty_seats(app: Any) -> None:
    session_id = await make_session(app, capacity=20)
    users = [f"@user{i:03d}:x" for i in range(200)]
    changes = await asyncio.gather(*(service.sign_up(app, session_id, u, switch=False, t=T) for u in users))
    kinds = [c.decision.kind for c in changes if c.decision is not None]
    assert kinds.count("confirmed") == 20
    assert kinds.count("waitlisted") == 180
    rows = await signups(app, session_id)
    assert len(rows) == 200
    assert len({r.user_id for r in rows}) == 200
    assert sum(r.state == SignupState.CONFIRMED for r in rows) == 20
    waiting = sorted((r for r in rows if r.state == SignupState.WAITLISTED), key=lambda r: r.created_at)
    # Positions follow the order the requests were taken: 1..180 without gaps or repeats.
    assert [r.position for r in waiting] == list(range(1, 181))


async def test_withdrawal_promotes_the_first_in_line_with_a_direct_message(app: Any) -> None:
    session_id = await make_session(app, capacity=1)
    for user in ("@a:x", "@b:x", "@c:x"):
        await service.sign_up(app, session_id, user, switch=False, t=T)
    change = await service.withdraw(app, session_id, "@a:x", T)
    assert change.promoted == ["@b:x"]
    assert "abgemeldet" in change.text
    states = {r.user_id: (r.state, r.position) for r in await signups(app, session_id)}
    assert states == {"@b:x": (SignupState.CONFIRMED, None), "@c:x": (SignupState.WAITLISTED, 1)}
    messages = await direct_messages(app)
    assert "Ein Platz ist frei geworden" in messages["@b:x"][0]
    assert "@c:x" not in messages
    # A wait-listed member withdrawing promotes nobody and closes the gap.
    await service.sign_up(app, session_id, "@d:x", switch=False, t=T)
    await service.withdraw(app, session_id, "@c:x", T)
    states = {r.user_id: (r.state, r.position) for r in await signups(app, session_id)}
    assert states == {"@b:x": (SignupState.CONFIRMED, None), "@d:x": (SignupState.WAITLISTED, 1)}
    again = await service.withdraw(app, session_id, "@c:x", T)
    assert "nicht angemeldet" in again.text


async def test_same_slot_needs_switch_and_switching_frees_the_seat(app: Any) -> None:
    first = await make_session(app, capacity=1, title="Erste")
    async with app.db.session() as db:
        slot_id = (await db.get(BarcampSession, first)).slot_id  # type: ignore[union-attr]
    second = await make_session(app, capacity=5, slot_id=slot_id, title="Zweite")
    await service.sign_up(app, first, "@a:x", switch=False, t=T)
    await service.sign_up(app, first, "@b:x", switch=False, t=T)  # wait-listed
    conflict = await service.sign_up(app, second, "@a:x", switch=False, t=T)
    assert conflict.decision is not None
    assert conflict.decision.kind == "slot_conflict"
    assert "wechseln`" in conflict.text
    switched = await service.sign_up(app, second, "@a:x", switch=True, t=T)
    assert switched.decision is not None
    assert switched.decision.kind == "confirmed"
    assert switched.promoted == ["@b:x"]
    assert [(r.user_id, r.state) for r in await signups(app, first)] == [("@b:x", SignupState.CONFIRMED)]
    assert [(r.user_id, r.state) for r in await signups(app, second)] == [("@a:x", SignupState.CONFIRMED)]


async def test_one_member_racing_for_two_sessions_of_a_slot_gets_one(app: Any) -> None:
    first = await make_session(app, capacity=5, title="Erste")
    async with app.db.session() as db:
        slot_id = (await db.get(BarcampSession, first)).slot_id  # type: ignore[union-attr]
    second = await make_session(app, capacity=5, slot_id=slot_id, title="Zweite")
    changes = await asyncio.gather(
        service.sign_up(app, first, "@a:x", switch=False, t=T),
        service.sign_up(app, second, "@a:x", switch=False, t=T),
    )
    kinds = sorted(c.decision.kind for c in changes if c.decision is not None)
    assert kinds == ["confirmed", "slot_conflict"]


async def test_raising_capacity_promotes_in_order(app: Any) -> None:
    session_id = await make_session(app, capacity=1)
    for user in ("@a:x", "@b:x", "@c:x", "@d:x"):
        await service.sign_up(app, session_id, user, switch=False, t=T)
    change = service.Change()
    confirmed, capacity = await service.change_capacity(app, session_id, 3, change)
    assert (confirmed, capacity) == (3, 3)
    assert change.promoted == ["@b:x", "@c:x"]
    states = {r.user_id: (r.state, r.position) for r in await signups(app, session_id)}
    assert states["@d:x"] == (SignupState.WAITLISTED, 1)


async def test_hosts_are_confirmed_beyond_capacity(app: Any) -> None:
    session_id = await make_session(app, capacity=1)
    await service.sign_up(app, session_id, "@a:x", switch=False, t=T)
    host = await service.sign_up(app, session_id, "@host:x", switch=False, t=T)
    assert host.decision is not None
    assert host.decision.kind == "confirmed"
    assert "dein Platz ist dir sicher" in host.text


def test_reminder_due_is_lead_time_before_start_or_at_once() -> None:
    app: Any = SimpleNamespace(settings=settings_for_tests())
    event = SessionEvent(day=date(2030, 3, 31), timezone="Europe/Berlin")  # the day DST began in 2030
    slot = SessionSlot(start=time(11, 15), end=time(12, 0))
    start = datetime(2030, 3, 31, 9, 15, tzinfo=UTC)  # 11:15 CEST
    assert queries.slot_start(event, slot) == start
    early = start - timedelta(hours=2)
    assert jobs.reminder_due(app, event, slot, early) == start - timedelta(minutes=15)
    assert jobs.reminder_due(app, event, slot, start - timedelta(minutes=5)) == start - timedelta(minutes=5)
    assert jobs.reminder_due(app, event, slot, start) is None
    sessions_settings(app).reminder_lead_seconds = 30
    assert jobs.reminder_due(app, event, slot, early) == start - timedelta(seconds=30)


def test_slot_announcement_lists_sessions_with_number_keys() -> None:
    event = SessionEvent(day=date(2030, 5, 15), timezone="Europe/Berlin")
    slot = SessionSlot(name="Sessionrunde <1>", start=time(11, 15), end=time(12, 0))
    views = [
        SessionView(1, "KI *jetzt*", "", ("@a:x",), None, 20, 1, "Raum Spree", "scheduled", 12, 0),
        SessionView(2, "Open Data", "", ("@b:x",), None, None, 1, None, "scheduled", 3, 0),
    ]
    text = jobs.announcement_text(event, slot, views, T)
    assert text.splitlines()[0] == "🔔 **Sessionrunde \\<1\\>** beginnt jetzt (11:15–12:00):"
    assert "1️⃣ **KI \\*jetzt\\*** (Nr. 1) – 12/20 Plätze · Raum: Raum Spree" in text
    assert "2️⃣ **Open Data** (Nr. 2) – 3 angemeldet" in text
    assert "Reaktion mit der Nummer" in text
    single = jobs.announcement_text(event, slot, views[:1], T)
    assert "Reaktion mit ✅" in single


def test_prefix_is_filled_into_catalog_texts() -> None:
    t = with_prefix(CATALOG.translator("en"), "?")
    assert t.language == "en"
    assert "`?withdraw 7`" in t("sessions_signup_confirmed", title="X", session_id=7)


async def test_no_sign_up_once_the_round_is_over(app: Any) -> None:
    # The only round that is over at any time of the day: one that ended at midnight.
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    past_slot = await make_slot(app, day=today, start=time(0), end=time(0))
    session_id = await make_session(app, capacity=20, slot_id=past_slot)
    change = await service.sign_up(app, session_id, "@late:x", switch=False, t=T)
    assert change.decision is not None
    assert (change.decision.kind, change.decision.key) == ("not_open", "sessions_signup_round_over")
    assert "schon vorbei" in change.text
    assert await signups(app, session_id) == []
    # A round still ahead is open.
    open_session = await make_session(app, capacity=20)
    decision = (await service.sign_up(app, open_session, "@late:x", switch=False, t=T)).decision
    assert decision is not None
    assert decision.accepted


async def test_a_session_deleted_after_its_place_was_remembered_is_unknown_not_a_crash(app: Any) -> None:
    session_id = await make_session(app, capacity=5)
    await service.sign_up(app, session_id, "@a:x", switch=False, t=T)  # remembers event and room
    assert await queries.session_place(app, session_id) is not None
    async with app.db.session() as db:  # deleted behind the cache's back (as an erasure does)
        row = await db.get(BarcampSession, session_id)
        await db.delete(row)
    unknown = T("sessions_error_unknown_session", session_id=session_id)
    signed = await service.sign_up(app, session_id, "@b:x", switch=False, t=T)
    assert (signed.decision, signed.text) == (None, unknown)
    withdrawn = await service.withdraw(app, session_id, "@a:x", T)
    assert (withdrawn.unknown_session, withdrawn.text) == (True, unknown)
    assert await queries.session_place(app, session_id) is None  # forgotten, then read again


async def test_the_remembered_room_of_a_session_follows_a_room_upgrade(app: Any) -> None:
    from bot.room_upgrades import move_room_data

    session_id = await make_session(app, capacity=5)
    event_id, room_id = await queries.session_place(app, session_id) or (0, "")
    assert room_id == "!room:x"
    await move_room_data(app, "!room:x", "!successor:x")
    assert await queries.session_place(app, session_id) == (event_id, "!successor:x")
