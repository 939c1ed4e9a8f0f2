"""Interest, locations, host availability and planning through the real router (in-process, real SQLite):
`!interesse`, `!veranstaltung ort`, `!session verhindert`, `!veranstaltung planen` and `übernehmen`, the
personal suggestions and their one-reaction sign-up. The Matrix side of it is in tests/e2e/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from commands.sessions.feature import sessions_settings
from commands.sessions.suggestions import accept_suggestion, suggested_ids
from storage.sessions import BarcampSession, SessionSignup, SessionSuggestion
from tests.barcamp import FANS, HOSTS, direct_messages, event_with_proposals, run
from tests.catalog import body as rendered
from tests.catalog import says
from tests.inprocess import make_app, prepare


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    sessions_settings(app).plan_time_limit_seconds = 3
    yield app
    await app.db.close()


async def test_interest_by_command_lists_and_refuses_unknown_numbers(app: App) -> None:
    await event_with_proposals(app, 2)
    body = await run(app, ("interesse",), "1 2 9", sender=FANS[0])
    assert says(body, "sessions_interest_marked")
    assert says(body, "sessions_interest_unknown", numbers="9")
    body = await run(app, ("interesse",), "", sender=FANS[0])
    assert says(body, "sessions_interest_mine_title")
    assert "Thema 1" in body
    assert "Thema 2" in body
    assert says(await run(app, ("interesse",), "", sender=FANS[1]), "sessions_interest_none")
    assert says(
        await run(app, ("interesse",), "7", sender=FANS[1]), "sessions_interest_error_unknown", numbers="7"
    )
    assert says(await run(app, ("interesse",), "eins", sender=FANS[1]), "sessions_interest_error_numbers")
    body = await run(app, ("interesse",), "1 " + "9" * 25, sender=FANS[1])
    assert says(body, "sessions_interest_error_numbers")
    # The count, never who.
    body = await run(app, ("session",), "1", sender=FANS[2])
    assert says(body, "sessions_interest_count", count=1)
    assert FANS[0] not in body
    listed = await run(app, ("vorschläge",), "", sender=FANS[2])
    assert says(listed, "sessions_proposals_line", session_id=1, title="Thema 1", count=1)
    assert says(listed, "sessions_proposals_line", session_id=2, title="Thema 2", count=1)
    assert FANS[0] not in listed
    ranking = await run(app, ("veranstaltung", "interesse"), "1")
    assert says(ranking, "sessions_interest_ranking_line", place=1, session_id=1, title="Thema 1", count=1)


async def test_locations_and_availability_refuse_bad_input(app: App) -> None:
    await event_with_proposals(app, 1)
    body = await run(app, ("veranstaltung", "ort"), '1 "Raum Spree" 0')
    assert says(body, "sessions_location_error_capacity", event_id=1, capacity=0)
    assert says(await run(app, ("veranstaltung", "orte"), "1"), "sessions_location_error_none", event_id=1)
    body = await run(app, ("veranstaltung", "ort"), '1 "Online" 50 https://meet.example.org/camp')
    assert says(
        body,
        "sessions_location_added",
        event_id=1,
        number=1,
        seats=rendered("sessions_seats_count_other", count=50),
    )
    assert says(
        await run(app, ("veranstaltung", "ort"), '1 "online" 60'), "sessions_location_updated", number=1
    )
    assert "60" in await run(app, ("veranstaltung", "orte"), "1")
    body = await run(app, ("veranstaltung", "ort-entfernen"), "1 7")
    assert says(body, "sessions_location_error_unknown", event_id=1)
    assert says(
        await run(app, ("veranstaltung", "ort-entfernen"), "1 1"), "sessions_location_removed", number=1
    )
    body = await run(app, ("session", "verhindert"), "1 1", sender=HOSTS[0])
    assert says(body, "sessions_error_no_slots", event_id=1)
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 1" 10:00-11:00')
    body = await run(app, ("session", "verhindert"), "1 5", sender=HOSTS[0])
    assert says(body, "sessions_unavailable_error_slot", session_id=1)
    body = await run(app, ("session", "verhindert"), "1 1", sender=FANS[0])
    assert says(body, "sessions_error_not_host", session_id=1)
    assert says(await run(app, ("session", "verhindert"), "1 1", sender=HOSTS[0]), "sessions_unavailable_set")


async def test_planning_needs_slots_and_locations_and_says_what_cannot_be_placed(app: App) -> None:
    await event_with_proposals(app, 3)
    assert says(await run(app, ("veranstaltung", "planen"), "1"), "sessions_plan_error_no_slots", event_id=1)
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 1" 10:00-11:00')
    assert says(
        await run(app, ("veranstaltung", "planen"), "1"), "sessions_plan_error_no_locations", event_id=1
    )
    await run(app, ("veranstaltung", "ort"), '1 "Raum A" 10')
    await run(app, ("session", "verhindert"), "3 1", sender=HOSTS[2])
    preview = await run(app, ("veranstaltung", "planen"), "1")
    assert says(preview, "sessions_plan_totals", placed=1, total=3)
    unplaced = [line for line in preview.splitlines() if says(line, "sessions_plan_unplaced")]
    assert len(unplaced) == 2
    assert any(
        says(line, "sessions_plan_unplaced", session_id=3) and "verhindert" in line for line in unplaced
    )
    assert says(
        await run(app, ("veranstaltung", "planen"), "1 übernehmen"), "sessions_plan_applied", event_id=1
    )
    body = await run(app, ("veranstaltung", "planen"), "1 übernehmen")
    assert says(body, "sessions_plan_error_no_preview", event_id=1)


async def test_plan_is_applied_with_suggestions_and_one_reaction_signs_up(app: App) -> None:
    await event_with_proposals(app, 4)
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 1" 10:00-11:00')
    await run(app, ("veranstaltung", "runde"), '1 "Zeitfenster 2" 11:15-12:00')
    await run(app, ("veranstaltung", "ort"), '1 "Raum A" 10')
    await run(app, ("veranstaltung", "ort"), '1 "Raum B" 5')
    # Everyone wants 1 and 2: the plan must put them into different slots.
    for fan in FANS:
        await run(app, ("interesse",), "1 2", sender=fan)
    await run(app, ("interesse",), "3", sender=FANS[0])
    preview = await run(app, ("veranstaltung", "planen"), "1")
    assert says(preview, "sessions_plan_preview_title", event_id=1, title="Camp")
    # Fan 1 wants three of four sessions in two slots: one conflict is unavoidable, and the only one.
    assert says(preview, "sessions_plan_totals", placed=4, total=4, conflicts=1)
    # A change after the preview: it must be planned again.
    await run(app, ("interesse",), "4", sender=FANS[1])
    assert says(
        await run(app, ("veranstaltung", "planen"), "1 übernehmen"), "sessions_plan_error_changed", event_id=1
    )
    await run(app, ("veranstaltung", "planen"), "1")
    applied = await run(app, ("veranstaltung", "planen"), "1 übernehmen")
    assert says(applied, "sessions_plan_applied", event_id=1, scheduled=4, moved=0, unchanged=0)
    async with app.db.session() as db:
        rows = (await db.scalars(select(BarcampSession).order_by(BarcampSession.id))).all()
        assert all(r.status == "scheduled" and r.location for r in rows)
        assert rows[0].slot_id != rows[1].slot_id
        suggestion = await db.scalar(select(SessionSuggestion).where(SessionSuggestion.user_id == FANS[0]))
    assert suggestion is not None
    dms = await direct_messages(app, FANS[0])
    assert sum(says(str(dm.get("body")), "sessions_plan_suggestion_dm", title="Camp") for dm in dms) == 1
    # Someone else's reaction does nothing; the member's signs them up for every suggested session.
    assert await accept_suggestion(app, suggestion.id, FANS[1], "de") is None
    assert await accept_suggestion(app, suggestion.id, FANS[0], "de")
    async with app.db.session() as db:
        signed = set(
            (await db.scalars(select(SessionSignup.session_id).where(SessionSignup.user_id == FANS[0]))).all()
        )
    assert signed == set(suggested_ids(suggestion))
    assert len(signed) == 2
    # Planning again without changes: nothing moves and nobody gets a second suggestion.
    await run(app, ("veranstaltung", "planen"), "1")
    applied = await run(app, ("veranstaltung", "planen"), "1 übernehmen")
    assert says(applied, "sessions_plan_applied", scheduled=0, moved=0, unchanged=4, suggestions=0)
