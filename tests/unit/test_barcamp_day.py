"""The two halves of issue 16 together, through the real router (in-process, real SQLite): a repeat goes to a
free location (and gets its room), a move that double-books a member says so to them and to the moderator,
the agenda shows the interest in proposals, and erasure leaves no trace of a member in any table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from commands.privacy import erase_everything
from commands.sessions.feature import sessions_settings
from storage.sessions import (
    BarcampSession,
    SessionLocation,
    SessionPlacement,
    SessionPoll,
    SessionPollVote,
    SessionRepeat,
)
from tests.barcamp import FANS, HOSTS, MOD, direct_bodies, event_with_proposals, run
from tests.catalog import body as rendered
from tests.catalog import says
from tests.inprocess import make_app, prepare, rows_mentioning


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    sessions_settings(app).plan_time_limit_seconds = 3
    yield app
    await app.db.close()


async def two_slots(app: App, *locations: str) -> None:
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 1" 10:00-11:00')
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 2" 11:15-12:00')
    for location in locations:
        await run(app, ("veranstaltung", "ort"), f"1 {location}")


async def test_a_repeat_goes_to_a_free_location_that_seats_it_and_gets_a_room(app: App) -> None:
    sessions_settings(app).create_rooms = True
    await event_with_proposals(app, 2)
    await two_slots(app, '"Raum A" 10', '"Raum B" 3', '"Saal" 50')
    await run(app, ("session", "kapazität"), "1 2", sender=HOSTS[0])
    await run(app, ("session", "einplanen"), "1 1 Raum A")
    await run(app, ("session", "einplanen"), "2 2 Raum A")  # Raum A is taken in time slot 2
    for fan in FANS[:4]:
        await run(app, ("anmelden",), "1", sender=fan)
    offers = [b for b in await direct_bodies(app, HOSTS[0]) if says(b, "sessions_repeat_offer_dm")]
    assert len(offers) == 1
    # Raum B seats the session's 2 places and is the smallest that does: the offer names it.
    assert says(
        offers[0],
        "sessions_repeat_slot_at",
        location="Raum B",
        seats=rendered("sessions_seats_count_other", count=3),
    ), offers[0]
    body = await run(app, ("session", "wiederholen"), "1", sender=HOSTS[0])
    assert says(
        body,
        "sessions_repeat_created",
        session_id=1,
        repeat_id=3,
        offered=rendered("sessions_people_count_other", count=2),
    ), body
    async with app.db.session() as db:
        repeat = await db.get(BarcampSession, 3)
        original = await db.get(BarcampSession, 1)
        placement = await db.get(SessionPlacement, 3)
        room_b = await db.scalar(select(SessionLocation).where(SessionLocation.name == "Raum B"))
    assert repeat is not None
    assert original is not None
    assert room_b is not None
    assert placement is not None
    assert repeat.location == "Raum B"
    assert placement.location_id == room_b.id
    assert repeat.matrix_room_id is not None
    assert repeat.matrix_room_id != original.matrix_room_id
    for fan in FANS[2:4]:
        seats = [b for b in await direct_bodies(app, fan) if says(b, "sessions_repeat_seat_dm", session_id=3)]
        assert len(seats) == 1
        assert says(seats[0], "sessions_where", location="Raum B"), seats[0]


async def test_a_repeat_without_locations_keeps_its_place(app: App) -> None:
    await event_with_proposals(app, 1)
    await two_slots(app)
    await run(app, ("session", "kapazität"), "1 1", sender=HOSTS[0])
    await run(app, ("session", "einplanen"), "1 1 Raum Elbe")
    for fan in FANS[:2]:
        await run(app, ("anmelden",), "1", sender=fan)
    offer = next(b for b in await direct_bodies(app, HOSTS[0]) if says(b, "sessions_repeat_offer_dm"))
    assert not says(offer, "sessions_repeat_slot_at")
    assert says(await run(app, ("session", "wiederholen"), "1", sender=HOSTS[0]), "sessions_repeat_created")
    async with app.db.session() as db:
        repeat = await db.get(BarcampSession, 2)
        assert repeat is not None
        assert repeat.location == "Raum Elbe"
        assert await db.get(SessionPlacement, 2) is None


async def test_the_hosts_unavailable_slot_is_no_place_for_the_repeat(app: App) -> None:
    await event_with_proposals(app, 1)
    await two_slots(app, '"Raum A" 10')
    await run(app, ("session", "einplanen"), "1 1 Raum A")
    await run(app, ("session", "verhindert"), "1 2", sender=HOSTS[0])
    body = await run(app, ("session", "wiederholen"), "1", sender=HOSTS[0])
    assert says(body, "sessions_repeat_error_no_slot", session_id=1), body


async def signed_up_for_both(app: App, *locations: str) -> None:
    """Sessions 1 and 2 in time slots 1 and 2 (at Raum A), fan 1 signed up for both, fan 2 for session 2."""
    await event_with_proposals(app, 2)
    await two_slots(app, *locations)
    await run(app, ("session", "einplanen"), "1 1 Raum A")
    await run(app, ("session", "einplanen"), "2 2 Raum A")
    for number, fans in (("1", FANS[:1]), ("2", FANS[:2])):
        for fan in fans:
            assert says(await run(app, ("anmelden",), number, sender=fan), "sessions_signup_confirmed")


async def assert_only_fan_1_told_of_the_clash(app: App) -> None:
    clash = [b for b in await direct_bodies(app, FANS[0]) if says(b, "sessions_moved", session_id=2)]
    assert len(clash) == 1
    assert says(clash[0], "sessions_moved_clash", session_id=2, other_id=1, other_title="Thema 1"), clash[0]
    moved = [b for b in await direct_bodies(app, FANS[1]) if says(b, "sessions_moved", session_id=2)]
    assert len(moved) == 1
    assert not says(moved[0], "sessions_moved_clash")


async def test_moving_a_session_by_hand_onto_a_members_other_session_tells_them(app: App) -> None:
    await signed_up_for_both(app)
    body = await run(app, ("session", "einplanen"), "2 1 Raum B")
    assert says(body, "sessions_rescheduled", session_id=2), body
    assert says(body, "sessions_moved_clashes_told", people=rendered("sessions_people_count_one", count=1)), (
        body
    )
    await assert_only_fan_1_told_of_the_clash(app)
    # A move without a clash says nothing about one.
    body = await run(app, ("session", "einplanen"), "2 2 Raum A")
    assert says(body, "sessions_rescheduled", session_id=2)
    assert not says(body, "sessions_moved_clashes_told")


async def test_a_plan_that_double_books_a_member_says_so_in_the_summary(app: App) -> None:
    await signed_up_for_both(app, '"Raum A" 10', '"Raum B" 10')
    # Session 2's host cannot make time slot 2 any more: the re-plan must move it next to session 1.
    await run(app, ("session", "verhindert"), "2 2", sender=HOSTS[1])
    await run(app, ("veranstaltung", "planen"), "1")
    body = await run(app, ("veranstaltung", "planen"), "1 übernehmen")
    assert says(body, "sessions_plan_applied", event_id=1, moved=1), body
    assert says(body, "sessions_moved_clashes_told", people=rendered("sessions_people_count_one", count=1)), (
        body
    )
    await assert_only_fan_1_told_of_the_clash(app)


async def test_the_agenda_shows_the_interest_in_each_proposal(app: App) -> None:
    await event_with_proposals(app, 2)
    await run(app, ("interesse",), "1", sender=FANS[0])
    await run(app, ("interesse",), "1", sender=FANS[1])
    agenda = await run(app, ("programm",), "1", sender=FANS[2])
    lines = {n: next(line for line in agenda.splitlines() if f"Thema {n}" in line) for n in (1, 2)}
    assert says(lines[1], "sessions_interest_count", count=2), agenda
    assert says(lines[2], "sessions_interest_count", count=0), agenda
    assert FANS[0] not in agenda
    body = await run(app, ("session",), "1", sender=FANS[2])
    assert says(body, "sessions_interest_count", count=2)


async def test_erasure_leaves_no_row_of_the_member_in_any_table(app: App, tmp_path: Path) -> None:
    # The moderator hosts (and repeats), shows interest, votes in a poll, gets a suggestion, plans, signs up,
    # writes a result — then is erased.
    await event_with_proposals(app, 2)
    assert says(await run(app, ("session", "vorschlagen"), '"Eigenes Thema"'), "sessions_proposed")
    await run(app, ("interesse",), "1 2", sender=MOD)
    await run(app, ("veranstaltung", "umfrage"), "1")
    async with app.db.session() as db:
        poll = await db.scalar(select(SessionPoll))
        assert poll is not None
        db.add(SessionPollVote(poll_id=poll.id, user_id=MOD, answered_at=datetime.now(UTC)))
    await two_slots(app, '"Raum A" 10', '"Raum B" 10')
    await run(app, ("veranstaltung", "planen"), "1")
    assert says(await run(app, ("veranstaltung", "planen"), "1 übernehmen"), "sessions_plan_applied")
    await run(app, ("anmelden",), "2", sender=MOD)
    # The moderator's own session is repeated in a later time slot: the repeat has them as host too.
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 3" 13:00-14:00')
    assert says(await run(app, ("session", "wiederholen"), "3"), "sessions_repeat_created", session_id=3)
    assert says(await run(app, ("ergebnis",), "2 Alles dokumentiert"), "sessions_results_saved")
    await run(app, ("veranstaltung", "planen"), "1")  # a preview the moderator computed
    database = str(tmp_path / "bot.db")
    before = {table for table, _ in rows_mentioning(database, MOD)}
    new_tables = {
        "session_interest",
        "session_poll_votes",
        "session_suggestions",
        "session_results",
        "session_plan_previews",
        "session_hosts",
        "session_signups",
    }
    assert new_tables <= before, before
    async with app.db.session() as db:
        assert await db.get(SessionRepeat, 3) is not None
    await erase_everything(app, MOD)
    assert rows_mentioning(database, MOD) == []
